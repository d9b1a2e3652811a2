// HotlineServer: the composition root.
// This file: `/api/desk` — the agent desk: an agent's own state and levers (log in, pause, log
// out: the feature codes' effects), the screen pop of the call ringing or connected, pushed as
// server-sent events on every ACD change, the agent's calls today, and the work-order form filed
// to a call's work order. An agent token reaches its own agent and calls only. `/api/units` is
// the unit tree the form dispatches to. docs/openapi.yaml describes them.
import ACD
import AdminWeb
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import Tickets

enum AgentDeskRoutes {
    struct Context: Sendable {
        var link: ACDLink?
        var engines: [CallEnginePeer]
        var store: any HotlineStore
        var auth: AdminAuth
        var pool: NIOThreadPool
        var units: UnitDirectory
        var timeZone: TimeZone
        var now: @Sendable () -> Date = { Date() }
    }

    /// `GET /api/desk` and each `desk` event.
    struct Desk: Encodable {
        var agent: ContactCentreRoutes.AgentJSON
        /// The call offered to the agent or connected to them; nil otherwise.
        var call: ScreenPop?
        /// `offered` (ringing) or `talking`, with `call`.
        var callState: String?
        /// While in wrap-up: seconds left.
        var wrapUpLeftSeconds: Double?
        var at: Date

        enum CodingKeys: String, CodingKey {
            case agent, call, at
            case callState = "call_state"
            case wrapUpLeftSeconds = "wrap_up_left_seconds"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(agent, forKey: .agent)
            try c.encode(call, forKey: .call)
            try c.encode(callState, forKey: .callState)
            try c.encode(wrapUpLeftSeconds, forKey: .wrapUpLeftSeconds)
            try c.encode(TicketTimestamp.format(at), forKey: .at)
        }
    }

    /// `GET /api/desk/calls/{id}`: a call of the agent's, its work order and the caller's others.
    struct CallFile: Encodable {
        var call: ScreenPop
        var inProgress: Bool
        var workOrder: WorkOrder?
        /// The caller's earlier work orders, newest first (not this call's own).
        var earlierWorkOrders: [WorkOrder]

        enum CodingKeys: String, CodingKey {
            case call
            case inProgress = "in_progress"
            case workOrder = "work_order"
            case earlierWorkOrders = "earlier_work_orders"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(call, forKey: .call)
            try c.encode(inProgress, forKey: .inProgress)
            try c.encode(workOrder, forKey: .workOrder)
            try c.encode(earlierWorkOrders, forKey: .earlierWorkOrders)
        }
    }

    /// One line of "my calls today".
    struct CallLine: Encodable {
        var ticket: String
        var caller: String
        var arrivedAt: Date
        var talkSeconds: Double?
        var businessLine: String?
        var queue: String?
        var workOrder: String?
        var workOrderStatus: String?

        enum CodingKeys: String, CodingKey {
            case ticket, caller, queue
            case arrivedAt = "arrived_at"
            case talkSeconds = "talk_seconds"
            case businessLine = "business_line"
            case workOrder = "work_order"
            case workOrderStatus = "work_order_status"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(ticket, forKey: .ticket)
            try c.encode(caller, forKey: .caller)
            try c.encode(TicketTimestamp.format(arrivedAt), forKey: .arrivedAt)
            try c.encode(talkSeconds, forKey: .talkSeconds)
            try c.encode(businessLine, forKey: .businessLine)
            try c.encode(queue, forKey: .queue)
            try c.encode(workOrder, forKey: .workOrder)
            try c.encode(workOrderStatus, forKey: .workOrderStatus)
        }
    }

    /// The body of `POST /api/desk/calls/{id}/work-order`.
    struct FormRequest: Decodable {
        var category: String?
        var subject: String?
        var description: String?
        var businessLine: String?
        /// `pending` (save), `answered_directly` or `dispatched` (with `unit`).
        var resolution: String?
        var unit: String?
        var note: String?

        enum CodingKeys: String, CodingKey {
            case category, subject, description, resolution, unit, note
            case businessLine = "business_line"
        }
    }

    struct UnitJSON: Encodable {
        var id: String
        var name: String
        var kind: String
        var parent: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(kind, forKey: .kind)
            try c.encode(parent, forKey: .parent)
        }

