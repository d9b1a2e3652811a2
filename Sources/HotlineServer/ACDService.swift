// HotlineServer: the composition root.
// This file: the contact centre's one home — the ACD state machine and the agents' registrar,
// confined to the control loop (engine 0's event loop). Calls live on every loop; they reach
// the ACD by hopping here with events, and the ACD's actions for a call hop back to its loop.
import ACD
import ACDConfig
import Dialplan
import Foundation
import Logging
import NIOCore
import SIPAuth
import SIPCore
import SIPEndpoint
import SIPRegistrar
import SIPTransaction

/// The ACD's instant: the monotonic clock.
typealias ACDInstant = ContinuousClock.Instant
typealias ACDMachine = ACDStateMachine<ACDInstant>

/// How another loop reaches the ACD: hop to the control loop and run there.
struct ACDLink: Sendable {
    let eventLoop: EventLoop
    let service: NIOLoopBound<ACDService>

    /// Runs `body` on the control loop with the service; fire and forget.
    func send(_ body: @escaping @Sendable (ACDService) -> Void) {
        let service = self.service
        eventLoop.execute { body(service.value) }
    }

    /// Runs `body` on the control loop and completes with its result.
    func ask<T: Sendable>(_ body: @escaping @Sendable (ACDService) -> T) -> EventLoopFuture<T> {
        let service = self.service
        return eventLoop.submit { body(service.value) }
    }
}

/// Where the ACD found an agent's phone for an offer: the registered contact, and the address
/// its REGISTER came from (requests go there: behind NAT the contact is a private address).
struct AgentTarget: Sendable {
    var agent: AgentID
    var name: String
    var sipUsername: String
    var contact: SIPURI
    var destination: SocketAddress
    var seat: SeatKind
}

/// What an agent's feature code or admin request came to.
enum AgentRequestOutcome: Sendable, Equatable {
    case done(AgentRequest, AgentState)
    case refused(AgentRequest, AgentRefusal)

    /// The confirmation prompt the agent hears.
    var prompt: String {
        switch self {
        case .refused: "agent_refused"
        case .done(.login, _): "agent_logged_in"
        case .done(.logout, _): "agent_logged_out"
        case .done(.pause, let state): state == .available ? "agent_available" : "agent_paused"
        case .done(.unpause, _): "agent_available"
        }
    }
}

/// The answer to a feature-code INVITE, decided on the control loop.
enum FeatureCodeVerdict: Sendable {
    /// 401 with these `WWW-Authenticate` values (no or stale credentials, or wrong ones).
    case challenge([String])
    /// 403: locked out, or authenticated as a user who is not an agent.
    case forbidden(String)
    case outcome(AgentID, AgentRequestOutcome)
}

/// Whether a keep-alive probe has been decided (answer, transaction timeout or watchdog),
/// so it is counted once. Touched only on the control loop.
private final class ProbeOutcome: @unchecked Sendable {
    var settled = false
}

/// Counters for /metrics.
struct ContactCentreMetrics: Sendable {
    var registrations: UInt64 = 0
    var authenticationFailures: UInt64 = 0
    var lockouts: UInt64 = 0
    var offers: UInt64 = 0
    var offersAnswered: UInt64 = 0
    var offersFailed: UInt64 = 0
    var offersCancelled: UInt64 = 0
    var featureCodes: UInt64 = 0
}

/// The ACD and the registrar, on the control loop. Every method runs on `eventLoop`.
final class ACDService {
    let eventLoop: EventLoop
    /// Engine 0: its SIP endpoint answers REGISTERs and sends the keep-alives.
    unowned let engine: CallEngine
    let logger: Logger
    /// Every engine, by shard index, to hop a call's actions to its loop.
    var peers: [CallEnginePeer] = []
    private(set) var setup: ACDSetup
    private(set) var acd: ACDMachine
    private(set) var registrar: RegistrarStateMachine
    /// Checks feature-code INVITEs (the registrar's own authenticator is its business); same
    /// secret and realm, so a phone's credentials work for both.
    private var authenticator: DigestAuthenticator
    private var agentsByUsername: [String: AgentID]
    private var acdDeadline: ACDInstant?
    private var registrarDeadline: UnixTime?
    private(set) var metrics = ContactCentreMetrics()
    /// Start time of `GET /api/queues` durations and the tick.
    let clock = ContinuousClock()

