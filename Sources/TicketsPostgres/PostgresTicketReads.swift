// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the reads (TicketReading) on the store's reader connection. Committed data
// only; they never wait for the writer.

import Foundation
import PostgresNIO
import Synchronization
import Tickets

/// The reads on one connection of their own: the store's (beside its writer), or the CLI's
/// and another node's (``PostgresTicketReader/init(url:)``). Committed data only.
public final class PostgresTicketReader: TicketReading, @unchecked Sendable {
    public let url: PostgresURL
    private let session: PostgresSessionSlot

    /// Connects lazily, at the first read (and again after a lost connection).
    public init(url: PostgresURL) {
        self.url = url
        session = PostgresSessionSlot(url: url, timeout: .seconds(5), drop: .afterConnectionFailure)
    }

    deinit {
        close()
    }

    /// Later reads fail with ``TicketStoreError/closed``.
    public func close() {
        session.close()
    }

    /// Runs `body` on the reader connection (connecting if needed); errors become store errors.
    func read<T>(_ body: (PostgresSession) throws -> T) throws(TicketStoreError) -> T {
        try session.withSession(body)
    }

    public func list(limit: Int, since: Date?) throws(TicketStoreError) -> [CallTicket] {
        try read { session in
            let rows = if let since {
                try session.query("""
                    SELECT \(PostgresRows.callColumns) FROM calls WHERE arrived_at >= $1
                    ORDER BY arrived_at DESC, id DESC LIMIT $2
                    """, [.text(PostgresTime.format(since)), .int(max(0, limit))])
            } else {
                try session.query("SELECT \(PostgresRows.callColumns) FROM calls ORDER BY arrived_at DESC, id DESC LIMIT $1",
                                  [.int(max(0, limit))])
            }
            return try rows.map { row throws(TicketStoreError) in try PostgresRows.call(row) }
        }
    }

    public func ticket(id: TicketID) throws(TicketStoreError) -> CallTicket? {
        try read { session in
            try session.query("SELECT \(PostgresRows.callColumns) FROM calls WHERE id = $1", [.text(id.rawValue)])
                .first.map { row throws(TicketStoreError) in try PostgresRows.call(row) }
        }
    }

    public func calls(answeredBy agent: String, since: Date, limit: Int) throws(TicketStoreError) -> [CallTicket] {
        try read { session in
            try session.query("""
                SELECT \(PostgresRows.callColumns) FROM calls
                WHERE agent = $1 AND agent_answered_at IS NOT NULL AND arrived_at >= $2
                ORDER BY arrived_at DESC, id DESC LIMIT $3
                """, [.text(agent), .text(PostgresTime.format(since)), .int(max(0, limit))])
                .map { row throws(TicketStoreError) in try PostgresRows.call(row) }
        }
    }

    public func workOrder(id: TicketID) throws(TicketStoreError) -> WorkOrder? {
        try read { session in
            try session.query("SELECT \(PostgresRows.workOrderColumns) FROM work_orders WHERE id = $1", [.text(id.rawValue)])
                .first.map { row throws(TicketStoreError) in try PostgresRows.workOrder(row) }
        }
    }

    public func workOrderDetail(id: TicketID, within unit: UnitID?) throws(TicketStoreError) -> WorkOrderDetail? {
        try read { session -> WorkOrderDetail? in
            // One snapshot for the row, its log, dispatches and calls.
            try session.script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { try? session.script("COMMIT") }
            let transaction = PostgresWriteTransaction(session: session, node: "-")
            guard let order = try session.query("SELECT \(PostgresRows.workOrderColumns) FROM work_orders WHERE id = $1",
                                                [.text(id.rawValue)]).first.map({ row throws(TicketStoreError) in
                try PostgresRows.workOrder(row)
            }) else { return nil }
            if let unit, !(try transaction.isWithin(order.unit, scope: unit)) { return nil }
            let events = try transaction.events(of: id)
            let lifecycle = try? TicketLifecycle(replaying: events.map(\.event))
            let dispatches = try session.query("""
                SELECT seq, unit_id, dispatched_at, sign_deadline, completion_deadline, signed_at, handled_at, withdrawn_at
                FROM work_order_dispatches WHERE work_order_id = $1 ORDER BY seq
                """, [.text(id.rawValue)]).map { row throws(TicketStoreError) in
                let r = PostgresRowReader(row, id: id.rawValue)
                return WorkOrderDispatch(
                    sequence: try r.int("seq"), unit: UnitID(rawValue: try r.text("unit_id")),
                    dispatchedAt: try r.date("dispatched_at"), signDeadline: try r.date("sign_deadline"),
                    completionDeadline: try r.date("completion_deadline"), signedAt: try r.optionalDate("signed_at"),
                    handledAt: try r.optionalDate("handled_at"), withdrawnAt: try r.optionalDate("withdrawn_at"))
            }
            let calls = try session.query("""
                SELECT \(PostgresRows.callColumns.split(separator: ",").map { "calls." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                    .joined(separator: ", ")),
                    work_order_calls.reason AS link_reason, work_order_calls.linked_at
                FROM work_order_calls JOIN calls ON calls.id = work_order_calls.call_ticket_id
                WHERE work_order_calls.work_order_id = $1 ORDER BY calls.arrived_at, calls.id
                """, [.text(id.rawValue)]).map { row throws(TicketStoreError) in
                let r = PostgresRowReader(row, id: id.rawValue)
                guard let reason = CallLinkReason(rawValue: try r.text("link_reason")) else {
                    throw .corruptRow(id: id.rawValue, column: "work_order_calls")
                }
                return LinkedCall(call: try PostgresRows.call(row), reason: reason, linkedAt: try r.date("linked_at"))
            }
            return WorkOrderDetail(workOrder: order, events: events, dispatches: dispatches, calls: calls,
                                   allowedEvents: lifecycle?.allowedEvents ?? [],
                                   handoffs: try PostgresHandoffs.handoffs(ofWorkOrder: id, session: session),
                                   outboundAttempts: try PostgresOutbound.attempts(workOrder: id, session: session))
        }
    }

