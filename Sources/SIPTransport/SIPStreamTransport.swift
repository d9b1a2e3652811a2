// SIPTransport: SIP over TCP and TLS (RFC 3261 §18, RFC 5630). Listeners accept
// connections; each connection's bytes are cut into messages by `SIPStreamFramer` and handed
// up with the peer's address and transport. Every open connection is kept by the peer's
// address, so a response, or a request to an agent that registered over a connection, goes
// back on that connection (§18.2.2; RFC 5626's flow reuse): a phone behind NAT or a firewall
// can be reached only that way.
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The stream transports of a server: its listeners, the open connections (accepted and
/// opened by us), and the sends that use them. Thread-safe: sends come from every call loop.
public final class SIPStreamTransport: Sendable {
    public struct Configuration: Sendable {
        public var limits: SIPStreamFramer.Limits
        /// A connection with nothing read for this long is closed: long enough for a call's
        /// whole talk time, when its connection carries nothing (dead peers are also found by
        /// TCP keep-alives).
        public var idleTimeout: TimeAmount
        /// Connections beyond this are closed as they are accepted.
        public var maxConnections: Int

        public init(limits: SIPStreamFramer.Limits = .init(), idleTimeout: TimeAmount = .hours(4), maxConnections: Int = 10_000) {
            self.limits = limits
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
        }
    }

    /// Counters for /metrics.
    public struct Statistics: Sendable, Equatable {
        public var open = 0
        public var accepted: UInt64 = 0
        public var opened: UInt64 = 0
        public var refusedOverLimit: UInt64 = 0
        public var framingErrors: UInt64 = 0
        public var slowPeers: UInt64 = 0
        public var idleClosed: UInt64 = 0
        public var tlsFailures: UInt64 = 0
        public var connectFailures: UInt64 = 0
        public var messagesIn: UInt64 = 0
        public var keepAlivePings: UInt64 = 0
    }

    /// A complete message from a connection, on that connection's event loop.
    public typealias Deliver = @Sendable (ByteBuffer, SocketAddress, SIPTransportKind) -> Void
    /// A connection has closed (its peer's address and transport), on its event loop.
    public typealias Closed = @Sendable (SocketAddress, SIPTransportKind) -> Void

    struct Connection: Sendable {
        let channel: Channel
        let kind: SIPTransportKind
    }

    struct State {
        var connections: [SocketAddress: Connection] = [:]
        /// Messages for connections we are opening, sent once they are up.
        var connecting: [SocketAddress: [ByteBuffer]] = [:]
        var statistics = Statistics()
        var listeners: [Channel] = []
    }

    public let configuration: Configuration
    private let group: EventLoopGroup
    private let deliver: Deliver
    private let onClosed: Closed
    private let state = NIOLockedValueBox(State())

    public init(group: EventLoopGroup, configuration: Configuration = .init(), deliver: @escaping Deliver,
                closed: @escaping Closed = { _, _ in }) {
        self.group = group
        self.configuration = configuration
        self.deliver = deliver
        self.onClosed = closed
    }

    public var statistics: Statistics { state.withLockedValue { $0.statistics } }

    // MARK: listening

    /// Listens for `kind` (TCP, or TLS with `tls`) on `host:port`; returns the bound address.
    public func listen(host: String, port: Int, kind: SIPTransportKind, tls: NIOSSLContext? = nil) async throws -> SocketAddress {
        precondition(kind.isStream && (kind == .tls) == (tls != nil), "TLS listeners need a TLS context, TCP ones none")
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try self.addHandlers(to: channel, kind: kind, tls: tls.map { NIOSSLServerHandler(context: $0) }, inbound: true)
                }
            }
            .bind(host: host, port: port).get()
        state.withLockedValue { $0.listeners.append(channel) }
        return channel.localAddress!
    }

    private func addHandlers(to channel: Channel, kind: SIPTransportKind, tls: ChannelHandler?, inbound: Bool) throws {
        let pipeline = channel.pipeline.syncOperations
        if let tls { try pipeline.addHandler(tls) }
        try pipeline.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeout))
        try pipeline.addHandler(SIPStreamHandler(transport: self, kind: kind, inbound: inbound))
    }

    // MARK: sending

    /// The transport of the open connection to `address`, nil if there is none.
    public func kind(of address: SocketAddress) -> SIPTransportKind? {
        state.withLockedValue { $0.connections[address]?.kind }
    }

    public func hasConnection(to address: SocketAddress) -> Bool { kind(of: address) != nil }

    /// Sends `buffer` on the connection to `address`. Without one, TCP opens a connection
    /// (the message leaves once it is up); TLS cannot (we do not verify a server's name to
    /// connect to it), so `false` is returned and the message is not sent.
    @discardableResult
    public func send(_ buffer: ByteBuffer, to address: SocketAddress, over kind: SIPTransportKind) -> Bool {
        enum Step { case write(Channel), connect, queued, none }
        let step: Step = state.withLockedValue { state in
            if let connection = state.connections[address] {
                if connection.channel.isActive { return .write(connection.channel) }
                state.connections[address] = nil // closed without its handler's notice (never active)
            }
            guard kind == .tcp else { return .none }
            if state.connecting[address] != nil {
                state.connecting[address]!.append(buffer)
                return .queued
            }
            state.connecting[address] = [buffer]
            return .connect
        }
        switch step {
        case .write(let channel):
            channel.writeAndFlush(buffer, promise: nil)
            return true
        case .queued:
            return true
        case .connect:
            connect(to: address)
            return true
        case .none:
            return false
        }
    }

    private func connect(to address: SocketAddress) {
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try self.addHandlers(to: channel, kind: .tcp, tls: nil, inbound: false)
                }
            }
            .connect(to: address)
            .whenComplete { [self] result in
                let queued = state.withLockedValue { state -> [ByteBuffer] in
                    switch result {
                    case .failure:
                        state.statistics.connectFailures += 1
                    case .success(let channel):
                        // NIO completes the connect before channelActive records the connection:
                        // record it here too, or a send from another loop in between would find
                        // neither entry and open a second connection.
                        if state.connections[address] == nil { state.connections[address] = Connection(channel: channel, kind: .tcp) }
                    }
                    return state.connecting.removeValue(forKey: address) ?? []
                }
                // The connection registered itself when it became active; a failure leaves the
                // transaction to time out (RFC 3261 §8.1.3.1 treats that as 408/503).
                if case .success(let channel) = result {
                    for buffer in queued { channel.write(buffer, promise: nil) }
                    channel.flush()
                }
            }
    }

    /// Closes the listeners and every connection.
    public func close() async {
        let (listeners, connections) = state.withLockedValue { ($0.listeners, Array($0.connections.values)) }
        for channel in listeners { try? await channel.close() }
        for connection in connections { try? await connection.channel.close() }
    }

    // MARK: for the connection handlers

    func opened(_ channel: Channel, address: SocketAddress, kind: SIPTransportKind, inbound: Bool) -> Bool {
        state.withLockedValue { state in
            if inbound, state.connections.count >= configuration.maxConnections {
                state.statistics.refusedOverLimit += 1
                return false
            }
            // A newer connection from the same address replaces the record (the old one is
            // closing or the peer reuses its port): messages go on the live one.
            state.connections[address] = Connection(channel: channel, kind: kind)
            state.statistics.open = state.connections.count
            if inbound { state.statistics.accepted += 1 } else { state.statistics.opened += 1 }
            return true
        }
    }

    func closed(_ channel: Channel, address: SocketAddress, kind: SIPTransportKind) {
        let wasCurrent = state.withLockedValue { state -> Bool in
            let current = state.connections[address]?.channel === channel
            if current { state.connections[address] = nil }
            state.statistics.open = state.connections.count
            return current
        }
        // A connection replaced by a newer one from the same address is not the flow's end.
        if wasCurrent { onClosed(address, kind) }
    }

    func count(_ update: (inout Statistics) -> Void) {
        state.withLockedValue { update(&$0.statistics) }
    }

    func received(_ message: ByteBuffer, from address: SocketAddress, kind: SIPTransportKind) {
        deliver(message, address, kind)
    }
}

