// SIPEndpoint: the transaction layer at work. It feeds datagrams to the parser and the
// transaction machines, carries out their actions (send, arm a timer), answers what needs
// no application (400s, CANCEL's 200/481, 100 Trying, retransmissions) and hands the rest to
// its delegate, the transaction user. Confined to one event loop; no locks.
import NIOCore
import SIPCore
import SIPTransaction
import SIPTransport
import Timers

/// The transaction user (RFC 3261 §17): the call controller.
public protocol SIPEndpointDelegate: AnyObject {
    /// A new request other than ACK and CANCEL; answer it with `respond(_:to:)`.
    func endpoint(_ endpoint: SIPEndpoint, received request: SIPRequest, transaction: SIPTransactionKey, from source: SocketAddress)
    /// An ACK for a 2xx: its own transaction (§17.1.1.3), for the dialog.
    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPRequest, from source: SocketAddress)
    /// A CANCEL matched an INVITE still without a final response (§9.2). The endpoint has
    /// already answered the CANCEL with 200; the TU should answer the INVITE with 487.
    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: SIPTransactionKey)
    /// An INVITE server transaction gave up waiting for the ACK of a failure response.
    func endpoint(_ endpoint: SIPEndpoint, ackTimedOut invite: SIPTransactionKey)
}

/// What a client transaction reports to whoever sent the request.
public enum SIPClientEvent: Sendable {
    case response(SIPResponse)
    /// Timer B or F: treat as 408 (§8.1.3.1).
    case timeout
}

public final class SIPEndpoint {
    public struct Configuration: Sendable {
        public var timers: SIPTimerConfiguration
        /// The address we put in Via and Contact.
        public var host: String
        /// The UDP port; `tcpPort` and `tlsPort` are the stream listeners', if any.
        public var port: Int
        public var tcpPort: Int?
        public var tlsPort: Int?
        public var userAgent: String
        public init(timers: SIPTimerConfiguration = .rfc3261, host: String, port: Int, tcpPort: Int? = nil, tlsPort: Int? = nil,
                    userAgent: String = "Hotline") {
            self.timers = timers
            self.host = host
            self.port = port
            self.tcpPort = tcpPort
            self.tlsPort = tlsPort
            self.userAgent = userAgent
        }

        public var listening: SIPListeningPorts { SIPListeningPorts(udp: port, tcp: tcpPort, tls: tlsPort) }

        /// The transaction timers for `kind`: reliable transports retransmit nothing (§17).
        func timers(for kind: SIPTransportKind) -> SIPTimerConfiguration {
            var t = timers
            t.reliable = t.reliable || kind.isReliable
            return t
        }
    }

    /// Hands a serialised message to the transport named.
    public typealias Transmit = (ByteBuffer, SocketAddress, SIPTransportKind) -> Void

    public weak var delegate: SIPEndpointDelegate?
    public var configuration: Configuration
    public private(set) var metrics = SIPMetrics()
    private let transmit: Transmit
    /// The transport of the open connection to an address; nil when there is none, and the
    /// address is then reached over UDP.
    public var connectionKind: (SocketAddress) -> SIPTransportKind? = { _ in nil }
    private let allocator = ByteBufferAllocator()
    private var timers = TimerQueue<TimerKey>()
    /// Transaction timers scheduled and not cancelled, for /metrics (a lingering
    /// transaction's Timer J or L included).
    public var timerCount: Int { timers.count + lingering.count + lingeringClients.count }
    /// Their heap entries, cancelled ones not yet removed included, and the lingering FIFO's.
    public var timerStoredCount: Int { timers.storedCount + lingering.storedCount + lingeringClients.storedCount }
    private var servers: [SIPTransactionKey: ServerTransaction] = [:]
    /// Server transactions past their final response, waiting out Timer J or L.
    private(set) var lingering = LingeringTable<LingeringServerTransaction>()
    /// Shared header tails of the lingering server transactions' rebuilt responses.
    private var tails = ReplayTails()
    /// Non-INVITE client transactions past their final response, waiting out Timer K.
    private var lingeringClients = LingeringTable<LingeringClientTransaction>()
    private var clients: [SIPTransactionKey: ClientTransaction] = [:]
    private var identifiers = SIPIdentifierGenerator()
    /// The clock timers are scheduled on; processTimers(now:) must use the same one.
    private let clock: () -> Instant

