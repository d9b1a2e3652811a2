// TicketsPostgres: the PostgreSQL backend of the ticket store (issue 12: nodes behind
// Kamailio share one database). This file: the schema, as migrations in code.
//
// The tables, columns and rules are the SQLite schema's as it stands after its v3 (calls with
// the queue columns, work_orders, the append-only work_order_events, work_order_dispatches,
// work_order_calls, units), so every store test runs unchanged against both. Choices:
// - Times are the same fixed-width UTC text as in SQLite (`2026-12-04T19:59:26.123Z`), not
//   timestamptz: values round-trip to the millisecond exactly as SQLite's do, text order is
//   time order in CHECKs and ORDER BY, and the read queries of the two backends compare the
//   same strings. A regex CHECK keeps the format honest.
// - CHECK constraints carry the SQLite names, so an error says which rule broke on both.
// - What SQLite does with BEFORE triggers and RAISE(ABORT) (append-only events, never
//   deleted work orders and links, events in order) is done with plpgsql triggers.
// Cluster additions (PostgreSQL only): `calls.node` (the node that owns a call in progress,
// for crash recovery by node), `nodes` (membership, heartbeats), and `ticket_days` (ticket
// numbering across nodes, see PostgresTicketNumbering).

import Foundation
import Tickets

/// One migration: applied once, in its own transaction, recorded in `schema_migrations`.
struct PostgresMigration: Sendable {
    var version: Int
    var name: String
    var sql: String
}

enum PostgresSchema {
    /// The migrations, in order. Never edit a shipped migration: add a new one.
    static let migrations: [PostgresMigration] = [
        PostgresMigration(version: 1, name: "v1_tickets_work_orders_cluster", sql: v1),
        PostgresMigration(version: 2, name: "v2_cluster_leadership", sql: v2),
        PostgresMigration(version: 3, name: "v3_auth_failures", sql: v3),
        PostgresMigration(version: 4, name: "v4_licensed_seats", sql: v4),
        PostgresMigration(version: 5, name: "v5_cluster_acd", sql: v5),
        PostgresMigration(version: 6, name: "v6_knowledge_base", sql: PostgresKnowledgeSchema.v6),
        PostgresMigration(version: 7, name: "v7_outbound", sql: PostgresOutbound.v7),
        PostgresMigration(version: 8, name: "v8_handoffs", sql: PostgresHandoffs.v8),
    ]

    /// The newest schema version this build knows; a database past it is refused.
    static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    /// The bookkeeping table, created before anything else (idempotent).
    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer NOT NULL PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    static let timestamp = #"'^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z$'"#

    /// The CHECK expression of a ticket number column (`YYYYMMDD-NNNNNN`, see ``TicketID``).
    static func idFormat(_ column: String) -> String {
        """
        \(column) ~ '^[0-9]{8}-[0-9]{6,9}$'
                    AND substr(\(column), 5, 2)::int BETWEEN 1 AND 12
                    AND substr(\(column), 7, 2)::int BETWEEN 1 AND 31
                    AND substr(\(column), 10)::bigint >= 1
                    AND (length(\(column)) = 15 OR substr(\(column), 10, 1) <> '0')
        """
    }

    private static func ts(_ column: String) -> String { "\(column) ~ \(timestamp)" }

    private static let statuses = TicketStatus.allCases.map(\.rawValue).map { "'\($0)'" }.joined(separator: ", ")
    private static let eventKinds = TicketEvent.Kind.names.map { "'\($0)'" }.joined(separator: ", ")

    /// Who owns each cluster-wide decision (the ACD's), and its fencing epoch. The ownership
    /// itself is a session-level advisory lock (see PostgresLeadership); this row counts
    /// acquisitions so a leader's writes can carry its epoch and a deposed one's be refused.
    static let v2 = """
        CREATE TABLE cluster_leadership (
            name text NOT NULL PRIMARY KEY CONSTRAINT leadership_name_not_empty CHECK (name <> ''),
            epoch bigint NOT NULL CONSTRAINT leadership_epoch_positive CHECK (epoch > 0),
            leader text NOT NULL CONSTRAINT leadership_leader_not_empty CHECK (leader <> ''),
            acquired_at timestamptz NOT NULL
        );
        """

