// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: brings a database to the schema this build knows, once, whichever node starts first.

import Foundation
import PostgresNIO
import Tickets

enum PostgresMigrator {
    /// Connects, brings the database to this build's schema, and disconnects (for the
    /// cluster's other tables' owners: leadership, lockouts, seats).
    static func migrate(url: PostgresURL) throws(TicketStoreError) {
        let session = try PostgresSession.connect(url)
        defer { session.close() }
        try migrate(session, url: url)
    }

    /// Applies the missing migrations, each in its own transaction. Nodes starting together
    /// serialize on an advisory lock, so each migration runs once. A database migrated by a
    /// newer Hotline is refused (``TicketStoreError/schemaTooNew(path:)``): this build would
    /// not know its rules. Returns the versions applied.
    @discardableResult
    static func migrate(_ session: PostgresSession, url: PostgresURL,
                        migrations: [PostgresMigration] = PostgresSchema.migrations) throws(TicketStoreError) -> [Int] {
        let known = migrations.map(\.version).max() ?? 0
        var applied: [Int] = []
        do {
            // Transaction-scoped: released at COMMIT/ROLLBACK, even if the connection drops.
            try session.script("BEGIN; SELECT pg_advisory_xact_lock(7012345); \(PostgresSchema.bookkeeping); COMMIT")
            for migration in migrations.sorted(by: { $0.version < $1.version }) {
                try session.script("BEGIN; SELECT pg_advisory_xact_lock(7012345)")
                do {
                    let newest = try session.query("SELECT coalesce(max(version), 0) FROM schema_migrations")
                        .first?.decode(Int.self) ?? 0
                    if newest > known { throw TicketStoreError.schemaTooNew(path: url.description) }
                    let done = try session.query("SELECT 1 FROM schema_migrations WHERE version = $1", [.int(migration.version)])
                    if done.isEmpty {
                        try session.script(migration.sql)
                        try session.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                            [.int(migration.version), .text(migration.name)])
                        applied.append(migration.version)
                    }
                    try session.script("COMMIT")
                } catch {
                    try? session.script("ROLLBACK")
                    throw error
                }
            }
            if migrations.isEmpty {
                let newest = try session.query("SELECT coalesce(max(version), 0) FROM schema_migrations").first?.decode(Int.self) ?? 0
                if newest > known { throw TicketStoreError.schemaTooNew(path: url.description) }
            }
        } catch {
            throw TicketStoreError.postgres(error)
        }
        return applied
    }
}
