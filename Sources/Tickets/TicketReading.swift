// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: every read the admin API and the CLI need, one call per endpoint.

import Foundation

/// Reads of calls, work orders and KPIs. Every backend's store (in the server) and reader
/// (beside it, in the CLI) provide them: TicketsSQLite's SQLiteTicketStore and SQLiteTicketReader.
///
/// Every read sees the last committed state and does not wait for the writer. They block on
/// the database: from an event loop, run them on a thread pool (`NIOThreadPool.runIfActive`).
///
/// | endpoint | call |
/// |---|---|
/// | `GET /api/tickets?status=&unit=&category=&line=&from=&to=&overdue=&limit=&after=` | ``workOrders(_:)`` (+ ``countWorkOrders(_:)``) |
/// | `GET /api/tickets/{id}` | ``workOrderDetail(id:within:)`` |
/// | `GET /api/tickets.csv?...` | ``exportWorkOrders(_:maskCallers:to:)`` |
/// | `GET /api/kpis?from=&to=&unit=` | ``kpis(_:)`` |
/// | `POST /api/tickets/{id}/events` | ``WorkOrderWriting/append(_:to:within:onCommit:)`` (a write) |
public protocol TicketReading: Sendable {
    /// Calls, newest first (see ``TicketStore/list(limit:since:)``).
    func list(limit: Int, since: Date?) throws(TicketStoreError) -> [CallTicket]
    /// The call with this number.
    func ticket(id: TicketID) throws(TicketStoreError) -> CallTicket?
    /// The calls an agent answered that arrived at or after `since`, newest first (the agent
    /// desk's "my calls today").
    func calls(answeredBy agent: String, since: Date, limit: Int) throws(TicketStoreError) -> [CallTicket]

    /// A page of work orders, newest accepted first, by ``WorkOrderQuery``'s filters.
    func workOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> WorkOrderPage
    /// How many work orders match the filters (for a total in a paged list).
    func countWorkOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> Int
    /// The work order with this number.
    func workOrder(id: TicketID) throws(TicketStoreError) -> WorkOrder?
    /// The work order with its events, dispatches and calls. With `unit`, nil unless the work
    /// order is with that unit or a unit under it (unit staff see only theirs).
    func workOrderDetail(id: TicketID, within unit: UnitID?) throws(TicketStoreError) -> WorkOrderDetail?
    /// The work orders a call is linked to.
    func workOrders(ofCall call: TicketID) throws(TicketStoreError) -> [TicketID]
    /// The KPI report for a period and unit.
    func kpis(_ query: KPIQuery) throws(TicketStoreError) -> KPIReport
    /// The units in the database (active ones first).
    func units() throws(TicketStoreError) -> [UnitRecord]
    /// Every work order matching the filters (all pages; ``WorkOrderQuery/limit`` is the page
    /// size used), as CSV (``WorkOrderCSV``), handed to `sink` a chunk at a time: the header,
    /// then one chunk per page.
    func exportWorkOrders(_ query: WorkOrderQuery, maskCallers: Bool, to sink: (String) throws -> Void)
        throws(TicketStoreError)
}

extension TicketReading {
    /// ``workOrderDetail(id:within:)`` for someone who may see every work order.
    public func workOrderDetail(id: TicketID) throws(TicketStoreError) -> WorkOrderDetail? {
        try workOrderDetail(id: id, within: nil)
    }

    /// ``exportWorkOrders(_:maskCallers:to:)`` into one string.
    public func exportWorkOrdersCSV(_ query: WorkOrderQuery, maskCallers: Bool = false) throws(TicketStoreError) -> String {
        var text = ""
        try exportWorkOrders(query, maskCallers: maskCallers) { text += $0 }
        return text
    }
}

/// A unit as the database has it: active while it is in `units.yaml`.
public struct UnitRecord: Sendable, Hashable {
    public var unit: Unit
    public var active: Bool

    public init(unit: Unit, active: Bool) {
        self.unit = unit
        self.active = active
    }
}