    /// Failed digest authentications of every node, so a guesser spreading tries over nodes is
    /// locked out after as many as on one node; and the lockouts they started.
    static let v3 = """
        CREATE TABLE auth_failures (
            kind text NOT NULL CONSTRAINT auth_failure_kind CHECK (kind IN ('address', 'user')),
            key text NOT NULL CONSTRAINT auth_failure_key_not_empty CHECK (key <> ''),
            at timestamptz NOT NULL,
            node text NOT NULL
        );
        CREATE INDEX auth_failures_by_subject ON auth_failures (kind, key, at);
        CREATE TABLE auth_lockouts (
            kind text NOT NULL CONSTRAINT auth_lockout_kind CHECK (kind IN ('address', 'user')),
            key text NOT NULL CONSTRAINT auth_lockout_key_not_empty CHECK (key <> ''),
            locked_at timestamptz NOT NULL,
            until timestamptz NOT NULL CONSTRAINT auth_lockout_ends_later CHECK (until > locked_at),
            PRIMARY KEY (kind, key)
        );
        """

    /// The licensed seat count set at runtime for the whole cluster (`hotline seats set`),
    /// with the agents.yaml value it overrides (an edited agents.yaml retires it).
    static let v4 = """
        CREATE TABLE licensed_seats (
            id boolean PRIMARY KEY DEFAULT true CONSTRAINT licensed_seats_one_row CHECK (id),
            licensed integer NOT NULL CONSTRAINT licensed_seats_range CHECK (licensed BETWEEN 0 AND 100000),
            agents_yaml_licensed_seats integer NOT NULL,
            set_at timestamptz NOT NULL,
            set_by text NOT NULL
        );
        """

    /// The cluster ACD (issue 13, docs/contact-centre-cluster.md): nodes append events to the
    /// inbox; the leader applies them to the one ACD machine and, in one transaction fenced by
    /// its epoch, deletes what it applied, writes the machine's changed state rows and the
    /// commands for the nodes holding the calls. A standby taking over rebuilds the machine
    /// from `acd_state` and applies the inbox rows still there: nothing is applied twice or lost.
    static let v5 = """
        CREATE TABLE acd_inbox (
            id bigserial PRIMARY KEY,
            node text NOT NULL CONSTRAINT acd_inbox_node_not_empty CHECK (node <> ''),
            event text NOT NULL,
            sent_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE TABLE acd_outbox (
            id bigserial PRIMARY KEY,
            node text NOT NULL CONSTRAINT acd_outbox_node_not_empty CHECK (node <> ''),
            command text NOT NULL,
            epoch bigint NOT NULL
        );
        CREATE INDEX acd_outbox_by_node ON acd_outbox (node, id);
        -- One row per agent, waiting caller, connected call and agent binding, as JSON.
        CREATE TABLE acd_state (
            kind text NOT NULL CONSTRAINT acd_state_kind CHECK (kind IN ('agent', 'waiter', 'call', 'binding')),
            key text NOT NULL,
            doc text NOT NULL,
            PRIMARY KEY (kind, key)
        );
        """

