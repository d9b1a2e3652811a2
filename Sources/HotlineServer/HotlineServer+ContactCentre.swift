// HotlineServer: the composition root.
// This file: starting the contact centre — agents.yaml and queues.yaml loaded and checked
// against the dialplan and the prompts before any socket opens, the nonce secret, and the ACD
// service put on the control loop (engine 0) with a link to it from every loop.
import ACD
import ACDConfig
import Dialplan
import Foundation
import Logging
import Media
import NIOCore
import SIPAuth
import SIPRegistrar
import TicketsPostgres

/// What start-up loaded for the contact centre.
struct ContactCentreConfiguration: Sendable {
    var setup: ACDSetup
    var agentsPath: String
    var queuesPath: String
    var secret: [UInt8]
    /// Where a runtime seat count is saved, and the one saved by an earlier run (if still valid).
    var seatsFile: URL
    var savedSeats: SeatOverride?
}

extension HotlineServer {
    /// Prompts the contact centre plays besides the queues' music: agents' confirmations,
    /// position and wait announcements (with the `say` number fragments), voicemail, callback.
    static let contactCentrePrompts = [
        "agent_logged_in", "agent_logged_out", "agent_paused", "agent_available", "agent_refused",
        "queue_position_before", "queue_position_after", "queue_wait_before", "queue_wait_after",
        "queue_voicemail", "queue_callback", "beep", "goodbye",
    ]

    /// Loads the ACD files if there are any; every issue, located, stops start-up.
    static func loadContactCentre(_ configuration: ServerConfiguration, dialplan: Dialplan, cache: PromptCache,
                                  logger: Logger) throws(StartError) -> ContactCentreConfiguration? {
        guard let (agentsPath, queuesPath) = configuration.acdFiles else { return nil }
        let setup: ACDSetup
        do {
            setup = try ACDSetup.load(agentsPath: agentsPath, queuesPath: queuesPath)
        } catch {
            throw .contactCentre(error.description)
        }
        for warning in setup.warnings { logger.warning("\(warning)") }
        let issues = checkDialplan(dialplan, against: setup, queuesPath: queuesPath)
        if !issues.isEmpty { throw .contactCentre(issues.map(\.description).joined(separator: "\n")) }
        let missing = missingPrompts(of: setup, for: dialplan, promptsPath: configuration.promptsPath) { name, language in
            cache.prompt(named: name, language: language.rawValue) != nil
        }
        if !missing.isEmpty { throw .prompts(missing.joined(separator: "\n")) }
        let seatsFile = SeatOverride.url(in: configuration.dataDirectory)
        let saved: SeatOverride?
        do { saved = try SeatOverride.load(from: seatsFile, agentsYAMLLicensedSeats: setup.agents.licensedSeats) } catch {
            throw .contactCentre(error.description)
        }
        return ContactCentreConfiguration(setup: setup, agentsPath: agentsPath, queuesPath: queuesPath,
                                          secret: try nonceSecret(configuration), seatsFile: seatsFile, savedSeats: saved)
    }

    /// Every prompt a queued caller or an agent may hear (confirmations, announcements with
    /// their `say` fragments, each queue's music), in every language of the dialplan, that
    /// `exists` does not find; one line per missing file.
    static func missingPrompts(of setup: ACDSetup, for dialplan: Dialplan, promptsPath: String,
                               exists: (String, Language) -> Bool) -> [String] {
        var missing: [String] = []
        for language in dialplan.languages {
            var names = contactCentrePrompts + SayFormat.number.requiredFragments(in: language)
                + SayFormat.digits.requiredFragments(in: language)
            names += setup.queues.queues.compactMap(\.music)
            for name in Set(names).sorted() where !exists(name, language) {
                missing.append("\(promptsPath)/\(language.rawValue)/\(name).wav: missing (needed by the contact centre)")
            }
        }
        return missing
    }

    /// The dialplan's declared queues must all be defined in queues.yaml.
    static func checkDialplan(_ dialplan: Dialplan, against setup: ACDSetup, queuesPath: String) -> [ACDConfigIssue] {
        setup.checkDialplanQueues(dialplan.queues, dialplanName: dialplan.name, queuesFile: queuesPath)
    }

    /// The HMAC key of digest nonces: SHA-256 of `--nonce-secret-file`'s contents, so servers
    /// sharing the file accept each other's nonces; without a file, 32 bytes from the system's
    /// secure random source. Never a fixed or time-derived value: whoever can predict the key
    /// can mint nonces.
    static func nonceSecret(_ configuration: ServerConfiguration) throws(StartError) -> [UInt8] {
        guard let path = configuration.nonceSecretPath else { return DigestAuthenticator.randomSecret() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .contactCentre("\(path): cannot read the nonce secret file (--nonce-secret-file)")
        }
        guard data.count >= minimumNonceSecretBytes else {
            throw .contactCentre("\(path): the nonce secret has \(data.count) bytes; use at least "
                + "\(minimumNonceSecretBytes) random ones (e.g. openssl rand -hex 32 > \(path))")
        }
        return DigestHashing.sha256(Array(data))
    }