    public func workOrders(ofCall call: TicketID) throws(TicketStoreError) -> [TicketID] {
        try read { session in
            try session.query("""
                SELECT work_order_id FROM work_order_calls WHERE call_ticket_id = $1 ORDER BY work_order_id
                """, [.text(call.rawValue)]).compactMap { TicketID(rawValue: try $0.decode(String.self)) }
        }
    }

    public func units() throws(TicketStoreError) -> [UnitRecord] {
        try read { session in
            try session.query("SELECT id, parent_id, name, kind, active FROM units ORDER BY active DESC, position, id").map { row in
                let (id, parent, name, kind, active) = try row.decode((String, String?, String, String, Bool).self)
                return UnitRecord(unit: Unit(id: UnitID(rawValue: id), name: name, kind: UnitKind(rawValue: kind),
                                             parent: parent.map(UnitID.init(rawValue:))), active: active)
            }
        }
    }

    public func workOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> WorkOrderPage {
        try read { session in try PostgresWorkOrderQueries.list(query, session: session) }
    }

    public func countWorkOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> Int {
        try read { session in try PostgresWorkOrderQueries.count(query, session: session) }
    }

    public func kpis(_ query: KPIQuery) throws(TicketStoreError) -> KPIReport {
        try read { session in
            // One snapshot for every figure of the report.
            try session.script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { try? session.script("COMMIT") }
            return try PostgresKPIQueries.report(query, session: session)
        }
    }

    public func exportWorkOrders(_ query: WorkOrderQuery, maskCallers: Bool, to sink: (String) throws -> Void)
        throws(TicketStoreError) {
        // The domain's CSV over pages of the list query.
        try WorkOrderCSV.export(query, maskCallers: maskCallers, to: sink) { page throws(TicketStoreError) in
            try workOrders(page)
        }
    }
}

extension PostgresTicketStore: TicketReading {
    public func list(limit: Int, since: Date?) throws(TicketStoreError) -> [CallTicket] {
        try reads.list(limit: limit, since: since)
    }

    public func ticket(id: TicketID) throws(TicketStoreError) -> CallTicket? {
        try reads.ticket(id: id)
    }

    public func calls(answeredBy agent: String, since: Date, limit: Int) throws(TicketStoreError) -> [CallTicket] {
        try reads.calls(answeredBy: agent, since: since, limit: limit)
    }

    public func workOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> WorkOrderPage {
        try reads.workOrders(query)
    }

    public func countWorkOrders(_ query: WorkOrderQuery) throws(TicketStoreError) -> Int {
        try reads.countWorkOrders(query)
    }

    public func workOrder(id: TicketID) throws(TicketStoreError) -> WorkOrder? {
        try reads.workOrder(id: id)
    }

    public func workOrderDetail(id: TicketID, within unit: UnitID?) throws(TicketStoreError) -> WorkOrderDetail? {
        try reads.workOrderDetail(id: id, within: unit)
    }

    public func workOrders(ofCall call: TicketID) throws(TicketStoreError) -> [TicketID] {
        try reads.workOrders(ofCall: call)
    }

    public func kpis(_ query: KPIQuery) throws(TicketStoreError) -> KPIReport {
        try reads.kpis(query)
    }

    public func units() throws(TicketStoreError) -> [UnitRecord] {
        try reads.units()
    }

    public func exportWorkOrders(_ query: WorkOrderQuery, maskCallers: Bool, to sink: (String) throws -> Void)
        throws(TicketStoreError) {
        try reads.exportWorkOrders(query, maskCallers: maskCallers, to: sink)
    }
}
