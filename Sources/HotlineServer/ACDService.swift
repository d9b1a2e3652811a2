// HotlineServer: the composition root.
// This file: the contact centre's one home on the control loop (engine 0's event loop): the ACD
// state machine and its dispatch to the call loops, agent requests, seats and its counters; it
// owns the agents' registrar (AgentRegistrar.swift), the feature-code authenticator and the
// security log. Calls live on every loop; they reach the ACD by hopping here with events, and
// the ACD's actions for a call hop back to its loop.
import ACD
import ACDConfig
import Dialplan
import Foundation
import Logging
import NIOCore
import SDP
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

    /// Runs `body` on the control loop and completes with the future it returns.
    func ask<T: Sendable>(_ body: @escaping @Sendable (ACDService) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let service = self.service
        return eventLoop.flatSubmit { body(service.value) }
    }
}

/// Where the ACD found an agent's phone for an offer: the registered contact, and the address
/// its REGISTER came from (requests go there: behind NAT the contact is a private address).
struct AgentTarget: Sendable {
    var agent: AgentID
    var name: String
    var sipUsername: String
    var contact: SIPURI
    /// Where the INVITE goes: the phone's address, or the front of its Path.
    var destination: SocketAddress
    /// Route headers (the binding's Path, RFC 3327).
    var route: [SIPURI] = []
    var seat: SeatKind
    /// SRTP for the leg (agents.yaml `media_encryption`); SDES keys are offered only over TLS.
    var mediaEncryption: MediaEncryption = .none
}

/// What an agent's feature code or admin request came to.
enum AgentRequestOutcome: Sendable, Equatable, Codable {
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
    /// 488: the agent must use SRTP and the INVITE's offer (or its transport) cannot carry it.
    case encryptionRequired
    /// Carried out; the confirmation call runs under the agent's media policy.
    case outcome(AgentID, AgentRequestOutcome, MediaEncryption)
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
    let registrar: AgentRegistrar
    /// Checks feature-code INVITEs (the registrar's own authenticator is its business).
    private var featureCodes: FeatureCodeAuthenticator
    private let securityLog: SecurityLog
    var acdDeadline: ACDInstant?
    var metrics = ContactCentreMetrics()
    /// With a shared store: failed authentications counted across the cluster.
    var clusterLockout: ClusterLockout?
    /// With a shared store: the licensed seat count shared by the cluster.
    var clusterSeats: ClusterSeats?
    /// With a shared store: one ACD for the cluster, on its leader (ClusterACD.swift). The
    /// machine here is then the live one only while this node leads, a read-only copy otherwise.
    var cluster: ClusterACD?
    /// Told whenever the machine may have changed (the console's live feed); cheap, any thread.
    var onChange: (@Sendable () -> Void)?
    /// Start time of `GET /api/queues` durations and the tick.
    let clock = ContinuousClock()

    init(engine: CallEngine, setup: ACDSetup, secret: [UInt8], keepAlive: KeepAlivePolicy, keepAliveTimeout: Duration = .seconds(5),
         trustedProxies: Set<String> = [], logger: Logger) {
        self.engine = engine
        self.eventLoop = engine.eventLoop
        self.logger = logger
        self.setup = setup
        let digest = DigestAuthenticator.Configuration(realm: setup.agents.realm, algorithms: setup.agents.digestAlgorithms)
        self.featureCodes = FeatureCodeAuthenticator(secret: secret, configuration: digest)
        var registrarConfiguration = RegistrarConfiguration(digest: digest, keepAlive: keepAlive)
        registrarConfiguration.trustedProxies = trustedProxies
        self.registrar = AgentRegistrar(engine: engine, configuration: registrarConfiguration,
                                        secret: secret, credentials: setup.credentials, agentsByUsername: setup.agentsBySIPUsername,
                                        keepAliveTimeout: keepAliveTimeout, logger: logger)
        self.securityLog = SecurityLog(logger: logger)
        self.acd = ACDMachine(configuration: setup.configuration, now: ContinuousClock.now)
        registrar.onReport = { [unowned self] report in registrarReported(report) }
        registrar.requireTLS(for: Self.tlsOnlyUsernames(setup))
    }

    /// The shard of the loop that owns an ACD call id (`<shard>-<call number>`).
    /// In a cluster `suffix` names the node and its run (``ClusterCallID``).
    static func callID(shard: Int, call: UInt64, suffix: String = "") -> CallID { CallID("\(shard)-\(call)\(suffix)") }
    static func owner(of id: CallID) -> (shard: Int, call: UInt64)? {
        let local = id.rawValue.prefix { $0 != "@" }
        let parts = local.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let shard = Int(parts[0]), let call = UInt64(parts[1]) else { return nil }
        return (shard, call)
    }

    // MARK: - time

    /// The control loop's 10 ms tick: fires the ACD's and the registrar's one timer each.
    func tick() {
        let now = ContinuousClock.now
        // A read-only copy of the cluster's machine is never run.
        if let deadline = acdDeadline, deadline <= now, cluster?.role.isLeading ?? true {
            acdDeadline = nil
            perform(acd.event(.tick, now: now))
        }
        cluster?.tick(now: now)
        registrar.tick()
    }

