// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: reading work orders back — one, with its log, dispatches and calls, or a page
// of them by filters — each an indexed query.

import Foundation
import Tickets
import GRDB

enum WorkOrderQueries {
    static let columns = """
        id, channel, caller, business_line, category, subject, details, status, unit_id, accepted_at,
        answered_directly_at, dispatched_at, sign_deadline, completion_deadline, signed_at, handled_at, fed_back_at,
        visited_at, closed_at, satisfaction, dispatch_count, reopen_count, call_count, event_count, updated_at
        """

    static func workOrder(id: TicketID, in db: Database) throws -> WorkOrder? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM work_orders WHERE id = ?", arguments: [id.rawValue])
            .map(workOrder(from:))
    }

    /// The work order with its log, dispatches and calls; nil if there is none, or if `scope`
    /// is given and the work order is not with that unit or under it.
    static func detail(id: TicketID, scope: UnitID?, in db: Database) throws -> WorkOrderDetail? {
        guard let order = try workOrder(id: id, in: db) else { return nil }
        if let scope, !(try SQLiteWriteTransaction.isWithin(order.unit, scope: scope, in: db)) { return nil }
        let events = try events(of: id, in: db)
        let lifecycle = try? TicketLifecycle(replaying: events.map(\.event))
        return WorkOrderDetail(workOrder: order, events: events, dispatches: try dispatches(of: id, in: db),
                               calls: try calls(of: id, in: db), allowedEvents: lifecycle?.allowedEvents ?? [],
                               handoffs: try HandoffSchema.handoffs(ofWorkOrder: id, in: db),
                               outboundAttempts: try OutboundSchema.attempts(workOrder: id.rawValue, in: db))
    }

    static func events(of id: TicketID, in db: Database) throws -> [RecordedTicketEvent] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT * FROM work_order_events WHERE work_order_id = ? ORDER BY seq
            """, arguments: [id.rawValue])
        return try rows.map { row throws(TicketStoreError) in
            let name: String = row["kind"]
            guard let kind = TicketEvent.Kind(name: name, unit: (row["unit_id"] as String?).map(UnitID.init(rawValue:)),
                                              score: row["score"], reason: row["reason"]),
                  let at = TicketTimestamp.parse(row["at"] as String)
            else { throw .corruptRow(id: id.rawValue, column: "work_order_events.\(row["seq"] as Int)") }
            return RecordedTicketEvent(workOrderID: id, sequence: row["seq"],
                                       event: TicketEvent(kind, at: at, actor: row["actor"], note: row["note"],
                                                          // v4's column; absent while the v2 migration backfills.
                                                          article: row.hasColumn("article_id")
                                                              ? (row["article_id"] as String?).map(KnowledgeArticleID.init(rawValue:)) : nil))
        }
    }

    static func dispatches(of id: TicketID, in db: Database) throws -> [WorkOrderDispatch] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT seq, unit_id, dispatched_at, sign_deadline, completion_deadline, signed_at, handled_at, withdrawn_at
            FROM work_order_dispatches WHERE work_order_id = ? ORDER BY seq
            """, arguments: [id.rawValue])
        return try rows.map { row throws(TicketStoreError) in
            let reader = RowDates(row: row, id: id.rawValue)
            return WorkOrderDispatch(
                sequence: row["seq"], unit: UnitID(rawValue: row["unit_id"]),
                dispatchedAt: try reader.required("dispatched_at"), signDeadline: try reader.required("sign_deadline"),
                completionDeadline: try reader.required("completion_deadline"), signedAt: try reader.optional("signed_at"),
                handledAt: try reader.optional("handled_at"), withdrawnAt: try reader.optional("withdrawn_at"))
        }
    }

    static func calls(of id: TicketID, in db: Database) throws -> [LinkedCall] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT \(TicketSchema.columns), work_order_calls.reason AS link_reason, work_order_calls.linked_at
            FROM work_order_calls JOIN calls ON calls.id = work_order_calls.call_ticket_id
            WHERE work_order_calls.work_order_id = ? ORDER BY calls.arrived_at, calls.id
            """, arguments: [id.rawValue])
        return try rows.map { row throws(TicketStoreError) in
            guard let reason = CallLinkReason(rawValue: row["link_reason"]),
                  let linkedAt = TicketTimestamp.parse(row["linked_at"] as String)
            else { throw .corruptRow(id: id.rawValue, column: "work_order_calls") }
            return LinkedCall(call: try TicketSchema.ticket(from: row), reason: reason, linkedAt: linkedAt)
        }
    }

    /// The work orders linked to a call.
    static func workOrders(ofCall call: TicketID, in db: Database) throws -> [TicketID] {
        try String.fetchAll(db, sql: """
            SELECT work_order_id FROM work_order_calls WHERE call_ticket_id = ? ORDER BY work_order_id
            """, arguments: [call.rawValue]).compactMap(TicketID.init(rawValue:))
    }

    // MARK: - Lists

    /// The WHERE clause and arguments of a query's filters (without paging).
    static func filter(_ query: WorkOrderQuery) -> (sql: String, arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if !query.statuses.isEmpty {
            let statuses = query.statuses.sorted { $0.rawValue < $1.rawValue }
            conditions.append("status IN (\(statuses.map { _ in "?" }.joined(separator: ", ")))")
            for status in statuses { _ = arguments.append(contentsOf: [status.rawValue]) }
        }
        if let unit = query.unit {
            conditions.append("unit_id IN (\(subtreeSQL))")
            _ = arguments.append(contentsOf: [unit.rawValue])
        }
        if let category = query.category {
            conditions.append("category = ?")
            _ = arguments.append(contentsOf: [category.rawValue])
        }
        if let line = query.businessLine {
            conditions.append("business_line = ?")
            _ = arguments.append(contentsOf: [line])
        }
        if let channel = query.channel {
            conditions.append("channel = ?")
            _ = arguments.append(contentsOf: [channel.rawValue])
        }
        if let caller = query.caller {
            conditions.append("caller = ?")
            _ = arguments.append(contentsOf: [caller])
        }
        if let from = query.acceptedFrom {
            conditions.append("accepted_at >= ?")
            _ = arguments.append(contentsOf: [TicketTimestamp.format(from)])
        }
        if let before = query.acceptedBefore {
            conditions.append("accepted_at < ?")
            _ = arguments.append(contentsOf: [TicketTimestamp.format(before)])
        }
        if let now = query.overdueAt {
            let at = TicketTimestamp.format(now)
            conditions.append("""
                ((status = 'dispatched' AND (sign_deadline < ? OR completion_deadline < ?))
                 OR (status = 'signed' AND completion_deadline < ?))
                """)
            _ = arguments.append(contentsOf: [at, at, at])
        }
        return (conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), arguments)
    }

    /// A subquery of the ids of a unit (the one `?` argument) and every unit under it.
    static let subtreeSQL = subtree("?")

    /// The same with the unit given by `parameter` (`?3`).
    static func subtree(_ parameter: String) -> String {
        """
        WITH RECURSIVE subtree(id) AS (SELECT \(parameter) UNION SELECT units.id FROM units JOIN subtree ON units.parent_id = subtree.id)
        SELECT id FROM subtree
        """
    }

    static func list(_ query: WorkOrderQuery, in db: Database) throws -> WorkOrderPage {
        guard (1...WorkOrderQuery.maximumLimit).contains(query.limit) else {
            throw TicketStoreError.invalidQuery("limit must be 1 to \(WorkOrderQuery.maximumLimit), not \(query.limit)")
        }
        var (sql, arguments) = filter(query)
        if let after = query.after {
            let at = TicketTimestamp.format(after.acceptedAt)
            sql += " AND (accepted_at < ? OR (accepted_at = ? AND id < ?))"
            _ = arguments.append(contentsOf: [at, at, after.id])
        }
        _ = arguments.append(contentsOf: [query.limit + 1])
        let rows = try Row.fetchAll(db, sql: """
            SELECT \(columns) FROM work_orders WHERE \(sql) ORDER BY accepted_at DESC, id DESC LIMIT ?
            """, arguments: arguments)
        var items = try rows.map(workOrder(from:))
        var next: WorkOrderCursor?
        if items.count > query.limit {
            items.removeLast()
            next = items.last.map(WorkOrderCursor.init(after:))
        }
        return WorkOrderPage(items: items, next: next)
    }

    /// How many work orders match the filters (paging ignored).
    static func count(_ query: WorkOrderQuery, in db: Database) throws -> Int {
        let (sql, arguments) = filter(query)
        return try Int.fetchOne(db, sql: "SELECT count(*) FROM work_orders WHERE \(sql)", arguments: arguments) ?? 0
    }

    static func units(in db: Database) throws -> [UnitRecord] {
        try Row.fetchAll(db, sql: "SELECT id, parent_id, name, kind, active FROM units ORDER BY active DESC, position, id")
            .map { row in
                UnitRecord(unit: Unit(id: UnitID(rawValue: row["id"]), name: row["name"], kind: UnitKind(rawValue: row["kind"]),
                                      parent: (row["parent_id"] as String?).map(UnitID.init(rawValue:))),
                           active: row["active"])
            }
    }

    // MARK: - Rows

    static func workOrder(from row: Row) throws(TicketStoreError) -> WorkOrder {
        let rawID: String = (row["id"] as String?) ?? "?"
        guard let id = TicketID(rawValue: rawID) else { throw .corruptRow(id: rawID, column: "id") }
        guard let status = TicketStatus(rawValue: (row["status"] as String?) ?? "") else {
            throw .corruptRow(id: rawID, column: "status")
        }
        let dates = RowDates(row: row, id: rawID)
        return WorkOrder(
            id: id, channel: TicketChannel(rawValue: row["channel"]), caller: row["caller"],
            businessLine: row["business_line"], category: (row["category"] as String?).map(TicketCategory.init(rawValue:)),
            subject: row["subject"], details: row["details"], status: status,
            unit: (row["unit_id"] as String?).map(UnitID.init(rawValue:)),
            acceptedAt: try dates.required("accepted_at"), answeredDirectlyAt: try dates.optional("answered_directly_at"),
            dispatchedAt: try dates.optional("dispatched_at"), signDeadline: try dates.optional("sign_deadline"),
            completionDeadline: try dates.optional("completion_deadline"), signedAt: try dates.optional("signed_at"),
            handledAt: try dates.optional("handled_at"), fedBackAt: try dates.optional("fed_back_at"),
            visitedAt: try dates.optional("visited_at"), closedAt: try dates.optional("closed_at"),
            satisfaction: row["satisfaction"], dispatchCount: row["dispatch_count"], reopenCount: row["reopen_count"],
            callCount: row["call_count"], eventCount: row["event_count"], updatedAt: try dates.required("updated_at"))
    }
}

/// Reads timestamp columns of a row, naming the column when one is unreadable.
struct RowDates {
    let row: Row
    let id: String

    func optional(_ column: String) throws(TicketStoreError) -> Date? {
        guard let text = row[column] as String? else { return nil }
        guard let date = TicketTimestamp.parse(text) else { throw .corruptRow(id: id, column: column) }
        return date
    }

    func required(_ column: String) throws(TicketStoreError) -> Date {
        guard let date = try optional(column) else { throw .corruptRow(id: id, column: column) }
        return date
    }
}
