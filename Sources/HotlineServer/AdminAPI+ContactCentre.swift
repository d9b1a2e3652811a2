// HotlineServer: the composition root.
// This file: `/api/seats`, `/api/queues` and `/api/agents` — the contact centre's live state
// and its levers (licensed seats, agent log in/out/pause). Each route hops to the control loop,
// where the ACD lives, and answers from there. docs/openapi.yaml describes them.
import ACD
import Foundation
import NIOCore
import NIOHTTP1
import SIPRegistrar

enum ContactCentreRoutes {
    struct Seats: Codable, Equatable {
        var licensed: Int
        var loggedIn: Int
        var remote: Int

        enum CodingKeys: String, CodingKey {
            case licensed, remote
            case loggedIn = "logged_in"
        }

        init(_ s: SeatStatistics) {
            licensed = s.licensed
            loggedIn = s.loggedIn
            remote = s.remote
        }
    }

    struct QueueJSON: Encodable {
        struct Agents: Encodable {
            var loggedIn, available, reserved, onCall, wrapUp, paused, unreachable: Int
            enum CodingKeys: String, CodingKey {
                case available, reserved, paused, unreachable
                case loggedIn = "logged_in"
                case onCall = "on_call"
                case wrapUp = "wrap_up"
            }
        }

        var name: String
        var waiting: Int
        var callbacksWaiting: Int
        var longestWaitSeconds: Double?
        var agents: Agents
        var windowSeconds: Double
        var offered, answered, answeredWithinTarget, abandoned, overflowed: Int
        var serviceLevel: Double?
        var serviceLevelTargetSeconds: Double
        var averageWaitSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case name, waiting, agents, offered, answered, abandoned, overflowed
            case callbacksWaiting = "callbacks_waiting"
            case longestWaitSeconds = "longest_wait_seconds"
            case windowSeconds = "window_seconds"
            case answeredWithinTarget = "answered_within_target"
            case serviceLevel = "service_level"
            case serviceLevelTargetSeconds = "service_level_target_seconds"
            case averageWaitSeconds = "average_wait_seconds"
        }