    public init(configuration: Configuration, clock: @escaping () -> Instant, transmit: @escaping Transmit) {
        self.configuration = configuration
        self.clock = clock
        self.transmit = transmit
    }

    /// An endpoint on UDP alone.
    public convenience init(configuration: Configuration, clock: @escaping () -> Instant,
                            transmit: @escaping (ByteBuffer, SocketAddress) -> Void) {
        self.init(configuration: configuration, clock: clock, transmit: { buffer, address, _ in transmit(buffer, address) })
    }

    /// How `destination` is reached: on its open connection, else over UDP.
    public func transport(to destination: SocketAddress) -> SIPTransportKind {
        connectionKind(destination) ?? .udp
    }

    public var serverTransactionCount: Int { servers.count + lingering.count }
    public var clientTransactionCount: Int { clients.count + lingeringClients.count }

    // MARK: identifiers

    /// A new branch with the RFC 3261 magic cookie (§8.1.1.7).
    public func makeBranch() -> String { SIPVia.magicCookie + identifiers.next() }
    /// A new tag for From/To (§19.3).
    public func makeTag() -> String { identifiers.next() }
    /// A Via for a request we originate.
    public func makeVia() -> SIPVia {
        SIPVia(host: configuration.host, port: configuration.port, branch: makeBranch())
    }

    // MARK: inbound

    /// One datagram, or one message cut from a stream, from the transport.
    public func receive(_ datagram: ByteBuffer, from source: SocketAddress, over kind: SIPTransportKind = .udp) {
        let bytes = datagram.readableBytesView
        if kind == .udp, bytes.allSatisfy({ $0 == 13 || $0 == 10 }) {
            metrics.keepAlives += 1 // RFC 5626 CRLF keep-alive: nothing to answer
            return
        }
        let message: SIPMessage
        do {
            message = try SIPMessageParser.parse(datagram: bytes)
        } catch {
            metrics.parseErrors += 1
            if let response = error.response() {
                // The Via of an unreadable request cannot be trusted: answer where it came from.
                send(.response(response), to: source, over: kind)
            } else {
                metrics.dropped += 1
            }
            return
        }
        switch message {
        case .request(var request):
            if let ip = source.ipAddress, let port = source.port {
                request.annotateTopVia(sourceIP: ip, sourcePort: port)
            }
            handle(request, from: source, over: kind)
        case .response(let response):
            handle(response)
        }
    }

