// Tickets: calls, and the 12345 work orders they open, in SQLite behind intention-named APIs.
// This file: the work-order side of the schema (migration v2) and its writes. Like
// TicketSchema, it is SQL, and the schema enforces what it can: an append-only event log,
// events in order, known statuses, units that exist.

import Foundation
import GRDB

enum WorkOrderSchema {
    /// Migration v2: the v1 `tickets` table (one row per call) becomes `calls`, unchanged in
    /// content, and the work-order tables join it. Work orders for the calls already stored
    /// are created by ``backfill(in:)`` in the same migration.
    static let v2 = """
        ALTER TABLE tickets RENAME TO calls;
        DROP INDEX tickets_call_id;
        DROP INDEX tickets_arrived_at;
        DROP INDEX tickets_in_progress;
        CREATE INDEX calls_call_id ON calls(call_id);
        CREATE INDEX calls_arrived_at ON calls(arrived_at);
        CREATE INDEX calls_in_progress ON calls(id) WHERE disposition IS NULL;

        -- The units of units.yaml. Rows are never deleted: a unit that leaves the file is
        -- marked inactive, and its dispatches keep their name.
        CREATE TABLE units (
            id TEXT NOT NULL PRIMARY KEY
                CONSTRAINT unit_id_format CHECK (id GLOB '[a-z0-9]*' AND id NOT GLOB '*[^a-z0-9_.-]*'),
            parent_id TEXT REFERENCES units(id)
                CONSTRAINT unit_not_own_parent CHECK (parent_id <> id),
            name TEXT NOT NULL CONSTRAINT unit_name_not_empty CHECK (name <> ''),
            kind TEXT NOT NULL CONSTRAINT unit_kind_not_empty CHECK (kind <> ''),
            active INTEGER NOT NULL DEFAULT 1 CONSTRAINT unit_active_flag CHECK (active IN (0, 1)),
            position INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX units_parent ON units(parent_id);

        CREATE TABLE work_orders (
            id TEXT NOT NULL PRIMARY KEY
                CONSTRAINT work_order_id_format CHECK (\(TicketSchema.idFormat("id"))),
            channel TEXT NOT NULL CONSTRAINT channel_not_empty CHECK (channel <> ''),
            caller TEXT NOT NULL,
            business_line TEXT CONSTRAINT work_order_business_line_not_empty CHECK (business_line <> ''),
            category TEXT CONSTRAINT work_order_category_not_empty CHECK (category <> ''),
            subject TEXT CONSTRAINT subject_not_empty CHECK (subject <> ''),
            details TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL
                CONSTRAINT status_known CHECK (status IN (\(TicketStatus.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")))),
            unit_id TEXT REFERENCES units(id),
            accepted_at TEXT NOT NULL CONSTRAINT accepted_at_format CHECK (accepted_at GLOB \(TicketSchema.timestamp)),
            answered_directly_at TEXT CHECK (answered_directly_at GLOB \(TicketSchema.timestamp)),
            dispatched_at TEXT CHECK (dispatched_at GLOB \(TicketSchema.timestamp)),
            sign_deadline TEXT CHECK (sign_deadline GLOB \(TicketSchema.timestamp)),
            completion_deadline TEXT CHECK (completion_deadline GLOB \(TicketSchema.timestamp)),
            signed_at TEXT CHECK (signed_at GLOB \(TicketSchema.timestamp)),
            handled_at TEXT CHECK (handled_at GLOB \(TicketSchema.timestamp)),
            fed_back_at TEXT CHECK (fed_back_at GLOB \(TicketSchema.timestamp)),
            visited_at TEXT CHECK (visited_at GLOB \(TicketSchema.timestamp)),
            closed_at TEXT CHECK (closed_at GLOB \(TicketSchema.timestamp)),
            satisfaction INTEGER CONSTRAINT satisfaction_score CHECK (satisfaction BETWEEN 1 AND 5),
            dispatch_count INTEGER NOT NULL DEFAULT 0 CHECK (dispatch_count >= 0),
            reopen_count INTEGER NOT NULL DEFAULT 0 CHECK (reopen_count >= 0),
            call_count INTEGER NOT NULL DEFAULT 0 CHECK (call_count >= 0),
            event_count INTEGER NOT NULL CONSTRAINT has_events CHECK (event_count >= 1),
            updated_at TEXT NOT NULL CHECK (updated_at GLOB \(TicketSchema.timestamp)),
            CONSTRAINT unit_iff_dispatched CHECK ((unit_id IS NULL) = (dispatched_at IS NULL)),
            CONSTRAINT deadlines_iff_dispatched CHECK (
                (dispatched_at IS NULL) = (sign_deadline IS NULL) AND (dispatched_at IS NULL) = (completion_deadline IS NULL)),
            CONSTRAINT status_has_unit CHECK (status NOT IN ('dispatched', 'signed', 'handled', 'fed_back') OR unit_id IS NOT NULL),
            CONSTRAINT signed_after_dispatch CHECK (signed_at >= dispatched_at),
            CONSTRAINT handled_after_signing CHECK (handled_at >= signed_at),
            CONSTRAINT dispatched_after_acceptance CHECK (dispatched_at >= accepted_at)
        ) STRICT;
        CREATE INDEX work_orders_accepted_at ON work_orders(accepted_at, id);
        CREATE INDEX work_orders_status ON work_orders(status, accepted_at, id);
        CREATE INDEX work_orders_unit ON work_orders(unit_id, accepted_at, id);
        CREATE INDEX work_orders_category ON work_orders(category, accepted_at);
        CREATE INDEX work_orders_caller ON work_orders(caller, accepted_at);
        CREATE TRIGGER work_orders_no_delete BEFORE DELETE ON work_orders
        BEGIN SELECT RAISE(ABORT, 'work orders are never deleted'); END;
        CREATE TRIGGER work_orders_identity_fixed BEFORE UPDATE OF id, channel, accepted_at ON work_orders
        BEGIN SELECT RAISE(ABORT, 'a work order''s id, channel and accepted_at never change'); END;

        -- The event log: append-only (UPDATE and DELETE refused), each work order's events
        -- numbered 1, 2, 3... with 1 always 'accepted', and never dated before the previous one.
        CREATE TABLE work_order_events (
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            seq INTEGER NOT NULL CONSTRAINT seq_positive CHECK (seq >= 1),
            kind TEXT NOT NULL
                CONSTRAINT event_kind_known CHECK (kind IN (\(TicketEvent.Kind.names.map { "'\($0)'" }.joined(separator: ", ")))),
            at TEXT NOT NULL CONSTRAINT event_at_format CHECK (at GLOB \(TicketSchema.timestamp)),
            actor TEXT NOT NULL CONSTRAINT actor_not_blank CHECK (trim(actor) <> ''),
            unit_id TEXT REFERENCES units(id),
            score INTEGER,
            reason TEXT,
            note TEXT,
            PRIMARY KEY (work_order_id, seq),
            CONSTRAINT accepted_first CHECK ((kind = 'accepted') = (seq = 1)),
            CONSTRAINT unit_iff_dispatch_or_sign CHECK ((kind IN ('dispatched', 'signed')) = (unit_id IS NOT NULL)),
            CONSTRAINT score_iff_return_visit CHECK (((kind = 'return_visit') = (score IS NOT NULL)) AND (score IS NULL OR score BETWEEN 1 AND 5)),
            CONSTRAINT reason_iff_reopened CHECK (((kind = 'reopened') = (reason IS NOT NULL)) AND (reason IS NULL OR trim(reason) <> ''))
        ) STRICT, WITHOUT ROWID;
        CREATE TRIGGER work_order_events_no_update BEFORE UPDATE ON work_order_events
        BEGIN SELECT RAISE(ABORT, 'work_order_events is append-only: events are never changed'); END;
        CREATE TRIGGER work_order_events_no_delete BEFORE DELETE ON work_order_events
        BEGIN SELECT RAISE(ABORT, 'work_order_events is append-only: events are never deleted'); END;
        CREATE TRIGGER work_order_events_in_order BEFORE INSERT ON work_order_events
        WHEN NEW.seq <> 1 + coalesce((SELECT max(seq) FROM work_order_events WHERE work_order_id = NEW.work_order_id), 0)
          OR NEW.at < coalesce((SELECT at FROM work_order_events WHERE work_order_id = NEW.work_order_id
                                ORDER BY seq DESC LIMIT 1), NEW.at)
        BEGIN SELECT RAISE(ABORT, 'events_in_order: an event must follow the last one (seq + 1, not dated earlier)'); END;

        -- One row per dispatch, with its SLA deadlines and what became of it: what the
        -- on-time KPIs and the unit ranking count.
        CREATE TABLE work_order_dispatches (
            work_order_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            unit_id TEXT NOT NULL REFERENCES units(id),
            dispatched_at TEXT NOT NULL CHECK (dispatched_at GLOB \(TicketSchema.timestamp)),
            sign_deadline TEXT NOT NULL CHECK (sign_deadline GLOB \(TicketSchema.timestamp)),
            completion_deadline TEXT NOT NULL CHECK (completion_deadline GLOB \(TicketSchema.timestamp)),
            signed_at TEXT CHECK (signed_at GLOB \(TicketSchema.timestamp)),
            handled_at TEXT CHECK (handled_at GLOB \(TicketSchema.timestamp)),
            withdrawn_at TEXT CHECK (withdrawn_at GLOB \(TicketSchema.timestamp)),
            PRIMARY KEY (work_order_id, seq),
            FOREIGN KEY (work_order_id, seq) REFERENCES work_order_events(work_order_id, seq),
            CONSTRAINT dispatch_signed_after CHECK (signed_at >= dispatched_at),
            CONSTRAINT dispatch_handled_after CHECK (handled_at >= signed_at),
            CONSTRAINT dispatch_handled_or_withdrawn CHECK (handled_at IS NULL OR withdrawn_at IS NULL)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX work_order_dispatches_unit ON work_order_dispatches(unit_id, dispatched_at);

        -- Calls and work orders: a work order has one call or more (repeat calls), and a call
        -- may raise more than one matter.
        CREATE TABLE work_order_calls (
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            call_ticket_id TEXT NOT NULL REFERENCES calls(id),
            linked_at TEXT NOT NULL CHECK (linked_at GLOB \(TicketSchema.timestamp)),
            reason TEXT NOT NULL CONSTRAINT link_reason_known CHECK (reason IN ('intake', 'repeat', 'manual')),
            PRIMARY KEY (work_order_id, call_ticket_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX work_order_calls_call ON work_order_calls(call_ticket_id);
        CREATE TRIGGER work_order_calls_no_delete BEFORE DELETE ON work_order_calls
        BEGIN SELECT RAISE(ABORT, 'call links are never deleted'); END;
        """

