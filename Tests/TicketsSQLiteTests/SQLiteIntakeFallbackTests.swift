// The intake fallback on SQLite, provoked by a temporary trigger on the writer's connection.
// (What every backend's schema refuses by itself is TicketStoreTests' WorkOrderSchemaTests.)

import Foundation
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

@Suite final class SQLiteIntakeFallbackTests {
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


}