    private func handle(_ request: SIPRequest, from source: SocketAddress, over kind: SIPTransportKind) {
        metrics.count(requestIn: request.method)
        guard let key = SIPTransactionKey(serverRequest: request) else {
            metrics.dropped += 1
            return
        }
        switch request.method {
        case .ack:
            if let tx = servers[key], case .invite = tx.machine {
                drive(server: key, .receivedACK(request))
            } else if let entry = lingering[key], case .accepted = entry.state {
                delegate?.endpoint(self, receivedACK: request, from: entry.source) // RFC 6026 §8.5
            } else {
                delegate?.endpoint(self, receivedACK: request, from: source)
            }
        case .cancel:
            if servers[key] != nil || lingering[key] != nil {
                retransmission(key, request)
                return
            }
            servers[key] = ServerTransaction(machine: .nonInvite(NonInviteServerTransaction(timers: configuration.timers(for: kind))),
                                             source: source, kind: kind, request: request)
            let inviteKey = SIPTransactionKey(branch: key.branch, sentBy: key.sentBy, method: .invite)
            if let entry = lingering[inviteKey], case .accepted(let toTag) = entry.state {
                // Crossed our 2xx: 200 with our To tag, and the answered call goes on (§9.2).
                respond(SIPResponse(to: request, status: .ok, toTag: toTag ?? makeTag()), to: key)
                return
            }
            guard let invite = servers[inviteKey] else {
                respond(SIPResponse(to: request, status: .callOrTransactionDoesNotExist, toTag: makeTag()), to: key)
                return
            }
            // §9.2: the CANCEL's To tag must equal the one in our responses to the INVITE.
            let toTag = invite.lastResponseToTag ?? makeTag()
            respond(SIPResponse(to: request, status: .ok, toTag: toTag), to: key)
            if case .invite(let machine) = invite.machine, machine.state == .proceeding {
                delegate?.endpoint(self, cancelled: inviteKey)
            }
        default:
            if servers[key] != nil || lingering[key] != nil {
                retransmission(key, request)
                return
            }
            let timers = configuration.timers(for: kind)
            let machine: ServerTransaction.Machine = request.method == .invite
                ? .invite(InviteServerTransaction(timers: timers))
                : .nonInvite(NonInviteServerTransaction(timers: timers))
            servers[key] = ServerTransaction(machine: machine, source: source, kind: kind, request: request)
            if request.method == .invite {
                // §17.2.1: 100 Trying at once, so the caller stops retransmitting while the
                // TU decides (our 200 waits for the ticket commit).
                respond(SIPResponse(to: request, status: .trying), to: key)
            }
            delegate?.endpoint(self, received: request, transaction: key, from: source)
        }
    }

    private func retransmission(_ key: SIPTransactionKey, _ request: SIPRequest) {
        metrics.retransmissionsAbsorbed += 1
        if let entry = lingering[key] {
            // Accepted absorbs it; Completed replays its final response (§17.2.2).
            switch entry.state {
            case .accepted:
                break
            case .completed(.rebuilt(let status, let reasonPhrase, let toTag, let tail)):
                let response = LingeringServerTransaction.Replay.rebuild(request, status: status, reasonPhrase: reasonPhrase,
                                                                    toTag: toTag, tail: tail)
                send(.response(response), to: responseDestination(for: response, source: entry.source, kind: entry.kind),
                     over: entry.kind)
            case .completed(.serialised(let response, let status, let destination)):
                metrics.count(responseOut: status)
                transmit(response, destination, entry.kind)
            }
            return
        }
        drive(server: key, .receivedRetransmission)
    }

    /// Feeds an event to a server transaction's machine and carries out its actions.
    private func drive(server key: SIPTransactionKey, _ event: InviteServerTransaction.Event) {
        guard var tx = servers[key] else { return }
        let actions = tx.handle(event)
        let request = tx.request
        if tx.request != nil, tx.hasSentFinalResponse { tx.request = nil }
        if tx.lingers {
            linger(tx, request: request, key: key, actions: actions)
        } else {
            servers[key] = tx
            perform(actions, server: key)
        }
    }

    /// Sends the final response and moves the transaction to the lingering table, which
    /// keeps only what Timer J or L needs (see ``LingeringTable`` and ``LingeringServerTransaction``).
    private func linger(_ tx: ServerTransaction, request: SIPRequest?, key: SIPTransactionKey,
                        actions: [InviteServerTransaction.Action]) {
        servers[key] = nil
        for id in tx.timerIDs.values { timers.cancel(id) }
        var wait: Duration?
        var replay: LingeringServerTransaction.Replay?
        for action in actions {
            switch action {
            case .send(let response):
                let destination = responseDestination(for: response, source: tx.source, kind: tx.kind)
                let buffer = send(.response(response), to: destination, over: tx.kind)
                if case .nonInvite = tx.machine {
                    replay = .init(response: response, request: request, bytes: buffer, destination: destination,
                                   tails: &tails, allocator: allocator)
                }
            case .startTimer(let timer, let duration) where timer == .j || timer == .l:
                wait = duration
            case .passACKToTU(let ack):
                delegate?.endpoint(self, receivedACK: ack, from: tx.source)
            default:
                break // Accepted and Completed start no other timer and report nothing
            }
        }
        let state: LingeringServerTransaction.State
        switch tx.machine {
        case .invite: state = .accepted(toTag: tx.lastResponseToTag)
        case .nonInvite:
            guard let replay else { return } // nothing to replay: nothing to linger for
            state = .completed(replay)
        }
        lingering.insert(.init(state: state, source: tx.source, kind: tx.kind, expiry: clock() + (wait ?? .zero)), for: key)
    }

