// TicketsSQLite: the SQLite backend. This file: the outbound schedule's tables (v5) and
// their reads and writes.

import Foundation
import GRDB
import Tickets

enum OutboundSchema {
    static let v5 = """
        ALTER TABLE calls ADD COLUMN direction TEXT NOT NULL DEFAULT 'inbound'
            CONSTRAINT call_direction CHECK (direction IN ('inbound', 'outbound'));
        CREATE TABLE outbound_campaigns (
            id TEXT PRIMARY KEY,
            flow TEXT NOT NULL,
            trunk TEXT,
            paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
            calls_per_second REAL CHECK (calls_per_second > 0),
            max_concurrent INTEGER CHECK (max_concurrent > 0),
            max_attempts INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 20),
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE outbound_jobs (
            id TEXT PRIMARY KEY,
            campaign TEXT NOT NULL REFERENCES outbound_campaigns(id),
            flow TEXT NOT NULL,
            number TEXT NOT NULL CHECK (length(number) BETWEEN 1 AND 32),
            work_order TEXT,
            trunk TEXT,
            variables TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL CHECK (state IN ('scheduled', 'dialing', 'completed', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL CHECK (attempts >= 0),
            max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
            not_before TEXT NOT NULL,
            last_outcome TEXT CHECK (last_outcome IN ('answered', 'busy', 'no_answer', 'rejected', 'unreachable')),
            result TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CONSTRAINT attempts_within_max CHECK (attempts <= max_attempts)
        ) STRICT;
        CREATE INDEX outbound_jobs_pending ON outbound_jobs(state) WHERE state IN ('scheduled', 'dialing');
        CREATE INDEX outbound_jobs_campaign ON outbound_jobs(campaign);
        CREATE INDEX outbound_jobs_work_order ON outbound_jobs(work_order) WHERE work_order IS NOT NULL;
        CREATE TABLE outbound_attempts (
            job TEXT NOT NULL REFERENCES outbound_jobs(id),
            attempt INTEGER NOT NULL CHECK (attempt >= 1),
            started_at TEXT NOT NULL,
            ended_at TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'busy', 'no_answer', 'rejected', 'unreachable')),
            sip_status INTEGER,
            ticket TEXT,
            work_order TEXT,
            PRIMARY KEY (job, attempt)
        ) STRICT;
        CREATE INDEX outbound_attempts_work_order ON outbound_attempts(work_order) WHERE work_order IS NOT NULL;
        """

    static func save(_ c: OutboundCampaign, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO outbound_campaigns (id, flow, trunk, paused, calls_per_second, max_concurrent, max_attempts, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET flow = excluded.flow, trunk = excluded.trunk, paused = excluded.paused,
                calls_per_second = excluded.calls_per_second, max_concurrent = excluded.max_concurrent,
                max_attempts = excluded.max_attempts
            """, arguments: [c.id, c.flow, c.trunk, c.paused, c.callsPerSecond, c.maxConcurrent, c.maxAttempts,
                             TicketTimestamp.format(c.createdAt)])
    }

    static func campaigns(in db: Database) throws -> [OutboundCampaign] {
        try Row.fetchAll(db, sql: "SELECT * FROM outbound_campaigns ORDER BY created_at, id").map { row in
            OutboundCampaign(id: row["id"], flow: row["flow"], trunk: row["trunk"], paused: row["paused"],
                             callsPerSecond: row["calls_per_second"], maxConcurrent: row["max_concurrent"],
                             maxAttempts: row["max_attempts"], createdAt: TicketTimestamp.parse(row["created_at"] as String? ?? "") ?? Date(timeIntervalSince1970: 0))
        }
    }

    static func save(_ j: OutboundJob, in db: Database) throws {
        let variables = String(decoding: try JSONEncoder.sorted.encode(j.variables), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO outbound_jobs (id, campaign, flow, number, work_order, trunk, variables, state, attempts, max_attempts,
                not_before, last_outcome, result, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET trunk = excluded.trunk, variables = excluded.variables, state = excluded.state,
                attempts = excluded.attempts, not_before = excluded.not_before, last_outcome = excluded.last_outcome,
                result = excluded.result, updated_at = excluded.updated_at
            """, arguments: [j.id, j.campaign, j.flow, j.number, j.workOrder, j.trunk, variables, j.state.rawValue, j.attempts,
                             j.maxAttempts, TicketTimestamp.format(j.notBefore), j.lastOutcome?.rawValue, j.result,
                             TicketTimestamp.format(j.createdAt), TicketTimestamp.format(j.updatedAt)])
    }

    static func jobs(in db: Database, where clause: String, _ arguments: StatementArguments) throws -> [OutboundJob] {
        try Row.fetchAll(db, sql: "SELECT * FROM outbound_jobs WHERE \(clause) ORDER BY created_at, id", arguments: arguments).map(job)
    }

