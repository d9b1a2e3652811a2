// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: the read path the server's store and the CLI's read-only reader share.

import Foundation
import Tickets
import GRDB

/// ``TicketReading`` over SQLite, written once: a conforming type only says how it reads a
/// snapshot (``SQLiteTicketStore`` from its pool beside the writer, ``SQLiteTicketReader`` from a
/// read-only connection beside another process), and every query runs through it.
public protocol SQLiteTicketReads: TicketReading, HandoffReading {
    /// Runs `body` on a read-only snapshot of the database, errors mapped to ``TicketStoreError``.
    func readSnapshot<T>(_ body: (Database) throws -> T) throws(TicketStoreError) -> T
}

extension SQLiteTicketReads {
    /// Newest first.
    public func list(limit: Int, since: Date? = nil) throws(TicketStoreError) -> [CallTicket] {
        try readSnapshot { db in try TicketSchema.list(limit: limit, since: since, in: db) }
    }

    /// The ticket with this number, if it is committed.
    public func ticket(id: TicketID) throws(TicketStoreError) -> CallTicket? {
        try readSnapshot { db in try TicketSchema.ticket(id: id, in: db) }
    }

    public func calls(answeredBy agent: String, since: Date, limit: Int) throws(TicketStoreError) -> [CallTicket] {
        try readSnapshot { db in try TicketSchema.calls(answeredBy: agent, since: since, limit: limit, in: db) }
    }

    public func workOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> WorkOrderPage {
        try readSnapshot { db in try WorkOrderQueries.list(query, in: db) }
    }

    public func countWorkOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> Int {
        try readSnapshot { db in try WorkOrderQueries.count(query, in: db) }
    }

    public func workOrder(id: TicketID) throws(TicketStoreError) -> WorkOrder? {
        try readSnapshot { db in try WorkOrderQueries.workOrder(id: id, in: db) }
    }

    public func workOrderDetail(id: TicketID, within unit: UnitID?) throws(TicketStoreError) -> WorkOrderDetail? {
        try readSnapshot { db in try WorkOrderQueries.detail(id: id, scope: unit, in: db) }
    }

    public func workOrders(ofCall call: TicketID) throws(TicketStoreError) -> [TicketID] {
        try readSnapshot { db in try WorkOrderQueries.workOrders(ofCall: call, in: db) }
    }

    public func kpis(_ query: KPIQuery) throws(TicketStoreError) -> KPIReport {
        try readSnapshot { db in try KPIQueries.report(query, in: db) }
    }

    public func units() throws(TicketStoreError) -> [UnitRecord] {
        try readSnapshot { db in try WorkOrderQueries.units(in: db) }
    }

    public func exportWorkOrders(_ query: WorkOrderQuery, maskCallers: Bool,
                                 to sink: (String) throws -> Void) throws(TicketStoreError) {
        try WorkOrderCSV.export(query, maskCallers: maskCallers, to: sink) { page throws(TicketStoreError) in
            try workOrders(page)
        }
    }
}
