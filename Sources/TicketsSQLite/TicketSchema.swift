// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: the migrations and the SQL of the calls table (one row per SIP call, `tickets`
// in v1, `calls` since v2). The schema lives in migrations, in code, and enforces the
// invariants itself, so a bug in any writer (or a hand edit in sqlite3) cannot store nonsense.
// The work-order tables are in WorkOrderSchema.

import Foundation
import Tickets
import GRDB

enum TicketSchema {
    /// The migrations, in order. Never edit a shipped migration: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_tickets") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2_work_orders") { db in
            try db.execute(sql: WorkOrderSchema.v2)
            try WorkOrderSchema.backfill(in: db)
        }
        migrator.registerMigration("v3_queues") { db in
            try db.execute(sql: v3)
        }
        migrator.registerMigration("v4_knowledge_base") { db in
            try db.execute(sql: KnowledgeSchema.v4)
        }
        migrator.registerMigration("v5_outbound") { db in
            try db.execute(sql: OutboundSchema.v5)
        }
        migrator.registerMigration("v6_handoffs") { db in
            try db.execute(sql: HandoffSchema.v6)
        }
        migrator.registerMigration("v7_check_lists") { db in
            try CheckListsMigration.apply(in: db)
        }
        return migrator
    }

    // Times are fixed-width UTC text, so text comparison is time comparison in the CHECKs
    // below and in ORDER BY. STRICT makes SQLite refuse values of the wrong type instead of
    // silently storing them. Constraints are named so errors say which rule broke.
    static let timestamp =
        "'[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9]Z'"

    /// The CHECK expression of a ticket number column (`YYYYMMDD-NNNNNN`, see ``TicketID``).
    static func idFormat(_ column: String) -> String {
        """
        length(\(column)) BETWEEN 15 AND 18
                            AND substr(\(column), 1, 8) NOT GLOB '*[^0-9]*'
                            AND CAST(substr(\(column), 5, 2) AS INTEGER) BETWEEN 1 AND 12
                            AND CAST(substr(\(column), 7, 2) AS INTEGER) BETWEEN 1 AND 31
                            AND substr(\(column), 9, 1) = '-'
                            AND substr(\(column), 10) NOT GLOB '*[^0-9]*'
                            AND CAST(substr(\(column), 10) AS INTEGER) >= 1
                            AND (length(\(column)) = 15 OR substr(\(column), 10, 1) <> '0')
        """
    }

    /// v1, as shipped: never edit it (databases already carry it). v2 renames the table.
    private static let v1 = """
        CREATE TABLE tickets (
            id TEXT NOT NULL PRIMARY KEY
                CONSTRAINT id_format CHECK (
                    length(id) BETWEEN 15 AND 18
                    AND substr(id, 1, 8) NOT GLOB '*[^0-9]*'
                    AND CAST(substr(id, 5, 2) AS INTEGER) BETWEEN 1 AND 12
                    AND CAST(substr(id, 7, 2) AS INTEGER) BETWEEN 1 AND 31
                    AND substr(id, 9, 1) = '-'
                    AND substr(id, 10) NOT GLOB '*[^0-9]*'
                    AND CAST(substr(id, 10) AS INTEGER) >= 1
                    AND (length(id) = 15 OR substr(id, 10, 1) <> '0')),
            call_id TEXT NOT NULL
                CONSTRAINT call_id_not_empty CHECK (call_id <> ''),
            caller TEXT NOT NULL,
            dialled TEXT NOT NULL,
            arrived_at TEXT NOT NULL
                CONSTRAINT arrived_at_format CHECK (arrived_at GLOB \(timestamp)),
            answered_at TEXT
                CONSTRAINT answered_at_format CHECK (answered_at GLOB \(timestamp)),
            ended_at TEXT
                CONSTRAINT ended_at_format CHECK (ended_at GLOB \(timestamp)),
            keys TEXT NOT NULL DEFAULT ''
                CONSTRAINT keys_dtmf CHECK (keys NOT GLOB '*[^0-9*#ABCD]*'),
            menu_path TEXT NOT NULL DEFAULT '[]'
                CONSTRAINT menu_path_json_array CHECK (json_valid(menu_path) AND json_type(menu_path) = 'array'),
            business_line TEXT
                CONSTRAINT business_line_not_empty CHECK (business_line <> ''),
            category TEXT
                CONSTRAINT category_not_empty CHECK (category <> ''),
            disposition TEXT
                CONSTRAINT disposition_not_empty CHECK (disposition <> ''),
            sip_status INTEGER
                CONSTRAINT sip_status_final CHECK (sip_status BETWEEN 200 AND 699),
            dialplan_version TEXT NOT NULL,
            CONSTRAINT answered_after_arrival CHECK (answered_at >= arrived_at),
            CONSTRAINT ended_after_arrival CHECK (ended_at >= arrived_at),
            CONSTRAINT ended_after_answer CHECK (ended_at >= answered_at),
            -- An in-progress ticket has no end; an ended call says how it ended. (The
            -- converse does not hold: an interrupted ticket has a disposition and no end.)
            CONSTRAINT ended_has_disposition CHECK (ended_at IS NULL OR disposition IS NOT NULL)
        ) STRICT;

        -- Not UNIQUE: a reused Call-ID must not cost a call its ticket.
        CREATE INDEX tickets_call_id ON tickets(call_id);
        CREATE INDEX tickets_arrived_at ON tickets(arrived_at);
        -- Makes crash recovery at open touch only the tickets left in progress.
        CREATE INDEX tickets_in_progress ON tickets(id) WHERE disposition IS NULL;
        """
    // A CHECK whose expression is NULL passes, which is what the nullable columns want:
    // `answered_at GLOB ...` only bites when answered_at is set.

    /// v3: what the agent queues did with a call (``QueueOutcome``). Columns added to `calls`
    /// (old rows get NULL and false); their rules are column CHECKs, which SQLite allows to
    /// name the other columns and tests against existing rows when the column is added.
    static let v3 = """
        ALTER TABLE calls ADD COLUMN queue TEXT
            CONSTRAINT queue_not_empty CHECK (queue <> '');
        ALTER TABLE calls ADD COLUMN agent TEXT
            CONSTRAINT agent_in_queue CHECK (agent IS NULL OR (agent <> '' AND queue IS NOT NULL));
        ALTER TABLE calls ADD COLUMN enqueued_at TEXT
            CONSTRAINT enqueued_at_valid CHECK (enqueued_at IS NULL OR (enqueued_at GLOB \(timestamp)
                AND enqueued_at >= arrived_at))
            CONSTRAINT queue_has_enqueued_at CHECK ((queue IS NULL) = (enqueued_at IS NULL));
        ALTER TABLE calls ADD COLUMN agent_answered_at TEXT
            CONSTRAINT agent_answered_at_valid CHECK (agent_answered_at IS NULL OR (agent_answered_at GLOB \(timestamp)
                AND agent_answered_at >= enqueued_at AND agent IS NOT NULL));
        ALTER TABLE calls ADD COLUMN wait_ms INTEGER
            CONSTRAINT wait_ms_valid CHECK (wait_ms IS NULL OR (wait_ms >= 0 AND queue IS NOT NULL));
        ALTER TABLE calls ADD COLUMN talk_ms INTEGER
            CONSTRAINT talk_ms_valid CHECK (talk_ms IS NULL OR (talk_ms >= 0 AND agent_answered_at IS NOT NULL));
        ALTER TABLE calls ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0
            CONSTRAINT abandoned_flag CHECK (abandoned = 0 OR (abandoned = 1 AND queue IS NOT NULL AND agent_answered_at IS NULL));
        ALTER TABLE calls ADD COLUMN overflowed INTEGER NOT NULL DEFAULT 0
            CONSTRAINT overflowed_flag CHECK (overflowed = 0 OR (overflowed = 1 AND queue IS NOT NULL));
        ALTER TABLE calls ADD COLUMN callback INTEGER NOT NULL DEFAULT 0
            CONSTRAINT callback_flag CHECK (callback = 0 OR (callback = 1 AND queue IS NOT NULL));
        CREATE INDEX calls_queue ON calls(queue, arrived_at) WHERE queue IS NOT NULL;
        """

    // MARK: - Writes

    /// The columns of a call's row, in the order ``bind(_:to:from:)`` binds them.
    private static let insertCallPrefix = """
        INSERT INTO calls (id, call_id, caller, dialled, arrived_at, answered_at, ended_at,
            keys, menu_path, business_line, category, disposition, sip_status, dialplan_version,
            \(queueColumns), direction)
        VALUES
        """

    private static let callParameters: Int32 = 24

    /// One row's placeholders.
    private static let callRow = "(" + Array(repeating: "?", count: Int(callParameters)).joined(separator: ", ") + ")"

    static let insertCallSQL = insertCallPrefix + " " + callRow

    /// Rows per multi-row INSERT of a run of opens (``insert(_:in:statements:)`` with many):
    /// the statement's own cost (its start, its constraint and index bookkeeping, its end) is
    /// about half of a one-row INSERT, paid once per 32 rows. 23 parameters a row, far under
    /// SQLite's limit.
    static let callsPerInsert = 32

    static let insertCallsSQL = insertCallPrefix + " " + Array(repeating: callRow, count: callsPerInsert).joined(separator: ", ")

    static func insert(_ ticket: CallTicket, in db: Database, statements: SQLiteWriterStatements) throws {
        let statement = try statements.statement(.insertCall, insertCallSQL, in: db)
        bind(ticket, to: statement, from: 1)
        try statement.execute()
    }

    /// Inserts `tickets` in order, ``callsPerInsert`` rows per statement and the rest one by one.
    /// One bad row fails its whole statement (and the caller's batch, replayed row by row).
    static func insert(_ tickets: ArraySlice<CallTicket>, in db: Database, statements: SQLiteWriterStatements) throws {
        var rest = tickets
        while rest.count >= callsPerInsert {
            let statement = try statements.statement(.insertCalls, insertCallsSQL, in: db)
            for (row, ticket) in rest.prefix(callsPerInsert).enumerated() {
                bind(ticket, to: statement, from: 1 + Int32(row) * callParameters)
            }
            try statement.execute()
            rest = rest.dropFirst(callsPerInsert)
        }
        for ticket in rest {
            try insert(ticket, in: db, statements: statements)
        }
    }

    /// Binds a call's row to parameters `first`, `first + 1`... of ``insertCallSQL``'s order.
    private static func bind(_ ticket: CallTicket, to statement: SQLiteRawStatement, from first: Int32) {
        statement.bind(ticket.id.rawValue, at: first)
        statement.bind(ticket.callID, at: first + 1)
        statement.bind(ticket.caller, at: first + 2)
        statement.bind(ticket.dialled, at: first + 3)
        statement.bind(ticket.arrivedAt, at: first + 4)
        statement.bind(ticket.answeredAt, at: first + 5)
        statement.bind(ticket.endedAt, at: first + 6)
        statement.bind(ticket.keys, at: first + 7)
        statement.bind(CallTicket.menuPathJSON(ticket.menuPath), at: first + 8)
        statement.bind(ticket.businessLine, at: first + 9)
        statement.bind(ticket.category?.rawValue, at: first + 10)
        statement.bind(ticket.disposition?.rawValue, at: first + 11)
        statement.bind(ticket.sipStatus, at: first + 12)
        statement.bind(ticket.dialplanVersion, at: first + 13)
        let queue = ticket.queue
        statement.bind(queue?.queue, at: first + 14)
        statement.bind(queue?.agent, at: first + 15)
        statement.bind(queue?.enqueuedAt, at: first + 16)
        statement.bind(queue?.agentAnsweredAt, at: first + 17)
        statement.bind(queue?.waitMilliseconds, at: first + 18)
        statement.bind(queue?.talkMilliseconds, at: first + 19)
        statement.bind(queue?.abandoned ?? false, at: first + 20)
        statement.bind(queue?.overflowed ?? false, at: first + 21)
        statement.bind(queue?.callback ?? false, at: first + 22)
        statement.bind(ticket.direction.rawValue, at: first + 23)
    }

    /// Finishes a call in progress and reads back, in the same statement, what intake needs.
    static let finishSQL = """
        UPDATE calls SET
            answered_at = CASE WHEN ? THEN NULL ELSE coalesce(?, answered_at) END, ended_at = ?, keys = ?, menu_path = ?,
            business_line = ?, category = ?, disposition = ?, sip_status = ?
        WHERE id = ? AND disposition IS NULL
        RETURNING caller, arrived_at, answered_at
        """

    /// Applies `outcome` to a ticket in progress, and returns the call as intake needs it
    /// (caller and times from the row, the rest from the outcome; see
    /// ``TicketWriteTransaction/finishCall(id:outcome:)``). nil if no ticket in progress has
    /// this number (see ``finishFailure(id:in:)`` for why).
    static func finish(id: TicketID, outcome: CallOutcome, in db: Database,
                       statements: SQLiteWriterStatements) throws -> CallTicket? {
        let statement = try statements.statement(.finishCall, finishSQL, in: db)
        statement.bind(outcome.unanswered, at: 1)
        statement.bind(outcome.answeredAt, at: 2)
        statement.bind(outcome.endedAt, at: 3)
        statement.bind(outcome.keys, at: 4)
        statement.bind(CallTicket.menuPathJSON(outcome.menuPath), at: 5)
        statement.bind(outcome.businessLine, at: 6)
        statement.bind(outcome.category?.rawValue, at: 7)
        statement.bind(outcome.disposition.rawValue, at: 8)
        statement.bind(outcome.sipStatus, at: 9)
        statement.bind(id.rawValue, at: 10)
        let returned = try statement.first { row in (row.text(0), row.text(1), row.text(2)) }
        guard let (caller, arrived, answered) = returned else { return nil }
        func date(_ text: String?, _ column: String) throws(TicketStoreError) -> Date? {
            guard let text else { return nil }
            guard let date = TicketTimestamp.parse(text) else { throw .corruptRow(id: id.rawValue, column: column) }
            return date
        }
        guard let caller else { throw TicketStoreError.corruptRow(id: id.rawValue, column: "caller") }
        guard let arrivedAt = try date(arrived, "arrived_at") else {
            throw TicketStoreError.corruptRow(id: id.rawValue, column: "arrived_at")
        }
        if let queue = outcome.queue {
            // Separate, so calls that never queued (nearly all in IVR benchmarks) pay nothing.
            try db.cachedStatement(sql: finishQueueSQL)
                .execute(arguments: StatementArguments(queueArguments(queue) + [id.rawValue]))
        }
        return CallTicket(id: id, callID: "-", caller: caller, dialled: "", arrivedAt: arrivedAt,
                          answeredAt: try date(answered, "answered_at"), endedAt: outcome.endedAt,
                          businessLine: outcome.businessLine, category: outcome.category, disposition: outcome.disposition,
                          sipStatus: outcome.sipStatus, dialplanVersion: "")
    }

    private static let finishQueueSQL = """
        UPDATE calls SET queue = ?, agent = ?, enqueued_at = ?, agent_answered_at = ?, wait_ms = ?, talk_ms = ?,
            abandoned = ?, overflowed = ?, callback = ?
        WHERE id = ?
        """

    /// Why ``finish(id:outcome:in:)`` changed nothing.
    static func finishFailure(id: TicketID, in db: Database) throws -> TicketStoreError {
        let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM calls WHERE id = ?", arguments: [id.rawValue]) ?? false
        return exists ? .alreadyFinished(id) : .ticketNotFound(id)
    }

    /// Marks every ticket left in progress by a previous process as interrupted, keeping
    /// its answered_at. Returns how many there were.
    static func markInterrupted(in db: Database) throws -> Int {
        try db.execute(
            sql: "UPDATE calls SET disposition = ? WHERE disposition IS NULL",
            arguments: [CallDisposition.interrupted.rawValue])
        return db.changesCount
    }

    /// The highest sequence used on each day from two days before the newest ticket's day
    /// on: enough to continue numbering after a restart, or after the clock steps back a
    /// little, without scanning years of tickets. Numeric, because a day past 999,999
    /// tickets has longer numbers that sort wrongly as text. Calls and work orders share the
    /// numbering (a work order from another channel takes a number no call has).
    static func recentLastSequences(in db: Database) throws -> [Int: Int] {
        guard let newest = try String.fetchOne(db, sql: """
                SELECT max(id) FROM (SELECT max(id) AS id FROM calls UNION ALL SELECT max(id) FROM work_orders)
                """),
              let newestID = TicketID(rawValue: newest)
        else { return [:] }
        let stamp = newestID.dayStamp
        let floorDays = CivilDate.days(year: stamp / 10_000, month: stamp / 100 % 100, day: stamp % 100) - 2
        let floor = CivilDate.fromDays(floorDays)
        let floorStamp = String(floor.year * 10_000 + floor.month * 100 + floor.day)
        let rows = try Row.fetchAll(db, sql: """
            SELECT CAST(substr(id, 1, 8) AS INTEGER) AS day, max(CAST(substr(id, 10) AS INTEGER)) AS sequence
            FROM (SELECT id FROM calls WHERE id >= ? UNION ALL SELECT id FROM work_orders WHERE id >= ?) GROUP BY day
            """, arguments: [floorStamp, floorStamp])
        var sequences: [Int: Int] = [:]
        for row in rows {
            sequences[row["day"]] = row["sequence"]
        }
        return sequences
    }

    /// The v3 columns, in the order of ``queueArguments(_:)``.
    static let queueColumns = "queue, agent, enqueued_at, agent_answered_at, wait_ms, talk_ms, abandoned, overflowed, callback"

    static func queueArguments(_ queue: QueueOutcome?) -> [(any DatabaseValueConvertible)?] {
        guard let queue else { return [nil, nil, nil, nil, nil, nil, false, false, false] }
        return [queue.queue, queue.agent, TicketTimestamp.format(queue.enqueuedAt), queue.agentAnsweredAt.map(TicketTimestamp.format),
                queue.waitMilliseconds, queue.talkMilliseconds, queue.abandoned, queue.overflowed, queue.callback]
    }

    // MARK: - Reads

    /// The columns of a v2 row: what the v2 migration's backfill may read (it runs before v3
    /// adds the queue columns).
    static let v2Columns = """
        id, call_id, caller, dialled, arrived_at, answered_at, ended_at, keys, menu_path,
        business_line, category, disposition, sip_status, dialplan_version
        """

    static let columns = v2Columns + ", " + queueColumns + ", direction"

    static func list(limit: Int, since: Date?, in db: Database) throws -> [CallTicket] {
        let rows: [Row]
        if let since {
            rows = try Row.fetchAll(db, sql: """
                SELECT \(columns) FROM calls WHERE arrived_at >= ?
                ORDER BY arrived_at DESC, id DESC LIMIT ?
                """, arguments: [TicketTimestamp.format(since), limit])
        } else {
            rows = try Row.fetchAll(db, sql: """
                SELECT \(columns) FROM calls ORDER BY arrived_at DESC, id DESC LIMIT ?
                """, arguments: [limit])
        }
        return try rows.map(ticket(from:))
    }

    static func calls(answeredBy agent: String, since: Date, limit: Int, in db: Database) throws -> [CallTicket] {
        try Row.fetchAll(db, sql: """
            SELECT \(columns) FROM calls WHERE agent = ? AND agent_answered_at IS NOT NULL AND arrived_at >= ?
            ORDER BY arrived_at DESC, id DESC LIMIT ?
            """, arguments: [agent, TicketTimestamp.format(since), max(0, limit)]).map(ticket(from:))
    }

    static func ticket(id: TicketID, in db: Database) throws -> CallTicket? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM calls WHERE id = ?"), arguments: [id.rawValue])
            .map(ticket(from:))
    }

    static func ticket(from row: Row) throws(TicketStoreError) -> CallTicket {
        let rawID: String = (row["id"] as String?) ?? "?"
        func text(_ column: String) throws(TicketStoreError) -> String {
            guard let value = row[column] as String? else { throw .corruptRow(id: rawID, column: column) }
            return value
        }
        func date(_ column: String) throws(TicketStoreError) -> Date? {
            guard let value = row[column] as String? else { return nil }
            guard let date = TicketTimestamp.parse(value) else { throw .corruptRow(id: rawID, column: column) }
            return date
        }
        guard let id = TicketID(rawValue: rawID) else { throw .corruptRow(id: rawID, column: "id") }
        guard let arrivedAt = try date("arrived_at") else { throw .corruptRow(id: rawID, column: "arrived_at") }
        let menuPath: [String]
        do {
            menuPath = try JSONDecoder().decode([String].self, from: Data(try text("menu_path").utf8))
        } catch {
            throw .corruptRow(id: rawID, column: "menu_path")
        }
        return CallTicket(
            id: id,
            callID: try text("call_id"),
            caller: try text("caller"),
            dialled: try text("dialled"),
            arrivedAt: arrivedAt,
            answeredAt: try date("answered_at"),
            endedAt: try date("ended_at"),
            keys: try text("keys"),
            menuPath: menuPath,
            businessLine: row["business_line"],
            category: (row["category"] as String?).map(TicketCategory.init(rawValue:)),
            disposition: (row["disposition"] as String?).map(CallDisposition.init(rawValue:)),
            sipStatus: row["sip_status"],
            dialplanVersion: try text("dialplan_version"),
            queue: row.hasColumn("queue") ? try queueOutcome(from: row, id: rawID) : nil,
            direction: row.hasColumn("direction") ? (row["direction"] as String?).flatMap(CallDirection.init(rawValue:)) ?? .inbound : .inbound)
    }

    /// The v3 columns of a row, nil when the call never queued.
    static func queueOutcome(from row: Row, id rawID: String) throws(TicketStoreError) -> QueueOutcome? {
        guard let queue = row["queue"] as String? else { return nil }
        func date(_ column: String) throws(TicketStoreError) -> Date? {
            guard let value = row[column] as String? else { return nil }
            guard let date = TicketTimestamp.parse(value) else { throw .corruptRow(id: rawID, column: column) }
            return date
        }
        guard let enqueuedAt = try date("enqueued_at") else { throw .corruptRow(id: rawID, column: "enqueued_at") }
        return QueueOutcome(queue: queue, agent: row["agent"], enqueuedAt: enqueuedAt, agentAnsweredAt: try date("agent_answered_at"),
                            waitMilliseconds: row["wait_ms"], talkMilliseconds: row["talk_ms"],
                            abandoned: (row["abandoned"] as Bool?) ?? false, overflowed: (row["overflowed"] as Bool?) ?? false,
                            callback: (row["callback"] as Bool?) ?? false)
    }

}

extension TicketStoreError {
    /// Maps anything GRDB or the schema code throws to a ticket store error.
    init(_ error: any Error) {
        switch error {
        case let error as TicketStoreError:
            self = error
        case let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT:
            self = .constraintViolated(message: error.message ?? "constraint failed")
        case let error as DatabaseError:
            self = .database(code: error.extendedResultCode.rawValue, message: error.message ?? "\(error)")
        default:
            self = .database(code: -1, message: String(describing: error))
        }
    }
}
