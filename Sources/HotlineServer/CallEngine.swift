import ACD
import CallControl
import CoreMetrics
import Dialplan
import Foundation
import Logging
import Media
import NIOCore
import RTP
import SDP
import SIPCore
import SIPDialog
import SIPEndpoint
import SIPTransaction
import SIPTransport
import Tickets
import Timers

/// Runs the calls of one event loop: the SIP endpoint's transaction user, the owner of the
/// calls' media and timers, and the writer of their tickets. Every method runs on
/// `eventLoop`; nothing here locks.
final class CallEngine {
    let eventLoop: EventLoop
    let configuration: ServerConfiguration
    let logger: Logger
    let tickets: TicketStore
    let prompts: PromptLibrary
    var dialplan: Dialplan
    private(set) var endpoint: SIPEndpoint!
    private(set) var transport: UDPTransport?
    /// SIP over TCP and TLS, shared by every engine; nil when not configured.
    var streams: SIPStreamTransport?
    let media: MediaEngine
    let negotiator = SDPNegotiator()
    /// Wall-clock time for tickets; the monotonic clock drives timers.
    let wallClock: @Sendable () -> Date

    var callsByID: [UInt64: Call] = [:]
    var callsByInvite: [SIPTransactionKey: Call] = [:]
    /// Calls waiting for their ticket commit before the 200 OK.
    var answering: Set<UInt64> = []
    var callsByDialog: [SIPDialogID: Call] = [:]
    var nextCallID: UInt64 = 0
    /// When the current read batch began (the datagram being handled was read then); nil
    /// between batches.
    private var readBatchStartedAt: Instant?
    /// The read time of the datagram being handled now.
    var currentReadAt: Instant = .zero
    private(set) var timers = TimerQueue<(UInt64, CallTimer)>()
    var tickTask: Scheduled<Void>?
    private var nextTick: NIODeadline = .now()
    var metrics = EngineMetrics()
    var draining = false
    var admission: AdmissionControl
    /// Base of the SDP `o=` session ids: the start time, so ids do not repeat across restarts.
    let sessionIDBase = UInt64(Date().timeIntervalSince1970) << 20

    /// A call's SDP session id: fixed for the whole session (RFC 3264 §5; only the version
    /// changes when our description does).
    func sdpSessionID(for call: Call) -> UInt64 { sessionIDBase &+ call.id }

    /// The SIP methods we answer (RFC 3261 §20.5 Allow).
    static let allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"
    static let tickInterval = TimeAmount.milliseconds(10)

    /// This engine's place among the loops sharing the calls: every datagram goes to the
    /// engine `SIPMessageParser.shard(of:among:)` names, by Call-ID, so a call lives on one loop.
    let shardIndex: Int
    let shardCount: Int
    /// The other engines, to forward datagrams their calls own; set once all are created.
    var peers: [CallEnginePeer] = []

    /// Calls in progress on every loop (the `--max-calls` limit is global).
    let callCount: SharedCallCount