    // MARK: - the registrar

    /// A REGISTER, already annotated with `received`/`rport` (RFC 3581) by the endpoint.
    func receivedRegister(_ request: SIPRequest, key: SIPTransactionKey, source: SocketAddress) {
        registrar.receivedRegister(request, key: key, source: source)
    }

    private func registrarReported(_ report: AgentRegistrar.Report) {
        switch report {
        case .registered(let agent):
            metrics.registrations += 1
            onChange?()
            // A phone registering anew may have a new contact or path: the leader learns it.
            if let cluster, let agent, let target = target(for: agent) {
                cluster.submit(.reachability(agent, reachable: true, target: target))
            }
        case .reachabilityChanged(let agent, let reachable):
            if let cluster {
                cluster.submit(.reachability(agent, reachable: reachable, target: reachable ? target(for: agent) : nil))
            } else {
                perform(acd.event(.agentReachabilityChanged(agent, reachable: reachable), now: ContinuousClock.now))
            }
        case .security(let event):
            security(event)
        }
    }

    /// Counted, then logged (SecurityLog.swift).
    private func security(_ event: SecurityEvent) {
        switch event {
        case .authenticationFailed(let username, _, let source, _):
            metrics.authenticationFailures += 1
            let configuration = registrar.machine.configuration
            let exempt = configuration.lockoutExemptAddresses.contains(source.host) || configuration.trustedProxies.contains(source.host)
            clusterLockout?.failed(address: exempt ? nil : source.host, user: username, at: Date(),
                                   addressPolicy: configuration.addressLockout, userPolicy: configuration.userLockout)
        case .lockedOut: metrics.lockouts += 1
        case .addressOfRecordMismatch, .malformedCredentials: break
        }
        securityLog.record(event)
    }

    // MARK: - feature codes (*21 … *24)

    /// Authenticates a feature-code INVITE (digest, as a UAS: 401) against the agent's HA1
    /// and, once it is an agent's, carries the code out.
    /// `offersSRTP`: whether the INVITE came over TLS with an SRTP offer we can take; an agent
    /// whose media must be encrypted is refused before the code is carried out otherwise.
    func featureCode(_ code: AgentFeatureCode, request: SIPRequest, source: SIPSourceAddress,
                     offersSRTP: Bool) -> EventLoopFuture<FeatureCodeVerdict> {
        metrics.featureCodes += 1
        let now = AgentRegistrar.wallClock()
        let verdict = featureCodes.check(request, source: source, realm: setup.agents.realm, credentials: setup.credentials, now: now) {
            registrar.machine.lockout(of: $0, now: now) != nil
        }
        switch verdict {
        case .challenge(let challenges):
            return eventLoop.makeSucceededFuture(.challenge(challenges))
        case .rejected(let event, let challenges):
            security(event)
            return eventLoop.makeSucceededFuture(.challenge(challenges))
        case .forbidden(let why):
            return eventLoop.makeSucceededFuture(.forbidden(why))
        case .authenticated(let username):
            guard let agent = registrar.agentsByUsername[username] else { return eventLoop.makeSucceededFuture(.forbidden("not an agent")) }
            let encryption = setup.agents.agents.first(where: { $0.profile.id == agent })?.mediaEncryption ?? .none
            if encryption == .required, !offersSRTP {
                logger.notice("feature code refused: the agent must use SRTP over SIP/TLS", metadata: ["agent.id": "\(agent)"])
                return eventLoop.makeSucceededFuture(.encryptionRequired)
            }
            let (request, reason) = Self.request(for: code, pauseReasons: setup.agents.pauseReasons)
            let logger = self.logger
            return requestAgent(agent, request, reason: reason).map { outcome in
                logger.info("agent feature code", metadata: ["agent.id": "\(agent)", "code": "\(code)", "outcome": "\(outcome)"])
                return .outcome(agent, outcome, encryption)
            }
        }
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

    /// An agent's request from a feature code or the admin API: decided here, or in a cluster
    /// by the ACD's leader.
    func requestAgent(_ agent: AgentID, _ request: AgentRequest, reason: PauseReason? = nil) -> EventLoopFuture<AgentRequestOutcome> {
        if let cluster { return cluster.request(agent, request, reason: reason) }
        return eventLoop.makeSucceededFuture(agentRequest(agent, request, reason: reason))
    }

    /// Logs in, out, pauses or unpauses on this machine; the outcome says the state reached or why not.
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
        clusterSeats?.announce(licensed: seats, agentsYAMLLicensedSeats: setup.agents.licensedSeats)
        saveSeats(seats)
        return acd.seats
    }

