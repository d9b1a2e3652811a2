// The PostgreSQL store on a real server: calls and work orders through the one writer,
// numbering across nodes, node lifecycle.

import Foundation
import Synchronization
import Testing
import Tickets
@testable import TicketsPostgres

let shanghai = TimeZone(identifier: "Asia/Shanghai")!

/// 2026-11-02 10:00 Shanghai (02:00 UTC), plus `seconds` and `milliseconds`.
func monday(plus seconds: Double = 0) -> Date {
    Date(timeIntervalSince1970: 1_793_584_800 + seconds)
}

func arriving(_ id: TicketID, at date: Date, caller: String = "13800000001") -> CallTicket {
    CallTicket(id: id, callID: "call-\(id.rawValue)@test", caller: caller, dialled: "12345", arrivedAt: date,
               dialplanVersion: "v1")
}

func failure(_ result: Result<Void, TicketStoreError>) -> TicketStoreError? {
    if case .failure(let error) = result { error } else { nil }
}

extension PostgresTicketStore {
    func openAndWait(_ ticket: CallTicket) async -> Result<Void, TicketStoreError> {
        await withCheckedContinuation { continuation in open(ticket) { continuation.resume(returning: $0) } }
    }

    func finishAndWait(id: TicketID, outcome: CallOutcome) async -> Result<Void, TicketStoreError> {
        await withCheckedContinuation { continuation in finish(id: id, outcome: outcome) { continuation.resume(returning: $0) } }
    }

    /// An answered call that reached `businessLine` and ended after a minute.
    @discardableResult
    func answeredCall(at date: Date, caller: String = "13800000001", businessLine: String? = "complaints",
                      category: TicketCategory? = .complaint) async throws -> TicketID {
        let id = allocateID(at: date)
        var ticket = arriving(id, at: date, caller: caller)
        ticket.answeredAt = date.addingTimeInterval(1.234)
        ticket.sipStatus = 200
        try await openAndWait(ticket).get()
        try await finishAndWait(id: id, outcome: CallOutcome(
            endedAt: date.addingTimeInterval(60), keys: "1", menuPath: ["main_menu:1"], businessLine: businessLine,
            category: category, disposition: .completedInIVR, sipStatus: 200)).get()
        return id
    }
}

@Suite struct PostgresStoreTests {
    @Test func aCallRoundTripsToTheMillisecond() async throws {
        let database = try PostgresTestDatabase()
        let store = try database.open()
        defer { store.close() }
        let arrived = monday(plus: 0.987)
        let id = store.allocateID(at: arrived)
        #expect(id.rawValue == "20261102-000001")
        var ticket = arriving(id, at: arrived)
        ticket.answeredAt = arrived.addingTimeInterval(0.001)
        ticket.queue = QueueOutcome(queue: "complaints", agent: "1001", enqueuedAt: arrived.addingTimeInterval(2),
                                    agentAnsweredAt: arrived.addingTimeInterval(5), waitMilliseconds: 3000)
        try await store.openAndWait(ticket).get()
        #expect(try store.ticket(id: id) == ticket)
        let outcome = CallOutcome(endedAt: arrived.addingTimeInterval(61.5), keys: "1#", menuPath: ["main_menu:1", "a/b"],
                                  businessLine: nil, category: nil, disposition: .callerHangup, sipStatus: 200)
        try await store.finishAndWait(id: id, outcome: outcome).get()
        let finished = try #require(try store.ticket(id: id))
        #expect(finished.endedAt == arrived.addingTimeInterval(61.5))
        #expect(finished.menuPath == ["main_menu:1", "a/b"])
        #expect(finished.disposition == .callerHangup)
        #expect(try store.list(limit: 10).map(\.id) == [id])
        #expect(failure(await store.finishAndWait(id: id, outcome: outcome)) == .alreadyFinished(id))
        let missing = try TicketID(parsing: "20261102-000099")
        #expect(failure(await store.finishAndWait(id: missing, outcome: outcome)) == .ticketNotFound(missing))
    }

    @Test func anAnsweredCallOnABusinessLineOpensAWorkOrderThroughTheSharedRules() async throws {
        let database = try PostgresTestDatabase()
        let store = try database.open()
        defer { store.close() }
        let id = try await store.answeredCall(at: monday())
        let order = try #require(try store.workOrder(id: id))
        #expect(order.status == .accepted)
        #expect(order.businessLine == "complaints")
        #expect(order.acceptedAt == monday(plus: 60))
        let detail = try #require(try store.workOrderDetail(id: id))
        #expect(detail.events.map(\.event.kind) == [.accepted])
        #expect(detail.calls.map(\.call.id) == [id])
        #expect(try store.workOrders(ofCall: id) == [id])
        #expect(store.metrics.workOrdersOpened == 1)
        let repeatCall = try await store.answeredCall(at: monday(plus: 3600))
        #expect(try store.workOrders(ofCall: repeatCall) == [id], "a repeat call joins the open work order")
        #expect(try store.workOrder(id: id)?.callCount == 2)
    }

