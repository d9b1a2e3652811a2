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
                .channelOption(.autoRead, value: !self.worker.configuration.batchedRTPReads)
                .channelOption(.maxMessagesPerRead, value: 64)
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

    /// With batched reads: read everything waiting now (up to 64 × 64 datagrams).
    func pollRTP() {
        rtpChannel?.read()
    }

    func flush() {
        transport?.flush()
        if rtpPending {
            rtpPending = false
            rtpChannel?.flush()
        }
    }

    // MARK: packets ahead of their call

    struct Stray {
        var port: Int
        var arrival: UInt64
        var data: ByteBuffer
    }
    /// RTP from ports no call has claimed yet, oldest first.
    private var strays: [Stray] = []
    static let stashLimit = 4096
    static let stashLifetime: UInt64 = 2_000_000_000

    /// Ports whose call just ended, and when: what still comes from them is late, not early.
    private var endedPorts: [Int: UInt64] = [:]

    func stash(port: Int, arrival: UInt64, _ buffer: ByteBuffer, dropped: inout Int) {
        if let ended = endedPorts[port], arrival &- ended < FloodSource.stashLifetime {
            dropped += 1
            return
        }
        // A copy: the datagram is a slice of a 96 KB vector-read buffer we must not pin.
        var copy = allocator.buffer(capacity: buffer.readableBytes)
        copy.writeImmutableBuffer(buffer)
        strays.append(Stray(port: port, arrival: arrival, data: copy))
        if strays.count > FloodSource.stashLimit {
            let excess = strays.count - FloodSource.stashLimit / 2
            strays.removeFirst(excess)
            dropped += excess
        }
    }

    /// The stashed packets from `port`, in arrival order, removed from the stash.
    func claimStash(port: Int) -> [(UInt64, ByteBuffer)] {
        endedPorts[port] = nil
        guard strays.contains(where: { $0.port == port }) else { return [] }
        let mine = strays.filter { $0.port == port }.map { ($0.arrival, $0.data) }
        strays.removeAll { $0.port == port }
        return mine
    }

    /// A call on `port` ended at `time`.
    func portEnded(_ port: Int, at time: UInt64) {
        endedPorts[port] = time
    }

    /// Forgets packets no call claimed in time: they were strays after all.
    func expireStash(before horizon: UInt64, dropped: inout Int) {
        if endedPorts.count > 256 { endedPorts = endedPorts.filter { $0.value >= horizon } }
        guard let first = strays.first, first.arrival < horizon else { return }
        let old = strays.prefix { $0.arrival < horizon }.count
        strays.removeFirst(old)
        dropped += old
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