    /// How long a keep-alive OPTIONS may go unanswered before it counts as failed.
    let keepAliveTimeout: Duration

    init(engine: CallEngine, setup: ACDSetup, secret: [UInt8], keepAlive: KeepAlivePolicy, keepAliveTimeout: Duration = .seconds(5),
         logger: Logger) {
        self.keepAliveTimeout = keepAliveTimeout
        self.engine = engine
        self.eventLoop = engine.eventLoop
        self.logger = logger
        self.setup = setup
        let digest = DigestAuthenticator.Configuration(realm: setup.agents.realm, algorithms: setup.agents.digestAlgorithms)
        self.authenticator = DigestAuthenticator(secret: secret, configuration: digest)
        self.registrar = RegistrarStateMachine(configuration: RegistrarConfiguration(digest: digest, keepAlive: keepAlive),
                                               secret: secret, credentials: setup.credentials)
        self.acd = ACDMachine(configuration: setup.configuration, now: ContinuousClock.now)
        self.agentsByUsername = setup.agentsBySIPUsername
    }

    /// The shard of the loop that owns an ACD call id (`<shard>-<call number>`).
    static func callID(shard: Int, call: UInt64) -> CallID { CallID("\(shard)-\(call)") }
    static func owner(of id: CallID) -> (shard: Int, call: UInt64)? {
        let parts = id.rawValue.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let shard = Int(parts[0]), let call = UInt64(parts[1]) else { return nil }
        return (shard, call)
    }

    static func wallClock() -> UnixTime { UnixTime(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) }

    // MARK: - time

    /// The control loop's 10 ms tick: fires the ACD's and the registrar's one timer each.
    func tick() {
        let now = ContinuousClock.now
        if let deadline = acdDeadline, deadline <= now {
            acdDeadline = nil
            perform(acd.event(.tick, now: now))
        }
        let wall = Self.wallClock()
        if let deadline = registrarDeadline, deadline <= wall {
            registrarDeadline = nil
            perform(registrar.event(.tick, now: wall))
        }
    }

    // MARK: - the registrar

    /// A REGISTER, already annotated with `received`/`rport` (RFC 3581) by the endpoint.
    func receivedRegister(_ request: SIPRequest, key: SIPTransactionKey, source: SocketAddress) {
        let from = SIPSourceAddress(host: source.ipAddress ?? "?", port: source.port ?? 0, transport: "UDP")
        for action in registrar.event(.receivedRegister(request, from: from), now: Self.wallClock()) {
            if case .respond(var response) = action {
                if !response.headers.contains(.server) { response.headers.append(.server, engine.configuration.userAgent) }
                engine.endpoint.respond(response, to: key)
            } else {
                perform([action])
            }
        }
    }

    private func perform(_ actions: [RegistrarStateMachine.Action]) {
        for action in actions {
            switch action {
            case .respond:
                break // only for REGISTER, answered in receivedRegister
            case .sendOptions(let probe):
                sendKeepAlive(probe)
            case .registered(let binding):
                metrics.registrations += 1
                logger.info("agent phone registered", metadata: bindingMetadata(binding))
            case .refreshed(let binding):
                logger.debug("agent phone registration refreshed", metadata: bindingMetadata(binding))
            case .unregistered(let binding, let reason):
                var metadata = bindingMetadata(binding)
                metadata["reason"] = "\(reason.rawValue)"
                logger.info("agent phone unregistered", metadata: metadata)
            case .reachabilityChanged(let user, let reachable):
                guard let agent = agentsByUsername[user] else { continue }
                logger.info(reachable ? "agent reachable" : "agent unreachable", metadata: ["agent.id": "\(agent)"])
                perform(acd.event(.agentReachabilityChanged(agent, reachable: reachable), now: ContinuousClock.now))
            case .security(let event):
                security(event)
            case .scheduleTick(let at):
                registrarDeadline = at
            case .cancelTick:
                registrarDeadline = nil
            }
        }
    }