        init(_ q: QueueStatistics) {
            name = q.queue.rawValue
            waiting = q.waiting
            callbacksWaiting = q.callbacksWaiting
            longestWaitSeconds = q.longestWait.map(ContactCentreRoutes.seconds)
            agents = Agents(loggedIn: q.agents.loggedIn, available: q.agents.available, reserved: q.agents.reserved,
                            onCall: q.agents.onCall, wrapUp: q.agents.wrapUp, paused: q.agents.paused, unreachable: q.agents.unreachable)
            windowSeconds = ContactCentreRoutes.seconds(q.window)
            offered = q.offered
            answered = q.answered
            answeredWithinTarget = q.answeredWithinTarget
            abandoned = q.abandoned
            overflowed = q.overflowed
            serviceLevel = q.serviceLevel
            serviceLevelTargetSeconds = ContactCentreRoutes.seconds(q.serviceLevelTarget)
            averageWaitSeconds = q.averageWaitOfAnswered.map(ContactCentreRoutes.seconds)
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(waiting, forKey: .waiting)
            try c.encode(callbacksWaiting, forKey: .callbacksWaiting)
            try c.encode(longestWaitSeconds, forKey: .longestWaitSeconds)
            try c.encode(agents, forKey: .agents)
            try c.encode(windowSeconds, forKey: .windowSeconds)
            try c.encode(offered, forKey: .offered)
            try c.encode(answered, forKey: .answered)
            try c.encode(answeredWithinTarget, forKey: .answeredWithinTarget)
            try c.encode(abandoned, forKey: .abandoned)
            try c.encode(overflowed, forKey: .overflowed)
            try c.encode(serviceLevel, forKey: .serviceLevel)
            try c.encode(serviceLevelTargetSeconds, forKey: .serviceLevelTargetSeconds)
            try c.encode(averageWaitSeconds, forKey: .averageWaitSeconds)
        }
    }

    struct AgentJSON: Encodable {
        struct Registration: Encodable {
            var contact: String
            var source: String
            var expiresAt: Date
            var userAgent: String?
            var reachable: Bool
            enum CodingKeys: String, CodingKey {
                case contact, source, reachable
                case expiresAt = "expires_at"
                case userAgent = "user_agent"
            }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(contact, forKey: .contact)
                try c.encode(source, forKey: .source)
                try c.encode(expiresAt, forKey: .expiresAt)
                try c.encode(userAgent, forKey: .userAgent)
                try c.encode(reachable, forKey: .reachable)
            }
        }

        var id: String
        var name: String
        var sipUsername: String
        var seat: String
        var skills: [String: Int]
        var state: String
        var pauseReason: String?
        var call: String?
        var timeInStateSeconds: Double
        var reachable: Bool
        var callsAnswered: Int
        var consecutiveMisses: Int
        var pending: String?
        var registrations: [Registration]

        enum CodingKeys: String, CodingKey {
            case id, name, seat, skills, state, call, reachable, pending, registrations
            case sipUsername = "sip_username"
            case pauseReason = "pause_reason"
            case timeInStateSeconds = "time_in_state_seconds"
            case callsAnswered = "calls_answered"
            case consecutiveMisses = "consecutive_misses"
        }

        init(_ a: AgentStatus, bindings: [RegistrationBinding]) {
            id = a.id.rawValue
            name = a.name
            sipUsername = a.sipUsername
            seat = a.seat.rawValue
            skills = Dictionary(a.skills.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: max)
            state = a.state.name
            switch a.state {
            case .paused(let reason): pauseReason = reason.rawValue
            case .reserved(let call), .onCall(let call): self.call = call.rawValue
            default: break
            }
            timeInStateSeconds = ContactCentreRoutes.seconds(a.timeInState)
            reachable = a.reachable
            callsAnswered = a.callsAnswered
            consecutiveMisses = a.consecutiveMisses
            switch a.pending {
            case .logout?: pending = "logout"
            case .pause(let reason)?: pending = "pause:\(reason.rawValue)"
            case nil: pending = nil
            }
            registrations = bindings.map { b in
                Registration(contact: b.contact.description, source: b.source.description,
                             expiresAt: Date(timeIntervalSince1970: Double(b.expiresAt.milliseconds) / 1000), userAgent: b.userAgent,
                             reachable: b.reachable)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(sipUsername, forKey: .sipUsername)
            try c.encode(seat, forKey: .seat)
            try c.encode(skills, forKey: .skills)
            try c.encode(state, forKey: .state)
            try c.encode(pauseReason, forKey: .pauseReason)
            try c.encode(call, forKey: .call)
            try c.encode(timeInStateSeconds, forKey: .timeInStateSeconds)
            try c.encode(reachable, forKey: .reachable)
            try c.encode(callsAnswered, forKey: .callsAnswered)
            try c.encode(consecutiveMisses, forKey: .consecutiveMisses)
            try c.encode(pending, forKey: .pending)
            try c.encode(registrations, forKey: .registrations)
        }
    }

    struct SeatsRequest: Decodable {
        var licensed: Int
    }

    struct PauseRequest: Decodable {
        var reason: String?
    }

    /// Seconds, to the millisecond.
    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return (Double(s) * 1000 + Double(atto) / 1e15).rounded() / 1000
    }

    /// Dates as the rest of the API writes them: UTC with milliseconds, `2026-11-29T07:05:03.042Z`.
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(ISO8601DateFormatter.string(from: date, timeZone: .gmt,
                                                     formatOptions: [.withInternetDateTime, .withFractionalSeconds]))
        }
        return e
    }()

    static func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok) -> AdminResponse {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return .json(String(decoding: data, as: UTF8.self) + "\n", status: status)
    }

    static let notConfigured = AdminResponse.error(
        .notFound, code: "not_configured",
        "this server has no contact centre: start it with --agents and --queues (or Dialplans/acd/agents.yaml and queues.yaml)")

    /// The routes; without a contact centre they answer 404 `not_configured`.
    static func routes(link: ACDLink?, auth: AdminAuth) -> [String: AdminRoute] {
        @Sendable func guarded(_ access: AdminAccess,
                               _ body: @escaping @Sendable (AdminRequest, ACDLink, EventLoop) -> EventLoopFuture<AdminResponse>) -> AdminRoute {
            { request, loop in
                if case .refused(let refusal) = auth.authorize(request, for: access) { return loop.makeSucceededFuture(refusal) }
                guard let link else { return loop.makeSucceededFuture(notConfigured) }
                return body(request, link, loop)
            }
        }
        @Sendable func agentRoute(_ what: AgentRequest) -> AdminRoute {
            guarded(.operateContactCentre) { request, link, loop in
                let id = AgentID(request.parameters["id"] ?? "")
                var reason: PauseReason?
                if what == .pause, !request.bodyText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    guard let decoded = try? JSONDecoder().decode(PauseRequest.self, from: Data(request.bodyText.utf8)) else {
                        return loop.makeSucceededFuture(.error(.badRequest, code: "invalid_request",
                                                               "the body is optional; when given it is {\"reason\": \"lunch\"}"))
                    }
                    if let text = decoded.reason {
                        guard isPauseReason(text) else {
                            return loop.makeSucceededFuture(.error(.badRequest, code: "invalid_request",
                                                                   "a pause reason is lower-case letters, digits and '_'"))
                        }
                        reason = PauseReason(text)
                    }
                }
                let pauseReason = reason
                return link.ask { service -> EventLoopFuture<AdminResponse> in
                    guard service.knows(id) else {
                        return service.eventLoop.makeSucceededFuture(.error(.notFound, code: "not_found", "no agent '\(id)' in agents.yaml"))
                    }
                    // In a cluster the leader decides; this node's view of the agent follows its commit.
                    return service.requestAgent(id, what, reason: pauseReason).map { outcome -> AdminResponse in
                        if case .refused(_, let refusal) = outcome {
                            let status: HTTPResponseStatus = refusal == .acdUnavailable ? .serviceUnavailable : .conflict
                            return .error(status, code: code(of: refusal), "\(what.rawValue) refused for \(id): \(refusal)")
                        }
                        let service = link.service.value
                        var status = service.agentStatuses().first { $0.id == id }!
                        if case .done(_, let state) = outcome { status.state = state }
                        return json(AgentJSON(status, bindings: service.bindings(of: id)))
                    }
                }.hop(to: loop)
            }
        }
        return [
            "GET /api/seats": guarded(.readContactCentre) { _, link, loop in
                link.ask { json(Seats($0.seats)) }.hop(to: loop)
            },
            "PUT /api/seats": guarded(.operateContactCentre) { request, link, loop in
                guard let body = try? JSONDecoder().decode(SeatsRequest.self, from: Data(request.bodyText.utf8)),
                      (0...100_000).contains(body.licensed)
                else {
                    return loop.makeSucceededFuture(.error(.badRequest, code: "invalid_request",
                                                           "send {\"licensed\": N} with N from 0 to 100000"))
                }
                return link.ask { json(Seats($0.setLicensedSeats(body.licensed))) }.hop(to: loop)
            },
            "GET /api/queues": guarded(.readContactCentre) { _, link, loop in
                link.ask { ["queues": $0.queueStatistics().map(QueueJSON.init)] }.map { json($0) }.hop(to: loop)
            },
            "GET /api/agents": guarded(.readContactCentre) { _, link, loop in
                link.ask { service in
                    json(["agents": service.agentStatuses().map { AgentJSON($0, bindings: service.bindings(of: $0.id)) }])
                }.hop(to: loop)
            },
            "POST /api/agents/{id}/login": agentRoute(.login),
            "POST /api/agents/{id}/logout": agentRoute(.logout),
            "POST /api/agents/{id}/pause": agentRoute(.pause),
            "POST /api/agents/{id}/unpause": agentRoute(.unpause),
        ]
    }

    /// A pause reason is lower-case letters, digits and '_'.
    static func isPauseReason(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// The machine-readable code of a refusal.
    static func code(of refusal: AgentRefusal) -> String {
        switch refusal {
        case .unknownAgent: "not_found"
        case .noSeatAvailable: "no_seat_available"
        case .alreadyLoggedIn: "already_logged_in"
        case .notLoggedIn: "not_logged_in"
        case .notPaused: "not_paused"
        case .acdUnavailable: "acd_unavailable"
        }
    }
}