    // MARK: the contact centre
    /// How this loop reaches the ACD on the control loop; nil without a contact centre.
    var acdLink: ACDLink?
    /// The 110 linkage (`--handoffs`); nil without it.
    var handoffs: HandoffService?
    /// In a cluster, appended to this node's ACD call ids (``ClusterCallID``).
    var acdCallSuffix = ""
    /// The ACD and registrar themselves, on the control loop's engine only (engine 0).
    var contactCentre: ACDService?
    /// Agent legs (our INVITEs to agents' phones) still alive, by leg number; and the answered
    /// ones by dialog, for the agent's BYE.
    var agentLegs: [UInt64: AgentLeg] = [:]
    var agentLegsByDialog: [SIPDialogID: AgentLeg] = [:]
    var nextLegID: UInt64 = 0
    /// Calls we are placing, by Call-ID, until answered (then they are `Call`s) or failed.
    var outboundLegs: [String: OutboundLeg] = [:]
    /// Where callbacks dial the citizen (the default trunk); nil: the agent hears the number.
    var callbackTrunk: (trunk: Trunk, destination: SocketAddress)?
    /// Callbacks' citizen legs once answered, by dialog, for the citizen's BYE.
    var callbackBridges: [SIPDialogID: OutboundLeg] = [:]
    /// Callback requests of calls on this loop that have hung up, until an agent takes them.
    var callbackRequests: [CallID: CallbackRequest] = [:]
    var queuePlaybacks: UInt64 = 0
    /// The confirmations agents hear after a feature code: a small dialplan built at start.
    var featureDialplan: Dialplan?
    private let callIDPrefix: String = {
        var rng = SystemRandomNumberGenerator()
        return String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 36)
    }()
    private var callIDCounter: UInt64 = 0

    init(eventLoop: EventLoop, configuration: ServerConfiguration, logger: Logger, tickets: TicketStore,
         prompts: PromptLibrary, dialplan: Dialplan, shardIndex: Int = 0, shardCount: Int = 1,
         callCount: SharedCallCount = SharedCallCount(), serverMetrics: ServerMetrics = ServerMetrics(),
         wallClock: @escaping @Sendable () -> Date = { Date() }) {
        self.callCount = callCount
        self.shardIndex = shardIndex
        self.shardCount = shardCount
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.tickets = tickets
        self.prompts = prompts
        self.dialplan = dialplan
        self.wallClock = wallClock
        self.media = MediaEngine(eventLoop: eventLoop, host: configuration.contactHost,
                                 ports: CallEngine.share(of: configuration.rtpPorts, shard: shardIndex, of: shardCount))
        media.inbandDTMF = configuration.inbandDTMF
        media.tickLateness = serverMetrics.rtpTickLateness
        media.tickDuration = serverMetrics.rtpTickDuration
        metrics.setupTime = serverMetrics.setupTime
        metrics.ticketOpenTime = serverMetrics.ticketOpenTime
        // Calls spread evenly over the loops (Call-ID hash), so each loop admits its share.
        let n = Double(shardCount)
        var limits = AdmissionControl.Limits(maxCalls: configuration.effectiveMaxCalls,
                                             callsPerSecond: configuration.maxCallsPerSecond.map { $0 / n },
                                             perSourceCallsPerSecond: configuration.maxCallsPerSecondPerSource.map { $0 / n })
        if let lag = configuration.shedLoopLag {
            limits.shedAbove = lag
            limits.recoverBelow = lag / 3
        } else {
            limits.shedAbove = .seconds(1_000_000)
        }
        self.admission = AdmissionControl(limits: limits)
    }

    static func monotonicNow() -> Instant { Instant(nanoseconds: NIODeadline.now().uptimeNanoseconds) }

    /// A loop's own slice of the RTP port range, so two loops never bind the same port.
    static func share(of range: ClosedRange<Int>, shard: Int, of count: Int) -> ClosedRange<Int> {
        guard count > 1 else { return range }
        let size = range.count / count
        let low = range.lowerBound + shard * size
        return low...(shard == count - 1 ? range.upperBound : low + size - 1)
    }

    /// Binds the SIP socket (on `port`, shared with the other loops when there are several)
    /// and starts the timer tick. Call on `eventLoop`.
    func start(port: Int) -> EventLoopFuture<SocketAddress> {
        eventLoop.preconditionInEventLoop()
        endpoint = SIPEndpoint(
            configuration: .init(host: configuration.contactHost, port: configuration.sipPort, userAgent: configuration.userAgent),
            clock: CallEngine.monotonicNow,
            transmit: { [unowned self] buffer, address, kind in
                if kind == .udp {
                    self.transport?.send(buffer, to: address)
                } else if self.streams?.send(buffer, to: address, over: kind) != true {
                    self.metrics.unsentOnStreams += 1 // TLS to a phone whose connection is gone
                }
            })
        endpoint.delegate = self
        return UDPTransport.bind(host: configuration.sipHost, port: port, on: eventLoop, receiver: self, reusePort: shardCount > 1)
            .assumeIsolated()
            .map { channel in
                let transport = UDPTransport(channel: channel)
                self.transport = transport
                if let bound = transport.localAddress.port { self.endpoint.configuration.port = bound }
                self.nextTick = .now()
                self.scheduleTick()
                return transport.localAddress
            }
            .nonisolated()
    }

    /// One 10 ms tick on absolute deadlines for every SIP and call timer of the loop.
    private func scheduleTick() {
        nextTick = nextTick + CallEngine.tickInterval
        let now = NIODeadline.now()
        if nextTick < now { nextTick = now } // fell behind: do not burst
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let deadline = nextTick
        tickTask = eventLoop.scheduleTask(deadline: deadline) {
            let engine = bound.value
            engine.admission.observeLag(.nanoseconds(Int64(NIODeadline.now().uptimeNanoseconds) - Int64(deadline.uptimeNanoseconds)))
            engine.tick()
            engine.scheduleTick()
        }
    }

    private func tick() {
        let now = CallEngine.monotonicNow()
        if admission.shedding {
            let oldest = answering.compactMap { callsByID[$0]?.answerStarted }.min()
            admission.observePendingAnswer(oldest: oldest.map { now - $0 } ?? .zero)
        }
        endpoint.processTimers(now: now)
        contactCentre?.tick()
        while let (_, (callID, timer)) = timers.popExpired(now: now) {
            guard let call = callsByID[callID], call.timers.removeValue(forKey: timer) != nil else { continue }
            timerFired(timer, for: call)
        }
        transport?.flush()
    }

    // MARK: call table

    var activeCalls: Int { callsByID.count }

    /// Adds a call to the tables; false (and nothing added) if the global limit was reached
    /// by another loop in the meantime.
    func register(_ call: Call) -> Bool {
        guard callCount.reserve(limit: admission.limits.maxCalls) else { return false }
        callsByID[call.id] = call
        callsByInvite[call.inviteKey] = call
        callsByDialog[call.dialog.id] = call
        metrics.callsAccepted += 1
        return true
    }

    func forget(_ call: Call) {
        guard callsByID.removeValue(forKey: call.id) != nil else { return }
        answering.remove(call.id)
        callCount.release()
        callsByInvite[call.inviteKey] = nil
        callsByDialog[call.dialog.id] = nil
        for id in call.timers.values { timers.cancel(id) }
        call.timers = [:]
        if call.outbound != nil { outboundCallEnded(call) }
    }

    func startTimer(_ timer: CallTimer, after duration: Duration, for call: Call) {
        if let old = call.timers[timer] { timers.cancel(old) }
        call.timers[timer] = timers.schedule(at: CallEngine.monotonicNow() + duration, (call.id, timer))
    }

    func cancelTimer(_ timer: CallTimer, for call: Call) {
        if let id = call.timers.removeValue(forKey: timer) { timers.cancel(id) }
    }

    private func timerFired(_ timer: CallTimer, for call: Call) {
        switch timer {
        case .dialplan(let id):
            feed(.timerFired(id), to: call)
        case .answerRetransmit:
            drive(call, .timerFired(.answerRetransmit))
        case .ackTimeout:
            if call.machine.answerRetransmission.state == .waitingForACK {
                logger.notice("no ACK for our 200 OK; ending the call", metadata: ["sip.call_id": "\(call.dialog.id.callID)"])
            }
            drive(call, .timerFired(.ackTimeout))
        case .recordingLimit(let id):
            if let finished = finishRecording(call, id) { feed(finished, to: call) }
        case .transferOutcome:
            transferDone(call, succeeded: false)
        case .queueVoicemail:
            queueVoicemailTimedOut(call)
        case .maxDuration:
            logger.warning("call exceeded the maximum duration; hanging up", metadata: ["sip.call_id": "\(call.dialog.id.callID)"])
            drive(call, .timerFired(.maxDuration))
        }
    }

    // MARK: responses

    /// A response to a request in its transaction, with our Server/Allow decoration.
    func respond(_ request: SIPRequest, on key: SIPTransactionKey, _ status: SIPStatus, toTag: String? = nil,
                 reason: String? = nil, extra: SIPHeaders = [], body: SessionDescription? = nil) {
        var response = SIPResponse(to: request, status: status, reasonPhrase: reason, toTag: toTag ?? (status == .trying ? nil : endpoint.makeTag()))
        for field in extra { response.headers.append(field.name, field.value) }
        if status == .methodNotAllowed || (status.isSuccess && request.method != .bye) {
            if !response.headers.contains(.allow) { response.headers.append(.allow, CallEngine.allow) }
        }
        if let body {
            response.headers.append(.contentType, "application/sdp")
            response.body = Array(body.serialize().utf8)
        }
        endpoint.respond(response, to: key)
    }

    /// Our advertised address as a URI host (IPv6 in brackets).
    var hostForURI: String {
        configuration.contactHost.contains(":") ? "[\(configuration.contactHost)]" : configuration.contactHost
    }

    /// A new Call-ID for a request we originate, chosen so that it hashes to this loop: the
    /// responses (and the agent's BYE) come back here, whichever socket they reach.
    /// The engine a message belongs to: the one its Call-ID hashes to; REGISTERs go to the
    /// registrar, on the control loop (engine 0), whatever their Call-ID.
    static func owner(of message: ByteBuffer, among shards: Int, registrarOnControlLoop: Bool) -> Int {
        message.withUnsafeReadableBytes { bytes in
            registrarOnControlLoop && SIPMessageParser.startsWithMethod("REGISTER", in: bytes)
                ? 0 : SIPMessageParser.shard(of: bytes, among: shards)
        }
    }

    /// A fresh SDES key when `encryption` allows SRTP, else none.
    static func srtpKeyMaterial(for encryption: MediaEncryption) -> [UInt8] {
        guard encryption != .none else { return [] }
        var generator = SystemRandomNumberGenerator()
        return SDPCrypto.randomKeyMaterial(using: &generator)
    }

    func makeCallID() -> String {
        while true {
            callIDCounter &+= 1
            let id = "\(callIDPrefix).\(shardIndex).\(String(callIDCounter, radix: 36))@\(hostForURI)"
            if SIPMessageParser.shard(ofCallID: id, among: shardCount) == shardIndex { return id }
        }
    }
}