        enum CodingKeys: String, CodingKey { case id, name, kind, parent }
    }

    static let categories: [TicketCategory] = [.consultation, .complaint, .help, .suggestion, .report]

    // MARK: - Reading the desk

    /// The agent's desk now; nil for an agent not in agents.yaml (or no contact centre).
    static func desk(of agent: AgentID, context: Context) async -> Desk? {
        guard let link = context.link else { return nil }
        let found = try? await link.ask { service -> (AgentStatus, ContactCentreRoutes.AgentJSON)? in
            guard let status = service.agentStatuses().first(where: { $0.id == agent }) else { return nil }
            return (status, ContactCentreRoutes.AgentJSON(status, bindings: service.bindings(of: agent)))
        }.get()
        guard let (status, json) = found ?? nil else { return nil }
        var desk = Desk(agent: json, call: nil, callState: nil,
                        wrapUpLeftSeconds: status.wrapUpLeft.map(ContactCentreRoutes.seconds), at: context.now())
        switch status.state {
        case .reserved(let call):
            desk.callState = "offered"
            desk.call = await pop(call, context: context)
        case .onCall(let call):
            desk.callState = "talking"
            desk.call = await pop(call, context: context)
        default:
            break
        }
        return desk
    }

    /// The pop of an ACD call, read from its loop when it is on this node.
    static func pop(_ call: CallID, context: Context) async -> ScreenPop? {
        guard let (shard, number) = ACDService.owner(of: call), context.engines.indices.contains(shard) else { return nil }
        let peer = context.engines[shard]
        return try? await peer.eventLoop.submit { () -> ScreenPop? in
            let engine = peer.engine.value
            // Another node's call has another suffix: its number here would be someone else's call.
            let local = engine.acdCallSuffix.isEmpty ? !call.rawValue.contains("@") : call.rawValue.hasSuffix(engine.acdCallSuffix)
            guard local else { return nil }
            return engine.screenPop(call: number)
        }.get()
    }

    /// The call `id` if it is `agent`'s: ringing or connected now (the live pop), or answered
    /// by them (the stored call). nil otherwise.
    static func ownCall(_ id: TicketID, agent: AgentID, context: Context) async throws -> (pop: ScreenPop, inProgress: Bool)? {
        if let desk = await desk(of: agent, context: context), let live = desk.call, live.ticket == id.rawValue {
            return (live, true)
        }
        let stored = try await context.pool.runIfActive { try context.store.ticket(id: id) }
        guard let stored, stored.queue?.agent == agent.rawValue else { return nil }
        return (ScreenPop(stored), stored.isInProgress)
    }

    static func startOfToday(_ context: Context) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = context.timeZone
        return calendar.startOfDay(for: context.now())
    }

    // MARK: - Routes

    static func routes(_ context: Context) -> [String: AdminRoute] {
        /// Authorizes an agent and runs `body` as a task, answering on the request's loop.
        @Sendable func desk(_ body: @escaping @Sendable (AdminRequest, AgentID) async throws -> AdminResponse) -> AdminRoute {
            { request, loop in
                let agent: AgentID
                switch context.auth.authorize(request, for: .agentDesk) {
                case .refused(let refusal): return loop.makeSucceededFuture(refusal)
                case .allowed(let principal):
                    guard let id = principal.agent else {
                        return loop.makeSucceededFuture(.error(.forbidden, code: "forbidden", "the desk is for agent tokens"))
                    }
                    agent = AgentID(id)
                }
                guard context.link != nil else { return loop.makeSucceededFuture(ContactCentreRoutes.notConfigured) }
                return loop.makeFutureWithTask {
                    do {
                        return try await body(request, agent)
                    } catch let error as TicketRoutes.APIError {
                        return error.response
                    } catch let error as TicketStoreError {
                        return TicketRoutes.APIError(error).response
                    } catch {
                        return .error(.internalServerError, code: "internal", "\(error)")
                    }
                }
            }
        }
        @Sendable func lever(_ what: AgentRequest) -> AdminRoute {
            desk { request, agent in
                var reason: PauseReason?
                if what == .pause, !request.bodyText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    guard let decoded = try? JSONDecoder().decode(ContactCentreRoutes.PauseRequest.self, from: Data(request.bodyText.utf8)),
                          decoded.reason.map(ContactCentreRoutes.isPauseReason) ?? true
                    else {
                        return .error(.badRequest, code: "invalid_request",
                                      "the body is optional; when given it is {\"reason\": \"lunch\"} (lower-case letters, digits, '_')")
                    }
                    reason = decoded.reason.map { PauseReason($0) }
                }
                let pauseReason = reason
                let outcome = try await context.link!.ask { service -> EventLoopFuture<AgentRequestOutcome?> in
                    guard service.knows(agent) else { return service.eventLoop.makeSucceededFuture(nil) }
                    return service.requestAgent(agent, what, reason: pauseReason).map { $0 }
                }.get()
                switch outcome {
                case nil:
                    return .error(.notFound, code: "not_found", "no agent '\(agent)' in agents.yaml")
                case .refused(_, let refusal)?:
                    let status: HTTPResponseStatus = refusal == .acdUnavailable ? .serviceUnavailable : .conflict
                    return .error(status, code: ContactCentreRoutes.code(of: refusal), "\(what.rawValue) refused for \(agent): \(refusal)")
                case .done?:
                    guard let now = await Self.desk(of: agent, context: context) else {
                        return .error(.notFound, code: "not_found", "no agent '\(agent)' in agents.yaml")
                    }
                    return ContactCentreRoutes.json(now)
                }
            }
        }
        return [
            "GET /api/desk": desk { request, agent in
                try TicketRoutes.refuseUnknown(request, allowed: [])
                guard let now = await Self.desk(of: agent, context: context) else {
                    return .error(.notFound, code: "not_found", "no agent '\(agent)' in agents.yaml")
                }
                return ContactCentreRoutes.json(now)
            },
            "POST /api/desk/login": lever(.login),
            "POST /api/desk/logout": lever(.logout),
            "POST /api/desk/pause": lever(.pause),
            "POST /api/desk/unpause": lever(.unpause),
            "GET /api/desk/calls": desk { request, agent in
                try TicketRoutes.refuseUnknown(request, allowed: [])
                let since = startOfToday(context)
                // A call that just ended has its end queued in the store's writer: let it land.
                await context.store.flush()
                let lines = try await context.pool.runIfActive { () throws -> [CallLine] in
                    try context.store.calls(answeredBy: agent.rawValue, since: since, limit: 200).map { call in
                        let order = try context.store.workOrders(ofCall: call.id).first.flatMap { try context.store.workOrder(id: $0) }
                        return CallLine(ticket: call.id.rawValue, caller: call.caller, arrivedAt: call.arrivedAt,
                                        talkSeconds: call.queue?.talkMilliseconds.map { Double($0) / 1000 },
                                        businessLine: call.businessLine, queue: call.queue?.queue,
                                        workOrder: order?.id.rawValue, workOrderStatus: order?.status.rawValue)
                    }
                }
                return ContactCentreRoutes.json(["calls": lines])
            },
            "GET /api/desk/calls/{id}": desk { request, agent in
                try TicketRoutes.refuseUnknown(request, allowed: [])
                let id = try TicketRoutes.ticketID(request)
                guard let (pop, inProgress) = try await ownCall(id, agent: agent, context: context) else {
                    throw TicketRoutes.APIError(.forbidden, "not_your_call", "\(id) is not a call \(agent) took")
                }
                let file = try await context.pool.runIfActive { () throws -> CallFile in
                    let own = try context.store.workOrder(id: id)
                    var earlier: [WorkOrder] = []
                    if PhoneNumber(pop.caller).identifiesCaller {
                        var query = WorkOrderQuery()
                        query.caller = pop.caller
                        query.limit = 11
                        earlier = Array(try context.store.workOrders(query).items.filter { $0.id != id }.prefix(10))
                    }
                    return CallFile(call: pop, inProgress: inProgress, workOrder: own, earlierWorkOrders: earlier)
                }
                return try TicketRoutes.json(file)
            },
            "POST /api/desk/calls/{id}/work-order": desk { request, agent in
                try TicketRoutes.refuseUnknown(request, allowed: [])
                let id = try TicketRoutes.ticketID(request)
                let body: FormRequest
                do {
                    body = try JSONDecoder().decode(FormRequest.self, from: Data(request.bodyText.utf8))
                } catch {
                    throw TicketRoutes.APIError.badRequest(
                        "send the form as JSON: {\"category\": \"complaint\", \"subject\": \"...\", \"description\": \"...\", "
                        + "\"resolution\": \"pending|answered_directly|dispatched\", \"unit\": \"...\"}")
                }
                let form = try await formFields(body, context: context)
                guard let (pop, _) = try await ownCall(id, agent: agent, context: context) else {
                    throw TicketRoutes.APIError(.forbidden, "not_your_call", "\(id) is not a call \(agent) took")
                }
                let order = try await context.store.fileForm(WorkOrderForm(
                    call: id, caller: pop.caller, businessLine: form.businessLine ?? pop.businessLine, category: form.category,
                    subject: form.subject, details: form.details, resolution: form.resolution, actor: "agent:\(agent)",
                    at: context.now(), note: form.note))
                var response = try TicketRoutes.json(order, status: .created)
                response.headers.append(("Location", "/api/tickets/\(order.id.rawValue)"))
                return response
            },
            "GET /api/units": { request, loop in
                let authentication = context.auth.authenticate(request)
                guard case .allowed(let principal) = authentication else {
                    if case .refused(let refusal) = authentication { return loop.makeSucceededFuture(refusal) }
                    return loop.makeSucceededFuture(.error(.unauthorized, code: "unauthorized", "sign in"))
                }
                guard principal.role.allows(.readTickets) || principal.role.allows(.agentDesk) else {
                    return loop.makeSucceededFuture(.error(.forbidden, code: "forbidden", "role \(principal.role.rawValue) may not read the units"))
                }
                // Unit staff see their subtree; everyone else the whole tree (to dispatch to).
                let units = context.units.units.filter { unit in principal.unit.map { context.units.unit(unit.id, isWithin: $0) } ?? true }
                return loop.makeSucceededFuture(ContactCentreRoutes.json(["units": units.map {
                    UnitJSON(id: $0.id.rawValue, name: $0.name, kind: $0.kind.rawValue, parent: $0.parent?.rawValue)
                }]))
            },
        ]
    }

    struct CheckedForm {
        var businessLine: String?
        var category: TicketCategory?
        var subject: String?
        var details: String
        var resolution: WorkOrderForm.Resolution
        var note: String?
    }

    static func formFields(_ body: FormRequest, context: Context) async throws -> CheckedForm {
        func trimmed(_ text: String?) -> String? {
            let value = text?.trimmingCharacters(in: .whitespacesAndNewlines)
            return value?.isEmpty == false ? value : nil
        }
        var category: TicketCategory?
        if let text = trimmed(body.category) {
            guard categories.contains(TicketCategory(rawValue: text)) else {
                throw TicketRoutes.APIError.badRequest("unknown category '\(text)'; categories are "
                    + categories.map(\.rawValue).joined(separator: ", "))
            }
            category = TicketCategory(rawValue: text)
        }
        let subject = trimmed(body.subject)
        if let subject, subject.count > 200 { throw TicketRoutes.APIError.badRequest("the subject is at most 200 characters") }
        let details = trimmed(body.description) ?? ""
        if details.count > 10_000 { throw TicketRoutes.APIError.badRequest("the description is at most 10000 characters") }
        let resolution: WorkOrderForm.Resolution
        switch trimmed(body.resolution) ?? "pending" {
        case "pending": resolution = .pending
        case "answered_directly":
            guard subject != nil || !details.isEmpty else {
                throw TicketRoutes.APIError.badRequest("a direct answer needs a subject or a description of what was answered")
            }
            resolution = .answeredDirectly
        case "dispatched":
            guard let text = trimmed(body.unit) else { throw TicketRoutes.APIError.badRequest("'dispatched' needs a unit") }
            guard context.units.unit(UnitID(text)) != nil else { throw TicketRoutes.APIError(TicketStoreError.unknownUnit(UnitID(text))) }
            guard subject != nil || !details.isEmpty else {
                throw TicketRoutes.APIError.badRequest("a dispatch needs a subject or a description for the unit")
            }
            resolution = .dispatched(UnitID(text))
        case let other:
            throw TicketRoutes.APIError.badRequest("resolution is pending, answered_directly or dispatched, not '\(other)'")
        }
        return CheckedForm(businessLine: trimmed(body.businessLine), category: category, subject: subject, details: details,
                           resolution: resolution, note: trimmed(body.note))
    }

    // MARK: - The live desk

    /// Every agent's desk feed: a `desk` event with ``Desk`` whenever the ACD moves.
    static func feeds(_ context: Context) -> KeyedLiveFeeds {
        KeyedLiveFeeds(event: "desk") { agent in
            guard let desk = await desk(of: AgentID(agent), context: context) else { return nil }
            return (try? ConsoleFeed.encoder.encode(desk)).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// `GET /api/desk/events`: the signed-in agent's desk feed.
    static func registerFeed(_ feeds: KeyedLiveFeeds, auth: AdminAuth) -> @Sendable (Router<AdminRequestContext>) -> Void {
        { router in
            router.get("/api/desk/events") { request, context -> Response in
                let admin = AdminWebServer.adminRequest(request, context: context)
                switch auth.authorize(admin, for: .agentDesk) {
                case .refused(let refusal): return AdminWebServer.response(refusal)
                case .allowed(let principal):
                    guard let agent = principal.agent else {
                        return AdminWebServer.response(.error(.forbidden, code: "forbidden", "the desk is for agent tokens"))
                    }
                    return feeds.feed(for: agent).response()
                }
            }
        }
    }
}
