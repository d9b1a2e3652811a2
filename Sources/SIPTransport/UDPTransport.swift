// SIPTransport: the NIO channels SIP travels on. UDP first: one datagram socket, datagrams
// handed up as they arrive, responses written without flushing and flushed once per read
// batch or timer tick, so a burst of messages costs one flush rather than one per message.
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// A bound SIP/UDP socket. Confined to its event loop: `send` and `flush` must be called
/// there (they are cheap: no hop, no allocation beyond the message buffer).
public final class UDPTransport {
    public let channel: Channel
    public let localAddress: SocketAddress
    private var pendingFlush = false

    /// Wraps a channel bound by `bind`; call on the channel's event loop.
    public init(channel: Channel) {
        self.channel = channel
        self.localAddress = channel.localAddress!
    }

    /// Binds `host:port` on `eventLoop` and hands every datagram to `receiver` on that loop.
    /// Must be called on `eventLoop` (the receiver is loop-confined).
    public static func bind(
        host: String, port: Int, on eventLoop: EventLoop, receiver: DatagramReceiver,
        bufferSize: Int = 4 << 20, reusePort: Bool = false
    ) -> EventLoopFuture<Channel> {
        let bound = NIOLoopBound(receiver, eventLoop: eventLoop)
        return DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            // Several event loops, each with its own socket on the one SIP port.
            .channelOption(ChannelOptions.Types.SocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT)),
                           value: reusePort ? 1 : 0)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(bufferSize))
            .channelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(bufferSize))
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(receiver: bound.value))
                }
            }
            .bind(host: host, port: port)
    }

    public struct PortInUse: Error, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var description: String { "UDP \(host):\(port) is already in use (another server on this port?)" }
    }

    /// Fails if another socket holds `host:port`. Our own sockets share the port with
    /// SO_REUSEPORT (and SO_REUSEADDR), which would as gladly let a second server join it
    /// and split the traffic; a plain socket, bound and closed at once, tells.
    public static func checkPortFree(host: String, port: Int) throws {
        guard port != 0 else { return }
        let address = try SocketAddress(ipAddress: host, port: port)
        #if canImport(Glibc)
        let type = CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_DGRAM
        #endif
        let fd = socket(address.protocol.rawValue, type, 0)
        guard fd >= 0 else { return } // no socket to test with: the real bind will say
        defer { _ = Glibc.close(fd) }
        let result = address.withSockAddr { pointer, length in Glibc.bind(fd, pointer, socklen_t(length)) }
        if result != 0, errno == EADDRINUSE { throw PortInUse(host: host, port: port) }
    }

    /// Queues a datagram; it leaves at the next `flush()`.
    public func send(_ buffer: ByteBuffer, to address: SocketAddress) {
        channel.write(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        pendingFlush = true
    }

    public func flush() {
        guard pendingFlush else { return }
        pendingFlush = false
        channel.flush()
    }

    public func close() -> EventLoopFuture<Void> { channel.close() }
}

/// Receives datagrams on the transport's event loop.
public protocol DatagramReceiver: AnyObject {
    func received(_ datagram: ByteBuffer, from source: SocketAddress)
    /// The end of a batch of reads: the moment to flush what the batch produced.
    func readBatchComplete()
}

final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let receiver: DatagramReceiver

    init(receiver: DatagramReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        receiver.received(envelope.data, from: envelope.remoteAddress)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receiver.readBatchComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port-unreachable for a peer that went away surfaces here on Linux; a UDP
        // server must keep serving everyone else, so the error is swallowed.
    }
}