    /// Feeds an event to a client transaction's machine and carries out its actions.
    private func drive(client key: SIPTransactionKey, _ event: NonInviteClientTransaction.Event) {
        guard var tx = clients[key] else { return }
        let actions = tx.handle(event)
        clients[key] = tx
        guard case .nonInvite(let m) = tx.machine, m.state == .completed else {
            perform(actions, client: key)
            return
        }
        // Only Timer K is left: the TU gets its response, then the transaction lingers as a
        // fingerprint (not its request and the TU's closure) and K is not put on the heap.
        var wait = Duration.zero
        perform(actions.filter {
            guard case .startTimer(.k, let duration) = $0 else { return true }
            wait = duration
            return false
        }, client: key)
        if let tx = clients.removeValue(forKey: key) {
            for id in tx.timerIDs.values { timers.cancel(id) }
            lingeringClients.insert(.init(expiry: clock() + wait), for: key)
        }
    }

    private func handle(_ response: SIPResponse) {
        metrics.count(responseIn: response.status)
        guard let key = SIPTransactionKey(clientResponse: response) else {
            metrics.strayResponses += 1
            return
        }
        guard clients[key] != nil else {
            // Completed absorbs retransmissions of the final response (§17.1.2.2).
            if lingeringClients[key] == nil { metrics.strayResponses += 1 }
            return
        }
        drive(client: key, .receivedResponse(response))
    }

    // MARK: outbound

    /// Sends a response on a server transaction; retransmissions are handled from here on.
    public func respond(_ response: SIPResponse, to key: SIPTransactionKey) {
        var response = response
        if !response.headers.contains(.server) { response.headers.append(.server, configuration.userAgent) }
        guard servers[key] != nil else {
            // Accepted sends the core's 2xx retransmissions (RFC 6026 §7.1).
            if let entry = lingering[key], case .accepted = entry.state, response.status.isSuccess {
                send(.response(response), to: responseDestination(for: response, source: entry.source, kind: entry.kind), over: entry.kind)
            }
            return
        }
        if let tag = response.to?.tag { servers[key]?.lastResponseToTag = tag }
        drive(server: key, .respond(response))
    }

    /// The request that opened a server transaction, until its final response was sent.
    public func request(for key: SIPTransactionKey) -> SIPRequest? { servers[key]?.request }

    /// Whether an INVITE server transaction is in Accepted (RFC 6026): its 2xx went out and
    /// it absorbs retransmissions until Timer L.
    func isAccepted(_ key: SIPTransactionKey) -> Bool {
        if case .accepted = lingering[key]?.state { return true }
        if case .invite(let m) = servers[key]?.machine { return m.state == .accepted }
        return false
    }

    /// Whether an INVITE server transaction has not sent its final response yet.
    public func isAwaitingFinalResponse(_ key: SIPTransactionKey) -> Bool {
        if case .invite(let m) = servers[key]?.machine { return m.state == .proceeding }
        return false
    }

