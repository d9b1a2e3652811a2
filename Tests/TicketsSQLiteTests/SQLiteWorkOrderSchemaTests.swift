// What the SQLite schema refuses by itself (raw SQL past the store's API: the event log is
// append-only, statuses are known), and the intake fallback provoked by a temporary trigger.

import Foundation
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

@Suite final class SQLiteWorkOrderSchemaTests {
    let directory: TemporaryDirectory
    let monday = date(2026, 11, 2, 10)

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test func aCallIsNeverLostOverItsWorkOrder() async throws {
        let store = try directory.workOrderStore()
        defer { store.close() }
        // Make every work-order insert fail, as a bug or a full disk might.
        try store.rawExecute("CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.work_orders BEGIN SELECT RAISE(ABORT, 'boom'); END")
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        let call = try #require(try store.ticket(id: id))
        #expect(call.disposition == .completedInIVR)
        #expect(call.businessLine == "complaints")
        #expect(try store.workOrder(id: id) == nil)
        #expect(store.metrics.intakeFailures == 1)
        #expect(store.metrics.writesFailed == 0)
    }

    @Test func theEventLogIsAppendOnly() async throws {
        let store = try directory.workOrderStore()
        defer { store.close() }
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        try await store.event(.dispatched(to: "xingqing"), to: id, at: monday.addingTimeInterval(3600))
        #expect(throws: (any Error).self) {
            try store.rawExecute("UPDATE work_order_events SET actor = 'someone else' WHERE work_order_id = ?", arguments: [id.rawValue])
        }
        #expect(throws: (any Error).self) {
            try store.rawExecute("DELETE FROM work_order_events WHERE work_order_id = ?", arguments: [id.rawValue])
        }
        #expect(throws: (any Error).self) { try store.rawExecute("DELETE FROM work_orders") }
        #expect(throws: (any Error).self) { try store.rawExecute("DELETE FROM work_order_calls") }
        #expect(throws: (any Error).self) {
            try store.rawExecute("UPDATE work_orders SET accepted_at = '2020-01-01T00:00:00.000Z'")
        }
        // Out of order, a gap, a second 'accepted', a dispatch without a unit: all refused.
        let insert = "INSERT INTO work_order_events (work_order_id, seq, kind, at, actor, unit_id) VALUES (?, ?, ?, ?, 'x', ?)"
        #expect(throws: (any Error).self) {
            try store.rawExecute(insert.replacingOccurrences(of: ", ?)", with: ", NULL)"),
                                 arguments: [id.rawValue, "3", "handled", "2026-11-02T01:00:00.000Z"])
        }
        #expect(throws: (any Error).self) {
            try store.rawExecute(insert.replacingOccurrences(of: ", ?)", with: ", NULL)"),
                                 arguments: [id.rawValue, "4", "handled", "2026-11-03T01:00:00.000Z"])
        }
        #expect(throws: (any Error).self) {
            try store.rawExecute(insert.replacingOccurrences(of: ", ?)", with: ", NULL)"),
                                 arguments: [id.rawValue, "3", "accepted", "2026-11-03T01:00:00.000Z"])
        }
        #expect(throws: (any Error).self) {
            try store.rawExecute(insert.replacingOccurrences(of: ", ?)", with: ", NULL)"),
                                 arguments: [id.rawValue, "3", "dispatched", "2026-11-03T01:00:00.000Z"])
        }
        #expect(throws: (any Error).self) {
            try store.rawExecute(insert, arguments: [id.rawValue, "3", "signed", "2026-11-03T01:00:00.000Z", "nowhere"])
        }
        #expect(try store.workOrderDetail(id: id)?.events.count == 2)
        // What is allowed by hand is what the lifecycle allows.
        try store.rawExecute(insert, arguments: [id.rawValue, "3", "signed", "2026-11-03T01:00:00.000Z", "xingqing"])
    }

    @Test func theSchemaRefusesAnUnknownStatus() async throws {
        let store = try directory.workOrderStore()
        defer { store.close() }
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        #expect(throws: (any Error).self) {
            try store.rawExecute("UPDATE work_orders SET status = 'lost' WHERE id = ?", arguments: [id.rawValue])
        }
        #expect(throws: (any Error).self) {
            try store.rawExecute("UPDATE work_orders SET status = 'dispatched' WHERE id = ?", arguments: [id.rawValue])
        }
    }
}
