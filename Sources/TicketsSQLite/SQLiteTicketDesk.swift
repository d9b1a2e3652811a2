// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: work-order events from a second process (`hotline tickets dispatch ...`) while
// the server writes the same database.

import Foundation
import Tickets
import GRDB

/// Appends work-order events from outside the server process: the CLI's desk.
///
/// The server's ``SQLiteTicketStore`` is the only writer of calls — it numbers them and
/// recovers them after a crash, and its lock keeps a second server off the file. An event
/// needs neither: the desk appends it in one short `BEGIN IMMEDIATE` transaction, which
/// SQLite serialises with the server's group commits (each waits at most the other's commit,
/// a millisecond or so; no call waits, since calls never wait for the writer). The checks
/// are the store's, in the same transaction: the log replayed through ``TicketLifecycle``,
/// active units, SLA deadlines by the policy given here.
public final class SQLiteTicketDesk: TicketEventDesk {
    /// The database file.
    public let path: String
    private let queue: DatabaseQueue
    private let policy: WorkOrderPolicy

    /// Opens an existing ticket database to append events.
    ///
    /// - Parameters:
    ///   - policy: The SLA rules for dispatches (`Dialplans/tickets/sla.yaml`, as the server has it).
    ///   - units: If given, copied into the database first (`Dialplans/tickets/units.yaml`).
    /// - Throws: as ``SQLiteTicketReader/init(path:busyTimeout:)``.
    public init(path: String = SQLiteTicketStore.defaultPath, policy: WorkOrderPolicy, units: UnitDirectory? = nil,
                durability: SQLiteTicketStore.Durability = .full, busyTimeout: TimeInterval = 5) throws(TicketStoreError) {
        let url = URL(fileURLWithPath: path)
        self.path = url.path
        self.policy = policy
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .cannotOpen(path: url.path, reason: "no such file")
        }
        var configuration = Configuration()
        configuration.label = "hotline.tickets.desk"
        configuration.busyMode = .timeout(busyTimeout)
        do {
            queue = try DatabaseQueue(path: url.path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                guard try db.tableExists("calls") || db.tableExists("tickets") else {
                    throw TicketStoreError.notATicketDatabase(path: url.path)
                }
                let migrator = TicketSchema.migrator
                if try migrator.hasBeenSuperseded(db) { throw TicketStoreError.schemaTooNew(path: url.path) }
                if try !migrator.hasCompletedMigrations(db) { throw TicketStoreError.schemaTooOld(path: url.path) }
                try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            }
            if let units {
                try queue.inTransaction(.immediate) { db in
                    try SQLiteWriteTransaction.syncUnits(units, in: db)
                    return .commit
                }
            }
        } catch let error as TicketStoreError {
            throw error
        } catch {
            throw .cannotOpen(path: url.path, reason: TicketStoreError(error).description)
        }
    }

    /// Appends `event` as ``SQLiteTicketStore/append(_:to:within:onCommit:)`` does, and
    /// returns once it is committed.
    public func append(_ event: TicketEvent, to id: TicketID, within unit: UnitID? = nil) throws(TicketStoreError) -> WorkOrder {
        do {
            var order: WorkOrder?
            try queue.inTransaction(.immediate) { db in
                order = try TicketWriteRules.append(event, to: id, scope: unit, policy: policy.sla, in: SQLiteWriteTransaction(db))
                return .commit
            }
            return order!
        } catch {
            throw TicketStoreError(error)
        }
    }
}