    /// Sends a request in a new client transaction; `onEvent` gets its responses or timeout.
    public func send(request: SIPRequest, to destination: SocketAddress, onEvent: @escaping (SIPClientEvent) -> Void) {
        var request = request
        if !request.headers.contains(.userAgent) { request.headers.append(.userAgent, configuration.userAgent) }
        var kind = transport(to: destination)
        stampVia(&request, for: kind)
        if kind == .udp, configuration.tcpPort != nil, request.serializedCount > SIPTransportKind.largeRequestThreshold {
            // §18.1.1: too large for UDP without fragmenting; TCP to the same address.
            kind = .tcp
            stampVia(&request, for: kind)
            metrics.largeRequestsOverTCP += 1
        }
        guard let via = request.topVia, let branch = via.branch, let cseq = request.cseq else { return }
        let key = SIPTransactionKey(branch: branch, sentBy: via.sentBy, method: cseq.method)
        let timers = configuration.timers(for: kind)
        if request.method == .invite {
            var m = InviteClientTransaction(request: request, timers: timers)
            let actions = m.start()
            clients[key] = ClientTransaction(machine: .invite(m), destination: destination, kind: kind, onEvent: onEvent)
            perform(actions.map(ClientTransaction.lift), client: key)
        } else {
            var m = NonInviteClientTransaction(request: request, timers: timers)
            let actions = m.start()
            clients[key] = ClientTransaction(machine: .nonInvite(m), destination: destination, kind: kind, onEvent: onEvent)
            perform(actions, client: key)
        }
    }

    /// Our requests' top Via names the transport they leave on and our port for it (§18.1.1).
    private func stampVia(_ request: inout SIPRequest, for kind: SIPTransportKind) {
        guard var via = request.topVia, via.host == configuration.host else { return }
        let port = configuration.listening.port(for: kind) ?? configuration.port
        guard via.transport != kind.viaName || via.port != port else { return }
        via.transport = kind.viaName
        via.port = port
        request.headers.replaceFirstValue(.via, with: via.description)
    }

    /// Sends outside any transaction: ACKs for 2xx (§13.2.2.4) and stateless answers, on the
    /// connection to `destination` if there is one, else over UDP.
    public func send(_ message: SIPMessage, to destination: SocketAddress) {
        send(message, to: destination, over: transport(to: destination))
    }

    /// Sends on the transport named (a response goes back the way its request came); returns
    /// the bytes sent.
    @discardableResult
    public func send(_ message: SIPMessage, to destination: SocketAddress, over kind: SIPTransportKind) -> ByteBuffer {
        var message = message
        if case .request(var r) = message {
            stampVia(&r, for: kind)
            message = .request(r)
        }
        var buffer = allocator.buffer(capacity: 1024)
        message.write(into: &buffer)
        switch message {
        case .request(let r): metrics.count(requestOut: r.method)
        case .response(let r): metrics.count(responseOut: r.status)
        }
        transmit(buffer, destination, kind)
        return buffer
    }

    /// RFC 3261 §18.2.2 / RFC 3581 §4: a response goes to `received` (or the source IP)
    /// and to `rport`, else the sent-by port.
    public static func responseDestination(for response: SIPResponse, source: SocketAddress) -> SocketAddress {
        guard let via = response.topVia else { return source }
        if via.rport != nil { return source }
        return sentByAddress(of: via, source: source, defaultPort: 5060)
    }

    /// `received` (or the source IP) and the sent-by port: where §18.2.2 sends a response
    /// when the source port is not to be used.
    private static func sentByAddress(of via: SIPVia, source: SocketAddress, defaultPort: Int) -> SocketAddress {
        let host = via.received ?? source.ipAddress ?? via.host
        return (try? SocketAddress(ipAddress: host, port: via.port ?? defaultPort)) ?? source
    }

    /// §18.2.2 for a stream: the connection the request came on while it is open; after it
    /// closed, a new connection to `received` (or the source IP) and the sent-by port.
    func responseDestination(for response: SIPResponse, source: SocketAddress, kind: SIPTransportKind) -> SocketAddress {
        guard kind.isStream else { return SIPEndpoint.responseDestination(for: response, source: source) }
        if connectionKind(source) != nil { return source }
        guard let via = response.topVia else { return source }
        return SIPEndpoint.sentByAddress(of: via, source: source, defaultPort: kind.defaultPort)
    }