    @Test func aBadOpenInABatchFailsAloneAndTheOthersCommit() async throws {
        let database = try PostgresTestDatabase()
        let store = try database.open()
        defer { store.close() }
        let results = Mutex<[Int: Result<Void, TicketStoreError>]>([:])
        var ids: [TicketID] = []
        for index in 0..<20 {
            let id = store.allocateID(at: monday())
            ids.append(id)
            var ticket = arriving(id, at: monday())
            if index == 7 { ticket.keys = "not dtmf" }
            store.open(ticket) { result in results.withLock { $0[index] = result } }
        }
        await store.flush()
        let all = results.withLock { $0 }
        #expect(all.count == 20)
        for (index, result) in all {
            if index == 7 {
                guard case .failure(.constraintViolated(let message)) = result else {
                    Issue.record("the bad open: \(result)")
                    continue
                }
                #expect(message.contains("keys_dtmf"))
            } else {
                #expect((try? result.get()) != nil, "open \(index): \(result)")
            }
        }
        #expect(try database.count("SELECT count(*) FROM calls") == 19)
        #expect(try store.ticket(id: ids[7]) == nil)
    }

    @Test func twoNodesNumberConcurrentlyWithoutCollisions() async throws {
        let database = try PostgresTestDatabase()
        let a = try database.open(node: "node-a") { $0.numberBlock = 50 }
        let b = try database.open(node: "node-b") { $0.numberBlock = 50 }
        defer {
            a.close()
            b.close()
        }
        let perNode = 600
        async let fromA = Task.detached { (0..<perNode).map { _ in a.allocateID(at: monday()) } }.value
        async let fromB = Task.detached { (0..<perNode).map { _ in b.allocateID(at: monday()) } }.value
        let (idsA, idsB) = await (fromA, fromB)
        #expect(Set(idsA).count == perNode && Set(idsB).count == perNode)
        #expect(Set(idsA).isDisjoint(with: idsB), "numbers are unique across nodes")
        #expect(idsA == idsA.sorted() && idsB == idsB.sorted(), "each node's numbers increase")
        #expect((idsA + idsB).allSatisfy { $0.dayStamp == 20261102 && $0.rawValue.count == 15 })
        // And they are stored, each by its own node's writer.
        for id in idsA.prefix(100) { a.open(arriving(id, at: monday())) { _ in } }
        for id in idsB.prefix(100) { b.open(arriving(id, at: monday())) { _ in } }
        await a.flush()
        await b.flush()
        #expect(try database.count("SELECT count(*) FROM calls WHERE node = 'node-a'") == 100)
        #expect(try database.count("SELECT count(*) FROM calls WHERE node = 'node-b'") == 100)
    }

    @Test func aRestartedNodeInterruptsOnlyItsOwnCallsInProgress() async throws {
        let database = try PostgresTestDatabase()
        let a = try database.open(node: "node-a")
        let b = try database.open(node: "node-b")
        defer { b.close() }
        let ofA = a.allocateID(at: monday())
        var answered = arriving(ofA, at: monday())
        answered.answeredAt = monday(plus: 1)
        try await a.openAndWait(answered).get()
        let ofB = b.allocateID(at: monday())
        try await b.openAndWait(arriving(ofB, at: monday())).get()
        a.close()
        let restarted = try database.open(node: "node-a")
        defer { restarted.close() }
        #expect(restarted.recoveredTicketCount == 1)
        #expect(try restarted.ticket(id: ofA)?.disposition == .interrupted)
        #expect(try restarted.ticket(id: ofA)?.answeredAt == monday(plus: 1), "answered_at is kept")
        #expect(try restarted.ticket(id: ofB)?.disposition == nil, "node-b's call is node-b's")
    }

    @Test func anotherNodeExpiresASilentNodeAfterTheLease() async throws {
        let database = try PostgresTestDatabase()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let a = try database.open(node: "node-a") { $0.now = { start } }
        let b = try database.open(node: "node-b") { $0.now = { start } }
        defer {
            a.close()
            b.close()
        }
        let ofA = a.allocateID(at: monday())
        try await a.openAndWait(arriving(ofA, at: monday())).get()
        let ofB = b.allocateID(at: monday())
        try await b.openAndWait(arriving(ofB, at: monday())).get()
        try a.heartbeat(now: start.addingTimeInterval(10))
        try b.heartbeat(now: start.addingTimeInterval(10))
        #expect(try b.nodes().map(\.callsInProgress) == [1, 1])
        // node-a goes silent; node-b keeps beating.
        try b.heartbeat(now: start.addingTimeInterval(20))
        #expect(try b.expireNodes(now: start.addingTimeInterval(24), lease: .seconds(15)) == 0, "within the lease")
        try b.heartbeat(now: start.addingTimeInterval(26))
        #expect(try b.expireNodes(now: start.addingTimeInterval(26), lease: .seconds(15)) == 1)
        let nodes = try b.nodes()
        #expect(nodes.map(\.name) == ["node-a", "node-b"])
        #expect(nodes.map(\.state) == [.gone, .active])
        #expect(nodes.map(\.callsInProgress) == [0, 1])
        #expect(nodes[1].heartbeatAt == start.addingTimeInterval(26))
        #expect(try b.ticket(id: ofA)?.disposition == .interrupted)
        #expect(try b.ticket(id: ofB)?.disposition == nil)
        #expect(try a.expireNodes(now: start.addingTimeInterval(100), lease: .seconds(15)) == 1,
                "node-b, silent since 26, is gone for node-a at 100; a never expires itself")
        // A day later the gone nodes leave the cluster view (the sweeping node stays); their calls stay.
        try a.heartbeat(now: start.addingTimeInterval(86_500))
        _ = try a.expireNodes(now: start.addingTimeInterval(86_500), lease: .seconds(15))
        #expect(try a.nodes().map(\.name) == ["node-a"])
        #expect(try a.ticket(id: ofA)?.disposition == .interrupted)
        #expect(try a.ticket(id: ofB)?.disposition == .interrupted)
    }
}

