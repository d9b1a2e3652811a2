// HotlineServer: the composition root.
// This file: `/api/tickets` and `/api/kpis` — work orders, their events and the KPIs over the
// ticket store, behind the admin API's roles. Reads block on SQLite, so they run on a thread
// pool and complete the route's future on its event loop; writes go through the store's
// group-commit writer and complete from its callback. docs/openapi.yaml describes them.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Tickets

/// The work-order and KPI routes.
enum TicketRoutes {
    struct Context: Sendable {
        var store: any HotlineStore
        var auth: AdminAuth
        /// Where the blocking reads run.
        var pool: NIOThreadPool
        /// Every unit the database knows (active or retired), for unit filters and scopes.
        var units: UnitDirectory
        /// The zone of `YYYY-MM-DD` dates in queries.
        var timeZone: TimeZone
        var now: @Sendable () -> Date = { Date() }
    }

    /// A refusal on the way to an answer: its status, a machine-readable code and a message.
    struct APIError: Error {
        var status: HTTPResponseStatus
        var code: String
        var message: String

        init(_ status: HTTPResponseStatus, _ code: String, _ message: String) {
            self.status = status
            self.code = code
            self.message = message
        }

        static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "invalid_request", message) }

        var response: AdminResponse { .error(status, code: code, message) }

        /// The status each store error maps to.
        init(_ error: TicketStoreError) {
            switch error {
            case .eventRefused: self.init(.conflict, "event_refused", error.description)
            case .workOrderNotFound, .ticketNotFound, .handoffNotFound: self.init(.notFound, "not_found", error.description)
            case .unknownUnit: self.init(.unprocessableEntity, "unknown_unit", error.description)
            case .unknownArticle: self.init(.unprocessableEntity, "unknown_article", error.description)
            case .outsideUnit: self.init(.forbidden, "outside_unit", error.description)
            case .invalidQuery: self.init(.badRequest, "invalid_query", error.description)
            case .closed: self.init(.serviceUnavailable, "unavailable", "the ticket store is closing")
            default: self.init(.internalServerError, "internal", error.description)
            }
        }
    }

    static let listParameters = ["status", "unit", "category", "line", "channel", "caller", "from", "to", "overdue",
                                 "limit", "after", "total"]
    static let kpiParameters = ["from", "to", "unit", "format", "top"]

    static func routes(_ context: Context) -> [String: AdminRoute] {
        [
            "GET /api/tickets": read(context, .readTickets) { request, principal in
                let query = try workOrderQuery(request, for: principal, context: context, allowed: listParameters)
                let page = try context.store.workOrders(query)
                var total: Int?
                if try flag(request, "total") { total = try context.store.countWorkOrders(query) }
                return try json(WorkOrderList(page: page, total: total, maskCallers: !principal.role.seesCallers))
            },
            "GET /api/tickets.csv": read(context, .readTickets) { request, principal in
                var query = try workOrderQuery(request, for: principal, context: context,
                                               allowed: listParameters.filter { !["limit", "after", "total"].contains($0) })
                query.limit = WorkOrderQuery.maximumLimit
                let csv = try context.store.exportWorkOrdersCSV(query, maskCallers: !principal.role.seesCallers)
                return AdminResponse(contentType: "text/csv; charset=utf-8", body: csv,
                                     headers: [("Content-Disposition", "attachment; filename=\"work-orders.csv\"")])
            },
            "GET /api/tickets/{id}": read(context, .readTickets) { request, principal in
                try refuseUnknown(request, allowed: [])
                let id = try ticketID(request)
                guard var detail = try context.store.workOrderDetail(id: id, within: principal.unit) else {
                    throw try missing(id, for: principal, store: context.store)
                }
                if !principal.role.seesCallers {
                    detail.workOrder.caller = PhoneNumber.masked(detail.workOrder.caller)
                    for index in detail.calls.indices {
                        detail.calls[index].call.caller = PhoneNumber.masked(detail.calls[index].call.caller)
                    }
                }
                return try json(detail)
            },
            "POST /api/tickets/{id}/events": { request, loop in
                let principal: AdminPrincipal
                switch context.auth.authorize(request, for: .writeTickets) {
                case .allowed(let p): principal = p
                case .refused(let refusal): return loop.makeSucceededFuture(refusal)
                }
                let id: TicketID
                let event: TicketEvent
                do {
                    try refuseUnknown(request, allowed: [])
                    id = try ticketID(request)
                    event = try eventRequest(request).event(actor: principal.actor, now: context.now())
                    // Unit staff pass work on down their own subtree (a county to its townships);
                    // sending it elsewhere is the centre's call.
                    if let own = principal.unit, case .dispatched(let target) = event.kind,
                       context.units.unit(target) != nil, !context.units.unit(target, isWithin: own) {
                        throw APIError(.forbidden, "outside_unit",
                                       "\(principal.name) acts for \(own) and may dispatch only to it and the units under it")
                    }
                } catch let error as APIError {
                    return loop.makeSucceededFuture(error.response)
                } catch let error as TicketEventRequestError {
                    return loop.makeSucceededFuture(APIError.badRequest(error.description).response)
                } catch {
                    return loop.makeSucceededFuture(APIError.badRequest("\(error)").response)
                }
                let promise = loop.makePromise(of: AdminResponse.self)
                // The callback runs on the store's writer thread; a promise may be completed
                // from any thread, and the response is written on the connection's loop.
                context.store.append(event, to: id, within: principal.unit) { result in
                    switch result {
                    case .success(let order):
                        var shown = order
                        if !principal.role.seesCallers { shown.caller = PhoneNumber.masked(shown.caller) }
                        do {
                            var response = try json(shown, status: .created)
                            response.headers.append(("Location", "/api/tickets/\(order.id.rawValue)"))
                            promise.succeed(response)
                        } catch {
                            promise.succeed(APIError(.internalServerError, "internal", "\(error)").response)
                        }
                    case .failure(let error):
                        promise.succeed(APIError(error).response)
                    }
                }
                return promise.futureResult
            },
            "GET /api/kpis": read(context, .readTickets) { request, principal in
                try refuseUnknown(request, allowed: kpiParameters)
                let now = context.now()
                var query = KPIQuery(period: try period(request, context: context, now: now),
                                     unit: try unit(request, for: principal, context: context), asOf: now)
                if let text = request.query["top"] {
                    guard let top = Int(text), (1...100).contains(top) else { throw APIError.badRequest("top is 1 to 100") }
                    query.topCount = top
                }
                let report = try context.store.kpis(query)
                switch request.query["format"] ?? "json" {
                case "json":
                    return try json(report)
                case "csv":
                    return AdminResponse(contentType: "text/csv; charset=utf-8", body: report.csv,
                                         headers: [("Content-Disposition", "attachment; filename=\"kpis.csv\"")])
                case let other:
                    throw APIError.badRequest("format is json or csv, not '\(other)'")
                }
            },
        ]
    }

    // MARK: - Running a read

    /// A route that authorizes, then runs `body` on the thread pool (it reads SQLite) and
    /// answers on the request's loop. Thrown ``APIError``s and store errors become their
    /// JSON responses.
    static func read(_ context: Context, _ access: AdminAccess,
                     _ body: @escaping @Sendable (AdminRequest, AdminPrincipal) throws -> AdminResponse) -> AdminRoute {
        read(auth: context.auth, pool: context.pool, access, body)
    }

    /// ``read(_:_:_:)`` for routes of other stores (the knowledge base).
    static func read(auth: AdminAuth, pool: NIOThreadPool, _ access: AdminAccess,
                     _ body: @escaping @Sendable (AdminRequest, AdminPrincipal) throws -> AdminResponse) -> AdminRoute {
        { request, loop in
            let principal: AdminPrincipal
            switch auth.authorize(request, for: access) {
            case .allowed(let p): principal = p
            case .refused(let refusal): return loop.makeSucceededFuture(refusal)
            }
            return pool.runIfActive(eventLoop: loop) { () -> AdminResponse in
                do {
                    return try body(request, principal)
                } catch let error as APIError {
                    return error.response
                } catch let error as TicketStoreError {
                    return APIError(error).response
                } catch {
                    return APIError(.internalServerError, "internal", "\(error)").response
                }
            }.flatMapErrorThrowing { error in
                APIError(.serviceUnavailable, "unavailable", "the server is stopping: \(error)").response
            }
        }
    }

    // MARK: - Parsing requests

    static func refuseUnknown(_ request: AdminRequest, allowed: [String]) throws(APIError) {
        for key in request.query.keys.sorted() where !allowed.contains(key) {
            let hint = allowed.min { editDistance($0, key) < editDistance($1, key) }
                .flatMap { editDistance($0, key) <= 2 ? " (did you mean '\($0)'?)" : nil } ?? ""
            throw .badRequest("unknown parameter '\(key)'\(hint)"
                + (allowed.isEmpty ? "; this route takes none" : "; this route takes " + allowed.joined(separator: ", ")))
        }
    }

    static func ticketID(_ request: AdminRequest) throws(APIError) -> TicketID {
        let text = request.parameters["id"] ?? ""
        do {
            return try TicketID(parsing: text)
        } catch {
            throw .badRequest("'\(text)' is not a work order number: \(error)")
        }
    }

    /// 404, saying so when the number is a call's (and naming its work order), or 403 when
    /// the work order exists but is outside a unit staff member's unit.
    static func missing(_ id: TicketID, for principal: AdminPrincipal, store: any TicketReading) throws -> APIError {
        if let unit = principal.unit, try store.workOrder(id: id) != nil {
            return APIError(TicketStoreError.outsideUnit(id, unit: unit))
        }
        let orders = try store.workOrders(ofCall: id)
        if !orders.isEmpty {
            return APIError(.notFound, "not_found",
                            "\(id) is a call; its work order is " + orders.map(\.rawValue).joined(separator: ", "))
        }
        if try store.ticket(id: id) != nil {
            return APIError(.notFound, "not_found", "\(id) is a call that opened no work order")
        }
        return APIError(TicketStoreError.workOrderNotFound(id))
    }

    static func eventRequest(_ request: AdminRequest) throws(APIError) -> TicketEventRequest {
        guard let body = request.body, body.readableBytes > 0 else {
            throw .badRequest("send the event as JSON: {\"kind\": \"dispatched\", \"unit\": \"...\"}")
        }
        do {
            return try JSONDecoder().decode(TicketEventRequest.self, from: Data(body.readableBytesView))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .badRequest("the event needs '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .badRequest("'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw .badRequest("the body is not a JSON event object")
        }
    }

    static func flag(_ request: AdminRequest, _ name: String) throws(APIError) -> Bool {
        switch request.query[name] {
        case nil, "false", "0": false
        case "", "true", "1": true
        case let other?: throw .badRequest("\(name) is true or false, not '\(other)'")
        }
    }

    /// The unit filter: any known unit for admins and auditors; for unit staff their own unit
    /// by default, and only units within it.
    static func unit(_ request: AdminRequest, for principal: AdminPrincipal, context: Context) throws(APIError) -> UnitID? {
        guard let text = request.query["unit"] else { return principal.unit }
        let unit = UnitID(text)
        guard context.units.unit(unit) != nil else { throw APIError(TicketStoreError.unknownUnit(unit)) }
        if let own = principal.unit, !context.units.unit(unit, isWithin: own) {
            throw APIError(.forbidden, "outside_unit", "\(principal.name) acts for \(own) and may see only it and the units under it")
        }
        return unit
    }

    static func workOrderQuery(_ request: AdminRequest, for principal: AdminPrincipal, context: Context,
                               allowed: [String]) throws(APIError) -> WorkOrderQuery {
        try refuseUnknown(request, allowed: allowed)
        let q = request.query
        var query = WorkOrderQuery()
        if let text = q["status"] {
            for name in text.split(separator: ",") {
                guard let status = TicketStatus(rawValue: String(name)) else {
                    throw .badRequest("unknown status '\(name)'; statuses are " + TicketStatus.allCases.map(\.rawValue).joined(separator: ", "))
                }
                query.statuses.insert(status)
            }
        }
        query.unit = try unit(request, for: principal, context: context)
        if let text = q["category"] {
            let known: [TicketCategory] = [.consultation, .complaint, .help, .suggestion, .report]
            guard known.contains(TicketCategory(rawValue: text)) else {
                throw .badRequest("unknown category '\(text)'; categories are " + known.map(\.rawValue).joined(separator: ", "))
            }
            query.category = TicketCategory(rawValue: text)
        }
        query.businessLine = q["line"]
        query.channel = q["channel"].map(TicketChannel.init(rawValue:))
        query.caller = q["caller"]
        let now = context.now()
        if let from = q["from"] { query.acceptedFrom = try instant(from, name: "from", endOfDay: false, context: context, now: now) }
        if let to = q["to"] { query.acceptedBefore = try instant(to, name: "to", endOfDay: true, context: context, now: now) }
        if try flag(request, "overdue") { query.overdueAt = now }
        if let text = q["limit"] {
            guard let limit = Int(text), (1...WorkOrderQuery.maximumLimit).contains(limit) else {
                throw .badRequest("limit is 1 to \(WorkOrderQuery.maximumLimit)")
            }
            query.limit = limit
        }
        if let text = q["after"] {
            guard let cursor = WorkOrderCursor(rawValue: text) else {
                throw .badRequest("after is the 'next' of a previous page, not '\(text)'")
            }
            query.after = cursor
        }
        return query
    }

    /// `YYYY-MM-DD` (a local day: its start, or with `endOfDay` the start of the next day) or
    /// an ISO 8601 instant with a zone.
    static func instant(_ text: String, name: String, endOfDay: Bool, context: Context, now: Date) throws(APIError) -> Date {
        if !text.contains("T") {
            guard let day = try? ReportPeriod.days(from: text, to: text, in: context.timeZone, today: now) else {
                throw .badRequest("\(name): '\(text)' is not a date (YYYY-MM-DD) nor an instant (2026-11-02T11:00:00+08:00)")
            }
            return endOfDay ? day.end : day.start
        }
        guard let date = TicketEventRequest.parseInstant(text) else {
            throw .badRequest("\(name): '\(text)' is not an instant: use ISO 8601 with a zone, e.g. 2026-11-02T11:00:00+08:00")
        }
        return date
    }

    /// The KPI period: local days (`from` alone runs through today), or two instants.
    static func period(_ request: AdminRequest, context: Context, now: Date) throws(APIError) -> ReportPeriod? {
        let from = request.query["from"], to = request.query["to"]
        if from?.contains("T") == true || to?.contains("T") == true {
            guard let from, let to else { throw .badRequest("a period of instants needs both from and to") }
            let start = try instant(from, name: "from", endOfDay: false, context: context, now: now)
            let end = try instant(to, name: "to", endOfDay: false, context: context, now: now)
            guard let period = ReportPeriod(start: start, end: end) else { throw .badRequest("to must be after from") }
            return period
        }
        do {
            return try ReportPeriod.days(from: from, to: to, in: context.timeZone, today: now)
        } catch {
            throw .badRequest(error.description.replacingOccurrences(of: "--", with: ""))
        }
    }

    // MARK: - Answers

    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) throws -> AdminResponse {
        .json(try TicketJSON.text(value), status: status)
    }

    /// `{"items": [...], "next": cursor or null, "total": N or null}`.
    struct WorkOrderList: Encodable {
        var page: WorkOrderPage
        var total: Int?
        var maskCallers: Bool

        enum CodingKeys: String, CodingKey { case items, next, total }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(maskCallers ? page.items.map { order in
                var masked = order
                masked.caller = PhoneNumber.masked(order.caller)
                return masked
            } : page.items, forKey: .items)
            try container.encode(page.next?.rawValue, forKey: .next)
            try container.encode(total, forKey: .total)
        }
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}