    // MARK: timers

    /// Fires every transaction timer due at `now`.
    public func processTimers(now: Instant) {
        lingering.expire(now: now)
        lingeringClients.expire(now: now)
        while let (_, key) = timers.popExpired(now: now) {
            switch key {
            case .server(let txKey, let timer):
                guard servers[txKey]?.timerIDs.removeValue(forKey: timer) != nil else { continue }
                drive(server: txKey, .timerFired(timer))
            case .client(let txKey, let timer):
                guard clients[txKey]?.timerIDs.removeValue(forKey: timer) != nil else { continue }
                drive(client: txKey, .timerFired(timer))
            }
        }
    }

    private func perform(_ actions: [InviteServerTransaction.Action], server key: SIPTransactionKey) {
        for action in actions {
            switch action {
            case .send(let response):
                guard let tx = servers[key] else { continue }
                send(.response(response), to: responseDestination(for: response, source: tx.source, kind: tx.kind), over: tx.kind)
            case .startTimer(let timer, let duration):
                guard var tx = servers[key] else { continue }
                if let old = tx.timerIDs[timer] { timers.cancel(old) }
                tx.timerIDs[timer] = timers.schedule(at: clock() + duration, .server(key, timer))
                servers[key] = tx
            case .cancelTimer(let timer):
                if let id = servers[key]?.timerIDs.removeValue(forKey: timer) { timers.cancel(id) }
            case .passACKToTU(let ack):
                if let tx = servers[key] { delegate?.endpoint(self, receivedACK: ack, from: tx.source) }
            case .reportTimeout:
                delegate?.endpoint(self, ackTimedOut: key)
            case .reportTransportError:
                break
            case .terminated:
                if let tx = servers.removeValue(forKey: key) {
                    for id in tx.timerIDs.values { timers.cancel(id) }
                }
            }
        }
    }

    private func perform(_ actions: [NonInviteClientTransaction.Action], client key: SIPTransactionKey) {
        for action in actions {
            switch action {
            case .send(let request):
                guard let tx = clients[key] else { continue }
                send(.request(request), to: tx.destination, over: tx.kind)
            case .startTimer(let timer, let duration):
                guard var tx = clients[key] else { continue }
                if let old = tx.timerIDs[timer] { timers.cancel(old) }
                tx.timerIDs[timer] = timers.schedule(at: clock() + duration, .client(key, timer))
                clients[key] = tx
            case .cancelTimer(let timer):
                if let id = clients[key]?.timerIDs.removeValue(forKey: timer) { timers.cancel(id) }
            case .deliver(let response):
                clients[key]?.onEvent(.response(response))
            case .reportTimeout:
                metrics.clientTimeouts += 1
                clients[key]?.onEvent(.timeout)
            case .reportTransportError:
                clients[key]?.onEvent(.timeout)
            case .terminated:
                if let tx = clients.removeValue(forKey: key) {
                    for id in tx.timerIDs.values { timers.cancel(id) }
                }
            }
        }
    }
}

// MARK: transaction records

enum TimerKey {
    case server(SIPTransactionKey, SIPTimer)
    case client(SIPTransactionKey, SIPTimer)
}

struct ServerTransaction {
    enum Machine {
        case invite(InviteServerTransaction)
        case nonInvite(NonInviteServerTransaction)
    }
    var machine: Machine
    let source: SocketAddress
    /// The transport the request came on: its responses go back on it (§18.2.2).
    let kind: SIPTransportKind
    /// The request, until the final response: a transaction then lingers for Timer J or L
    /// (32 s on UDP) holding only what it replays, so memory follows calls in progress and
    /// not the call rate (at 400 calls/s, 25,000 transactions linger).
    var request: SIPRequest?
    var timerIDs: [SIPTimer: TimerID] = [:]
    var lastResponseToTag: String?