// MARK: - Transport input

extension CallEngine: DatagramReceiver {
    func received(_ datagram: ByteBuffer, from source: SocketAddress) {
        let readAt: Instant
        if let started = readBatchStartedAt {
            readAt = started
        } else {
            readAt = CallEngine.monotonicNow()
            readBatchStartedAt = readAt
        }
        let owner = shardCount > 1 ? Self.owner(of: datagram, among: shardCount, registrarOnControlLoop: acdLink != nil) : shardIndex
        guard owner != shardIndex, owner < peers.count else {
            currentReadAt = readAt
            endpoint.receive(datagram, from: source)
            return
        }
        // Another loop owns this call: hand the datagram over (the kernel spreads datagrams
        // over the loops' sockets by address, not by call).
        let peer = peers[owner]
        peer.eventLoop.execute {
            let engine = peer.engine.value
            engine.currentReadAt = readAt
            engine.endpoint.receive(datagram, from: source)
            engine.transport?.flush()
        }
    }

    func readBatchComplete() {
        readBatchStartedAt = nil
        transport?.flush()
    }
}

// MARK: - Requests

extension CallEngine: SIPEndpointDelegate {
    func endpoint(_ endpoint: SIPEndpoint, received request: SIPRequest, transaction key: SIPTransactionKey, from source: SocketAddress) {
        let inDialog = request.to?.tag != nil
        // §8.2.2.1, once for every method we serve, in or out of a dialog (the method check of
        // §8.2.1 comes first: an unsupported method keeps its 405/501 below). An INVITE that
        // would have started a call is rejected with its ticket, as newCall's other refusals are.
        if !request.uri.isSIP, Self.servedMethods.contains(request.method) {
            if request.method == .invite, !inDialog {
                return reject(request, key, .unsupportedURIScheme, disposition: .rejected)
            }
            return respond(request, on: key, .unsupportedURIScheme)
        }
        if inDialog, let id = SIPDialogID(incoming: request) {
            if let leg = agentLegsByDialog[id] { return agentLegRequest(leg, request, key) }
            if let citizen = callbackBridges[id] { return citizenLegRequest(citizen, request, key) }
        }
        switch request.method {
        case .register:
            if let contactCentre {
                contactCentre.receivedRegister(request, key: key, source: source)
            } else {
                respond(request, on: key, .methodNotAllowed) // no agents: nobody registers
            }
        case .invite:
            if inDialog { reinvite(request, key) } else { newCall(request, key, source) }
        case .bye:
            guard let call = dialogCall(for: request, key) else { return }
            respond(request, on: key, .ok, toTag: call.dialog.id.localTag)
            drive(call, .receivedBye(dialplanDisposition: call.execution.disposition))
        case .info:
            guard let call = dialogCall(for: request, key) else { return }
            info(request, key, call)
        case .options:
            if inDialog {
                guard let call = dialogCall(for: request, key) else { return }
                respond(request, on: key, .ok, toTag: call.dialog.id.localTag, extra: capabilityHeaders())
            } else if draining {
                // The front's probe: 503 takes this node out of its rotation while it drains.
                respond(request, on: key, .serviceUnavailable, reason: "Service Unavailable (draining)",
                        extra: [(.retryAfter, String(configuration.retryAfterSeconds))])
            } else {
                respond(request, on: key, .ok, extra: capabilityHeaders())
            }
        case .notify:
            // Only the implicit subscription of a REFER we sent (RFC 3515); anything else has
            // no subscription here (RFC 6665 §4.1.3).
            guard inDialog, let call = dialogCall(for: request, key) else {
                if !inDialog { respond(request, on: key, .callOrTransactionDoesNotExist) }
                return
            }
            referNotify(request, key, call)
        case .ack, .cancel:
            break // the endpoint routes these elsewhere
        default:
            if SIPMethod.known.contains(request.method) {
                respond(request, on: key, .methodNotAllowed)
            } else {
                respond(request, on: key, .notImplemented)
            }
        }
    }

    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPRequest, from source: SocketAddress) {
        guard let id = SIPDialogID(incoming: ack), let call = callsByDialog[id], call.isAnswered else {
            metrics.strayACKs += 1
            return
        }
        _ = call.dialog.receive(ack)
        call.dialog.confirm()
        drive(call, .receivedACK)
        if call.awaitingAnswerInACK {
            call.awaitingAnswerInACK = false
            applyAnswerFromACK(ack, call)
        }
    }

    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: SIPTransactionKey) {
        guard let call = callsByInvite[invite] else { return }
        drive(call, .receivedCancel)
    }

    func endpoint(_ endpoint: SIPEndpoint, ackTimedOut invite: SIPTransactionKey) {
        // A failure response was never ACKed: the call is already over on our side.
    }

    /// The methods the switch above serves; ACK and CANCEL are never answered here.
    static let servedMethods: Set<SIPMethod> = [.register, .invite, .bye, .info, .options, .notify]

    private func capabilityHeaders() -> SIPHeaders {
        var headers = SIPHeaders()
        headers.append(.accept, "application/sdp, application/dtmf-relay, application/dtmf")
        headers.append(.acceptLanguage, dialplan.languages.map(\.rawValue).joined(separator: ", "))
        return headers
    }

    /// The call an in-dialog request names, or a 481 (RFC 3261 §12.2.2) and nil. Checks CSeq
    /// order (500 for an older CSeq).
    private func dialogCall(for request: SIPRequest, _ key: SIPTransactionKey) -> Call? {
        guard let id = SIPDialogID(incoming: request), let call = callsByDialog[id], call.phase != .ended else {
            respond(request, on: key, .callOrTransactionDoesNotExist)
            return nil
        }
        switch call.dialog.receive(request) {
        case .accept, .duplicate:
            return call
        case .outOfOrder:
            respond(request, on: key, .serverInternalError, toTag: call.dialog.id.localTag, reason: "CSeq out of order")
            return nil
        }
    }

    private func info(_ request: SIPRequest, _ key: SIPTransactionKey, _ call: Call) {
        switch SIPDTMFInfo.parse(contentType: request.contentType, body: request.body) {
        case .key(let c):
            respond(request, on: key, .ok, toTag: call.dialog.id.localTag)
            metrics.infoDigits += 1
            if let k = DialplanKey(rawValue: c) { feed(.keyPressed(k), to: call) }
        case .noKey:
            respond(request, on: key, .ok, toTag: call.dialog.id.localTag)
        case .malformed(let why):
            if let type = request.contentType, !SIPDTMFInfo.contentTypes.contains(type) {
                respond(request, on: key, .unsupportedMediaType, toTag: call.dialog.id.localTag,
                        extra: [(.accept, "application/dtmf-relay, application/dtmf")])
            } else {
                respond(request, on: key, .badRequest, toTag: call.dialog.id.localTag, reason: "Bad Request - \(why)")
            }
        }
    }
}

