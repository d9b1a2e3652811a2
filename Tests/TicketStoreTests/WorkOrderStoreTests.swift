// Work orders through the store: how calls become work orders (intake, repeat calls), events
// through the writer with the lifecycle's checks, units and SLA deadlines, reads by id and by
// filters with paging, CSV, on every backend. (What the SQLite schema refuses by itself is in
// TicketsSQLiteTests.)

import Foundation
import Testing
import Tickets
import TicketsTestSupport

@Suite struct WorkOrderStoreTests {
    let monday = date(2026, 11, 2, 10)

    // MARK: - Intake

    @Test(arguments: StoreBackend.allCases)
    func anAnsweredCallOnABusinessLineOpensAnAcceptedWorkOrder(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        let order = try #require(try store.workOrder(id: id))
        #expect(order.status == .accepted)
        #expect(order.channel == .phone)
        #expect(order.caller == "13800000001")
        #expect(order.businessLine == "complaints")
        #expect(order.category == .complaint)
        #expect(order.acceptedAt == monday.addingTimeInterval(60), "accepted when the call ended")
        #expect(order.callCount == 1)
        #expect(try store.workOrders(ofCall: id) == [id])
        let detail = try #require(try store.workOrderDetail(id: id))
        #expect(detail.events.map(\.event.kind) == [.accepted])
        #expect(detail.events.first?.event.actor == "ivr")
        #expect(detail.calls.map(\.call.id) == [id])
        #expect(detail.calls.first?.reason == .intake)
        #expect(detail.allowedEvents == ["answered_directly", "dispatched"])
        #expect(store.metrics.workOrdersOpened == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func aConsultationHeardToTheEndIsAnsweredDirectly(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let heard = try await store.call(TestCall(arrivedAt: monday, businessLine: "policy", category: .consultation))
        let cut = try await store.call(TestCall(caller: "13800000002", arrivedAt: monday, businessLine: "policy",
                                                category: .consultation, disposition: .callerHangup))
        let told = try await store.call(TestCall(caller: "13800000003", arrivedAt: monday, businessLine: "move_car",
                                                 category: .help, resolution: .answeredDirectly))
        let heardOrder = try #require(try store.workOrder(id: heard))
        #expect(heardOrder.status == .answeredDirectly)
        #expect(heardOrder.answeredDirectlyAt == heardOrder.acceptedAt)
        #expect(try store.workOrderDetail(id: heard)?.events.map(\.event.kind) == [.accepted, .answeredDirectly])
        #expect(try store.workOrder(id: cut)?.status == .accepted, "the caller hung up before the answer")
        #expect(try store.workOrder(id: told)?.status == .answeredDirectly, "the dialplan said so")
    }

