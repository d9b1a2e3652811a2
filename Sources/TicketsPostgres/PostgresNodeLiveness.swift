// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: a node's presence as PostgreSQL itself sees it, for the cluster ACD (issue 13).
// Each node holds a session-level advisory lock (class 72002, key hashtext('hotline.node.' ||
// name)) on a connection of its own. PostgreSQL releases it the moment the process dies
// (kill -9: the socket closes), or, for a node cut off, once the session's TCP keepalives give
// up (about 3 s). The ACD's leader reads the locks held: a node whose lock is missing has stopped
// holding calls well before its heartbeat lease (15 s) runs out, so the leader stops offering
// its callers to agents at once rather than ringing agents for callers who are gone.

import Foundation
import Synchronization
import Tickets

public final class PostgresNodeLiveness: Sendable {
    static let lockClass = 72002
    public let url: PostgresURL
    public let node: String
    private let connection: PostgresSessionSlot
    private let stopped = Mutex(false)

    public init(url: PostgresURL, node: String) {
        self.url = url
        self.node = node
        connection = PostgresSessionSlot(url: url, setup: """
            SET tcp_keepalives_idle = 1; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 2
            """)
    }

    /// Holds the lock from now on: checked every `interval`, retaken on a new session after one
    /// is lost.
    public func start(interval: Duration = .milliseconds(500)) {
        let thread = Thread { [self] in
            while !stopped.withLock({ $0 }) {
                try? hold()
                Thread.sleep(forTimeInterval: interval.timeInterval)
            }
        }
        thread.name = "hotline-liveness"
        thread.start()
    }

    private func hold() throws(TicketStoreError) {
        try connection.withSession { session in
            let held = try session.query("""
                SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
                    AND classid::text::bigint = $1 AND objsubid = 2
                """, [.int(Self.lockClass)]).first?.decode(Int.self) ?? 0
            if held == 0 {
                // Not waiting: an earlier run of this node may still hold it for a moment.
                try session.query("SELECT pg_try_advisory_lock($1::int, hashtext($2))", [.int(Self.lockClass), .text("hotline.node." + node)])
            }
        }
    }

    /// Lets the lock go (clean stop).
    public func close() {
        stopped.withLock { $0 = true }
        connection.close()
    }

    /// The SQL condition "node `column` holds its liveness lock" in this database: advisory
    /// locks are server-wide, and two hotlines may share one PostgreSQL server.
    static func holds(_ column: String) -> String {
        """
        EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid::text::bigint = \(lockClass)
            AND l.objid::text::bigint = (hashtext('hotline.node.' || \(column))::bigint & 4294967295))
        """
    }
}
