// Hand-offs (the 110 linkage) through the store, on every backend: a transfer's hand-off opens
// the call's work order and its end opens no other; the outbox gives what is due, attempts
// are counted and the partner's reference kept; a partner's hand-off opens one work order
// however often it comes; status reports apply newest-wins; the schema keeps states honest.

import Foundation
import Testing
import Tickets
import TicketsTestSupport

@Suite struct HandoffStoreTests {
    let monday = date(2026, 11, 2, 10)

    /// An answered call still on: the caller pressed 9 (police).
    func callOn(_ store: some HotlineStore) async throws -> TicketID {
        let id = store.allocateID(at: monday)
        var ticket = arrivingTicket(id, at: monday)
        ticket.caller = "13800138000"
        ticket.answeredAt = monday.addingTimeInterval(1)
        ticket.sipStatus = 200
        try await store.openAndWait(ticket).get()
        return id
    }

    func outbound(_ call: TicketID, id: String = "h-out-1", at offset: TimeInterval = 30) -> OutboundHandoff {
        OutboundHandoff(id: id, partner: "110", localName: "12345", call: call, caller: "13800138000",
                        businessLine: "police_linkage", category: .help, summary: ["subject": "有人打架", "place": "解放西街"],
                        at: monday.addingTimeInterval(offset))
    }

    func matter(_ id: String = "110-h-9") -> HandoffMatter {
        HandoffMatter(handoffID: id, from: "110", workOrder: "110-20261102-0042", call: nil, caller: "13900139000",
                      businessLine: "noise", category: "complaint", subject: "噪音扰民", details: "夜间施工",
                      acceptedAt: monday, handedOffAt: monday.addingTimeInterval(5))
    }

    @Test(arguments: StoreBackend.allCases)
    func aTransferHandOffOpensTheCallsWorkOrderAndItsEndOpensNoOther(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let call = try await callOn(store)

        let order = try await store.handOff(outbound(call))
        #expect(order.id == call, "the call's own number")
        #expect(order.status == .accepted)
        #expect(order.subject == "有人打架")
        #expect(order.details == "place: 解放西街")
        #expect(order.businessLine == "police_linkage")
        #expect(try store.workOrders(ofCall: call) == [call])

        let handoffs = try store.handoffs(ofWorkOrder: call)
        #expect(handoffs.count == 1)
        let handoff = try #require(handoffs.first)
        #expect(handoff.direction == .outbound)
        #expect(handoff.state == .pending)
        #expect(handoff.attempts == 0)
        #expect(handoff.nextAttemptAt == monday.addingTimeInterval(30))
        let sent = try JSONDecoder().decode(HandoffMatter.self, from: Data(handoff.body.utf8))
        #expect(sent.handoffID == "h-out-1")
        #expect(sent.from == "12345")
        #expect(sent.workOrder == call.rawValue)
        #expect(sent.caller == "13800138000")
        #expect(sent.category == "help")
        #expect(sent.handedOffAt == "2026-11-02T02:00:30.000Z")

        // The transfer went through; the call ends: intake leaves the handed-off work order alone.
        try await store.finishAndWait(id: call, outcome: CallOutcome(
            answeredAt: monday.addingTimeInterval(1), endedAt: monday.addingTimeInterval(40), keys: "9",
            businessLine: "police_linkage", category: .help, disposition: CallDisposition("transferred"), sipStatus: 200,
            summary: ["subject": "有人打架"], handedOff: true)).get()
        #expect(try store.workOrders(ofCall: call) == [call])
        #expect(try store.workOrders(WorkOrderQuery()).items.count == 1)
        #expect(store.metrics.intakeFailures == 0)
        let detail = try #require(try store.workOrderDetail(id: call))
        #expect(detail.handoffs == handoffs)
        #expect(detail.text(now: monday).contains("to 110"))
    }

