// Tickets: one durable row per SIP call (a "ticket"), written by one group-committing writer.
// This file: read-only access for the CLI (`hotline tickets list`), which opens the database
// while the server process is writing it.

import Foundation
import GRDB

/// Reads a ticket database without writing it: no migration, no crash recovery, no writer
/// lock, so it can run beside the server that writes the file. Each read sees the last
/// committed state (a WAL snapshot) and does not wait for the writer.
public final class SQLiteTicketReader: Sendable {
    /// The database file.
    public let path: String
    private let queue: DatabaseQueue

    /// Opens an existing ticket database read-only.
    ///
    /// - Throws: ``TicketStoreError/cannotOpen(path:reason:)`` if the file does not exist or
    ///   cannot be opened, ``TicketStoreError/notATicketDatabase(path:)`` if it holds no
    ///   tickets table.
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
            guard try queue.read({ db in try db.tableExists("tickets") }) else {
                throw TicketStoreError.notATicketDatabase(path: url.path)
            }
        } catch let error as TicketStoreError {
            throw error
        } catch {
            throw .cannotOpen(path: url.path, reason: TicketStoreError(error).description)
        }
    }

    /// Same as ``TicketStore/list(limit:since:)``: newest first.
    public func list(limit: Int, since: Date? = nil) throws(TicketStoreError) -> [CallTicket] {
        try read { db in try TicketSchema.list(limit: limit, since: since, in: db) }
    }

    /// The ticket with this number, if it is committed.
    public func ticket(id: TicketID) throws(TicketStoreError) -> CallTicket? {
        try read { db in try TicketSchema.ticket(id: id, in: db) }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(TicketStoreError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw TicketStoreError(error)
        }
    }
}
