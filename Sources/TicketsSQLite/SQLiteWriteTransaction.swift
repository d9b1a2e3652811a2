// TicketsSQLite: the SQLite backend of the ticket store.
// This file: the storage primitives TicketWriteRules composes, each one SQL statement or so
// on the connection of an open transaction.

import Foundation
import Tickets
import GRDB

/// ``TicketWriteTransaction`` on a GRDB connection inside a transaction.
struct SQLiteWriteTransaction: TicketWriteTransaction {
    let db: Database

    init(_ db: Database) {
        self.db = db
    }

    func insertCall(_ ticket: CallTicket) throws {
        try TicketSchema.insert(ticket, in: db)
    }

    func finishCall(id: TicketID, outcome: CallOutcome) throws -> Bool {
        try TicketSchema.finish(id: id, outcome: outcome, in: db)
    }

    func finishFailure(id: TicketID) throws -> TicketStoreError {
        try TicketSchema.finishFailure(id: id, in: db)
    }

    func callForIntake(id: TicketID, outcome: CallOutcome) throws -> CallTicket? {
        try TicketSchema.finishedForIntake(id: id, outcome: outcome, in: db)
    }

    func callExists(_ id: TicketID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM calls WHERE id = ?"), arguments: [id.rawValue]) == true
    }

    func workOrder(id: TicketID) throws -> WorkOrder? {
        try WorkOrderQueries.workOrder(id: id, in: db)
    }

    func events(of id: TicketID) throws -> [RecordedTicketEvent] {
        try WorkOrderQueries.events(of: id, in: db)
    }

    /// The caller's newest open work order on a line and category, accepted in a window.
    private static let repeatLookup = """
        SELECT id FROM work_orders
        WHERE caller = ? AND accepted_at >= ? AND accepted_at <= ?
          AND business_line IS ? AND category IS ?
          AND status IN (\(TicketStatus.allCases.filter(\.acceptsRepeatCalls).map { "'\($0.rawValue)'" }.joined(separator: ", ")))
        ORDER BY accepted_at DESC, id DESC LIMIT 1
        """

    func repeatCallCandidate(caller: String, acceptedFrom: Date, through: Date, businessLine: String?,
                             category: TicketCategory?) throws -> TicketID? {
        let statement = try db.cachedStatement(sql: Self.repeatLookup)
        return try String.fetchOne(statement, arguments: [
            caller, TicketTimestamp.format(acceptedFrom), TicketTimestamp.format(through), businessLine, category?.rawValue,
        ]).flatMap(TicketID.init(rawValue:))
    }

