// TicketsPostgres: the PostgreSQL backend. This file: the outbound schedule's tables (v7)
// and their reads and writes, on the node-bookkeeping connection (rare, short statements).

import Foundation
import PostgresNIO
import Tickets

enum PostgresOutbound {
    static let v7 = """
        ALTER TABLE calls ADD COLUMN direction text NOT NULL DEFAULT 'inbound'
            CONSTRAINT call_direction CHECK (direction IN ('inbound', 'outbound'));
        CREATE TABLE outbound_campaigns (
            id text PRIMARY KEY,
            flow text NOT NULL,
            trunk text,
            paused boolean NOT NULL DEFAULT false,
            calls_per_second double precision CHECK (calls_per_second > 0),
            max_concurrent integer CHECK (max_concurrent > 0),
            max_attempts integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 20),
            created_at text NOT NULL
        );
        CREATE TABLE outbound_jobs (
            id text PRIMARY KEY,
            campaign text NOT NULL REFERENCES outbound_campaigns(id),
            flow text NOT NULL,
            number text NOT NULL CHECK (length(number) BETWEEN 1 AND 32),
            work_order text,
            trunk text,
            variables text NOT NULL DEFAULT '{}',
            state text NOT NULL CHECK (state IN ('scheduled', 'dialing', 'completed', 'failed', 'cancelled')),
            attempts integer NOT NULL CHECK (attempts >= 0),
            max_attempts integer NOT NULL CHECK (max_attempts >= 1),
            not_before text NOT NULL,
            last_outcome text CHECK (last_outcome IN ('answered', 'busy', 'no_answer', 'rejected', 'unreachable')),
            result text,
            created_at text NOT NULL,
            updated_at text NOT NULL,
            CONSTRAINT attempts_within_max CHECK (attempts <= max_attempts)
        );
        CREATE INDEX outbound_jobs_pending ON outbound_jobs(state) WHERE state IN ('scheduled', 'dialing');
        CREATE INDEX outbound_jobs_campaign ON outbound_jobs(campaign);
        CREATE TABLE outbound_attempts (
            job text NOT NULL REFERENCES outbound_jobs(id),
            attempt integer NOT NULL CHECK (attempt >= 1),
            started_at text NOT NULL,
            ended_at text NOT NULL,
            outcome text NOT NULL CHECK (outcome IN ('answered', 'busy', 'no_answer', 'rejected', 'unreachable')),
            sip_status integer,
            ticket text,
            work_order text,
            PRIMARY KEY (job, attempt)
        );
        CREATE INDEX outbound_attempts_work_order ON outbound_attempts(work_order) WHERE work_order IS NOT NULL;
        """

    static func job(_ row: PostgresRow) throws(TicketStoreError) -> OutboundJob {
        let r = PostgresRowReader(row)
        guard let state = OutboundJob.State(rawValue: try r.text("state")) else { throw .corruptRow(id: r.id, column: "state") }
        let variables = (try? JSONDecoder().decode([String: String].self, from: Data(try r.text("variables").utf8))) ?? [:]
        var job = OutboundJob(id: r.id, campaign: try r.text("campaign"), flow: try r.text("flow"), number: try r.text("number"),
                              workOrder: try r.optionalText("work_order"), trunk: try r.optionalText("trunk"), variables: variables,
                              maxAttempts: try r.int("max_attempts"), notBefore: try r.date("not_before"), createdAt: try r.date("created_at"))
        job.state = state
        job.attempts = try r.int("attempts")
        job.lastOutcome = try r.optionalText("last_outcome").flatMap(OutboundOutcome.init(rawValue:))
        job.result = try r.optionalText("result")
        job.updatedAt = try r.date("updated_at")
        return job
    }

    /// A work order's outbound attempts, oldest first (also read into its detail).
    static func attempts(workOrder: TicketID, session: PostgresSession) throws -> [OutboundAttempt] {
        try session.query("""
            SELECT job AS id, attempt, started_at, ended_at, outcome, sip_status, ticket, work_order FROM outbound_attempts
            WHERE work_order = $1 ORDER BY started_at, job, attempt
            """, [.text(workOrder.rawValue)]).map { row throws(TicketStoreError) in
            let r = PostgresRowReader(row)
            return OutboundAttempt(job: r.id, attempt: try r.int("attempt"), startedAt: try r.date("started_at"), endedAt: try r.date("ended_at"),
                                   outcome: OutboundOutcome(rawValue: try r.text("outcome")) ?? .unreachable, sipStatus: try r.optionalInt("sip_status"),
                                   ticket: try r.optionalText("ticket").flatMap { TicketID(rawValue: $0) },
                                   workOrder: try r.optionalText("work_order").flatMap { TicketID(rawValue: $0) })
        }
    }