@Suite struct PostgresNodeHeartbeatTests {
    @Test func theHeartbeatThreadStampsTheNodeWithItsClock() async throws {
        let database = try PostgresTestDatabase()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let store = try database.open(node: "node-h") { options in
            options.heartbeatInterval = .milliseconds(20)
            options.now = { clock.withLock { $0 } }
        }
        defer { store.close() }
        clock.withLock { $0 = Date(timeIntervalSince1970: 1_800_000_042) }
        #expect(try eventually { try store.nodes().first?.heartbeatAt == Date(timeIntervalSince1970: 1_800_000_042) })
        #expect(try store.nodes().map(\.state) == [.active])
    }

    @Test func scriptsSplitAtSemicolonsOutsideQuotesCommentsAndFunctionBodies() {
        let sql = """
            CREATE TABLE t (a text CHECK (a <> ';')); -- the caller's note; not a split
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
            SELECT 1
            """
        let statements = PostgresSession.statements(sql)
        #expect(statements.count == 3)
        #expect(statements[1].hasSuffix("END $$"))
        #expect(statements[2] == "SELECT 1")
    }
}

@Suite struct PostgresRetryTests {
    /// The connection drops after COMMIT succeeded, before its reply: the writer reconnects,
    /// finds its batch in committed_batches and does not apply it again (a retry would hit
    /// the primary key and fail every open, or call every finish already finished).
    @Test func aBatchWhoseCommitReplyWasLostIsNeitherLostNorDoubled() async throws {
        let database = try PostgresTestDatabase()
        let store = try database.open { $0.retryInitial = .milliseconds(10) }
        defer { store.close() }
        store.writerState.replyLossesToInject.withLock { $0 = 1 }
        let results = Mutex<[Result<Void, TicketStoreError>]>([])
        var ids: [TicketID] = []
        for _ in 0..<5 {
            let id = store.allocateID(at: monday())
            ids.append(id)
            store.open(arriving(id, at: monday())) { result in results.withLock { $0.append(result) } }
        }
        await store.flush()
        #expect(results.withLock { $0.count } == 5)
        #expect(results.withLock { $0 }.allSatisfy { (try? $0.get()) != nil }, "\(results.withLock { $0 })")
        #expect(store.health.reconnects == 1)
        store.writerState.replyLossesToInject.withLock { $0 = 1 }
        let outcome = CallOutcome(endedAt: monday(plus: 30), disposition: .callerHangup, sipStatus: 200)
        try await store.finishAndWait(id: ids[0], outcome: outcome).get()
        #expect(store.health.reconnects == 2)
        #expect(try database.count("SELECT count(*) FROM calls") == 5)
        #expect(try database.count("SELECT count(*) FROM calls WHERE disposition = 'caller_hangup'") == 1)
        #expect(store.metrics.writesFailed == 0)
    }
}

@Suite struct PostgresDeskTests {
    @Test func theDeskAppendsBesideARunningStoreWithTheStoresChecks() async throws {
        let database = try PostgresTestDatabase()
        let units = try UnitDirectory(units: [Unit(id: "ningxia", name: "宁夏回族自治区", kind: .region)])
        let store = try database.open { $0.units = units }
        defer { store.close() }
        let id = try await store.answeredCall(at: monday())
        let desk = try PostgresTicketDesk(url: database.url, policy: .standard(timeZone: shanghai))
        let order = try desk.append(TicketEvent(.dispatched(to: "ningxia"), at: monday(plus: 120), actor: "agent:1001"), to: id)
        #expect(order.status == .dispatched)
        #expect(order.signDeadline != nil)
        #expect(try store.workOrderDetail(id: id)?.events.map(\.event.kind) == [.accepted, .dispatched(to: "ningxia")])
        #expect(try store.workOrderDetail(id: id)?.dispatches.map(\.unit) == ["ningxia"])
        #expect(throws: TicketStoreError.unknownUnit("nowhere")) {
            try desk.append(TicketEvent(.dispatched(to: "nowhere"), at: monday(plus: 130), actor: "agent:1001"), to: id)
        }
        let missing = try TicketID(parsing: "20261102-000777")
        #expect(throws: TicketStoreError.workOrderNotFound(missing)) {
            try desk.append(TicketEvent(.handled, at: monday(plus: 130), actor: "agent:1001"), to: missing)
        }
    }
}
