// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: read-only access for the CLI (`hotline tickets`, `hotline report`), which opens
// the database while the server process is writing it.

import Foundation
import Tickets
import GRDB

/// Reads a ticket database without writing it: no migration, no crash recovery, no writer
/// lock, so it can run beside the server that writes the file. Each read sees the last
/// committed state (a WAL snapshot) and does not wait for the writer.
public final class SQLiteTicketReader: SQLiteTicketReads {
    /// The database file.
    public let path: String
    private let queue: DatabaseQueue

    /// Opens an existing ticket database read-only.
    ///
    /// - Throws: ``TicketStoreError/cannotOpen(path:reason:)`` if the file does not exist or
    ///   cannot be opened, ``TicketStoreError/notATicketDatabase(path:)`` if it holds no
    ///   tickets, ``TicketStoreError/schemaTooOld(path:)`` if it needs migrating (open it
    ///   with a ``SQLiteTicketStore`` once), ``TicketStoreError/schemaTooNew(path:)`` if a
    ///   newer Hotline wrote it.
    public init(path: String = SQLiteTicketStore.defaultPath, busyTimeout: TimeInterval = 5) throws(TicketStoreError) {
        let url = URL(fileURLWithPath: path)
        self.path = url.path
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .cannotOpen(path: url.path, reason: "no such file")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "hotline.tickets.reader"
        configuration.busyMode = .timeout(busyTimeout)
        do {
            queue = try DatabaseQueue(path: url.path, configuration: configuration)
            try queue.read { db in
                guard try db.tableExists("calls") || db.tableExists("tickets") else {
                    throw TicketStoreError.notATicketDatabase(path: url.path)
                }
                let migrator = TicketSchema.migrator
                if try migrator.hasBeenSuperseded(db) { throw TicketStoreError.schemaTooNew(path: url.path) }
                if try !migrator.hasCompletedMigrations(db) { throw TicketStoreError.schemaTooOld(path: url.path) }
            }
        } catch let error as TicketStoreError {
            throw error
        } catch {
            throw .cannotOpen(path: url.path, reason: TicketStoreError(error).description)
        }
    }

    /// A WAL snapshot: the last committed state, without waiting for the writer.
    public func readSnapshot<T>(_ body: (Database) throws -> T) throws(TicketStoreError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw TicketStoreError(error)
        }
    }
}
