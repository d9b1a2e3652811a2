// What every backend's schema refuses by itself, past the store's API (StoreProbe: raw SQL
// with literals, the same text on every backend): the event log is append-only and in order,
// work orders are never deleted and keep their identity, statuses are known.

import Foundation
import Testing
import Tickets
import TicketsTestSupport

@Suite struct WorkOrderSchemaTests {
    let monday = date(2026, 11, 2, 10)

    @Test(arguments: StoreBackend.allCases)
    func theEventLogIsAppendOnly(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let probe = database.probe()
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        try await store.event(.dispatched(to: "xingqing"), to: id, at: monday.addingTimeInterval(3600))
        #expect(throws: (any Error).self) {
            try probe.execute("UPDATE work_order_events SET actor = 'someone else' WHERE work_order_id = '\(id.rawValue)'")
        }
        #expect(throws: (any Error).self) {
            try probe.execute("DELETE FROM work_order_events WHERE work_order_id = '\(id.rawValue)'")
        }
        #expect(throws: (any Error).self) { try probe.execute("DELETE FROM work_orders") }
        #expect(throws: (any Error).self) { try probe.execute("DELETE FROM work_order_calls") }
        #expect(throws: (any Error).self) {
            try probe.execute("UPDATE work_orders SET accepted_at = '2020-01-01T00:00:00.000Z'")
        }
        // Out of order, a gap, a second 'accepted', a dispatch without a unit: all refused.
        func insert(_ seq: Int, _ kind: String, _ at: String, unit: String? = nil) -> String {
            "INSERT INTO work_order_events (work_order_id, seq, kind, at, actor, unit_id) "
                + "VALUES ('\(id.rawValue)', \(seq), '\(kind)', '\(at)', 'x', \(unit.map { "'\($0)'" } ?? "NULL"))"
        }
        #expect(throws: (any Error).self) {
            try probe.execute(insert(3, "handled", "2026-11-02T01:00:00.000Z"))
        }
        #expect(throws: (any Error).self) {
            try probe.execute(insert(4, "handled", "2026-11-03T01:00:00.000Z"))
        }
        #expect(throws: (any Error).self) {
            try probe.execute(insert(3, "accepted", "2026-11-03T01:00:00.000Z"))
        }
        #expect(throws: (any Error).self) {
            try probe.execute(insert(3, "dispatched", "2026-11-03T01:00:00.000Z"))
        }
        #expect(throws: (any Error).self) {
            try probe.execute(insert(3, "signed", "2026-11-03T01:00:00.000Z", unit: "nowhere"))
        }
        #expect(try store.workOrderDetail(id: id)?.events.count == 2)
        // What is allowed by hand is what the lifecycle allows.
        try probe.execute(insert(3, "signed", "2026-11-03T01:00:00.000Z", unit: "xingqing"))
    }

    @Test(arguments: StoreBackend.allCases)
    func theSchemaRefusesAnUnknownStatus(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let probe = database.probe()
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        #expect(throws: (any Error).self) {
            try probe.execute("UPDATE work_orders SET status = 'lost' WHERE id = '\(id.rawValue)'")
        }
        #expect(throws: (any Error).self) {
            try probe.execute("UPDATE work_orders SET status = 'dispatched' WHERE id = '\(id.rawValue)'")
        }
    }
}
