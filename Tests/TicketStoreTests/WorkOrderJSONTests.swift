import Foundation
import Testing
import Tickets
import TicketsTestSupport

/// A work order read back from a store, as the admin API's JSON (`GET /api/tickets/{id}`).
@Suite struct WorkOrderJSONTests {
    @Test(arguments: StoreBackend.allCases)
    func detailJSONHasEventsDispatchesAndCalls(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let id = try await store.call(TestCall(arrivedAt: date(2026, 11, 2, 10), businessLine: "complaints",
                                               category: .complaint))
        try await store.event(.dispatched(to: "xingqing"), to: id, at: date(2026, 11, 2, 11))
        let detail = try #require(try store.workOrderDetail(id: id))
        let json = try JSONSerialization.jsonObject(with: Data(TicketJSON.text(detail).utf8)) as! [String: Any]
        #expect((json["work_order"] as! [String: Any])["status"] as? String == "dispatched")
        let events = json["events"] as! [[String: Any]]
        #expect(events.map { $0["kind"] as? String } == ["accepted", "dispatched"])
        #expect(events[1]["unit"] as? String == "xingqing")
        #expect((json["dispatches"] as! [[String: Any]])[0]["sign_deadline"] as? String == "2026-11-02T05:00:00.000Z")
        let call = (json["calls"] as! [[String: Any]])[0]
        #expect(call["reason"] as? String == "intake")
        #expect((call["call"] as! [String: Any])["menu_path"] as? [String] == ["main_menu:1"])
        #expect(json["allowed_events"] as? [String] == ["dispatched", "signed"])
        let page = try JSONSerialization.jsonObject(with: Data(TicketJSON.text(store.workOrders(WorkOrderQuery())).utf8))
            as! [String: Any]
        #expect((page["items"] as! [Any]).count == 1)
        #expect(page["next"] is NSNull)
    }
}