    /// Past its final response, with only Timer J or L to wait: Accepted, or a non-INVITE's
    /// Completed on a transport that retransmits (on a reliable one Timer J is zero).
    var lingers: Bool {
        switch machine {
        case .invite(let m): m.state == .accepted
        case .nonInvite(let m): m.state == .completed && !m.timers.reliable
        }
    }

    var hasSentFinalResponse: Bool {
        switch machine {
        case .invite(let m): m.state != .proceeding
        case .nonInvite(let m): m.state == .completed || m.state == .terminated
        }
    }

    /// Runs either machine; non-INVITE events and actions are a subset of the INVITE ones.
    mutating func handle(_ event: InviteServerTransaction.Event) -> [InviteServerTransaction.Action] {
        switch machine {
        case .invite(var m):
            defer { machine = .invite(m) }
            return m.event(event)
        case .nonInvite(var m):
            defer { machine = .nonInvite(m) }
            let mapped: NonInviteServerTransaction.Event
            switch event {
            case .receivedRetransmission: mapped = .receivedRetransmission
            case .respond(let r): mapped = .respond(r)
            case .timerFired(let t): mapped = .timerFired(t)
            case .transportError: mapped = .transportError
            case .receivedACK: return [] // ACK never belongs to a non-INVITE transaction
            }
            return m.event(mapped).map { action in
                switch action {
                case .send(let r): .send(r)
                case .startTimer(let t, let d): .startTimer(t, d)
                case .reportTransportError: .reportTransportError
                case .terminated: .terminated
                }
            }
        }
    }
}

struct ClientTransaction {
    enum Machine {
        case invite(InviteClientTransaction)
        case nonInvite(NonInviteClientTransaction)
    }
    var machine: Machine
    let destination: SocketAddress
    let kind: SIPTransportKind
    let onEvent: (SIPClientEvent) -> Void
    var timerIDs: [SIPTimer: TimerID] = [:]

    /// Runs either machine; their events and actions have the same shape.
    mutating func handle(_ event: NonInviteClientTransaction.Event) -> [NonInviteClientTransaction.Action] {
        switch machine {
        case .nonInvite(var m):
            defer { machine = .nonInvite(m) }
            return m.event(event)
        case .invite(var m):
            defer { machine = .invite(m) }
            let mapped: InviteClientTransaction.Event
            switch event {
            case .receivedResponse(let r): mapped = .receivedResponse(r)
            case .timerFired(let t): mapped = .timerFired(t)
            case .transportError: mapped = .transportError
            }
            return m.event(mapped).map(ClientTransaction.lift)
        }
    }

    static func lift(_ a: InviteClientTransaction.Action) -> NonInviteClientTransaction.Action {
        switch a {
        case .send(let r): .send(r)
        case .startTimer(let t, let d): .startTimer(t, d)
        case .cancelTimer(let t): .cancelTimer(t)
        case .deliver(let r): .deliver(r)
        case .reportTimeout: .reportTimeout
        case .reportTransportError: .reportTransportError
        case .terminated: .terminated
        }
    }
}

/// Unique, unguessable-enough identifiers for branches and tags without a syscall each:
/// a random prefix drawn once and a counter.
struct SIPIdentifierGenerator {
    private let prefix: String
    private var counter: UInt64 = 0

    init() {
        var rng = SystemRandomNumberGenerator()
        prefix = String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 36)
    }

    mutating func next() -> String {
        counter &+= 1
        return prefix + "." + String(counter, radix: 36)
    }
}

extension SIPEndpoint {
    /// Sends a 2xx again for the UAS core (RFC 3261 §13.3.1.4): through its INVITE
    /// transaction while that lingers in Accepted (RFC 6026), else straight to the peer.
    public func retransmit(_ response: SIPResponse, to key: SIPTransactionKey, fallback: SocketAddress) {
        if isAccepted(key) {
            respond(response, to: key)
        } else {
            let kind = transport(to: fallback)
            send(.response(response), to: responseDestination(for: response, source: fallback, kind: kind), over: kind)
        }
    }
}