    @Test(arguments: StoreBackend.allCases)
    func theOutboxGivesWhatIsDueCountsAttemptsAndKeepsThePartnersReference(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let call = try await callOn(store)
        try await store.handOff(outbound(call))

        #expect(try store.dueHandoffs(at: monday.addingTimeInterval(29), limit: 10).isEmpty)
        #expect(try store.nextHandoffAttempt() == monday.addingTimeInterval(30))
        #expect(try store.dueHandoffs(at: monday.addingTimeInterval(30), limit: 10).map(\.id) == ["h-out-1"])

        try await store.recordDelivery(HandoffDelivery(
            handoffID: "h-out-1", partner: "110",
            outcome: .retry(error: "HTTP 503", nextAttemptAt: monday.addingTimeInterval(32)), at: monday.addingTimeInterval(30)))
        var handoff = try #require(try store.handoff(partner: "110", id: "h-out-1"))
        #expect(handoff.state == .pending)
        #expect(handoff.attempts == 1)
        #expect(handoff.lastError == "HTTP 503")
        #expect(try store.dueHandoffs(at: monday.addingTimeInterval(31), limit: 10).isEmpty, "backing off")

        try await store.recordDelivery(HandoffDelivery(handoffID: "h-out-1", partner: "110",
                                                       outcome: .delivered(partnerReference: "110-20261102-0007"),
                                                       at: monday.addingTimeInterval(32)))
        handoff = try #require(try store.handoff(partner: "110", id: "h-out-1"))
        #expect(handoff.state == .delivered)
        #expect(handoff.attempts == 2)
        #expect(handoff.partnerReference == "110-20261102-0007")
        #expect(handoff.deliveredAt == monday.addingTimeInterval(32))
        #expect(handoff.lastError == nil)
        #expect(handoff.nextAttemptAt == nil)
        #expect(try store.nextHandoffAttempt() == nil)

        // A late result (another node's attempt) changes nothing once delivered.
        try await store.recordDelivery(HandoffDelivery(handoffID: "h-out-1", partner: "110", outcome: .failed(error: "late"),
                                                       at: monday.addingTimeInterval(33)))
        #expect(try store.handoff(partner: "110", id: "h-out-1") == handoff)
        await #expect(throws: TicketStoreError.handoffNotFound("nope")) {
            try await store.recordDelivery(HandoffDelivery(handoffID: "nope", partner: "110", outcome: .failed(error: "x"),
                                                           at: monday))
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aPartnersHandOffOpensOneWorkOrderHoweverOftenItComes(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let body = matter().encoded()
        let first = try await store.acceptHandoff(InboundHandoff(partner: "110", matter: matter(), body: body,
                                                                 receivedAt: monday.addingTimeInterval(6)))
        #expect(first.channel == .handoff)
        #expect(first.caller == "13900139000")
        #expect(first.subject == "噪音扰民")
        #expect(first.category == .complaint)
        let again = try await store.acceptHandoff(InboundHandoff(partner: "110", matter: matter(), body: body,
                                                                 receivedAt: monday.addingTimeInterval(60)))
        #expect(again.id == first.id, "the same hand-off id opens nothing new")
        #expect(try store.workOrders(WorkOrderQuery()).items.map(\.id) == [first.id])

        let detail = try #require(try store.workOrderDetail(id: first.id))
        #expect(detail.events.first?.event.actor == "partner:110")
        let handoff = try #require(detail.handoffs.first)
        #expect(detail.handoffs.count == 1)
        #expect(handoff.direction == .inbound)
        #expect(handoff.state == .received)
        #expect(handoff.partnerReference == "110-20261102-0042")
        #expect(handoff.body == body, "kept as signed")
    }

    @Test(arguments: StoreBackend.allCases)
    func aPartnersStatusReportAppliesUnlessANewerOneIsRecorded(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let call = try await callOn(store)
        try await store.handOff(outbound(call))

        try await store.recordPartnerStatus(HandoffStatusUpdate(partner: "110", handoffID: "h-out-1", status: "handled",
                                                                note: "民警已到场", at: monday.addingTimeInterval(600)))
        try await store.recordPartnerStatus(HandoffStatusUpdate(partner: "110", handoffID: "h-out-1", status: "received",
                                                                at: monday.addingTimeInterval(60)))
        let handoff = try #require(try store.handoff(partner: "110", id: "h-out-1"))
        #expect(handoff.partnerStatus == "handled", "the older report does not undo the newer")
        #expect(handoff.partnerNote == "民警已到场")
        #expect(handoff.partnerStatusAt == monday.addingTimeInterval(600))
        await #expect(throws: TicketStoreError.handoffNotFound("h-out-1")) {
            try await store.recordPartnerStatus(HandoffStatusUpdate(partner: "120", handoffID: "h-out-1", status: "handled",
                                                                    at: monday))
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aHandOffOfACallNobodyStoredFailsAlone(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let ghost = store.allocateID(at: monday)
        await #expect(throws: TicketStoreError.ticketNotFound(ghost)) { try await store.handOff(outbound(ghost)) }
        #expect(try store.workOrders(WorkOrderQuery()).items.isEmpty)
    }
}