/// Another loop's engine, reachable from this one.
struct CallEnginePeer: Sendable {
    let eventLoop: EventLoop
    let engine: NIOLoopBound<CallEngine>
}

/// Counters the engine keeps for /metrics.
struct EngineMetrics: Sendable {
    var callsAccepted: UInt64 = 0
    var callsByDisposition: [String: UInt64] = [:]
    var rejectedByStatus: [Int: UInt64] = [:]
    var infoDigits: UInt64 = 0
    var strayACKs: UInt64 = 0
    var answered: UInt64 = 0
    var ticketErrors: UInt64 = 0
    /// Messages for a TLS peer with no open connection (we do not open TLS connections).
    var unsentOnStreams: UInt64 = 0
    // Agent legs (B2BUA).
    var agentInvites: UInt64 = 0
    var agentAnswers: UInt64 = 0
    /// Calls we placed: INVITEs sent (auth retries included), answered, not answered.
    var outboundInvites: UInt64 = 0
    var outboundAnswered: UInt64 = 0
    var outboundFailed: UInt64 = 0
    /// RTP packets of agent legs that have ended (open ones are added in the snapshot).
    var agentRTPReceived: UInt64 = 0
    var agentRTPSent: UInt64 = 0
    /// INVITE read to 200 OK written, answered calls (the server's share of RFC 6076 SRD):
    /// the server's histogram, shared by the loops (see ``ServerMetrics``).
    var setupTime = CoreMetrics.Timer(label: "call_setup", dimensions: [], handler: NOOPMetricsHandler.instance)
    /// Ticket open submitted to its commit seen back on the call's loop.
    var ticketOpenTime = CoreMetrics.Timer(label: "ticket_open", dimensions: [], handler: NOOPMetricsHandler.instance)
}