    private func bindingMetadata(_ binding: RegistrationBinding) -> Logger.Metadata {
        ["agent.id": "\(agentsByUsername[binding.user].map(\.rawValue) ?? "?")", "sip.username": "\(binding.user)",
         "sip.source": "\(binding.source)", "sip.contact": "\(binding.contact)"]
    }

    /// Security events go to the log at warning, tagged `security`, without passwords or
    /// digests (only what the client claimed and where it came from).
    private func security(_ event: SecurityEvent) {
        switch event {
        case .authenticationFailed(let username, let aor, let source, let reason):
            metrics.authenticationFailures += 1
            logger.warning("security: authentication failed", metadata: [
                "security.event": "authentication_failed", "sip.username": "\(username)", "sip.aor": "\(aor)",
                "sip.source": "\(source)", "reason": "\(reason)",
            ])
        case .lockedOut(let subject, let until):
            metrics.lockouts += 1
            logger.warning("security: locked out after repeated failures", metadata: [
                "security.event": "locked_out", "subject": "\(subject)", "until": "\(SIPDate.format(until))",
            ])
        case .addressOfRecordMismatch(let username, let aor, let source):
            logger.warning("security: authenticated user tried to register another address-of-record", metadata: [
                "security.event": "aor_mismatch", "sip.username": "\(username)", "sip.aor": "\(aor)", "sip.source": "\(source)",
            ])
        case .malformedCredentials(let source, let error):
            logger.warning("security: malformed credentials", metadata: [
                "security.event": "malformed_credentials", "sip.source": "\(source)", "error": "\(error)",
            ])
        }
    }

    /// An OPTIONS to a binding's source address in a client transaction; its outcome feeds
    /// the registrar. The Call-ID hashes to this loop, so the response comes back here.
    private func sendKeepAlive(_ probe: OptionsProbe) {
        guard let destination = try? SocketAddress(ipAddress: probe.destination.host, port: probe.destination.port) else {
            perform(registrar.event(.optionsFailed(probe.binding), now: Self.wallClock()))
            return
        }
        let endpoint = engine.endpoint!
        var headers = SIPHeaders()
        headers.append(.via, endpoint.makeVia().description)
        headers.append(.maxForwards, "70")
        headers.append(.from, "<sip:hotline@\(engine.hostForURI):\(endpoint.configuration.port)>;tag=\(endpoint.makeTag())")
        headers.append(.to, "<\(probe.requestURI)>")
        headers.append(.callID, engine.makeCallID())
        headers.append(.cseq, SIPCSeq(1, .options).description)
        headers.append(.accept, "application/sdp")
        let request = SIPRequest(method: .options, uri: probe.requestURI, headers: headers)
        let binding = probe.binding
        // A probe fails after `keepAliveTimeout` (several retransmissions at T1 doubling), not
        // at Timer F's 32 s: a home agent whose NAT binding or phone is gone should stop being
        // offered calls within about one interval plus this.
        let outcome = ProbeOutcome()
        let service = NIOLoopBound(self, eventLoop: eventLoop)
        let watchdog = eventLoop.scheduleTask(in: TimeAmount(keepAliveTimeout)) {
            guard !outcome.settled else { return }
            outcome.settled = true
            service.value.perform(service.value.registrar.event(.optionsFailed(binding), now: Self.wallClock()))
        }
        endpoint.send(request: request, to: destination) { [weak self] event in
            guard let self, !outcome.settled else { return }
            switch event {
            case .response(let response) where response.status.isProvisional:
                return
            case .response(let response):
                outcome.settled = true
                watchdog.cancel()
                self.perform(self.registrar.event(.optionsAnswered(binding, status: response.status), now: Self.wallClock()))
            case .timeout:
                outcome.settled = true
                watchdog.cancel()
                self.perform(self.registrar.event(.optionsFailed(binding), now: Self.wallClock()))
            }
        }
    }