    func insertWorkOrder(_ order: WorkOrder) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO work_orders (id, channel, caller, business_line, category, subject, details, status,
                accepted_at, event_count, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [order.id.rawValue, order.channel.rawValue, order.caller, order.businessLine,
                                          order.category?.rawValue, order.subject, order.details, order.status.rawValue,
                                          TicketTimestamp.format(order.acceptedAt), order.eventCount,
                                          TicketTimestamp.format(order.updatedAt)])
    }

    func insertEvent(_ event: TicketEvent, sequence: Int, of id: TicketID) throws {
        var score: Int?, reason: String?
        if case .returnVisited(let value) = event.kind { score = value }
        if case .reopened(let value) = event.kind { reason = value }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO work_order_events (work_order_id, seq, kind, at, actor, unit_id, score, reason, note)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [id.rawValue, sequence, event.kind.name, TicketTimestamp.format(event.at), event.actor,
                                          event.kind.unit?.rawValue, score, reason, event.note])
    }

    func updateWorkOrder(_ order: WorkOrder) throws {
        func format(_ date: Date?) -> String? { date.map(TicketTimestamp.format) }
        let statement = try db.cachedStatement(sql: """
            UPDATE work_orders SET status = ?, unit_id = ?, answered_directly_at = ?, dispatched_at = ?,
                sign_deadline = ?, completion_deadline = ?, signed_at = ?, handled_at = ?, fed_back_at = ?,
                visited_at = ?, closed_at = ?, satisfaction = ?, dispatch_count = ?, reopen_count = ?,
                event_count = ?, updated_at = ?
            WHERE id = ?
            """)
        try statement.execute(arguments: [
            order.status.rawValue, order.unit?.rawValue, format(order.answeredDirectlyAt), format(order.dispatchedAt),
            format(order.signDeadline), format(order.completionDeadline), format(order.signedAt), format(order.handledAt),
            format(order.fedBackAt), format(order.visitedAt), format(order.closedAt), order.satisfaction,
            order.dispatchCount, order.reopenCount, order.eventCount, TicketTimestamp.format(order.updatedAt),
            order.id.rawValue,
        ])
    }

    func updateWorkOrderText(_ order: WorkOrder) throws {
        try db.cachedStatement(sql: """
            UPDATE work_orders SET business_line = ?, category = ?, subject = ?, details = ?, updated_at = ? WHERE id = ?
            """).execute(arguments: [order.businessLine, order.category?.rawValue, order.subject, order.details,
                                     TicketTimestamp.format(order.updatedAt), order.id.rawValue])
    }

    func linkCall(_ call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason) throws {
        try db.cachedStatement(sql: """
            INSERT INTO work_order_calls (work_order_id, call_ticket_id, linked_at, reason) VALUES (?, ?, ?, ?)
            """).execute(arguments: [workOrder.rawValue, call.rawValue, TicketTimestamp.format(at), reason.rawValue])
        try db.cachedStatement(sql: """
            UPDATE work_orders SET call_count = call_count + 1, updated_at = max(updated_at, ?) WHERE id = ?
            """).execute(arguments: [TicketTimestamp.format(at), workOrder.rawValue])
    }

    func unitIsActive(_ unit: UnitID) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT active FROM units WHERE id = ?", arguments: [unit.rawValue]) == true
    }

    func isWithin(_ unit: UnitID?, scope: UnitID) throws -> Bool {
        try Self.isWithin(unit, scope: scope, in: db)
    }

    /// True if `unit` is `scope` or under it (a unit-less work order is within no unit).
    static func isWithin(_ unit: UnitID?, scope: UnitID, in db: Database) throws -> Bool {
        guard let unit else { return false }
        return try Bool.fetchOne(db, sql: """
            WITH RECURSIVE subtree(id) AS (
                SELECT ? UNION SELECT units.id FROM units JOIN subtree ON units.parent_id = subtree.id)
            SELECT 1 FROM subtree WHERE id = ?
            """, arguments: [scope.rawValue, unit.rawValue]) ?? false
    }

    func openDispatch(of id: TicketID, sequence: Int, unit: UnitID, at: Date, deadlines: SLADeadlines) throws {
        let at = TicketTimestamp.format(at)
        try db.execute(sql: """
            UPDATE work_order_dispatches SET withdrawn_at = ?
            WHERE work_order_id = ? AND handled_at IS NULL AND withdrawn_at IS NULL
            """, arguments: [at, id.rawValue])
        try db.execute(sql: """
            INSERT INTO work_order_dispatches (work_order_id, seq, unit_id, dispatched_at, sign_deadline, completion_deadline)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [id.rawValue, sequence, unit.rawValue, at, TicketTimestamp.format(deadlines.signIn),
                             TicketTimestamp.format(deadlines.completion)])
    }

    func stampDispatch(of id: TicketID, _ stamp: DispatchStamp, at: Date) throws {
        let column = switch stamp {
        case .signed: "signed_at"
        case .handled: "handled_at"
        }
        try db.execute(sql: """
            UPDATE work_order_dispatches SET \(column) = ?
            WHERE work_order_id = ? AND seq = (SELECT max(seq) FROM work_order_dispatches WHERE work_order_id = ?)
            """, arguments: [TicketTimestamp.format(at), id.rawValue, id.rawValue])
    }

    /// Makes the `units` table match `directory`: its units active, with their names, kinds
    /// and parents; every other unit inactive (never deleted, dispatches refer to it).
    func syncUnits(_ directory: UnitDirectory) throws {
        try Self.syncUnits(directory, in: db)
    }

    static func syncUnits(_ directory: UnitDirectory, in db: Database) throws {
        try db.execute(sql: "UPDATE units SET active = 0")
        let statement = try db.cachedStatement(sql: """
            INSERT INTO units (id, parent_id, name, kind, active, position) VALUES (?, ?, ?, ?, 1, ?)
            ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name, kind = excluded.kind,
                active = 1, position = excluded.position
            """)
        for (position, unit) in directory.units.enumerated() {
            try statement.execute(arguments: [unit.id.rawValue, unit.parent?.rawValue, unit.name, unit.kind.rawValue, position])
        }
    }
}