    @Test func dialplanResolutionsMapToIntake() {
        #expect(CallResolution(dialplanName: "direct_answer") == .answeredDirectly)
        #expect(CallResolution(dialplanName: "dispatch") == .workOrder)
        #expect(CallResolution(dialplanName: "callback") == .workOrder)
        #expect(CallResolution(dialplanName: "message") == .workOrder)
        #expect(CallResolution(dialplanName: "shrug") == nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func callsThatReachedNoLineOpenNothing(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let noInput = try await store.call(TestCall(arrivedAt: monday, disposition: .noInput))
        let cancelled = try await store.call(TestCall(arrivedAt: monday, answerAfter: nil, duration: 4, disposition: .cancelled))
        let rejected = try await store.call(TestCall(arrivedAt: monday, answerAfter: nil, duration: 0, businessLine: nil,
                                                     disposition: .rejected, sipStatus: 404))
        let overridden = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint,
                                                       resolution: .noWorkOrder))
        for id in [noInput, cancelled, rejected, overridden] {
            #expect(try store.workOrder(id: id) == nil)
            #expect(try store.workOrders(ofCall: id).isEmpty)
        }
        #expect(try store.countWorkOrders(WorkOrderQuery()) == 0)
        #expect(try store.list(limit: 10).count == 4, "every call still has its row")
    }

    @Test(arguments: StoreBackend.allCases)
    func aRepeatCallJoinsTheCallersOpenWorkOrder(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let first = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        try await store.event(.dispatched(to: "xingqing"), to: first, at: monday.addingTimeInterval(600))
        let again = try await store.call(TestCall(arrivedAt: monday.addingTimeInterval(86_400), businessLine: "complaints",
                                                  category: .complaint))
        #expect(try store.workOrder(id: again) == nil, "no new work order")
        #expect(try store.workOrders(ofCall: again) == [first])
        let order = try #require(try store.workOrder(id: first))
        #expect(order.callCount == 2)
        #expect(order.status == .dispatched, "a linked call changes no status")
        let detail = try #require(try store.workOrderDetail(id: first))
        #expect(detail.calls.map(\.call.id) == [first, again])
        #expect(detail.calls.map(\.reason) == [.intake, .repeatCall])
        #expect(store.metrics.repeatCallsLinked == 1)
        #expect(store.metrics.workOrdersOpened == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func repeatCallsAreLinkedOnlyForTheSameCallerLineAndCategoryWhileOpen(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let open = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        let later = monday.addingTimeInterval(3600)
        let cases: [(String, TestCall)] = [
            ("another caller", TestCall(caller: "13900000009", arrivedAt: later, businessLine: "complaints", category: .complaint)),
            ("another line", TestCall(arrivedAt: later, businessLine: "enterprise", category: .complaint)),
            ("another category", TestCall(arrivedAt: later, businessLine: "complaints", category: .report)),
            ("anonymous", TestCall(caller: "anonymous", arrivedAt: later, businessLine: "complaints", category: .complaint)),
            ("after the window", TestCall(arrivedAt: monday.addingTimeInterval(31 * 86_400), businessLine: "complaints",
                                          category: .complaint)),
        ]
        for (name, call) in cases {
            let id = try await store.call(call)
            #expect(try store.workOrders(ofCall: id) == [id], "\(name): opens its own work order")
        }
        // Two anonymous calls are never taken for one caller.
        let anonymous = try await store.call(TestCall(caller: "anonymous", arrivedAt: later, businessLine: "complaints",
                                                      category: .complaint))
        #expect(try store.workOrders(ofCall: anonymous) == [anonymous])
        // A closed work order takes no more calls.
        try await store.event(.answeredDirectly, to: open, at: later)
        try await store.event(.closed, to: open, at: later)
        let afterClose = try await store.call(TestCall(arrivedAt: later.addingTimeInterval(60), businessLine: "complaints",
                                                       category: .complaint))
        #expect(try store.workOrders(ofCall: afterClose) == [afterClose])
    }


    @Test(arguments: StoreBackend.allCases)
    func linkingCanBeTurnedOff(_ backend: StoreBackend) async throws {
        var policy = testPolicy
        policy.intake.repeatCallWindow = nil
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders(policy: policy))
        defer { store.close() }
        let first = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        let second = try await store.call(TestCall(arrivedAt: monday.addingTimeInterval(60), businessLine: "complaints",
                                                   category: .complaint))
        #expect(first != second)
        #expect(try store.workOrders(ofCall: second) == [second])
    }

    // MARK: - Events

    @Test(arguments: StoreBackend.allCases)
    func theFullLifecycleWithDeadlines(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        let dispatchAt = date(2026, 11, 2, 11)
        var order = try await store.event(.dispatched(to: "xingqing"), to: id, at: dispatchAt, actor: "agent:1001")
        #expect(order.status == .dispatched)
        #expect(order.unit == "xingqing")
        #expect(order.signDeadline == date(2026, 11, 2, 13))
        #expect(order.completionDeadline == date(2026, 11, 5, 11))
        order = try await store.event(.signed(by: "xingqing"), to: id, at: date(2026, 11, 2, 12), actor: "unit:xingqing/li")
        #expect(order.signedOnTime == true)
        order = try await store.event(.handled, to: id, at: date(2026, 11, 6, 9))
        #expect(order.completedOnTime == false)
        order = try await store.event(.fedBack, to: id, at: date(2026, 11, 6, 10))
        order = try await store.event(.returnVisited(score: 5), to: id, at: date(2026, 11, 7, 10))
        #expect(order.satisfaction == 5)
        order = try await store.event(.closed, to: id, at: date(2026, 11, 7, 10, 5))
        #expect(order.status == .closed)
        #expect(order == (try store.workOrder(id: id)), "what the callback returns is what is stored")
        let detail = try #require(try store.workOrderDetail(id: id))
        #expect(detail.events.map(\.sequence) == Array(1...7))
        #expect(detail.events.map(\.event.kind.name)
            == ["accepted", "dispatched", "signed", "handled", "feedback", "return_visit", "closed"])
        #expect(detail.events[2].event.actor == "unit:xingqing/li")
        #expect(detail.dispatches == [WorkOrderDispatch(
            sequence: 2, unit: "xingqing", dispatchedAt: dispatchAt, signDeadline: date(2026, 11, 2, 13),
            completionDeadline: date(2026, 11, 5, 11), signedAt: date(2026, 11, 2, 12), handledAt: date(2026, 11, 6, 9))])
        #expect(detail.allowedEvents == ["reopened"])
        // The stored status is the lifecycle's over the stored events.
        #expect(try TicketLifecycle(replaying: detail.events.map(\.event)).status == order.status)
    }

    @Test(arguments: StoreBackend.allCases)
    func illegalEventsAreRefusedWithTheLifecycleError(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        await #expect(throws: TicketStoreError.eventRefused(id, TicketLifecycleError(status: .accepted, event: "handled",
                                                                                      reason: .notAllowed))) {
            try await store.event(.handled, to: id, at: self.monday.addingTimeInterval(3600))
        }
        try await store.event(.dispatched(to: "xingqing"), to: id, at: monday.addingTimeInterval(3600))
        await #expect(throws: TicketStoreError.eventRefused(id, TicketLifecycleError(
            status: .dispatched, event: "signed", reason: .wrongUnit(expected: "xingqing", got: "jinfeng")))) {
            try await store.event(.signed(by: "jinfeng"), to: id, at: self.monday.addingTimeInterval(7200))
        }
        let missing = try TicketID(parsing: "20261102-999999")
        await #expect(throws: TicketStoreError.workOrderNotFound(missing)) {
            try await store.event(.handled, to: missing, at: self.monday)
        }
        #expect(try store.workOrderDetail(id: id)?.events.count == 2, "refused events leave nothing behind")
        #expect(store.metrics.writesFailed == 3)
    }

    @Test(arguments: StoreBackend.allCases)
    func dispatchNeedsAnActiveUnit(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        await #expect(throws: TicketStoreError.unknownUnit("nowhere")) {
            try await store.event(.dispatched(to: "nowhere"), to: id, at: self.monday.addingTimeInterval(60))
        }
        try await store.event(.dispatched(to: "jinfeng"), to: id, at: monday.addingTimeInterval(60))
        store.close()

        // jinfeng leaves units.yaml: it stays in the database, inactive, with its dispatch.
        var units = testUnits.units
        units.removeAll { $0.id == "jinfeng" }
        let reopened = try database.open(.workOrders(units: try UnitDirectory(units: units)))
        defer { reopened.close() }
        let records = try reopened.units()
        #expect(records.first { $0.unit.id == "jinfeng" }?.active == false)
        #expect(records.first { $0.unit.id == "xingqing" }?.active == true)
        let other = try await reopened.call(TestCall(caller: "13900000000", arrivedAt: monday, businessLine: "complaints",
                                                     category: .complaint))
        await #expect(throws: TicketStoreError.unknownUnit("jinfeng")) {
            try await reopened.event(.dispatched(to: "jinfeng"), to: other, at: self.monday.addingTimeInterval(120))
        }
        // Its work order stays with it, and can be signed there and moved on.
        #expect(try reopened.workOrder(id: id)?.unit == "jinfeng")
        try await reopened.event(.signed(by: "jinfeng"), to: id, at: monday.addingTimeInterval(150))
        try await reopened.event(.dispatched(to: "xingqing"), to: id, at: monday.addingTimeInterval(180))
    }

    @Test(arguments: StoreBackend.allCases)
    func reDispatchWithdrawsTheFirstUnitAndRestartsTheClocks(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        try await store.event(.dispatched(to: "jinfeng"), to: id, at: date(2026, 11, 2, 11))
        try await store.event(.signed(by: "jinfeng"), to: id, at: date(2026, 11, 2, 11, 30))
        let order = try await store.event(.dispatched(to: "market_regulation"), to: id, at: date(2026, 11, 2, 14))
        #expect(order.unit == "market_regulation")
        #expect(order.signedAt == nil)
        #expect(order.signDeadline == date(2026, 11, 2, 16))
        #expect(order.dispatchCount == 2)
        let dispatches = try #require(try store.workOrderDetail(id: id)?.dispatches)
        #expect(dispatches.map(\.unit) == ["jinfeng", "market_regulation"])
        #expect(dispatches[0].withdrawnAt == date(2026, 11, 2, 14))
        #expect(dispatches[0].signedAt == date(2026, 11, 2, 11, 30))
        #expect(dispatches[1].withdrawnAt == nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func unitStaffActOnlyOnTheirUnitsWorkOrders(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let id = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        await #expect(throws: TicketStoreError.outsideUnit(id, unit: "xingqing")) {
            try await store.event(.dispatched(to: "xingqing"), to: id, at: self.monday.addingTimeInterval(60), within: "xingqing")
        }
        try await store.event(.dispatched(to: "xingqing.fenghuang"), to: id, at: monday.addingTimeInterval(60))
        // The township's county and city may act on it; the other county may not.
        try await store.event(.signed(by: "xingqing.fenghuang"), to: id, at: monday.addingTimeInterval(120), within: "xingqing")
        await #expect(throws: TicketStoreError.outsideUnit(id, unit: "jinfeng")) {
            try await store.event(.handled, to: id, at: self.monday.addingTimeInterval(180), within: "jinfeng")
        }
        try await store.event(.handled, to: id, at: monday.addingTimeInterval(180), within: "yinchuan")
        #expect(try store.workOrderDetail(id: id, within: "xingqing") != nil)
        #expect(try store.workOrderDetail(id: id, within: "jinfeng") == nil)
        #expect(try store.workOrderDetail(id: id, within: "ningxia") != nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func workOrdersFromOtherChannels(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let call = try await store.call(TestCall(arrivedAt: monday, disposition: .notRouted))
        let order = try await store.createWorkOrder(WorkOrderIntake(
            channel: .web, caller: "13800000007", category: .suggestion, subject: "street lights",
            details: "The lights on Jiefang Street are off, again.", acceptedAt: monday.addingTimeInterval(600),
            actor: "web", calls: [call]))
        #expect(order.channel == .web)
        #expect(order.status == .accepted)
        #expect(order.id != call)
        #expect(order.id.dayStamp == 20_261_102)
        #expect(order.callCount == 1)
        #expect(try store.workOrders(ofCall: call) == [order.id])
        #expect(try store.workOrderDetail(id: order.id)?.calls.first?.reason == .manual)
        // Numbers stay unique after a restart: calls and work orders share them.
        store.close()
        let reopened = try database.open(.workOrders())
        defer { reopened.close() }
        #expect(reopened.allocateID(at: monday) > order.id)
    }

    @Test(arguments: StoreBackend.allCases)
    func callsCanBeLinkedByHand(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let first = try await store.call(TestCall(arrivedAt: monday, businessLine: "complaints", category: .complaint))
        let other = try await store.call(TestCall(caller: "13900000000", arrivedAt: monday, disposition: .noInput))
        let order = try await store.linkCall(other, to: first, at: monday.addingTimeInterval(3600))
        #expect(order.callCount == 2)
        await #expect(throws: TicketStoreError.self) {
            try await store.linkCall(other, to: first, at: self.monday.addingTimeInterval(3600))
        }
    }

    // MARK: - Lists

    /// Six work orders a minute apart: complaints to xingqing and jinfeng, a consultation
    /// answered directly, help on the move_car line.
    func listFixture(_ store: any HotlineStore) async throws -> [TicketID] {
        var ids: [TicketID] = []
        let lines: [(String, TicketCategory)] = [("complaints", .complaint), ("policy", .consultation),
                                                 ("complaints", .complaint), ("move_car", .help),
                                                 ("complaints", .complaint), ("enterprise", .complaint)]
        for (index, (line, category)) in lines.enumerated() {
            ids.append(try await store.call(TestCall(caller: "1380000000\(index)", arrivedAt: monday.addingTimeInterval(Double(index) * 60),
                                                     businessLine: line, category: category)))
        }
        try await store.event(.dispatched(to: "xingqing"), to: ids[0], at: date(2026, 11, 2, 11))
        try await store.event(.dispatched(to: "xingqing.fenghuang"), to: ids[2], at: date(2026, 11, 2, 11))
        try await store.event(.dispatched(to: "jinfeng"), to: ids[4], at: date(2026, 11, 2, 11))
        try await store.event(.signed(by: "jinfeng"), to: ids[4], at: date(2026, 11, 2, 11, 30))
        try await store.event(.dispatched(to: "traffic_police"), to: ids[3], at: date(2026, 11, 2, 11))
        return ids
    }

    @Test(arguments: StoreBackend.allCases)
    func listsByFiltersNewestFirst(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let ids = try await listFixture(store)
        func list(_ query: WorkOrderQuery) throws -> [TicketID] { try store.workOrders(query).items.map(\.id) }
        #expect(try list(WorkOrderQuery()) == ids.reversed())
        #expect(try list(WorkOrderQuery(statuses: [.dispatched])) == [ids[3], ids[2], ids[0]])
        #expect(try list(WorkOrderQuery(statuses: [.dispatched, .signed])) == [ids[4], ids[3], ids[2], ids[0]])
        #expect(try list(WorkOrderQuery(unit: "xingqing")) == [ids[2], ids[0]], "the township's work order too")
        #expect(try list(WorkOrderQuery(unit: "yinchuan")) == [ids[4], ids[3], ids[2], ids[0]])
        #expect(try list(WorkOrderQuery(unit: "market_regulation")).isEmpty)
        #expect(try list(WorkOrderQuery(category: .complaint)) == [ids[5], ids[4], ids[2], ids[0]])
        #expect(try list(WorkOrderQuery(businessLine: "complaints")) == [ids[4], ids[2], ids[0]])
        #expect(try list(WorkOrderQuery(caller: "13800000003")) == [ids[3]])
        #expect(try list(WorkOrderQuery(channel: .web)).isEmpty)
        let third = try #require(try store.workOrder(id: ids[2])).acceptedAt
        #expect(try list(WorkOrderQuery(acceptedFrom: third)) == [ids[5], ids[4], ids[3], ids[2]])
        #expect(try list(WorkOrderQuery(acceptedBefore: third)) == [ids[1], ids[0]])
        // Overdue at 12:00: the move_car dispatch (10 minutes to sign); at 14:00 the others.
        #expect(try list(WorkOrderQuery(overdueAt: date(2026, 11, 2, 12))) == [ids[3]])
        #expect(try list(WorkOrderQuery(overdueAt: date(2026, 11, 2, 14))) == [ids[3], ids[2], ids[0]])
        #expect(try store.countWorkOrders(WorkOrderQuery(category: .complaint)) == 4)
        #expect(throws: TicketStoreError.invalidQuery("limit must be 1 to 1000, not 0")) {
            try store.workOrders(WorkOrderQuery(limit: 0))
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func pagesWithACursor(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let ids = try await listFixture(store)
        var query = WorkOrderQuery(limit: 4)
        let first = try store.workOrders(query)
        #expect(first.items.map(\.id) == Array(ids.reversed().prefix(4)))
        let cursor = try #require(first.next)
        #expect(WorkOrderCursor(rawValue: cursor.rawValue) == cursor, "the cursor survives a round trip as text")
        query.after = WorkOrderCursor(rawValue: cursor.rawValue)
        // A work order arriving meanwhile does not shift the next page.
        try await store.call(TestCall(caller: "13911111111", arrivedAt: monday.addingTimeInterval(3600),
                                      businessLine: "complaints", category: .complaint))
        let second = try store.workOrders(query)
        #expect(second.items.map(\.id) == [ids[1], ids[0]])
        #expect(second.next == nil)
        #expect(WorkOrderCursor(rawValue: "nonsense") == nil)
        #expect(WorkOrderCursor(rawValue: "12_20261102-00001") == nil)
    }

    // MARK: - CSV

    @Test(arguments: StoreBackend.allCases)
    func exportsCSV(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let ids = try await listFixture(store)
        _ = try await store.createWorkOrder(WorkOrderIntake(
            channel: .web, caller: "13800000009", subject: "=HYPERLINK(\"x\")", details: "two lines,\nwith \"quotes\"",
            acceptedAt: monday.addingTimeInterval(7200), actor: "web"))
        let csv = try store.exportWorkOrdersCSV(WorkOrderQuery(limit: 2))  // pages of two, all exported
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.first == WorkOrderCSV.columns.joined(separator: ","))
        #expect(lines.last == "", "every line ends with CRLF")
        #expect(csv.contains(",\"'=HYPERLINK(\"\"x\"\")\","), "a formula is defused and quoted")
        #expect(csv.contains(",\"two lines,\nwith \"\"quotes\"\"\"\r\n"))
        #expect(csv.components(separatedBy: "\r\n").count == 1 + 7 + 1)
        let first = try #require(lines.first { $0.hasPrefix(ids[0].rawValue) })
        #expect(first.hasPrefix("\(ids[0].rawValue),phone,13800000000,complaints,complaint,,dispatched,xingqing,"))
        let masked = try store.exportWorkOrdersCSV(WorkOrderQuery(caller: "13800000000"), maskCallers: true)
        #expect(masked.contains(",phone,138****0000,"))
        #expect(!masked.contains("13800000000"))
    }

    // MARK: - The schema on its own


}