    /// A job's values in the order of ``jobColumns``.
    static func jobValues(_ j: OutboundJob) -> [PostgresValue] {
        let variables = String(decoding: (try? JSONEncoder.outboundSorted.encode(j.variables)) ?? Data("{}".utf8), as: UTF8.self)
        return [.text(j.id), .text(j.campaign), .text(j.flow), .text(j.number), .text(j.workOrder), .text(j.trunk), .text(variables),
                .text(j.state.rawValue), .int(j.attempts), .int(j.maxAttempts), .text(PostgresTime.format(j.notBefore)),
                .text(j.lastOutcome?.rawValue), .text(j.result), .text(PostgresTime.format(j.createdAt)),
                .text(PostgresTime.format(j.updatedAt))]
    }

    static let jobColumns = """
        id, campaign, flow, number, work_order, trunk, variables, state, attempts, max_attempts, not_before, last_outcome,
        result, created_at, updated_at
        """
}

extension PostgresTicketStore: OutboundJobStore {
    private func jobs(where clause: String, _ values: [PostgresValue]) throws(TicketStoreError) -> [OutboundJob] {
        try withNodeSession { session in
            try session.query("SELECT \(PostgresOutbound.jobColumns) FROM outbound_jobs WHERE \(clause) ORDER BY created_at, id", values)
        }.map { row throws(TicketStoreError) in try PostgresOutbound.job(row) }
    }

    public func saveCampaign(_ c: OutboundCampaign) throws(TicketStoreError) {
        _ = try withNodeSession { session in
            try session.execute("""
                INSERT INTO outbound_campaigns (id, flow, trunk, paused, calls_per_second, max_concurrent, max_attempts, created_at)
                VALUES ($1, $2, $3, $4, $5::text::double precision, $6, $7, $8)
                ON CONFLICT (id) DO UPDATE SET flow = excluded.flow, trunk = excluded.trunk, paused = excluded.paused,
                    calls_per_second = excluded.calls_per_second, max_concurrent = excluded.max_concurrent,
                    max_attempts = excluded.max_attempts
                """, [.text(c.id), .text(c.flow), .text(c.trunk), .bool(c.paused), .text(c.callsPerSecond.map { String($0) }),
                      .int(c.maxConcurrent), .int(c.maxAttempts), .text(PostgresTime.format(c.createdAt))])
        }
    }

    public func campaigns() throws(TicketStoreError) -> [OutboundCampaign] {
        try withNodeSession { session in
            try session.query("""
                SELECT id, flow, trunk, paused, calls_per_second::text AS cps, max_concurrent, max_attempts, created_at
                FROM outbound_campaigns ORDER BY created_at, id
                """)
        }.map { row throws(TicketStoreError) in
            let r = PostgresRowReader(row)
            return OutboundCampaign(id: r.id, flow: try r.text("flow"), trunk: try r.optionalText("trunk"), paused: try r.bool("paused"),
                                    callsPerSecond: try r.optionalText("cps").flatMap(Double.init), maxConcurrent: try r.optionalInt("max_concurrent"),
                                    maxAttempts: try r.int("max_attempts"), createdAt: try r.date("created_at"))
        }
    }

    public func saveJob(_ j: OutboundJob) throws(TicketStoreError) {
        _ = try withNodeSession { session in
            try session.execute("""
                INSERT INTO outbound_jobs (\(PostgresOutbound.jobColumns))
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                ON CONFLICT (id) DO UPDATE SET trunk = excluded.trunk, variables = excluded.variables, state = excluded.state,
                    attempts = excluded.attempts, not_before = excluded.not_before, last_outcome = excluded.last_outcome,
                    result = excluded.result, updated_at = excluded.updated_at
                """, PostgresOutbound.jobValues(j))
        }
    }

    public func claimJob(_ j: OutboundJob) throws(TicketStoreError) -> Bool {
        return try withNodeSession { session in
            try session.execute("""
                INSERT INTO outbound_jobs (\(PostgresOutbound.jobColumns))
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                ON CONFLICT (id) DO NOTHING
                """, PostgresOutbound.jobValues(j))
        } == 1
    }

    public func pendingJobs() throws(TicketStoreError) -> [OutboundJob] {
        try jobs(where: "state IN ('scheduled', 'dialing')", [])
    }

    public func jobs(campaign: String) throws(TicketStoreError) -> [OutboundJob] {
        try jobs(where: "campaign = $1", [.text(campaign)])
    }

    public func job(id: String) throws(TicketStoreError) -> OutboundJob? {
        try jobs(where: "id = $1", [.text(id)]).first
    }

    public func recordAttempt(_ a: OutboundAttempt) throws(TicketStoreError) {
        _ = try withNodeSession { session in
            try session.execute("""
                INSERT INTO outbound_attempts (job, attempt, started_at, ended_at, outcome, sip_status, ticket, work_order)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (job, attempt) DO NOTHING
                """, [.text(a.job), .int(a.attempt), .text(PostgresTime.format(a.startedAt)), .text(PostgresTime.format(a.endedAt)),
                      .text(a.outcome.rawValue), .int(a.sipStatus), .text(a.ticket?.rawValue), .text(a.workOrder?.rawValue)])
        }
    }

    public func attempts(workOrder: TicketID) throws(TicketStoreError) -> [OutboundAttempt] {
        try withNodeSession { session in try PostgresOutbound.attempts(workOrder: workOrder, session: session) }
    }
}

extension JSONEncoder {
    static let outboundSorted: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
}