    /// Opens work orders for the calls a v1 database holds, by the default intake rule
    /// (``IntakePolicy``) without repeat-call linking, so history counts in reports as if it
    /// had been written by this version.
    static func backfill(in db: Database) throws {
        let intake = IntakePolicy(repeatCallWindow: nil)
        let rows = try Row.fetchCursor(db, sql: """
            SELECT \(TicketSchema.v2Columns) FROM calls
            WHERE answered_at IS NOT NULL AND business_line IS NOT NULL AND disposition IS NOT NULL
            ORDER BY arrived_at, id
            """)
        var calls: [CallTicket] = []
        while let row = try rows.next() {
            calls.append(try TicketSchema.ticket(from: row))
        }
        for call in calls {
            try self.intake(call, override: nil, policy: WorkOrderPolicy(sla: .standard(timeZone: .gmt), intake: intake), in: db)
        }
    }

    // MARK: - Intake

    /// What intake did with a call.
    enum IntakeEffect {
        case none
        case opened(TicketID)
        case linked(TicketID)
    }

    /// Applies the intake rule (``IntakePolicy``) to a call whose row was just finished or
    /// recorded, in the caller's transaction.
    @discardableResult
    static func intake(_ call: CallTicket, override: CallResolution?, summary: [String: String] = [:],
                       policy: WorkOrderPolicy, in db: Database) throws -> IntakeEffect
    {
        let resolution = policy.intake.resolution(for: call, override: override)
        guard resolution != .noWorkOrder else { return .none }
        let acceptedAt = call.endedAt ?? call.answeredAt ?? call.arrivedAt
        if resolution == .workOrder, let window = policy.intake.repeatCallWindow, PhoneNumber(call.caller).identifiesCaller {
            let earliest = acceptedAt.addingTimeInterval(-Double(window.components.seconds))
            let statement = try db.cachedStatement(sql: repeatLookup)
            if let existing = try String.fetchOne(statement, arguments: [
                call.caller, TicketTimestamp.format(earliest), TicketTimestamp.format(acceptedAt), call.businessLine,
                call.category?.rawValue,
            ]), let id = TicketID(rawValue: existing) {
                try link(call: call.id, to: id, at: acceptedAt, reason: .repeatCall, checked: true, in: db)
                return .linked(id)
            }
        }
        // The dialplan's summary: `subject` is the subject, the rest "name: value" lines.
        let subject = summary["subject"].flatMap { $0.isEmpty ? nil : $0 }
        let details = summary.filter { $0.key != "subject" }.sorted { $0.key < $1.key }
            .map { "\($0.key): \($0.value)" }.joined(separator: "\n")
        let order = WorkOrder(id: call.id, channel: .phone, caller: call.caller, businessLine: call.businessLine,
                              category: call.category, subject: subject, details: details, acceptedAt: acceptedAt)
        try insert(order, actor: "ivr", note: nil, in: db)
        try link(call: call.id, to: order.id, at: acceptedAt, reason: .intake, checked: true, in: db)
        if resolution == .answeredDirectly {
            _ = try append(TicketEvent(.answeredDirectly, at: acceptedAt, actor: "ivr"), to: order.id, scope: nil,
                           policy: policy.sla, in: db)
        }
        return .opened(order.id)
    }

