// The CLI's desk appends events while the server's store writes the same database: SQLite
// serialises the two writers, both sides' writes all commit, and the lifecycle's checks hold.

import Foundation
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

@Suite struct SQLiteTicketDeskTests {
    @Test func appendsBesideARunningStore() async throws {
        let directory = try TemporaryDirectory()
        let store = try directory.workOrderStore()
        defer { store.close() }
        let monday = date(2026, 11, 2, 10)
        var ids: [TicketID] = []
        for index in 0..<20 {
            ids.append(try await store.call(TestCall(caller: "139000000\(10 + index)", arrivedAt: monday,
                                                     businessLine: "complaints", category: .complaint)))
        }
        let desk = try SQLiteTicketDesk(path: directory.path("hotline.sqlite"), policy: testPolicy)

        // Calls keep coming through the store while the desk dispatches.
        let results = Collector<Result<Void, TicketStoreError>>()
        let writer = Task.detached {
            for index in 0..<400 {
                let arrival = monday.addingTimeInterval(Double(index))
                store.record(rejectedTicket(store.allocateID(at: arrival), at: arrival)) { results.append($0) }
            }
            await store.flush()
        }
        for id in ids {
            let order = try desk.append(TicketEvent(.dispatched(to: "xingqing"), at: monday.addingTimeInterval(600),
                                                    actor: "cli:test"), to: id)
            #expect(order.status == .dispatched)
            #expect(order.signDeadline == monday.addingTimeInterval(600 + 7200))
        }
        await writer.value
        #expect(results.all.count == 400)
        #expect(results.all.allSatisfy { $0.succeeded })
        #expect(try store.countWorkOrders(WorkOrderQuery(statuses: [.dispatched])) == 20)

        // The same checks as the store's.
        #expect(throws: TicketStoreError.eventRefused(ids[0], TicketLifecycleError(status: .dispatched, event: "closed",
                                                                                     reason: .notAllowed))) {
            try desk.append(TicketEvent(.closed, at: monday.addingTimeInterval(700), actor: "cli:test"), to: ids[0])
        }
        #expect(throws: TicketStoreError.outsideUnit(ids[0], unit: "jinfeng")) {
            try desk.append(TicketEvent(.signed(by: "xingqing"), at: monday.addingTimeInterval(700), actor: "cli:test"),
                            to: ids[0], within: "jinfeng")
        }
        // And the store sees the desk's events at once.
        let signed = try desk.append(TicketEvent(.signed(by: "xingqing"), at: monday.addingTimeInterval(700), actor: "x"),
                                     to: ids[0])
        #expect(try store.workOrder(id: ids[0]) == signed)
    }

    @Test func syncsUnitsAndRefusesFilesThatAreNotTicketDatabases() throws {
        let directory = try TemporaryDirectory()
        try directory.workOrderStore(units: nil).close()
        let desk = try SQLiteTicketDesk(path: directory.path("hotline.sqlite"), policy: testPolicy, units: testUnits)
        _ = desk
        #expect(try SQLiteTicketReader(path: directory.path("hotline.sqlite")).units().count == testUnits.units.count)
        #expect {
            try SQLiteTicketDesk(path: directory.path("missing.sqlite"), policy: testPolicy)
        } throws: { error in
            if case .cannotOpen = error as? TicketStoreError { true } else { false }
        }
    }
}
