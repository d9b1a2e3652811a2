// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: cluster membership in the `nodes` table: register, heartbeat, expire, list.
// Time is a parameter everywhere, so tests move the clock instead of sleeping through leases.

import Foundation
import PostgresNIO
import Tickets

/// One node as `GET /api/cluster` shows it.
public struct ClusterNode: Sendable, Equatable {
    public enum State: String, Sendable {
        case active, draining, gone
    }

    public var name: String
    public var state: State
    public var startedAt: Date
    public var heartbeatAt: Date
    /// Its calls in progress (tickets open, not finished).
    public var callsInProgress: Int

    public init(name: String, state: State, startedAt: Date, heartbeatAt: Date, callsInProgress: Int) {
        self.name = name
        self.state = state
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.callsInProgress = callsInProgress
    }
}

enum PostgresNodes {
    /// Registers (or re-registers) `node` as active, and closes ITS OWN calls left in progress
    /// by its previous process as interrupted, keeping answered_at. Other nodes' calls are
    /// theirs. Returns how many calls it closed.
    static func register(_ node: String, now: Date, session: PostgresSession) throws -> Int {
        try session.script("BEGIN")
        do {
            try session.execute("""
                INSERT INTO nodes (name, state, started_at, heartbeat_at, calls) VALUES ($1, 'active', $2, $2, 0)
                ON CONFLICT (name) DO UPDATE SET state = 'active', started_at = $2, heartbeat_at = $2, calls = 0
                """, [.text(node), .date(now)])
            let closed = try interruptCalls(of: node, session: session)
            try session.script("COMMIT")
            return closed
        } catch {
            try? session.script("ROLLBACK")
            throw error
        }
    }

    static func interruptCalls(of node: String, session: PostgresSession) throws -> Int {
        try session.execute("UPDATE calls SET disposition = $1 WHERE node = $2 AND disposition IS NULL",
                            [.text(CallDisposition.interrupted.rawValue), .text(node)])
    }

    static func heartbeat(_ node: String, now: Date, session: PostgresSession) throws {
        try session.execute("""
            UPDATE nodes SET heartbeat_at = greatest(heartbeat_at, $2),
                calls = (SELECT count(*) FROM calls WHERE node = $1 AND disposition IS NULL),
                state = CASE WHEN state = 'gone' THEN 'active' ELSE state END
            WHERE name = $1
            """, [.text(node), .date(now)])
    }

    /// Marks nodes (other than `except`) silent for longer than `lease` as gone and closes
    /// their calls in progress, in one transaction. Returns the calls closed.
    static func expire(now: Date, lease: Duration, except: String, session: PostgresSession) throws -> Int {
        let cutoff = now.addingTimeInterval(-lease.timeInterval)
        try session.script("BEGIN")
        do {
            let rows = try session.query("""
                UPDATE nodes SET state = 'gone', calls = 0
                WHERE state <> 'gone' AND heartbeat_at < $1 AND name <> $2
                RETURNING name
                """, [.date(cutoff), .text(except)])
            var closed = 0
            for row in rows {
                closed += try interruptCalls(of: try row.decode(String.self), session: session)
            }
            // Nodes gone for a day (renamed, retired) leave the cluster view; their calls stay.
            try session.execute("DELETE FROM nodes WHERE state = 'gone' AND heartbeat_at < $1 AND name <> $2",
                                [.date(now.addingTimeInterval(-Self.forgetGoneAfter)), .text(except)])
            try session.script("COMMIT")
            return closed
        } catch {
            try? session.script("ROLLBACK")
            throw error
        }
    }

    /// A node stopping on purpose: gone at once rather than after the lease, if it left no
    /// call in progress (after a drain or SIGINT it has none). If it did (writes that failed),
    /// its row stays as it was so the lease sweep, or its restart, closes those calls.
    static func leave(_ node: String, now: Date, session: PostgresSession) throws {
        try session.execute("""
            UPDATE nodes SET state = 'gone', calls = 0, heartbeat_at = greatest(heartbeat_at, $2)
            WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM calls WHERE node = $1 AND disposition IS NULL)
            """, [.text(node), .date(now)])
    }

    /// How long a gone node stays in the cluster view.
    static let forgetGoneAfter: TimeInterval = 86_400

    static func list(session: PostgresSession) throws -> [ClusterNode] {
        try session.query("""
            SELECT n.name, n.state, n.started_at, n.heartbeat_at,
                (SELECT count(*) FROM calls c WHERE c.node = n.name AND c.disposition IS NULL)::bigint AS in_progress
            FROM nodes n ORDER BY n.name
            """).map { row in
            let (name, state, started, heartbeat, calls) = try row.decode((String, String, Date, Date, Int).self)
            return ClusterNode(name: name, state: ClusterNode.State(rawValue: state) ?? .gone, startedAt: started,
                               heartbeatAt: heartbeat, callsInProgress: calls)
        }
    }
}