/// One connection: frames its bytes, answers CRLF pings, cuts off peers that break the
/// framing limits, are too slow or go idle.
final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let transport: SIPStreamTransport
    private let kind: SIPTransportKind
    private let inbound: Bool
    private var framer: SIPStreamFramer
    private var remote: SocketAddress?
    private var slowCheck: Scheduled<Void>?
    private var firstMessageCheck: Scheduled<Void>?
    private var delivered = false
    private var registered = false

    init(transport: SIPStreamTransport, kind: SIPTransportKind, inbound: Bool) {
        self.transport = transport
        self.kind = kind
        self.inbound = inbound
        self.framer = SIPStreamFramer(limits: transport.configuration.limits)
    }

    static func nowMilliseconds() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) }

    func channelActive(context: ChannelHandlerContext) {
        // For TLS the connection is recorded now too: messages are written through the TLS
        // handler, which holds them until its handshake is done.
        guard let address = context.channel.remoteAddress,
              transport.opened(context.channel, address: address, kind: kind, inbound: inbound) else {
            context.close(promise: nil)
            return
        }
        remote = address
        registered = true
        // A connection must bring its first message within the per-message limit, even one
        // that sends nothing at all (the framer's clock starts at the first byte).
        if inbound {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            firstMessageCheck = context.eventLoop.scheduleTask(in: .milliseconds(framer.limits.maxMessageMilliseconds)) {
                let (handler, context) = bound.value
                if !handler.delivered { handler.cutOff(context, .tooSlow(limit: handler.framer.limits.maxMessageMilliseconds)) }
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        slowCheck?.cancel()
        firstMessageCheck?.cancel()
        if registered, let remote { transport.closed(context.channel, address: remote, kind: kind) }
        registered = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let remote else { return }
        let outputs: [SIPStreamFramer.Output]
        do {
            outputs = try framer.receive(buffer.readableBytesView, now: Self.nowMilliseconds())
        } catch {
            cutOff(context, error)
            return
        }
        for output in outputs {
            switch output {
            case .message(let bytes):
                delivered = true
                transport.count { $0.messagesIn += 1 }
                transport.received(ByteBuffer(bytes: bytes), from: remote, kind: kind)
            case .ping:
                transport.count { $0.keepAlivePings += 1 }
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: SIPStreamFramer.pong)), promise: nil)
            case .pong:
                break
            }
        }
        armSlowCheck(context)
    }

    /// A message in progress must be complete within the limit: check when it would expire.
    private func armSlowCheck(_ context: ChannelHandlerContext) {
        guard slowCheck == nil, let began = framer.messageStartedAt else { return }
        let due = began + framer.limits.maxMessageMilliseconds + 1 - Self.nowMilliseconds()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        slowCheck = context.eventLoop.scheduleTask(in: .milliseconds(max(0, due))) {
            let (handler, context) = bound.value
            handler.slowCheck = nil
            do throws(SIPStreamFramer.FramingError) {
                try handler.framer.check(now: Self.nowMilliseconds())
                handler.armSlowCheck(context) // another message may be under way
            } catch {
                handler.cutOff(context, error)
            }
        }
    }

    private func cutOff(_ context: ChannelHandlerContext, _ error: SIPStreamFramer.FramingError) {
        transport.count { stats in
            if case .tooSlow = error { stats.slowPeers += 1 } else { stats.framingErrors += 1 }
        }
        // The stream cannot be resynchronised: where the next message starts is unknown.
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            transport.count { $0.idleClosed += 1 }
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is NIOSSLError || error is BoringSSLError {
            transport.count { $0.tlsFailures += 1 }
        }
        context.close(promise: nil)
    }
}