    // MARK: - feature codes (*21 … *24)

    /// Authenticates a feature-code INVITE (digest, as a UAS: 401) against the agent's HA1
    /// and, once it is an agent's, carries the code out.
    func featureCode(_ code: AgentFeatureCode, request: SIPRequest, source: SIPSourceAddress) -> FeatureCodeVerdict {
        metrics.featureCodes += 1
        let now = Self.wallClock()
        if registrar.lockout(of: .address(source.host), now: now) != nil {
            return .forbidden("address locked out")
        }
        let authorization = request.headers.values(.authorization).compactMap { try? DigestAuthorization.parse($0) }
            .first { $0.realm == setup.agents.realm }
        guard let authorization else { return .challenge(challenges(stale: false, now: now)) }
        if registrar.lockout(of: .user(authorization.username), now: now) != nil {
            return .forbidden("user locked out")
        }
        let verdict = authenticator.verify(authorization, method: request.method.rawValue, requestURI: request.uri.description,
                                           credentials: setup.credentials[authorization.username], now: now)
        switch verdict {
        case .stale:
            return .challenge(challenges(stale: true, now: now))
        case .rejected(let reason):
            security(.authenticationFailed(username: authorization.username, addressOfRecord: request.uri.decodedUser ?? "",
                                           source: source, reason: reason))
            return .challenge(challenges(stale: false, now: now))
        case .authenticated(let username, _):
            guard let agent = agentsByUsername[username] else { return .forbidden("not an agent") }
            let (request, reason) = Self.request(for: code, pauseReasons: setup.agents.pauseReasons)
            let outcome = agentRequest(agent, request, reason: reason)
            logger.info("agent feature code", metadata: ["agent.id": "\(agent)", "code": "\(code)", "outcome": "\(outcome)"])
            return .outcome(agent, outcome)
        }
    }

    private func challenges(stale: Bool, now: UnixTime) -> [String] {
        authenticator.challenges(now: now, stale: stale).map(\.description)
    }

    static func request(for code: AgentFeatureCode, pauseReasons: [String: PauseReason]) -> (AgentRequest, PauseReason?) {
        switch code {
        case .login: (.login, nil)
        case .logout: (.logout, nil)
        case .unpause: (.unpause, nil)
        case .pause(let code): (.pause, code.flatMap { pauseReasons[$0] } ?? .unspecified)
        }
    }

    // MARK: - agent requests (feature codes and the admin API)

    /// Logs in, out, pauses or unpauses; the outcome says the state reached or why not.
    func agentRequest(_ agent: AgentID, _ request: AgentRequest, reason: PauseReason? = nil) -> AgentRequestOutcome {
        let event: ACDMachine.Event = switch request {
        case .login: .loginRequested(agent)
        case .logout: .logoutRequested(agent)
        case .pause: .pauseRequested(agent, reason ?? .unspecified)
        case .unpause: .unpauseRequested(agent)
        }
        let actions = acd.event(event, now: ContinuousClock.now)
        perform(actions)
        for case .refused(let who, let what, let refusal) in actions where who == agent && what == request {
            return .refused(request, refusal)
        }
        return .done(request, acd.state(of: agent) ?? .loggedOut)
    }

    /// Where `setLicensedSeats` saves the count, with agents.yaml's value it overrides.
    var seatsFile: (url: URL, agentsYAMLLicensedSeats: Int)?

