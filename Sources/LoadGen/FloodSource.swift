import NIOCore
import NIOPosix
import SIPCore
import SIPEndpoint
import SIPTransaction
import SIPTransport
import Timers

/// One caller address on one event loop: a SIP socket with its transaction layer, and one RTP
/// socket shared by every call of the source (the server's RTP port tells calls apart: the
/// server binds one port per call). Loop-confined.
final class FloodSource {
    let address: String
    unowned let worker: FloodWorker
    var endpoint: SIPEndpoint!
    var transport: UDPTransport?
    var rtpChannel: Channel?
    var sipPort = 0
    var rtpPort = 0
    /// Calls by the server's RTP port.
    var rtpCalls: [Int: FloodCall] = [:]
    /// Packets written this RTP tick (to flush once).
    var rtpPending = false
    var tickBuffer: ByteBuffer
    let allocator = ByteBufferAllocator()

    init(address: String, worker: FloodWorker) {
        self.address = address
        self.worker = worker
        tickBuffer = allocator.buffer(capacity: 0)
    }

    /// Binds both sockets on the worker's loop.
    func bind() -> EventLoopFuture<Void> {
        let loop = worker.eventLoop
        return UDPTransport.bind(host: address, port: 0, on: loop, receiver: self).assumeIsolated().flatMap { sip in
            let transport = UDPTransport(channel: sip)
            self.transport = transport
            self.sipPort = transport.localAddress.port ?? 0
            self.endpoint = SIPEndpoint(configuration: .init(host: self.address, port: self.sipPort, userAgent: "hotline-flood"),
                                        clock: FloodWorker.monotonicNow,
                                        transmit: { [unowned self] buffer, destination in self.transport?.send(buffer, to: destination) })
            self.endpoint.delegate = self
            let bound = NIOLoopBound(self, eventLoop: loop)
            return DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(8 << 20))
                .channelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(8 << 20))
                // A vector read splits the buffer evenly between its messages: 64 × 1500 bytes.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 64 * 1500))
                .channelOption(.datagramVectorReadMessageCount, value: 64)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RTPReceiveHandler(source: bound.value))
                    }
                }
                .bind(host: self.address, port: 0)
                .assumeIsolated()
                .map { channel in
                    self.rtpChannel = channel
                    self.rtpPort = channel.localAddress?.port ?? 0
                }
                .nonisolated()
        }
        .nonisolated()
    }

    func close() -> EventLoopFuture<Void> {
        let loop = worker.eventLoop
        let sip = transport?.close() ?? loop.makeSucceededVoidFuture()
        let rtp = rtpChannel?.close() ?? loop.makeSucceededVoidFuture()
        transport = nil
        rtpChannel = nil
        return sip.and(rtp).map { _ in }.recover { _ in }
    }

    func flush() {
        transport?.flush()
        if rtpPending {
            rtpPending = false
            rtpChannel?.flush()
        }
    }

    func sendRTP(_ buffer: ByteBuffer, to address: SocketAddress) {
        rtpChannel?.write(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        rtpPending = true
    }
}

extension FloodSource: DatagramReceiver {
    func received(_ datagram: ByteBuffer, from source: SocketAddress) {
        endpoint.receive(datagram, from: source)
    }

    func readBatchComplete() {
        transport?.flush()
    }
}

extension FloodSource: SIPEndpointDelegate {
    func endpoint(_ endpoint: SIPEndpoint, received request: SIPRequest, transaction: SIPTransactionKey, from source: SocketAddress) {
        worker.received(request, transaction: transaction, on: self)
    }
    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPRequest, from source: SocketAddress) {}
    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: SIPTransactionKey) {}
    func endpoint(_ endpoint: SIPEndpoint, ackTimedOut invite: SIPTransactionKey) {}
}

final class RTPReceiveHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let source: FloodSource
    init(source: FloodSource) { self.source = source }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        source.worker.receivedRTP(envelope.data, from: envelope.remoteAddress, on: source)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        source.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port unreachable after the server closed a call's port: keep going.
    }
}