    static let v1 = """
        CREATE TABLE calls (
            id text NOT NULL PRIMARY KEY CONSTRAINT id_format CHECK (\(idFormat("id"))),
            call_id text NOT NULL CONSTRAINT call_id_not_empty CHECK (call_id <> ''),
            caller text NOT NULL,
            dialled text NOT NULL,
            arrived_at text NOT NULL CONSTRAINT arrived_at_format CHECK (\(ts("arrived_at"))),
            answered_at text CONSTRAINT answered_at_format CHECK (\(ts("answered_at"))),
            ended_at text CONSTRAINT ended_at_format CHECK (\(ts("ended_at"))),
            keys text NOT NULL DEFAULT '' CONSTRAINT keys_dtmf CHECK (keys ~ '^[0-9*#ABCD]*$'),
            menu_path text NOT NULL DEFAULT '[]'
                CONSTRAINT menu_path_json_array CHECK (jsonb_typeof(menu_path::jsonb) = 'array'),
            business_line text CONSTRAINT business_line_not_empty CHECK (business_line <> ''),
            category text CONSTRAINT category_not_empty CHECK (category <> ''),
            disposition text CONSTRAINT disposition_not_empty CHECK (disposition <> ''),
            sip_status integer CONSTRAINT sip_status_final CHECK (sip_status BETWEEN 200 AND 699),
            dialplan_version text NOT NULL,
            queue text CONSTRAINT queue_not_empty CHECK (queue <> ''),
            agent text CONSTRAINT agent_in_queue CHECK (agent IS NULL OR (agent <> '' AND queue IS NOT NULL)),
            enqueued_at text
                CONSTRAINT enqueued_at_valid CHECK (enqueued_at IS NULL OR (\(ts("enqueued_at")) AND enqueued_at >= arrived_at)),
            agent_answered_at text
                CONSTRAINT agent_answered_at_valid CHECK (agent_answered_at IS NULL OR (\(ts("agent_answered_at"))
                    AND agent_answered_at >= enqueued_at AND agent IS NOT NULL)),
            wait_ms bigint CONSTRAINT wait_ms_valid CHECK (wait_ms IS NULL OR (wait_ms >= 0 AND queue IS NOT NULL)),
            talk_ms bigint CONSTRAINT talk_ms_valid CHECK (talk_ms IS NULL OR (talk_ms >= 0 AND agent_answered_at IS NOT NULL)),
            abandoned boolean NOT NULL DEFAULT false
                CONSTRAINT abandoned_flag CHECK (NOT abandoned OR (queue IS NOT NULL AND agent_answered_at IS NULL)),
            overflowed boolean NOT NULL DEFAULT false
                CONSTRAINT overflowed_flag CHECK (NOT overflowed OR queue IS NOT NULL),
            callback boolean NOT NULL DEFAULT false
                CONSTRAINT callback_flag CHECK (NOT callback OR queue IS NOT NULL),
            -- The node that took the call: crash recovery closes only its own calls in progress.
            node text CONSTRAINT node_not_empty CHECK (node <> ''),
            CONSTRAINT queue_has_enqueued_at CHECK ((queue IS NULL) = (enqueued_at IS NULL)),
            CONSTRAINT answered_after_arrival CHECK (answered_at >= arrived_at),
            CONSTRAINT ended_after_arrival CHECK (ended_at >= arrived_at),
            CONSTRAINT ended_after_answer CHECK (ended_at >= answered_at),
            -- An in-progress ticket has no end; an ended call says how it ended. (The
            -- converse does not hold: an interrupted ticket has a disposition and no end.)
            CONSTRAINT ended_has_disposition CHECK (ended_at IS NULL OR disposition IS NOT NULL)
        );
        -- Not UNIQUE: a reused Call-ID must not cost a call its ticket.
        CREATE INDEX calls_call_id ON calls(call_id);
        CREATE INDEX calls_arrived_at ON calls(arrived_at);
        -- Crash recovery and the lease sweep touch only the calls left in progress.
        CREATE INDEX calls_in_progress ON calls(node, id) WHERE disposition IS NULL;
        CREATE INDEX calls_queue ON calls(queue, arrived_at) WHERE queue IS NOT NULL;
        -- The caller's history (repeat calls, masking) without a scan.
        CREATE INDEX calls_caller ON calls(caller, arrived_at);

        -- The units of units.yaml. Rows are never deleted: a unit that leaves the file is
        -- marked inactive, and its dispatches keep their name.
        CREATE TABLE units (
            id text NOT NULL PRIMARY KEY
                CONSTRAINT unit_id_format CHECK (id ~ '^[a-z0-9][a-z0-9_.-]*$'),
            parent_id text REFERENCES units(id) CONSTRAINT unit_not_own_parent CHECK (parent_id <> id),
            name text NOT NULL CONSTRAINT unit_name_not_empty CHECK (name <> ''),
            kind text NOT NULL CONSTRAINT unit_kind_not_empty CHECK (kind <> ''),
            active boolean NOT NULL DEFAULT true,
            position integer NOT NULL DEFAULT 0
        );
        CREATE INDEX units_parent ON units(parent_id);

        CREATE TABLE work_orders (
            id text NOT NULL PRIMARY KEY CONSTRAINT work_order_id_format CHECK (\(idFormat("id"))),
            channel text NOT NULL CONSTRAINT channel_not_empty CHECK (channel <> ''),
            caller text NOT NULL,
            business_line text CONSTRAINT work_order_business_line_not_empty CHECK (business_line <> ''),
            category text CONSTRAINT work_order_category_not_empty CHECK (category <> ''),
            subject text CONSTRAINT subject_not_empty CHECK (subject <> ''),
            details text NOT NULL DEFAULT '',
            status text NOT NULL CONSTRAINT status_known CHECK (status IN (\(statuses))),
            unit_id text REFERENCES units(id),
            accepted_at text NOT NULL CONSTRAINT accepted_at_format CHECK (\(ts("accepted_at"))),
            answered_directly_at text CONSTRAINT answered_directly_at_format CHECK (\(ts("answered_directly_at"))),
            dispatched_at text CONSTRAINT dispatched_at_format CHECK (\(ts("dispatched_at"))),
            sign_deadline text CONSTRAINT sign_deadline_format CHECK (\(ts("sign_deadline"))),
            completion_deadline text CONSTRAINT completion_deadline_format CHECK (\(ts("completion_deadline"))),
            signed_at text CONSTRAINT signed_at_format CHECK (\(ts("signed_at"))),
            handled_at text CONSTRAINT handled_at_format CHECK (\(ts("handled_at"))),
            fed_back_at text CONSTRAINT fed_back_at_format CHECK (\(ts("fed_back_at"))),
            visited_at text CONSTRAINT visited_at_format CHECK (\(ts("visited_at"))),
            closed_at text CONSTRAINT closed_at_format CHECK (\(ts("closed_at"))),
            satisfaction integer CONSTRAINT satisfaction_score CHECK (satisfaction BETWEEN 1 AND 5),
            dispatch_count integer NOT NULL DEFAULT 0 CONSTRAINT dispatch_count_valid CHECK (dispatch_count >= 0),
            reopen_count integer NOT NULL DEFAULT 0 CONSTRAINT reopen_count_valid CHECK (reopen_count >= 0),
            call_count integer NOT NULL DEFAULT 0 CONSTRAINT call_count_valid CHECK (call_count >= 0),
            event_count integer NOT NULL CONSTRAINT has_events CHECK (event_count >= 1),
            updated_at text NOT NULL CONSTRAINT updated_at_format CHECK (\(ts("updated_at"))),
            CONSTRAINT unit_iff_dispatched CHECK ((unit_id IS NULL) = (dispatched_at IS NULL)),
            CONSTRAINT deadlines_iff_dispatched CHECK (
                (dispatched_at IS NULL) = (sign_deadline IS NULL) AND (dispatched_at IS NULL) = (completion_deadline IS NULL)),
            CONSTRAINT status_has_unit CHECK (status NOT IN ('dispatched', 'signed', 'handled', 'fed_back') OR unit_id IS NOT NULL),
            CONSTRAINT signed_after_dispatch CHECK (signed_at >= dispatched_at),
            CONSTRAINT handled_after_signing CHECK (handled_at >= signed_at),
            CONSTRAINT dispatched_after_acceptance CHECK (dispatched_at >= accepted_at)
        );
        CREATE INDEX work_orders_accepted_at ON work_orders(accepted_at, id);
        CREATE INDEX work_orders_status ON work_orders(status, accepted_at, id);
        CREATE INDEX work_orders_unit ON work_orders(unit_id, accepted_at, id);
        CREATE INDEX work_orders_category ON work_orders(category, accepted_at);
        CREATE INDEX work_orders_caller ON work_orders(caller, accepted_at);

        CREATE FUNCTION hotline_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
        END $$;
        CREATE TRIGGER work_orders_no_delete BEFORE DELETE ON work_orders
            FOR EACH ROW EXECUTE FUNCTION hotline_refuse('work orders are never deleted');
        CREATE TRIGGER work_orders_identity_fixed BEFORE UPDATE OF id, channel, accepted_at ON work_orders
            FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.channel IS DISTINCT FROM NEW.channel
                               OR OLD.accepted_at IS DISTINCT FROM NEW.accepted_at)
            EXECUTE FUNCTION hotline_refuse('a work order''s id, channel and accepted_at never change');

        -- The event log: append-only (UPDATE and DELETE refused), each work order's events
        -- numbered 1, 2, 3... with 1 always 'accepted', and never dated before the previous one.
        CREATE TABLE work_order_events (
            work_order_id text NOT NULL REFERENCES work_orders(id),
            seq integer NOT NULL CONSTRAINT seq_positive CHECK (seq >= 1),
            kind text NOT NULL CONSTRAINT event_kind_known CHECK (kind IN (\(eventKinds))),
            at text NOT NULL CONSTRAINT event_at_format CHECK (\(ts("at"))),
            actor text NOT NULL CONSTRAINT actor_not_blank CHECK (trim(actor) <> ''),
            unit_id text REFERENCES units(id),
            score integer,
            reason text,
            note text,
            PRIMARY KEY (work_order_id, seq),
            CONSTRAINT accepted_first CHECK ((kind = 'accepted') = (seq = 1)),
            CONSTRAINT unit_iff_dispatch_or_sign CHECK ((kind IN ('dispatched', 'signed')) = (unit_id IS NOT NULL)),
            CONSTRAINT score_iff_return_visit CHECK (((kind = 'return_visit') = (score IS NOT NULL)) AND (score IS NULL OR score BETWEEN 1 AND 5)),
            CONSTRAINT reason_iff_reopened CHECK (((kind = 'reopened') = (reason IS NOT NULL)) AND (reason IS NULL OR trim(reason) <> ''))
        );
        CREATE TRIGGER work_order_events_no_update BEFORE UPDATE ON work_order_events
            FOR EACH ROW EXECUTE FUNCTION hotline_refuse('work_order_events is append-only: events are never changed');
        CREATE TRIGGER work_order_events_no_delete BEFORE DELETE ON work_order_events
            FOR EACH ROW EXECUTE FUNCTION hotline_refuse('work_order_events is append-only: events are never deleted');
        CREATE FUNCTION work_order_events_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            last_seq integer;
            last_at text;
        BEGIN
            SELECT seq, at INTO last_seq, last_at FROM work_order_events
                WHERE work_order_id = NEW.work_order_id ORDER BY seq DESC LIMIT 1;
            IF NEW.seq <> 1 + coalesce(last_seq, 0) OR NEW.at < coalesce(last_at, NEW.at) THEN
                RAISE EXCEPTION 'events_in_order: an event must follow the last one (seq + 1, not dated earlier)'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER work_order_events_in_order BEFORE INSERT ON work_order_events
            FOR EACH ROW EXECUTE FUNCTION work_order_events_in_order();

        -- One row per dispatch, with its SLA deadlines and what became of it: what the
        -- on-time KPIs and the unit ranking count.
        CREATE TABLE work_order_dispatches (
            work_order_id text NOT NULL,
            seq integer NOT NULL,
            unit_id text NOT NULL REFERENCES units(id),
            dispatched_at text NOT NULL CONSTRAINT dispatch_dispatched_at_format CHECK (\(ts("dispatched_at"))),
            sign_deadline text NOT NULL CONSTRAINT dispatch_sign_deadline_format CHECK (\(ts("sign_deadline"))),
            completion_deadline text NOT NULL CONSTRAINT dispatch_completion_deadline_format CHECK (\(ts("completion_deadline"))),
            signed_at text CONSTRAINT dispatch_signed_at_format CHECK (\(ts("signed_at"))),
            handled_at text CONSTRAINT dispatch_handled_at_format CHECK (\(ts("handled_at"))),
            withdrawn_at text CONSTRAINT dispatch_withdrawn_at_format CHECK (\(ts("withdrawn_at"))),
            PRIMARY KEY (work_order_id, seq),
            FOREIGN KEY (work_order_id, seq) REFERENCES work_order_events(work_order_id, seq),
            CONSTRAINT dispatch_signed_after CHECK (signed_at >= dispatched_at),
            CONSTRAINT dispatch_handled_after CHECK (handled_at >= signed_at),
            CONSTRAINT dispatch_handled_or_withdrawn CHECK (handled_at IS NULL OR withdrawn_at IS NULL)
        );
        CREATE INDEX work_order_dispatches_unit ON work_order_dispatches(unit_id, dispatched_at);

        -- Calls and work orders: a work order has one call or more (repeat calls), and a call
        -- may raise more than one matter.
        CREATE TABLE work_order_calls (
            work_order_id text NOT NULL REFERENCES work_orders(id),
            call_ticket_id text NOT NULL REFERENCES calls(id),
            linked_at text NOT NULL CONSTRAINT linked_at_format CHECK (\(ts("linked_at"))),
            reason text NOT NULL CONSTRAINT link_reason_known CHECK (reason IN ('intake', 'repeat', 'manual')),
            PRIMARY KEY (work_order_id, call_ticket_id)
        );
        CREATE INDEX work_order_calls_call ON work_order_calls(call_ticket_id);
        CREATE TRIGGER work_order_calls_no_delete BEFORE DELETE ON work_order_calls
            FOR EACH ROW EXECUTE FUNCTION hotline_refuse('call links are never deleted');

        -- The nodes of the cluster. A node registers at start, heartbeats, and is marked
        -- 'gone' by any node once its heartbeat is older than the lease; its calls left in
        -- progress are then closed as interrupted. Times are timestamptz: they are the
        -- cluster's bookkeeping, compared with the lease, never exported.
        CREATE TABLE nodes (
            name text NOT NULL PRIMARY KEY CONSTRAINT node_name_not_empty CHECK (name <> ''),
            state text NOT NULL CONSTRAINT node_state_known CHECK (state IN ('active', 'draining', 'gone')),
            started_at timestamptz NOT NULL,
            heartbeat_at timestamptz NOT NULL,
            calls integer NOT NULL DEFAULT 0 CONSTRAINT node_calls_valid CHECK (calls >= 0)
        );

        -- Ticket numbering across nodes: the next free sequence of each day. A node leases a
        -- block of numbers at a time (UPDATE ... SET next_sequence = next_sequence + n
        -- RETURNING), so numbers stay `YYYYMMDD-NNNNNN` and unique across nodes without a
        -- round trip per call. Numbers of a block a node never used are skipped, not reused.
        CREATE TABLE ticket_days (
            day integer NOT NULL PRIMARY KEY CONSTRAINT ticket_day_format CHECK (day BETWEEN 19000101 AND 99991231),
            next_sequence bigint NOT NULL CONSTRAINT next_sequence_positive CHECK (next_sequence >= 1)
        );

        -- One row per batch the writer committed, written in the batch's own transaction: when
        -- the connection drops after COMMIT was sent, the writer reconnects and looks its batch
        -- up here to know whether it committed, so a retry neither loses nor doubles a write.
        -- Rows older than an hour are pruned.
        CREATE TABLE committed_batches (
            batch text NOT NULL PRIMARY KEY,
            node text NOT NULL,
            committed_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX committed_batches_age ON committed_batches(committed_at);
        """
}