    /// `PUT /api/seats`: applies at once and is saved beside the database, so it outlives a
    /// restart (until agents.yaml's `licensed_seats` is edited). A failed save is logged and
    /// the new count still applies: refusing seats the centre needs now would be worse.
    func setLicensedSeats(_ seats: Int) -> SeatStatistics {
        perform(acd.setLicensedSeats(seats, now: ContinuousClock.now))
        logger.notice("licensed seats changed", metadata: ["seats": "\(seats)"])
        if let (url, yaml) = seatsFile {
            do {
                try SeatOverride(licensed: seats, agentsYAMLLicensedSeats: yaml, setAt: Date()).save(to: url)
            } catch {
                logger.error("licensed seats not saved; a restart will use agents.yaml's licensed_seats",
                             metadata: ["file": "\(url.path)", "error": "\(error)"])
            }
        }
        return acd.seats
    }

    /// agents.yaml and queues.yaml re-read (already checked): new rules, profiles and
    /// credentials at once; removed agents are logged out (after their call), their phones'
    /// bindings dropped. A licensed_seats edited in agents.yaml applies now and retires the
    /// count saved by `hotline seats set`.
    func reconfigure(_ new: ACDSetup) {
        perform(acd.reconfigure(new.configuration, now: ContinuousClock.now))
        perform(registrar.updateCredentials(new.credentials, now: Self.wallClock()))
        agentsByUsername = new.agentsBySIPUsername
        let seatsEdited = new.agents.licensedSeats != setup.agents.licensedSeats
        setup = new
        if seatsEdited {
            perform(acd.setLicensedSeats(new.agents.licensedSeats, now: ContinuousClock.now))
            logger.notice("licensed seats changed", metadata: ["seats": "\(new.agents.licensedSeats)", "by": "agents.yaml"])
            if let (url, _) = seatsFile {
                seatsFile = (url, new.agents.licensedSeats)
                try? FileManager.default.removeItem(at: url)
            }
        }
    }

    /// At start-up: the count an earlier run set at runtime.
    func restoreLicensedSeats(_ saved: SeatOverride) {
        perform(acd.setLicensedSeats(saved.licensed, now: ContinuousClock.now))
        logger.notice("licensed seats as last set at runtime", metadata: [
            "seats": "\(saved.licensed)", "set_at": "\(saved.setAt)", "agents_yaml": "\(saved.agentsYAMLLicensedSeats)",
        ])
    }

    // MARK: - events from the call loops

    func callerArrived(_ id: CallID, _ request: EnqueueRequest) { perform(acd.event(.callerArrived(id, request), now: .now)) }
    func callerHungUp(_ id: CallID) { perform(acd.event(.callerHungUp(id), now: .now)) }
    func callEnded(_ id: CallID) { perform(acd.event(.callEnded(id), now: .now)) }
    func callbackCancelled(_ id: CallID) { perform(acd.event(.callbackCancelled(id), now: .now)) }

    func offerAnswered(_ id: CallID, agent: AgentID) {
        metrics.offersAnswered += 1
        perform(acd.event(.offerAnswered(id, agent: agent), now: .now))
    }

    func offerFailed(_ id: CallID, agent: AgentID, _ failure: OfferFailure) {
        metrics.offersFailed += 1
        logger.info("offer failed", metadata: ["acd.call": "\(id)", "agent.id": "\(agent)", "reason": "\(failure.rawValue)"])
        perform(acd.event(.offerFailed(id, agent: agent, failure), now: .now))
    }

    // MARK: - the ACD's actions