    /// Another node set the count (or it is the one in force for the cluster): applied here
    /// unless agents.yaml here says something else than it did then.
    func applyClusterSeats(_ seats: Int, agentsYAMLLicensedSeats: Int) {
        guard agentsYAMLLicensedSeats == setup.agents.licensedSeats, seats != acd.seats.licensed else { return }
        perform(acd.setLicensedSeats(seats, now: ContinuousClock.now))
        logger.notice("licensed seats changed", metadata: ["seats": "\(seats)", "by": "cluster"])
        saveSeats(seats)
    }

    private func saveSeats(_ seats: Int) {
        if let (url, yaml) = seatsFile {
            do {
                try SeatOverride(licensed: seats, agentsYAMLLicensedSeats: yaml, setAt: Date()).save(to: url)
            } catch {
                logger.error("licensed seats not saved; a restart will use agents.yaml's licensed_seats",
                             metadata: ["file": "\(url.path)", "error": "\(error)"])
            }
        }
    }

    /// Agents whose media must be SRTP register only over TLS: the keys travel in the signalling.
    static func tlsOnlyUsernames(_ setup: ACDSetup) -> Set<String> {
        Set(setup.agents.agents.filter { $0.mediaEncryption == .required }.map(\.profile.sipUsername))
    }

    /// agents.yaml and queues.yaml re-read (already checked): new rules, profiles and
    /// credentials at once; removed agents are logged out (after their call), their phones'
    /// bindings dropped. A licensed_seats edited in agents.yaml applies now and retires the
    /// count saved by `hotline seats set`.
    func reconfigure(_ new: ACDSetup) {
        perform(acd.reconfigure(new.configuration, now: ContinuousClock.now))
        registrar.update(credentials: new.credentials, agentsByUsername: new.agentsBySIPUsername)
        registrar.requireTLS(for: Self.tlsOnlyUsernames(new))
        let seatsEdited = new.agents.licensedSeats != setup.agents.licensedSeats
        setup = new
        if seatsEdited {
            perform(acd.setLicensedSeats(new.agents.licensedSeats, now: ContinuousClock.now))
            logger.notice("licensed seats changed", metadata: ["seats": "\(new.agents.licensedSeats)", "by": "agents.yaml"])
            if let (url, _) = seatsFile {
                seatsFile = (url, new.agents.licensedSeats)
                try? FileManager.default.removeItem(at: url)
            }
            clusterSeats?.retire()
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

    func callerArrived(_ id: CallID, _ request: EnqueueRequest) {
        if let cluster { return cluster.callerArrived(id, request) }
        feed(.callerArrived(id, request))
    }

    func callerHungUp(_ id: CallID) { send(.callerHungUp(id)) }
    func callEnded(_ id: CallID) { send(.callEnded(id)) }
    func callbackCancelled(_ id: CallID) { send(.callbackCancelled(id)) }
    func callbackNotReached(_ id: CallID) { send(.callbackNotReached(id)) }

    func offerAnswered(_ id: CallID, agent: AgentID) {
        metrics.offersAnswered += 1
        send(.offerAnswered(id, agent: agent))
    }

    func offerFailed(_ id: CallID, agent: AgentID, _ failure: OfferFailure) {
        metrics.offersFailed += 1
        logger.info("offer failed", metadata: ["acd.call": "\(id)", "agent.id": "\(agent)", "reason": "\(failure.rawValue)"])
        send(.offerFailed(id, agent: agent, failure))
    }

    /// An event of this node's calls: to the machine here, or in a cluster to the leader's.
    private func send(_ event: ACDMachine.Event) {
        if let cluster { return cluster.submit(.acd(event)) }
        feed(event)
    }

    /// Runs the machine here (alone, or as the cluster's leader) and carries its actions out.
    func feed(_ event: ACDMachine.Event) {
        perform(acd.event(event, now: .now))
    }

    // MARK: - the cluster's machine

    /// Carries on from the cluster's state rows: as the new leader, or as this node's copy for
    /// the admin API. The licensed seats stay as this node has them (they come with the cluster).
    func restoreMachine(_ snapshot: ACDSnapshot, timeline: ACDTimeline) {
        let seats = acd.seats.licensed
        acd = ACDMachine(configuration: setup.configuration, restoring: snapshot, now: .now, instant: timeline.instant)
        _ = acd.setLicensedSeats(seats, now: .now)
        acdDeadline = nil
        onChange?()
    }

    func machineSnapshot(timeline: ACDTimeline) -> ACDSnapshot { acd.snapshot(time: timeline.time) }

    /// No longer the leader: the machine here becomes a copy, never run.
    func leadershipEnded() {
        acdDeadline = nil
    }

    // MARK: - live state for the admin API

    var seats: SeatStatistics { acd.seats }
    func queueStatistics() -> [QueueStatistics] { acd.queueStatistics(now: .now) }
    func agentStatuses() -> [AgentStatus] { acd.agentStatuses(now: .now) }
    func bindings(of agent: AgentID) -> [RegistrationBinding] {
        guard let username = setup.agents.agents.first(where: { $0.profile.id == agent })?.profile.sipUsername else { return [] }
        return registrar.machine.bindings(of: username)
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
                                     bindings: registrar.machine.allBindings.count)
    }
}