    /// A shared nonce secret shorter than this is guessable offline from one captured nonce.
    static let minimumNonceSecretBytes = 16

    /// Creates the ACD service on engine 0's loop and links every engine to it.
    static func attachContactCentre(_ centre: ContactCentreConfiguration, engines: [CallEnginePeer], dialplan: Dialplan,
                                    configuration: ServerConfiguration, logger: Logger) async throws -> ACDLink {
        let control = engines[0]
        let keepAlive = KeepAlivePolicy(interval: configuration.keepAliveInterval,
                                        failuresBeforeUnreachable: configuration.keepAliveFailures)
        let link = try await control.eventLoop.submit {
            let engine = control.engine.value
            let service = ACDService(engine: engine, setup: centre.setup, secret: centre.secret, keepAlive: keepAlive,
                                     keepAliveTimeout: configuration.keepAliveTimeout, trustedProxies: configuration.frontHosts,
                                     logger: logger)
            service.peers = engines
            service.seatsFile = (centre.seatsFile, centre.setup.agents.licensedSeats)
            if let saved = centre.savedSeats {
                service.restoreLicensedSeats(saved)
            }
            engine.contactCentre = service
            return ACDLink(eventLoop: control.eventLoop, service: NIOLoopBound(service, eventLoop: control.eventLoop))
        }.get()
        if configuration.usesPostgres {
            // Lockout counted across the nodes sharing the store (docs/contact-centre-cluster.md).
            let url = try PostgresURL(parsing: configuration.databasePath)
            let lockout = try ClusterLockout(url: url, node: configuration.node, logger: logger)
            lockout.start { subject, until in
                link.send { $0.registrar.installLockout(subject, until: until) }
            }
            try await control.eventLoop.submit { link.service.value.clusterLockout = lockout }.get()
            // The seat count the cluster runs with (set on any node) over this node's own file.
            let seats = try ClusterSeats(url: url, node: configuration.node, logger: logger)
            let inForce = try seats.current()
            try await control.eventLoop.submit {
                let service = link.service.value
                service.clusterSeats = seats
                if let inForce { service.applyClusterSeats(inForce.licensed, agentsYAMLLicensedSeats: inForce.agentsYAMLLicensedSeats) }
            }.get()
            seats.start { licensed, yaml in
                link.send { $0.applyClusterSeats(licensed, agentsYAMLLicensedSeats: yaml) }
            }
            // One ACD for the cluster, decided on its leader (docs/contact-centre-cluster.md).
            let acdStore = try PostgresACDStore(url: url)
            let suffix = try await control.eventLoop.submit {
                let service = link.service.value
                let cluster = ClusterACD(service: service, store: acdStore, node: configuration.node, logger: logger)
                service.cluster = cluster
                return cluster.callSuffix
            }.get()
            for peer in engines {
                try await peer.eventLoop.submit { peer.engine.value.acdCallSuffix = suffix }.get()
            }
            let leadership: PostgresLeadership?
            do {
                leadership = try PostgresLeadership(url: url, node: configuration.node, name: PostgresACDStore.leadershipName) { change in
                    link.send { $0.cluster?.leadershipChanged(change) }
                }
            } catch {
                logger.error("cannot compete for the ACD's leadership; this node only queues callers and rings agents",
                             metadata: ["error": "\(error)"])
                leadership = nil
            }
            try await control.eventLoop.submit { link.service.value.cluster?.start(leadership: leadership) }.get()
        }
        let features = CallEngine.makeFeatureDialplan(language: dialplan.defaultLanguage)
        if features == nil { logger.error("the agents' feature-code confirmations did not load; *21...*24 will get 404") }
        for peer in engines {
            try await peer.eventLoop.submit {
                peer.engine.value.acdLink = link
                peer.engine.value.featureDialplan = features
            }.get()
        }
        let setup = centre.setup
        logger.info("contact centre ready", metadata: [
            "agents": "\(setup.agents.agents.count)", "queues": "\(setup.queues.queues.map(\.name.rawValue).joined(separator: ","))",
            "licensed_seats": "\(setup.agents.licensedSeats)", "realm": "\(setup.agents.realm)",
            "files": "\(centre.agentsPath) \(centre.queuesPath)",
        ])
        return link
    }
}

extension DialplanIssue {
    /// An ACD configuration issue about a dialplan (a queue queues.yaml does not define), in
    /// the dialplan's issue form for `PUT /api/dialplans` answers.
    init(acd issue: ACDConfigIssue) {
        self.init(severity: issue.severity == .error ? .error : .warning, code: .unknownQueue, message: issue.message,
                  location: DialplanLocation(file: issue.file, line: issue.line, column: issue.column), keyPath: issue.keyPath,
                  hint: issue.hint)
    }
}