    private func perform(_ actions: [ACDMachine.Action]) {
        for action in actions {
            switch action {
            case .offer(let id, let agent, let offer):
                metrics.offers += 1
                guard let target = target(for: agent) else {
                    // Reachable to the ACD but no binding left (it expired this instant).
                    perform(acd.event(.offerFailed(id, agent: agent, .unreachable), now: .now))
                    continue
                }
                logger.info("offering call to agent", metadata: ["acd.call": "\(id)", "agent.id": "\(agent)", "queue": "\(offer.queue)",
                                                                 "callback": "\(offer.isCallback)"])
                toCall(id) { engine, call in engine.offerToAgent(call, acdID: id, target: target, offer: offer) }
            case .cancelOffer(let id, let agent, let reason):
                metrics.offersCancelled += 1
                logger.info("offer withdrawn", metadata: ["acd.call": "\(id)", "agent.id": "\(agent)", "reason": "\(reason.rawValue)"])
                toCall(id) { engine, call in engine.cancelAgentLeg(call, agent: agent) }
            case .releaseAgentLeg(let id, let agent):
                toCall(id) { engine, call in engine.releaseAgentLeg(call, agent: agent) }
            case .playMusic(let id, let prompt):
                toCall(id) { engine, call in engine.playQueueMusic(call, prompt: prompt) }
            case .announce(let id, let announcement):
                toCall(id) { engine, call in engine.announceQueuePosition(call, announcement) }
            case .moved(let id, let from, let to, let reason):
                logger.info("caller overflowed into another queue", metadata: [
                    "acd.call": "\(id)", "from": "\(from)", "to": "\(to)", "reason": "\(reason.rawValue)"])
                toCall(id) { engine, call in engine.queueMoved(call, to: to.rawValue) }
            case .widened(let id, let queue, let skills):
                logger.info("caller's skill requirements widened", metadata: ["acd.call": "\(id)", "queue": "\(queue)", "skills": "\(skills)"])
            case .convertedToCallback(let id, let queue, let reason):
                logger.info("caller converted to a callback request", metadata: [
                    "acd.call": "\(id)", "queue": "\(queue)", "reason": "\(reason.rawValue)"])
                toCall(id) { engine, call in engine.queueConvertedToCallback(call) }
            case .left(let id, let exit):
                toCall(id) { engine, call in engine.queueLeft(call, exit) }
            case .agentStateChanged(let agent, let state):
                logger.info("agent state", metadata: ["agent.id": "\(agent)", "state": "\(state)"])
            case .agentAutoPaused(let agent, let misses):
                logger.notice("agent paused after missed offers", metadata: ["agent.id": "\(agent)", "misses": "\(misses)"])
            case .agentLoggedOutUnreachable(let agent):
                logger.notice("agent logged out: phone unreachable", metadata: ["agent.id": "\(agent)"])
            case .refused(let agent, let request, let refusal):
                logger.info("agent request refused", metadata: ["agent.id": "\(agent)", "request": "\(request.rawValue)",
                                                                "reason": "\(refusal)"])
            case .scheduleTick(let at):
                acdDeadline = at
            case .cancelTick:
                acdDeadline = nil
            }
        }
    }

    /// Where to ring an agent: their newest reachable binding.
    private func target(for agent: AgentID) -> AgentTarget? {
        guard let profile = setup.agents.agents.first(where: { $0.profile.id == agent })?.profile,
              let binding = registrar.preferredBinding(of: profile.sipUsername),
              let destination = try? SocketAddress(ipAddress: binding.source.host, port: binding.source.port)
        else { return nil }
        return AgentTarget(agent: agent, name: profile.name, sipUsername: profile.sipUsername, contact: binding.contact,
                           destination: destination, seat: profile.seat)
    }

    /// Runs `body` on the loop that owns the call, with its engine and call number.
    private func toCall(_ id: CallID, _ body: @escaping @Sendable (CallEngine, UInt64) -> Void) {
        guard let (shard, call) = Self.owner(of: id), shard < peers.count else {
            logger.error("ACD action for a call of no loop", metadata: ["acd.call": "\(id)"])
            return
        }
        let peer = peers[shard]
        peer.eventLoop.execute {
            let engine = peer.engine.value
            body(engine, call)
            engine.transport?.flush()
        }
    }

