// The agent desk's work-order form through the store, on every backend: filed while the call
// is on, it opens the call's own work order (and the call's end opens no second one); filed
// again it replaces the text and carries the resolution as the agent's event; the rules of the
// lifecycle still hold. And "my calls today": the calls an agent answered.

import Foundation
import Testing
import Tickets
import TicketsTestSupport

@Suite struct WorkOrderFormTests {
    let monday = date(2026, 11, 2, 10)

    func form(_ call: TicketID, subject: String = "拖欠工程款", _ resolution: WorkOrderForm.Resolution = .pending,
              at: Date) -> WorkOrderForm {
        WorkOrderForm(call: call, caller: "13800138000", businessLine: "enterprise", category: .complaint, subject: subject,
                      details: "三个月未付", resolution: resolution, actor: "agent:a1003", at: at)
    }

    /// An answered call still on, in the enterprise queue with agent a1003.
    func callOn(_ store: some HotlineStore) async throws -> TicketID {
        let id = store.allocateID(at: monday)
        var ticket = arrivingTicket(id, at: monday)
        ticket.answeredAt = monday.addingTimeInterval(1)
        ticket.sipStatus = 200
        try await store.openAndWait(ticket).get()
        return id
    }

    func outcome(agent: String) -> CallOutcome {
        CallOutcome(endedAt: monday.addingTimeInterval(300), keys: "232", menuPath: ["main_menu:3"], businessLine: "enterprise",
                    category: .consultation, disposition: .callerHangup, sipStatus: 200,
                    queue: QueueOutcome(queue: "enterprise_experts", agent: agent, enqueuedAt: monday.addingTimeInterval(5),
                                        agentAnsweredAt: monday.addingTimeInterval(10), waitMilliseconds: 5000, talkMilliseconds: 290_000))
    }

    @Test(arguments: StoreBackend.allCases)
    func aFormFiledWhileTalkingIsTheCallsWorkOrderAndTheEndOpensNoOther(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let call = try await callOn(store)

        let saved = try await store.fileForm(form(call, at: monday.addingTimeInterval(60)))
        #expect(saved.id == call, "the call's own number")
        #expect(saved.status == .accepted)
        #expect(saved.subject == "拖欠工程款")
        #expect(saved.category == .complaint)
        #expect(saved.details == "三个月未付")
        #expect(saved.businessLine == "enterprise")
        #expect(try store.workOrders(ofCall: call) == [call])

        let dispatched = try await store.fileForm(form(call, subject: "拖欠工程款（已核实）", .dispatched("xingqing"),
                                                       at: monday.addingTimeInterval(120)))
        #expect(dispatched.status == .dispatched)
        #expect(dispatched.unit == "xingqing")
        #expect(dispatched.subject == "拖欠工程款（已核实）", "the text is replaced while it was accepted")
        #expect(dispatched.signDeadline == monday.addingTimeInterval(120 + 2 * 3600), "the SLA clock of the dispatch")

        try await store.finishAndWait(id: call, outcome: outcome(agent: "a1003")).get()
        #expect(try store.workOrders(ofCall: call) == [call], "the call's end opened no second work order")
        #expect(store.metrics.workOrdersOpened == 1)
        let detail = try #require(try store.workOrderDetail(id: call))
        #expect(detail.events.map(\.event.kind) == [.accepted, .dispatched(to: "xingqing")])
        #expect(detail.events.map(\.event.actor) == ["agent:a1003", "agent:a1003"])
        #expect(detail.workOrder.status == .dispatched, "intake did not touch it")
    }

    @Test(arguments: StoreBackend.allCases)
    func theLifecycleStillDecides(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let call = try await callOn(store)
        _ = try await store.fileForm(form(call, .answeredDirectly, at: monday.addingTimeInterval(60)))
        await #expect(throws: TicketStoreError.self, "no text change once answered") {
            try await store.fileForm(form(call, subject: "changed", at: monday.addingTimeInterval(70)))
        }
        await #expect(throws: TicketStoreError.self, "answered directly is final for a dispatch") {
            try await store.fileForm(form(call, .dispatched("xingqing"), at: monday.addingTimeInterval(80)))
        }
        #expect(try store.workOrder(id: call)?.subject == "拖欠工程款")
        let unknown = store.allocateID(at: monday)
        await #expect(throws: TicketStoreError.ticketNotFound(unknown)) {
            try await store.fileForm(form(unknown, at: monday.addingTimeInterval(90)))
        }
        #expect(try store.workOrder(id: unknown) == nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func myCallsTodayAreTheCallsTheAgentAnswered(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let mine = try await callOn(store)
        try await store.finishAndWait(id: mine, outcome: outcome(agent: "a1003")).get()
        let theirs = try await callOn(store)
        try await store.finishAndWait(id: theirs, outcome: outcome(agent: "a1001")).get()
        let ivrOnly = try await store.call(TestCall(arrivedAt: monday, businessLine: "policy"))
        #expect(try store.calls(answeredBy: "a1003", since: monday, limit: 10).map(\.id) == [mine])
        #expect(try store.calls(answeredBy: "a1001", since: monday, limit: 10).map(\.id) == [theirs])
        #expect(try store.calls(answeredBy: "a1003", since: monday.addingTimeInterval(1), limit: 10).isEmpty, "arrived earlier")
        #expect(ivrOnly != mine)
    }
}
