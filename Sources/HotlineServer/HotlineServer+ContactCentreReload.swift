// This file: re-reading agents.yaml and queues.yaml while calls go on (SIGHUP, or
// `POST /api/contact-centre/reload`) — the 12345 centre adds 200 agents overnight without a
// restart. A file with errors is refused with its locations and the live setup stays.

import ACDConfig
import Dialplan
import Foundation
import Logging
import NIOCore
import Synchronization

/// The setup the contact centre runs on now, shared by the reload path and the dialplan
/// check (a published dialplan may only name queues the live queues.yaml defines).
final class LiveACDSetup: Sendable {
    private let state: Mutex<ACDSetup>
    init(_ setup: ACDSetup) { state = Mutex(setup) }
    var current: ACDSetup { state.withLock { $0 } }
    func replace(_ setup: ACDSetup) { state.withLock { $0 = setup } }
}

/// What a reload applied, for the log and the API.
struct ContactCentreReloadSummary: Sendable, Encodable {
    var agents: Int
    var queues: [String]
    var licensedSeats: Int
    var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case agents, queues, warnings
        case licensedSeats = "licensed_seats"
    }
}

enum ContactCentreReloadError: Error, CustomStringConvertible {
    case notConfigured
    case invalid([String])

    var description: String {
        switch self {
        case .notConfigured: "this server has no contact centre"
        case .invalid(let issues): issues.joined(separator: "\n")
        }
    }
}

/// Loads, checks and applies the contact centre's files.
final class ContactCentreReloader: Sendable {
    let agentsPath: String
    let queuesPath: String
    let live: LiveACDSetup
    let link: ACDLink
    let dialplans: DialplanLibrary
    let promptsPath: String
    let promptExists: @Sendable (Language, String) -> Bool
    let logger: Logger
    /// One reload at a time: two overlapping ones could apply in either order.
    private let busy = Mutex(false)

    init(agentsPath: String, queuesPath: String, live: LiveACDSetup, link: ACDLink, dialplans: DialplanLibrary,
         promptsPath: String, promptExists: @escaping @Sendable (Language, String) -> Bool, logger: Logger) {
        self.agentsPath = agentsPath
        self.queuesPath = queuesPath
        self.live = live
        self.link = link
        self.dialplans = dialplans
        self.promptsPath = promptsPath
        self.promptExists = promptExists
        self.logger = logger
    }

    func reload() async -> Result<ContactCentreReloadSummary, ContactCentreReloadError> {
        guard busy.withLock({ wasBusy in defer { wasBusy = true }; return !wasBusy }) else {
            return .failure(.invalid(["a reload is already in progress; try again"]))
        }
        defer { busy.withLock { $0 = false } }
        let result = await apply()
        switch result {
        case .success(let summary):
            logger.notice("contact centre reloaded", metadata: [
                "agents": "\(summary.agents)", "queues": "\(summary.queues.joined(separator: ","))",
                "licensed_seats": "\(summary.licensedSeats)",
            ])
        case .failure(let error):
            logger.error("contact centre reload refused; the live setup stays", metadata: ["errors": "\(error)"])
        }
        return result
    }

    private func apply() async -> Result<ContactCentreReloadSummary, ContactCentreReloadError> {
        let new: ACDSetup
        do {
            new = try ACDSetup.load(agentsPath: agentsPath, queuesPath: queuesPath)
        } catch {
            return .failure(.invalid([error.description]))
        }
        let old = live.current
        var issues: [String] = []
        // Every HA1 includes the realm, and phones hold nonces of the current algorithms:
        // changing either is a restart, so a reload does not half-apply it.
        if new.agents.realm != old.agents.realm {
            issues.append("\(agentsPath): realm changed from \"\(old.agents.realm)\" to \"\(new.agents.realm)\": that takes a restart")
        }
        if new.agents.digestAlgorithms != old.agents.digestAlgorithms {
            issues.append("\(agentsPath): digest_algorithms changed: that takes a restart")
        }
        let dialplan = dialplans.current
        issues += HotlineServer.checkDialplan(dialplan, against: new, queuesPath: queuesPath).map(\.description)
        issues += HotlineServer.missingPrompts(of: new, for: dialplan, promptsPath: promptsPath) { name, language in
            promptExists(language, name)
        }
        guard issues.isEmpty else { return .failure(.invalid(issues)) }
        do {
            try await link.ask { service in service.reconfigure(new) }.get()
        } catch {
            return .failure(.invalid(["the control loop is gone: \(error)"]))
        }
        live.replace(new)
        return .success(ContactCentreReloadSummary(
            agents: new.agents.agents.count, queues: new.queues.queues.map(\.name.rawValue),
            licensedSeats: new.agents.licensedSeats, warnings: new.warnings.map { "\($0)" }))
    }
}

extension HotlineServer {
    /// Whether the server runs a contact centre (agents and queues).
    public var hasContactCentre: Bool { contactCentreReloader != nil }

    /// Re-reads agents.yaml and queues.yaml (SIGHUP, with the dialplan).
    public func reloadContactCentre() async -> Result<String, Error> {
        guard let reloader = contactCentreReloader else { return .failure(ContactCentreReloadError.notConfigured) }
        switch await reloader.reload() {
        case .success(let s): return .success("\(s.agents) agents, queues \(s.queues.joined(separator: ", "))")
        case .failure(let e): return .failure(e)
        }
    }

    /// `POST /api/contact-centre/reload`.
    static func reloadRoute(_ reloader: ContactCentreReloader?, auth: AdminAuth) -> [String: AdminRoute] {
        [
            "POST /api/contact-centre/reload": { request, loop in
                if case .refused(let refusal) = auth.authorize(request, for: .operateContactCentre) {
                    return loop.makeSucceededFuture(refusal)
                }
                guard let reloader else { return loop.makeSucceededFuture(ContactCentreRoutes.notConfigured) }
                let promise = loop.makePromise(of: AdminResponse.self)
                Task {
                    switch await reloader.reload() {
                    case .success(let summary):
                        promise.succeed(ContactCentreRoutes.json(summary))
                    case .failure(let error):
                        promise.succeed(.error(.unprocessableEntity, code: "invalid_configuration",
                                               "reload refused; the live agents and queues stay:\n\(error)"))
                    }
                }
                return promise.futureResult
            },
        ]
    }
}