    static func job(_ row: Row) throws -> OutboundJob {
        let epoch = Date(timeIntervalSince1970: 0)
        let id: String = row["id"]
        guard let state = OutboundJob.State(rawValue: row["state"]) else { throw TicketStoreError.corruptRow(id: id, column: "state") }
        var job = OutboundJob(id: id, campaign: row["campaign"], flow: row["flow"], number: row["number"], workOrder: row["work_order"],
                              trunk: row["trunk"],
                              variables: (try? JSONDecoder().decode([String: String].self, from: Data((row["variables"] as String).utf8))) ?? [:],
                              maxAttempts: row["max_attempts"], notBefore: TicketTimestamp.parse(row["not_before"] as String? ?? "") ?? epoch,
                              createdAt: TicketTimestamp.parse(row["created_at"] as String? ?? "") ?? epoch)
        job.state = state
        job.attempts = row["attempts"]
        job.lastOutcome = (row["last_outcome"] as String?).flatMap(OutboundOutcome.init(rawValue:))
        job.result = row["result"]
        job.updatedAt = TicketTimestamp.parse(row["updated_at"] as String? ?? "") ?? epoch
        return job
    }

    static func record(_ a: OutboundAttempt, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO outbound_attempts (job, attempt, started_at, ended_at, outcome, sip_status, ticket, work_order)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (job, attempt) DO NOTHING
            """, arguments: [a.job, a.attempt, TicketTimestamp.format(a.startedAt), TicketTimestamp.format(a.endedAt), a.outcome.rawValue,
                             a.sipStatus, a.ticket?.rawValue, a.workOrder?.rawValue])
    }

    static func attempts(workOrder: String, in db: Database) throws -> [OutboundAttempt] {
        let epoch = Date(timeIntervalSince1970: 0)
        return try Row.fetchAll(db, sql: "SELECT * FROM outbound_attempts WHERE work_order = ? ORDER BY started_at, job, attempt",
                                arguments: [workOrder]).map { row in
            OutboundAttempt(job: row["job"], attempt: row["attempt"], startedAt: TicketTimestamp.parse(row["started_at"] as String? ?? "") ?? epoch,
                            endedAt: TicketTimestamp.parse(row["ended_at"] as String? ?? "") ?? epoch,
                            outcome: OutboundOutcome(rawValue: row["outcome"]) ?? .unreachable, sipStatus: row["sip_status"],
                            ticket: (row["ticket"] as String?).flatMap { TicketID(rawValue: $0) }, workOrder: (row["work_order"] as String?).flatMap { TicketID(rawValue: $0) })
        }
    }
}

extension JSONEncoder {
    static let sorted: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
}

extension SQLiteTicketStore: OutboundJobStore {
    private func write(_ body: (Database) throws -> Void) throws(TicketStoreError) {
        do { try writeOutside { db in try body(db) } } catch { throw TicketStoreError(error) }
    }

    public func saveCampaign(_ campaign: OutboundCampaign) throws(TicketStoreError) {
        try write { db in try OutboundSchema.save(campaign, in: db) }
    }

    public func campaigns() throws(TicketStoreError) -> [OutboundCampaign] {
        try readSnapshot { db in try OutboundSchema.campaigns(in: db) }
    }

    public func saveJob(_ job: OutboundJob) throws(TicketStoreError) {
        try write { db in try OutboundSchema.save(job, in: db) }
    }

    public func claimJob(_ job: OutboundJob) throws(TicketStoreError) -> Bool {
        var claimed = false
        try write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM outbound_jobs WHERE id = ?", arguments: [job.id]) == nil else { return }
            try OutboundSchema.save(job, in: db)
            claimed = true
        }
        return claimed
    }

    public func pendingJobs() throws(TicketStoreError) -> [OutboundJob] {
        try readSnapshot { db in try OutboundSchema.jobs(in: db, where: "state IN ('scheduled', 'dialing')", []) }
    }

    public func jobs(campaign: String) throws(TicketStoreError) -> [OutboundJob] {
        try readSnapshot { db in try OutboundSchema.jobs(in: db, where: "campaign = ?", [campaign]) }
    }

    public func job(id: String) throws(TicketStoreError) -> OutboundJob? {
        try readSnapshot { db in try OutboundSchema.jobs(in: db, where: "id = ?", [id]).first }
    }

    public func recordAttempt(_ attempt: OutboundAttempt) throws(TicketStoreError) {
        try write { db in try OutboundSchema.record(attempt, in: db) }
    }

    public func attempts(workOrder: TicketID) throws(TicketStoreError) -> [OutboundAttempt] {
        try readSnapshot { db in try OutboundSchema.attempts(workOrder: workOrder.rawValue, in: db) }
    }
}
