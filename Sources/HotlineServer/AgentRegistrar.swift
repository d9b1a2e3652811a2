// HotlineServer: the composition root.
// This file: the agents' registrar on the control loop — REGISTERs answered by the registrar
// state machine, its one timer, its keep-alive probes, and what it reports to the contact centre.
import ACD
import Foundation
import Logging
import NIOCore
import SIPAuth
import SIPCore
import SIPRegistrar
import SIPTransaction

/// Carries out the ``RegistrarStateMachine``'s actions: answers REGISTERs from engine 0's
/// endpoint, probes bindings with OPTIONS, logs bindings coming and going, and reports what
/// the ACD and the counters need (``Report``). Every method runs on the control loop.
final class AgentRegistrar {
    enum Report {
        /// A new binding (for the registrations counter, and the cluster's ACD learns the contact).
        case registered(AgentID?)
        /// An agent's phone became (un)reachable: the ACD offers calls only to reachable ones.
        case reachabilityChanged(AgentID, reachable: Bool)
        case security(SecurityEvent)
    }

    unowned let engine: CallEngine
    let logger: Logger
    private(set) var machine: RegistrarStateMachine
    /// Which agent each SIP username is.
    private(set) var agentsByUsername: [String: AgentID]
    private var deadline: UnixTime?
    private var prober: KeepAliveProber!
    /// Set by the owner once it exists; reports before that would be lost, and there are none
    /// (the registrar acts only on REGISTERs and its tick).
    var onReport: (Report) -> Void = { _ in }

    init(engine: CallEngine, configuration: RegistrarConfiguration, secret: [UInt8], credentials: [String: DigestCredentials],
         agentsByUsername: [String: AgentID], keepAliveTimeout: Duration, logger: Logger) {
        self.engine = engine
        self.logger = logger
        self.machine = RegistrarStateMachine(configuration: configuration, secret: secret, credentials: credentials)
        self.agentsByUsername = agentsByUsername
        self.prober = KeepAliveProber(engine: engine, timeout: keepAliveTimeout) { [unowned self] outcome in
            switch outcome {
            case .answered(let binding, let status): perform(machine.event(.optionsAnswered(binding, status: status), now: Self.wallClock()))
            case .failed(let binding): perform(machine.event(.optionsFailed(binding), now: Self.wallClock()))
            }
        }
    }

    /// The registrar's clock: wall time (bindings expire at absolute times).
    static func wallClock() -> UnixTime { UnixTime(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) }

    /// Fires the registrar's one timer if due.
    func tick() {
        let now = Self.wallClock()
        guard let due = deadline, due <= now else { return }
        deadline = nil
        perform(machine.event(.tick, now: now))
    }

    /// A REGISTER, already annotated with `received`/`rport` (RFC 3581) by the endpoint.
    func receivedRegister(_ request: SIPRequest, key: SIPTransactionKey, source: SocketAddress) {
        let from = SIPSourceAddress(host: source.ipAddress ?? "?", port: source.port ?? 0,
                                    transport: engine.endpoint.transport(to: source).viaName)
        for action in machine.event(.receivedRegister(request, from: from), now: Self.wallClock()) {
            if case .respond(var response) = action {
                if !response.headers.contains(.server) { response.headers.append(.server, engine.configuration.userAgent) }
                engine.endpoint.respond(response, to: key)
            } else {
                perform([action])
            }
        }
    }

    /// A phone's TCP or TLS connection closed: the bindings made over it go.
    func flowClosed(_ address: SocketAddress, transport: String) {
        let flow = SIPSourceAddress(host: address.ipAddress ?? "?", port: address.port ?? 0, transport: transport)
        perform(machine.event(.flowClosed(flow), now: Self.wallClock()))
    }

    /// A lockout the cluster counted: refused here too from now on.
    func installLockout(_ subject: LockoutSubject, until: UnixTime) {
        guard machine.lockout(of: subject, now: Self.wallClock()) == nil else { return }
        machine.installLockout(subject, until: until, now: Self.wallClock())
        logger.notice("security: locked out by the cluster's count", metadata: ["subject": "\(subject)", "until": "\(SIPDate.format(until))"])
    }

    /// New credentials and agents (agents.yaml re-read): removed users' bindings are dropped.
    func update(credentials: [String: DigestCredentials], agentsByUsername: [String: AgentID]) {
        perform(machine.updateCredentials(credentials, now: Self.wallClock()))
        self.agentsByUsername = agentsByUsername
    }

    /// The SIP usernames that must register over TLS (agents.yaml `media_encryption: required`).
    func requireTLS(for usernames: Set<String>) {
        perform(machine.requireTLS(for: usernames, now: Self.wallClock()))
    }

    private func perform(_ actions: [RegistrarStateMachine.Action]) {
        for action in actions {
            switch action {
            case .respond:
                break // only for REGISTER, answered in receivedRegister
            case .sendOptions(let probe):
                prober.send(probe)
            case .registered(let binding):
                onReport(.registered(agentsByUsername[binding.user]))
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
                onReport(.reachabilityChanged(agent, reachable: reachable))
            case .security(let event):
                onReport(.security(event))
            case .scheduleTick(let at):
                deadline = at
            case .cancelTick:
                deadline = nil
            }
        }
    }

    private func bindingMetadata(_ binding: RegistrationBinding) -> Logger.Metadata {
        ["agent.id": "\(agentsByUsername[binding.user].map(\.rawValue) ?? "?")", "sip.username": "\(binding.user)",
         "sip.source": "\(binding.source)", "sip.contact": "\(binding.contact)"]
    }
}