    // MARK: - live state for the admin API

    var seats: SeatStatistics { acd.seats }
    func queueStatistics() -> [QueueStatistics] { acd.queueStatistics(now: .now) }
    func agentStatuses() -> [AgentStatus] { acd.agentStatuses(now: .now) }
    func bindings(of agent: AgentID) -> [RegistrationBinding] {
        guard let username = setup.agents.agents.first(where: { $0.profile.id == agent })?.profile.sipUsername else { return [] }
        return registrar.bindings(of: username)
    }
    func knows(_ agent: AgentID) -> Bool { acd.state(of: agent) != nil }
    var pauseReasons: [String: PauseReason] { setup.agents.pauseReasons }
}

// MARK: - /metrics

/// The contact centre's counters and gauges for /metrics, taken on the control loop.
struct ContactCentreSnapshot: Sendable {
    var metrics: ContactCentreMetrics
    var seats: SeatStatistics
    var agentsByState: [String: Int]
    var waitingByQueue: [String: Int]
    var bindings: Int

    func prometheus(into p: inout MetricsPublisher) {
        p.add("hotline_agent_registrations_total", .counter, help: "Agent phones registered (new bindings).", value: metrics.registrations)
        p.add("hotline_agent_authentication_failures_total", .counter, help: "Refused digest credentials (REGISTER and feature codes).",
              value: metrics.authenticationFailures)
        p.add("hotline_agent_lockouts_total", .counter, help: "Lockouts of a user or an address after repeated failures.", value: metrics.lockouts)
        p.add("hotline_agent_bindings", .gauge, help: "Registered agent phone contacts.", value: bindings)
        p.add("hotline_acd_offers_total", .counter, help: "Offers of callers to agents, by outcome.", labels: [("outcome", "offered")], value: metrics.offers)
        p.add("hotline_acd_offers_total", .counter, help: "Offers of callers to agents, by outcome.", labels: [("outcome", "answered")],
              value: metrics.offersAnswered)
        p.add("hotline_acd_offers_total", .counter, help: "Offers of callers to agents, by outcome.", labels: [("outcome", "failed")],
              value: metrics.offersFailed)
        p.add("hotline_acd_offers_total", .counter, help: "Offers of callers to agents, by outcome.", labels: [("outcome", "withdrawn")],
              value: metrics.offersCancelled)
        p.add("hotline_agent_feature_codes_total", .counter, help: "Feature-code calls from agents' phones (*21...*24).", value: metrics.featureCodes)
        p.add("hotline_seats", .gauge, help: "Licensed seats, and agents logged in.", labels: [("kind", "licensed")], value: seats.licensed)
        p.add("hotline_seats", .gauge, help: "Licensed seats, and agents logged in.", labels: [("kind", "logged_in")], value: seats.loggedIn)
        p.add("hotline_seats", .gauge, help: "Licensed seats, and agents logged in.", labels: [("kind", "remote")], value: seats.remote)
        for (state, n) in agentsByState.sorted(by: { $0.key < $1.key }) {
            p.add("hotline_agents", .gauge, help: "Agents by state.", labels: [("state", state)], value: n)
        }
        for (queue, n) in waitingByQueue.sorted(by: { $0.key < $1.key }) {
            p.add("hotline_queue_waiting", .gauge, help: "Callers waiting, by queue.", labels: [("queue", queue)], value: n)
        }
    }
}

extension ACDService {
    func metricsSnapshot() -> ContactCentreSnapshot {
        var states: [String: Int] = [:]
        for status in agentStatuses() { states[status.state.name, default: 0] += 1 }
        var waiting: [String: Int] = [:]
        for queue in queueStatistics() { waiting[queue.queue.rawValue] = queue.waiting }
        return ContactCentreSnapshot(metrics: metrics, seats: seats, agentsByState: states, waitingByQueue: waiting,
                                     bindings: registrar.allBindings.count)
    }
}
