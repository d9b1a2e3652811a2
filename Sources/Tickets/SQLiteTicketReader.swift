// Tickets: calls, and the 12345 work orders they open, in SQLite behind intention-named APIs.
// This file: read-only access for the CLI (`hotline tickets`, `hotline report`), which opens
// the database while the server process is writing it.

import Foundation
import GRDB

/// Reads a ticket database without writing it: no migration, no crash recovery, no writer
/// lock, so it can run beside the server that writes the file. Each read sees the last
/// committed state (a WAL snapshot) and does not wait for the writer.
public final class SQLiteTicketReader: TicketReading {
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

    /// Same as ``TicketStore/list(limit:since:)``: newest first.
    public func list(limit: Int, since: Date? = nil) throws(TicketStoreError) -> [CallTicket] {
        try read { db in try TicketSchema.list(limit: limit, since: since, in: db) }
    }

    /// The ticket with this number, if it is committed.
    public func ticket(id: TicketID) throws(TicketStoreError) -> CallTicket? {
        try read { db in try TicketSchema.ticket(id: id, in: db) }
    }

    public func workOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> WorkOrderPage {
        try read { db in try WorkOrderQueries.list(query, in: db) }
    }

    public func countWorkOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> Int {
        try read { db in try WorkOrderQueries.count(query, in: db) }
    }

    public func workOrder(id: TicketID) throws(TicketStoreError) -> WorkOrder? {
        try read { db in try WorkOrderQueries.workOrder(id: id, in: db) }
    }

    public func workOrderDetail(id: TicketID, within unit: UnitID?) throws(TicketStoreError) -> WorkOrderDetail? {
        try read { db in try WorkOrderQueries.detail(id: id, scope: unit, in: db) }
    }

    public func workOrders(ofCall call: TicketID) throws(TicketStoreError) -> [TicketID] {
        try read { db in try WorkOrderQueries.workOrders(ofCall: call, in: db) }
    }

    public func kpis(_ query: KPIQuery) throws(TicketStoreError) -> KPIReport {
        try read { db in try KPIQueries.report(query, in: db) }
    }

    public func units() throws(TicketStoreError) -> [UnitRecord] {
        try read { db in try WorkOrderQueries.units(in: db) }
    }

    public func exportWorkOrders(_ query: WorkOrderQuery, maskCallers: Bool,
                                 to sink: (String) throws -> Void) throws(TicketStoreError) {
        try WorkOrderCSV.export(query, maskCallers: maskCallers, to: sink) { page throws(TicketStoreError) in
            try workOrders(page)
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(TicketStoreError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw TicketStoreError(error)
        }
    }
}
