// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: failed digest authentications counted across the cluster (issue 13). Each node's
// registrar keeps counting on its own (no round trip on a REGISTER); it also records each
// failure here, off the call loop, and the failure that brings a subject to the threshold
// within the window starts a lockout every node installs (announced on the event bus).

import Foundation
import Tickets

public final class PostgresLockoutLedger: Sendable {
    /// A lockout of an address or a username until a time.
    public struct Lockout: Sendable, Equatable {
        public var kind: String
        public var key: String
        public var until: Date

        public init(kind: String, key: String, until: Date) {
            self.kind = kind
            self.key = key
            self.until = until
        }
    }

    public let url: PostgresURL
    public let node: String
    private let connection: PostgresSessionSlot

    /// Brings the database to this build's schema.
    public init(url: PostgresURL, node: String) throws(TicketStoreError) {
        try PostgresMigrator.migrate(url: url)
        self.url = url
        connection = PostgresSessionSlot(url: url)
        self.node = node
    }

    /// Records a failure of `kind` (`address`, `user`) `key` at `at`; returns the lockout it
    /// starts when the failures of the whole cluster within `window` (since any earlier lockout
    /// ended) reach `threshold`, nil otherwise. One subject's failures are counted under a
    /// transaction-scoped advisory lock, so two nodes never both miss the threshold.
    public func recordFailure(kind: String, key: String, at: Date, threshold: Int, window: Duration,
                              duration: Duration) throws(TicketStoreError) -> Lockout? {
        guard threshold > 0 else { return nil }
        let node = self.node
        return try connection.withSession { session in
            try session.script("BEGIN")
            do {
                _ = try session.query("SELECT pg_advisory_xact_lock(hashtext($1))", [.text("hotline.auth." + kind + "." + key)])
                try session.execute("INSERT INTO auth_failures (kind, key, at, node) VALUES ($1, $2, $3, $4)",
                                    [.text(kind), .text(key), .date(at), .text(node)])
                let since = at.addingTimeInterval(-window.timeInterval)
                let active = try session.query("SELECT until FROM auth_lockouts WHERE kind = $1 AND key = $2", [.text(kind), .text(key)])
                    .first.map { try $0.decode(Date.self) }
                var lockout: Lockout?
                if active.map({ $0 <= at }) ?? true {
                    // Failures counted since the window began and after the last lockout ended.
                    let floor = max(since, active ?? since)
                    let count = try session.query("SELECT count(*) FROM auth_failures WHERE kind = $1 AND key = $2 AND at > $3",
                                                  [.text(kind), .text(key), .date(floor)]).first?.decode(Int.self) ?? 0
                    if count >= threshold {
                        let until = at.addingTimeInterval(duration.timeInterval)
                        try session.execute("""
                            INSERT INTO auth_lockouts (kind, key, locked_at, until) VALUES ($1, $2, $3, $4)
                            ON CONFLICT (kind, key) DO UPDATE SET locked_at = $3, until = $4
                            """, [.text(kind), .text(key), .date(at), .date(until)])
                        lockout = Lockout(kind: kind, key: key, until: until)
                    }
                }
                // Old failures are of no use to any window.
                try session.execute("DELETE FROM auth_failures WHERE kind = $1 AND key = $2 AND at <= $3",
                                    [.text(kind), .text(key), .date(since)])
                try session.script("COMMIT")
                return lockout
            } catch {
                try? session.script("ROLLBACK")
                throw error
            }
        }
    }

    /// The lockouts still running at `now` (a node that (re)joins installs them).
    public func activeLockouts(at now: Date) throws(TicketStoreError) -> [Lockout] {
        try connection.withSession { session in
            try session.query("SELECT kind, key, until FROM auth_lockouts WHERE until > $1", [.date(now)]).map { row in
                let (kind, key, until) = try row.decode((String, String, Date).self)
                return Lockout(kind: kind, key: key, until: until)
            }
        }
    }

    public func close() {
        connection.close()
    }

    /// The bus message announcing a lockout: `lockout <kind> <until ms> <key>`.
    public static func message(_ lockout: Lockout) -> String {
        "lockout \(lockout.kind) \(PostgresTime.milliseconds(of: lockout.until)) \(lockout.key)"
    }

    public static func parse(_ message: String) -> Lockout? {
        let parts = message.split(separator: " ", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == "lockout", ["address", "user"].contains(parts[1]), let ms = Int64(parts[2]) else {
            return nil
        }
        return Lockout(kind: parts[1], key: parts[3], until: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
