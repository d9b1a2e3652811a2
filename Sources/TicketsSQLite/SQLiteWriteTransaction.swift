// TicketsSQLite: the SQLite backend of the ticket store.
// This file: the storage primitives TicketWriteRules composes, each one SQL statement or so
// on the connection of an open transaction.

import Foundation
import Tickets
import GRDB

/// ``TicketWriteTransaction`` on a GRDB connection inside a transaction.
struct SQLiteWriteTransaction: TicketWriteTransaction {
    let db: Database
    /// The hot statements: the writer's own, kept across batches; a fresh set elsewhere (the
    /// migration's backfill, the desk), finalized with this value.
    let statements: SQLiteWriterStatements

    init(_ db: Database, statements: SQLiteWriterStatements = SQLiteWriterStatements()) {
        self.db = db
        self.statements = statements
    }

    func insertCall(_ ticket: CallTicket) throws {
        try TicketSchema.insert(ticket, in: db, statements: statements)
    }

    /// A run of opens, many rows per statement (see ``TicketSchema/callsPerInsert``).
    func insertCalls(_ tickets: ArraySlice<CallTicket>) throws {
        try TicketSchema.insert(tickets, in: db, statements: statements)
    }

    func finishCall(id: TicketID, outcome: CallOutcome) throws -> CallTicket? {
        try TicketSchema.finish(id: id, outcome: outcome, in: db, statements: statements)
    }

    func finishFailure(id: TicketID) throws -> TicketStoreError {
        try TicketSchema.finishFailure(id: id, in: db)
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

    /// The caller's open work orders on a line and category, accepted in a window. The statuses
    /// as the two that do not accept repeat calls (`status` is NOT NULL and one of the known
    /// ones): SQLite builds a temporary b-tree for a constant IN list of more than two values at
    /// every execution, and this runs at every intake.
    private static let repeatFilter = """
        caller = ?1 AND accepted_at >= ?2 AND accepted_at <= ?3 AND business_line IS ?4 AND category IS ?5
          AND status NOT IN (\(TicketStatus.allCases.filter { !$0.acceptsRepeatCalls }.map { "'\($0.rawValue)'" }
            .joined(separator: ", ")))
        """

    /// The newest of them, by `accepted_at` then id, as aggregates: `ORDER BY … LIMIT 1` would
    /// sort in a temporary b-tree (the caller index has no id to break ties), built and dropped
    /// at every execution. NULL when there is none.
    private static let repeatLookup = """
        SELECT max(id) FROM work_orders
        WHERE \(repeatFilter) AND accepted_at = (SELECT max(accepted_at) FROM work_orders WHERE \(repeatFilter))
        """

    func repeatCallCandidate(caller: String, acceptedFrom: Date, through: Date, businessLine: String?,
                             category: TicketCategory?) throws -> TicketID? {
        let statement = try statements.statement(.repeatLookup, Self.repeatLookup, in: db)
        statement.bind(caller, at: 1)
        statement.bind(acceptedFrom, at: 2)
        statement.bind(through, at: 3)
        statement.bind(businessLine, at: 4)
        statement.bind(category?.rawValue, at: 5)
        return try statement.first { $0.text(0) }.flatMap { $0.flatMap(TicketID.init(rawValue:)) }
    }

    private static let insertWorkOrderSQL = """
        INSERT INTO work_orders (id, channel, caller, business_line, category, subject, details, status,
            accepted_at, call_count, event_count, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    func insertWorkOrder(_ order: WorkOrder) throws {
        let statement = try statements.statement(.insertWorkOrder, Self.insertWorkOrderSQL, in: db)
        statement.bind(order.id.rawValue, at: 1)
        statement.bind(order.channel.rawValue, at: 2)
        statement.bind(order.caller, at: 3)
        statement.bind(order.businessLine, at: 4)
        statement.bind(order.category?.rawValue, at: 5)
        statement.bind(order.subject, at: 6)
        statement.bind(order.details, at: 7)
        statement.bind(order.status.rawValue, at: 8)
        statement.bind(order.acceptedAt, at: 9)
        statement.bind(order.callCount, at: 10)
        statement.bind(order.eventCount, at: 11)
        statement.bind(order.updatedAt, at: 12)
        try statement.execute()
    }

    private static let insertEventSQL = """
        INSERT INTO work_order_events (work_order_id, seq, kind, at, actor, unit_id, score, reason, note)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    func insertEvent(_ event: TicketEvent, sequence: Int, of id: TicketID) throws {
        var score: Int?, reason: String?
        if case .returnVisited(let value) = event.kind { score = value }
        if case .reopened(let value) = event.kind { reason = value }
        if let article = event.article {
            // Its own statement, for the rare event that names an article: the hot INSERT stays
            // the one the v2 migration's backfill runs, before v4 adds the column.
            try db.execute(sql: """
                INSERT INTO work_order_events (work_order_id, seq, kind, at, actor, unit_id, score, reason, note, article_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id.rawValue, sequence, event.kind.name, TicketTimestamp.format(event.at), event.actor,
                                 event.kind.unit?.rawValue, score, reason, event.note, article.rawValue])
            return
        }
        let statement = try statements.statement(.insertEvent, Self.insertEventSQL, in: db)
        statement.bind(id.rawValue, at: 1)
        statement.bind(sequence, at: 2)
        statement.bind(event.kind.name, at: 3)
        statement.bind(event.at, at: 4)
        statement.bind(event.actor, at: 5)
        statement.bind(event.kind.unit?.rawValue, at: 6)
        statement.bind(score, at: 7)
        statement.bind(reason, at: 8)
        statement.bind(event.note, at: 9)
        try statement.execute()
    }

    func articleExists(_ id: KnowledgeArticleID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM kb_articles WHERE id = ?"), arguments: [id.rawValue]) == true
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

    private static let insertCallLinkSQL = """
        INSERT INTO work_order_calls (work_order_id, call_ticket_id, linked_at, reason) VALUES (?, ?, ?, ?)
        """

    private static let countCallLinkSQL = """
        UPDATE work_orders SET call_count = call_count + 1, updated_at = max(updated_at, ?) WHERE id = ?
        """

    func linkCall(_ call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason) throws {
        try insertCallLink(call, to: workOrder, at: at, reason: reason)
        let statement = try statements.statement(.countCallLink, Self.countCallLinkSQL, in: db)
        statement.bind(at, at: 1)
        statement.bind(workOrder.rawValue, at: 2)
        try statement.execute()
    }

    func insertCallLink(_ call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason) throws {
        let statement = try statements.statement(.insertCallLink, Self.insertCallLinkSQL, in: db)
        statement.bind(workOrder.rawValue, at: 1)
        statement.bind(call.rawValue, at: 2)
        statement.bind(at, at: 3)
        statement.bind(reason.rawValue, at: 4)
        try statement.execute()
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
