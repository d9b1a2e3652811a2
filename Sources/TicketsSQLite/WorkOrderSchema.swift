// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: the work-order side of the schema (migration v2). Like TicketSchema, it is SQL,
// and the schema enforces what it can: an append-only event log, events in order, known
// statuses, units that exist. The writes are SQLiteWriteTransaction's.

import Foundation
import Tickets
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
        let policy = WorkOrderPolicy(sla: .standard(timeZone: .gmt), intake: intake)
        let transaction = SQLiteWriteTransaction(db)
        for call in calls {
            try TicketWriteRules.intake(call, override: nil, policy: policy, in: transaction)
        }
    }
}