    /// The caller's newest open work order on a line and category, accepted in a window.
    private static let repeatLookup = """
        SELECT id FROM work_orders
        WHERE caller = ? AND accepted_at >= ? AND accepted_at <= ?
          AND business_line IS ? AND category IS ?
          AND status IN (\(TicketStatus.allCases.filter(\.acceptsRepeatCalls).map { "'\($0.rawValue)'" }.joined(separator: ", ")))
        ORDER BY accepted_at DESC, id DESC LIMIT 1
        """

    /// Creates a work order from another channel (or keyed in by an agent) under `id`.
    static func create(_ intake: WorkOrderIntake, id: TicketID, in db: Database) throws -> WorkOrder {
        let order = WorkOrder(id: id, channel: intake.channel, caller: intake.caller, businessLine: intake.businessLine,
                              category: intake.category, subject: intake.subject, details: intake.details,
                              acceptedAt: intake.acceptedAt)
        guard !intake.actor.allSatisfy(\.isWhitespace) else {
            throw TicketStoreError.eventRefused(id, TicketLifecycleError(status: nil, event: "accepted", reason: .blankActor))
        }
        try insert(order, actor: intake.actor, note: nil, in: db)
        for call in intake.calls {
            try link(call: call, to: id, at: intake.acceptedAt, reason: .manual, in: db)
        }
        guard let stored = try WorkOrderQueries.workOrder(id: id, in: db) else { throw TicketStoreError.workOrderNotFound(id) }
        return stored
    }

    /// Inserts a new work order and its `accepted` event.
    private static func insert(_ order: WorkOrder, actor: String, note: String?, in db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO work_orders (id, channel, caller, business_line, category, subject, details, status,
                accepted_at, event_count, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'accepted', ?, 1, ?)
            """)
        try statement.execute(arguments: [order.id.rawValue, order.channel.rawValue, order.caller, order.businessLine,
                             order.category?.rawValue, order.subject, order.details,
                             TicketTimestamp.format(order.acceptedAt), TicketTimestamp.format(order.acceptedAt)])
        try insertEvent(TicketEvent(.accepted, at: order.acceptedAt, actor: actor, note: note), sequence: 1, of: order.id, in: db)
    }

    /// Links a call to a work order. `checked`: the caller knows both exist (intake), so the
    /// friendly not-found errors are skipped (the foreign keys still hold).
    static func link(call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason, checked: Bool = false,
                     in db: Database) throws {
        if !checked {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM calls WHERE id = ?", arguments: [call.rawValue]) == true else {
                throw TicketStoreError.ticketNotFound(call)
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM work_orders WHERE id = ?", arguments: [workOrder.rawValue]) == true
            else { throw TicketStoreError.workOrderNotFound(workOrder) }
        }
        try db.cachedStatement(sql: """
            INSERT INTO work_order_calls (work_order_id, call_ticket_id, linked_at, reason) VALUES (?, ?, ?, ?)
            """).execute(arguments: [workOrder.rawValue, call.rawValue, TicketTimestamp.format(at), reason.rawValue])
        try db.cachedStatement(sql: """
            UPDATE work_orders SET call_count = call_count + 1, updated_at = max(updated_at, ?) WHERE id = ?
            """).execute(arguments: [TicketTimestamp.format(at), workOrder.rawValue])
    }

    // MARK: - Events

    /// Appends `event` to a work order's log after replaying the log through
    /// ``TicketLifecycle``, and updates the projection (the `work_orders` row and, for
    /// dispatches, `work_order_dispatches`). With `scope`, the work order must currently be
    /// with that unit or a unit under it.
    static func append(_ event: TicketEvent, to id: TicketID, scope: UnitID?, policy: SLAPolicy, in db: Database) throws
        -> WorkOrder
    {
        guard let order = try WorkOrderQueries.workOrder(id: id, in: db) else { throw TicketStoreError.workOrderNotFound(id) }
        if let scope, !(try isWithin(order.unit, scope: scope, in: db)) {
            throw TicketStoreError.outsideUnit(id, unit: scope)
        }
        let events = try WorkOrderQueries.events(of: id, in: db)
        var lifecycle: TicketLifecycle
        do {
            lifecycle = try TicketLifecycle(replaying: events.map(\.event))
        } catch {
            throw TicketStoreError.corruptRow(id: id.rawValue, column: "work_order_events (\(error))")
        }
        let status: TicketStatus
        do {
            status = try lifecycle.nextStatus(after: event)
        } catch {
            throw TicketStoreError.eventRefused(id, error)
        }
        var deadlines: SLADeadlines?
        if case .dispatched(let unit) = event.kind {
            guard try Bool.fetchOne(db, sql: "SELECT active FROM units WHERE id = ?", arguments: [unit.rawValue]) == true else {
                throw TicketStoreError.unknownUnit(unit)
            }
            deadlines = policy.deadlines(category: order.category, businessLine: order.businessLine, dispatchedAt: event.at)
        }
        let sequence = events.count + 1
        try insertEvent(event, sequence: sequence, of: id, in: db)
        let updated = order.applying(event, status: status, deadlines: deadlines)
        try update(updated, in: db)
        let at = TicketTimestamp.format(event.at)
        switch event.kind {
        case .dispatched(let unit):
            try db.execute(sql: """
                UPDATE work_order_dispatches SET withdrawn_at = ?
                WHERE work_order_id = ? AND handled_at IS NULL AND withdrawn_at IS NULL
                """, arguments: [at, id.rawValue])
            try db.execute(sql: """
                INSERT INTO work_order_dispatches (work_order_id, seq, unit_id, dispatched_at, sign_deadline, completion_deadline)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [id.rawValue, sequence, unit.rawValue, at, TicketTimestamp.format(deadlines!.signIn),
                                 TicketTimestamp.format(deadlines!.completion)])
        case .signed, .handled:
            let column = if case .signed = event.kind { "signed_at" } else { "handled_at" }
            try db.execute(sql: """
                UPDATE work_order_dispatches SET \(column) = ?
                WHERE work_order_id = ? AND seq = (SELECT max(seq) FROM work_order_dispatches WHERE work_order_id = ?)
                """, arguments: [at, id.rawValue, id.rawValue])
        default:
            break
        }
        return updated
    }

    private static func insertEvent(_ event: TicketEvent, sequence: Int, of id: TicketID, in db: Database) throws {
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

    /// Writes the projection columns of `order`.
    private static func update(_ order: WorkOrder, in db: Database) throws {
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

    /// True if `unit` is `scope` or under it (a unit-less work order is within no unit).
    static func isWithin(_ unit: UnitID?, scope: UnitID, in db: Database) throws -> Bool {
        guard let unit else { return false }
        return try Bool.fetchOne(db, sql: """
            WITH RECURSIVE subtree(id) AS (
                SELECT ? UNION SELECT units.id FROM units JOIN subtree ON units.parent_id = subtree.id)
            SELECT 1 FROM subtree WHERE id = ?
            """, arguments: [scope.rawValue, unit.rawValue]) ?? false
    }

    // MARK: - Units

    /// Makes the `units` table match `directory`: its units active, with their names, kinds
    /// and parents; every other unit inactive (never deleted, dispatches refer to it).
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
