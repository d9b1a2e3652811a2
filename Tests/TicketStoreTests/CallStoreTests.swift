import Foundation
import Synchronization
import Testing
@testable import Tickets  // TicketID(unchecked:), to forge ids the schema must refuse
import TicketsTestSupport

/// Calls' tickets in a store, on every backend: round trips, numbering across restarts,
/// visibility, group commit, the schema's refusals.
@Suite struct CallStoreTests {
    let noon = date(2026, 11, 29, 12)

    // MARK: - Round trips

    @Test(arguments: StoreBackend.allCases)
    func opensThenFinishesATicket(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        let id = store.allocateID(at: noon)
        #expect(id.rawValue == "20261129-000001")
        var ticket = arrivingTicket(id, at: noon)
        ticket.answeredAt = noon.addingTimeInterval(0.120)

        #expect(await store.openAndWait(ticket).succeeded)
        let open = try #require(try store.ticket(id: id))
        #expect(open == ticket)
        #expect(open.isInProgress)

        let outcome = CallOutcome(
            endedAt: noon.addingTimeInterval(95.5), keys: "13", menuPath: ["language_menu:1", "main_menu:3"],
            businessLine: "enterprise", category: .complaint, disposition: .completedInIVR, sipStatus: 200)
        #expect(await store.finishAndWait(id: id, outcome: outcome).succeeded)
        let finished = try #require(try store.ticket(id: id))
        #expect(finished == ticket.finished(with: outcome))
        #expect(finished.answeredAt == ticket.answeredAt, "a nil answeredAt keeps the opened value")
        #expect(finished.answeredAt.map(TicketTimestamp.format) == "2026-11-29T04:00:00.120Z")
        #expect(finished.menuPath == ["language_menu:1", "main_menu:3"])
        #expect(try store.list(limit: 10) == [finished])
    }

    /// A call opened as answered whose 200 OK never left (CANCEL or BYE during the commit):
    /// its ticket must not count it as answered.
    @Test(arguments: StoreBackend.allCases)
    func anUnansweredOutcomeClearsTheAnswerTheTicketWasOpenedWith(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        let id = store.allocateID(at: noon)
        var ticket = arrivingTicket(id, at: noon)
        ticket.answeredAt = noon.addingTimeInterval(0.120)
        #expect(await store.openAndWait(ticket).succeeded)

        let outcome = CallOutcome(unanswered: true, endedAt: noon.addingTimeInterval(0.2), disposition: .cancelled, sipStatus: 487)
        #expect(await store.finishAndWait(id: id, outcome: outcome).succeeded)
        let finished = try #require(try store.ticket(id: id))
        #expect(finished.answeredAt == nil)
        #expect(finished.disposition == .cancelled)
        #expect(finished.sipStatus == 487)
        #expect(finished == ticket.finished(with: outcome))
    }

    @Test(arguments: StoreBackend.allCases)
    func keepsWhatTheQueuesDidWithACall(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        // Answered by an agent after an overflow.
        let id = store.allocateID(at: noon)
        var ticket = arrivingTicket(id, at: noon)
        ticket.answeredAt = noon.addingTimeInterval(0.1)
        #expect(await store.openAndWait(ticket).succeeded)
        let answered = QueueOutcome(queue: "operator", agent: "a1001", enqueuedAt: noon.addingTimeInterval(4.5),
                                    agentAnsweredAt: noon.addingTimeInterval(40.25), waitMilliseconds: 35_750,
                                    talkMilliseconds: 120_000, overflowed: true)
        let outcome = CallOutcome(endedAt: noon.addingTimeInterval(160.25), disposition: .callerHangup, sipStatus: 200, queue: answered)
        #expect(await store.finishAndWait(id: id, outcome: outcome).succeeded)
        #expect(try store.ticket(id: id)?.queue == answered)

        // Abandoned: recorded in one go (a call that was never answered by the IVR cannot
        // queue, but the store does not care), and read back from the list.
        var abandoned = rejectedTicket(store.allocateID(at: noon), at: noon)
        abandoned.queue = QueueOutcome(queue: "heating", enqueuedAt: noon, waitMilliseconds: 0, abandoned: true)
        #expect(await store.recordAndWait(abandoned).succeeded)
        #expect(try store.list(limit: 10).first { $0.id == abandoned.id } == abandoned)

        // The schema refuses nonsense: an agent answering before the caller queued, a talk
        // time with no agent, an abandoned call that an agent answered.
        func refused(_ change: (inout QueueOutcome) -> Void) async -> Bool {
            var bad = rejectedTicket(store.allocateID(at: noon), at: noon)
            var visit = QueueOutcome(queue: "operator", enqueuedAt: noon.addingTimeInterval(1))
            change(&visit)
            bad.queue = visit
            if case .constraintViolated? = await store.recordAndWait(bad).error { return true }
            return false
        }
        #expect(await refused { $0.agent = "a1"; $0.agentAnsweredAt = noon })
        #expect(await refused { $0.talkMilliseconds = 5 })
        #expect(await refused { $0.agent = "a1"; $0.agentAnsweredAt = noon.addingTimeInterval(2); $0.abandoned = true })
        #expect(await refused { $0.waitMilliseconds = -1 })
        #expect(await refused { $0.enqueuedAt = noon.addingTimeInterval(-1) })
    }

    @Test(arguments: StoreBackend.allCases)
    func recordsARejectedCallInOneGo(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        let ticket = rejectedTicket(store.allocateID(at: noon), at: noon, status: 488)
        #expect(await store.recordAndWait(ticket).succeeded)
        let stored = try #require(try store.ticket(id: ticket.id))
        #expect(stored == ticket)
        #expect(stored.disposition == .rejected)
        #expect(stored.sipStatus == 488)
        #expect(stored.answeredAt == nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func finishingTwiceOrUnknownTicketsFails(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        let id = store.allocateID(at: noon)
        let outcome = CallOutcome(endedAt: noon.addingTimeInterval(5), disposition: .callerHangup, sipStatus: 200)
        #expect(await store.finishAndWait(id: id, outcome: outcome).error == .ticketNotFound(id))
        #expect(await store.openAndWait(arrivingTicket(id, at: noon)).succeeded)
        #expect(await store.finishAndWait(id: id, outcome: outcome).succeeded)
        var second = outcome
        second.disposition = .noInput
        #expect(await store.finishAndWait(id: id, outcome: second).error == .alreadyFinished(id))
        #expect(try store.ticket(id: id)?.disposition == .callerHangup)
    }

    @Test(arguments: StoreBackend.allCases)
    func refusesWritesThatDoNotFitTheCallState(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        let inProgress = arrivingTicket(store.allocateID(at: noon), at: noon)
        let finished = rejectedTicket(store.allocateID(at: noon), at: noon)
        guard case .invalidWrite(let id, _) = await store.recordAndWait(inProgress).error else {
            Issue.record("record() of a ticket without disposition must fail")
            return
        }
        #expect(id == inProgress.id)
        guard case .invalidWrite = await store.openAndWait(finished).error else {
            Issue.record("open() of a finished ticket must fail")
            return
        }
        #expect(try store.list(limit: 10).isEmpty)
    }

    @Test(arguments: StoreBackend.allCases)
    func listsNewestFirstWithLimitAndSince(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        let arrivals = [noon, noon.addingTimeInterval(60), noon.addingTimeInterval(-60), noon.addingTimeInterval(120)]
        for arrival in arrivals {
            store.record(rejectedTicket(store.allocateID(at: arrival), at: arrival))
        }
        await store.flush()
        #expect(try store.list(limit: 10).map(\.arrivedAt) == arrivals.sorted(by: >))
        #expect(try store.list(limit: 2).map(\.arrivedAt) == [noon.addingTimeInterval(120), noon.addingTimeInterval(60)])
        #expect(try store.list(limit: 10, since: noon).map(\.arrivedAt)
            == [noon.addingTimeInterval(120), noon.addingTimeInterval(60), noon])
    }

    // MARK: - Numbering across restarts

    @Test(arguments: StoreBackend.allCases)
    func continuesNumberingAfterReopening(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        do {
            let store = try database.open()
            for _ in 0..<3 {
                store.record(rejectedTicket(store.allocateID(at: noon), at: noon))
            }
            // Allocated but never written: nothing on disk remembers it.
            _ = store.allocateID(at: noon)
            store.close()
        }
        let reopened = try database.open()
        defer { reopened.close() }
        #expect(reopened.allocateID(at: noon).rawValue == "20261129-000004")
        #expect(reopened.allocateID(at: date(2026, 11, 28, 23, 59, 59)).rawValue == "20261128-000001")
        #expect(reopened.allocateID(at: date(2026, 11, 30, 0, 0, 1)).rawValue == "20261130-000001")
        #expect(reopened.allocateID(at: noon).rawValue == "20261129-000005")
    }

    @Test(arguments: StoreBackend.allCases)
    func seedsEachRecentDayNumerically(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        do {
            let store = try database.open()
            let yesterday = date(2026, 11, 28, 12)
            let big = try TicketID(year: 2026, month: 11, day: 28, sequence: 1_000_000)
            #expect(await store.recordAndWait(rejectedTicket(try TicketID(parsing: "20261128-999999"), at: yesterday)).succeeded)
            #expect(await store.recordAndWait(rejectedTicket(big, at: yesterday)).succeeded)
            #expect(await store.recordAndWait(rejectedTicket(try TicketID(parsing: "20261129-000007"), at: noon)).succeeded)
            store.close()
        }
        let reopened = try database.open()
        defer { reopened.close() }
        #expect(reopened.allocateID(at: date(2026, 11, 28, 13)).rawValue == "20261128-1000001")
        #expect(reopened.allocateID(at: noon).rawValue == "20261129-000008")
    }

    // MARK: - Durability and visibility

    @Test(arguments: StoreBackend.allCases)
    func commitCallbackRunsOnlyOnceTheRowIsVisibleToAnotherConnection(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        // Make the file exist with its schema before the reader opens it.
        await store.flush()
        let reader = try database.reader()
        let seen = Collector<Bool>()
        let tickets = (0..<50).map { _ in arrivingTicket(store.allocateID(at: noon), at: noon) }
        for ticket in tickets {
            store.open(ticket) { result in
                // On the writer thread, right after the commit, through a separate connection.
                let visible = (try? reader.ticket(id: ticket.id)) == ticket
                seen.append(result.succeeded && visible)
            }
        }
        await store.flush()
        #expect(seen.all.count == 50)
        #expect(seen.all.allSatisfy { $0 })
    }



    // MARK: - Group commit

    @Test(arguments: StoreBackend.allCases)
    func groupsConcurrentWritesIntoFewCommits(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        let results = Collector<Result<Void, TicketStoreError>>()
        let ids = Collector<TicketID>()
        let noon = self.noon
        DispatchQueue.concurrentPerform(iterations: 16) { thread in
            for index in 0..<125 {
                let id = store.allocateID(at: noon)
                ids.append(id)
                // Half the calls are answered (open, later finish), half rejected (record).
                if index.isMultiple(of: 2) {
                    store.open(arrivingTicket(id, callID: "call-\(thread)-\(index)", at: noon)) { results.append($0) }
                } else {
                    store.record(rejectedTicket(id, at: noon)) { results.append($0) }
                }
            }
        }
        await store.flush()

        #expect(results.all.count == 2000)
        #expect(results.all.allSatisfy { $0.succeeded })
        #expect(Set(ids.all).count == 2000)
        #expect(try store.list(limit: 5000).count == 2000)
        let metrics = store.metrics
        #expect(metrics.writesSubmitted == 2000)
        #expect(metrics.writesCommitted == 2000)
        #expect(metrics.writesFailed == 0)
        #expect(metrics.pendingWrites == 0)
        #expect(metrics.commits < metrics.writesCommitted)
        #expect(metrics.maxCommitWrites > 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func commitsAloneWhenIdle(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        for _ in 0..<3 {
            #expect(await store.recordAndWait(rejectedTicket(store.allocateID(at: noon), at: noon)).succeeded)
        }
        let metrics = store.metrics
        #expect(metrics.commits == 3)
        #expect(metrics.lastCommitWrites == 1)
        #expect(metrics.maxCommitWrites == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func aRefusedWriteFailsAloneInItsBatch(_ backend: StoreBackend) async throws {
        // No deferral: the record()s and the open() must share the one transaction under test.
        let database = try await TestDatabase(backend)
        let store = try database.open(TestStoreOptions(deferral: .zero))
        defer { store.close() }
        let first = rejectedTicket(store.allocateID(at: noon), at: noon)
        // Hold the writer inside the first write's callback while the next writes queue up,
        // so that they are certain to share one transaction.
        let writerHeld = DispatchSemaphore(value: 0)
        let releaseWriter = DispatchSemaphore(value: 0)
        store.record(first) { _ in
            writerHeld.signal()
            releaseWriter.wait()
        }
        writerHeld.wait()
        let before = store.metrics

        let good1 = rejectedTicket(store.allocateID(at: noon), at: noon)
        let good2 = arrivingTicket(store.allocateID(at: noon), at: noon)
        let results = Mutex<[String: Result<Void, TicketStoreError>]>([:])
        store.record(good1) { result in results.withLock { $0["good1"] = result } }
        store.record(first) { result in results.withLock { $0["duplicate"] = result } }  // same id again
        store.open(good2) { result in results.withLock { $0["good2"] = result } }
        #expect(store.metrics.pendingWrites == 3)
        releaseWriter.signal()
        store.flushAndWait()

        let after = store.metrics
        #expect(after.commits == before.commits + 1, "the three writes shared one transaction")
        #expect(after.lastCommitWrites == 2)
        #expect(after.writesCommitted == 3)
        #expect(after.writesFailed == 1)
        let outcome = results.withLock { $0 }
        #expect(outcome["good1"]?.succeeded == true)
        #expect(outcome["good2"]?.succeeded == true)
        // SQLite: "UNIQUE constraint failed: calls.id"; PostgreSQL: "... violates unique constraint ...".
        #expect(outcome["duplicate"]?.error?.constraintMessage?.lowercased().contains("unique") == true)
        #expect(try store.ticket(id: good1.id) == good1)
        #expect(try store.ticket(id: good2.id) == good2)
        #expect(try store.list(limit: 10).count == 3)
    }

    // MARK: - Schema constraints

    @Test(arguments: StoreBackend.allCases)
    func schemaRefusesBadData(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        defer { store.close() }
        func ticket(_ change: (inout CallTicket) -> Void) -> CallTicket {
            var ticket = rejectedTicket(store.allocateID(at: noon), at: noon)
            change(&ticket)
            return ticket
        }
        let cases: [(String, CallTicket)] = [
            ("sip_status_final", ticket { $0.sipStatus = 42 }),
            ("sip_status_final", ticket { $0.sipStatus = 180 }),
            ("ended_after_arrival", ticket { $0.endedAt = noon.addingTimeInterval(-1) }),
            ("answered_after_arrival", ticket { $0.answeredAt = noon.addingTimeInterval(-1) }),
            ("ended_after_answer", ticket {
                $0.answeredAt = noon.addingTimeInterval(10)
                $0.endedAt = noon.addingTimeInterval(5)
            }),
            ("disposition_not_empty", ticket { $0.disposition = CallDisposition("") }),
            ("category_not_empty", ticket { $0.category = TicketCategory("") }),
            ("business_line_not_empty", ticket { $0.businessLine = "" }),
            ("keys_dtmf", ticket { $0.keys = "1x" }),
            ("call_id_not_empty", ticket { $0.callID = "" }),
            ("id_format", ticket { $0.id = TicketID(unchecked: "20261329-000001", dayStamp: 20_261_329, sequence: 1) }),
            ("id_format", ticket { $0.id = TicketID(unchecked: "20261129-0000001", dayStamp: 20_261_129, sequence: 1) }),
            ("id_format", ticket { $0.id = TicketID(unchecked: "20261129-000000", dayStamp: 20_261_129, sequence: 0) }),
        ]
        for (constraint, bad) in cases {
            let error = await store.recordAndWait(bad).error
            #expect(error?.constraintMessage?.contains(constraint) == true, "\(constraint): \(String(describing: error))")
        }

        // The same rules hold when finishing: an end before the arrival is refused.
        let open = arrivingTicket(store.allocateID(at: noon), at: noon)
        #expect(await store.openAndWait(open).succeeded)
        let early = CallOutcome(endedAt: noon.addingTimeInterval(-3), disposition: .callerHangup)
        #expect(await store.finishAndWait(id: open.id, outcome: early).error?.constraintMessage?
            .contains("ended_after_arrival") == true)

        // Valid DTMF and every field set pass.
        let good = ticket {
            $0.keys = "0123456789*#ABCD"
            $0.category = .help
            $0.businessLine = "enterprise"
        }
        #expect(await store.recordAndWait(good).succeeded)
        #expect(try store.list(limit: 100).map(\.id) == [good.id, open.id])
        #expect(store.metrics.writesFailed == UInt64(cases.count + 1))
    }

    // MARK: - Opening




    @Test(arguments: StoreBackend.allCases)
    func closedStoreRefusesWritesAtOnce(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open()
        store.close()
        let result = Mutex<Result<Void, TicketStoreError>?>(nil)
        store.record(rejectedTicket(store.allocateID(at: noon), at: noon)) { outcome in
            result.withLock { $0 = outcome }
        }
        // The callback ran synchronously: there is no writer left to run it.
        #expect(result.withLock { $0 }?.error == .closed)
        #expect(throws: TicketStoreError.closed) { try store.list(limit: 1) }
        store.flushAndWait()  // returns at once instead of waiting for a writer that is gone
        store.close()  // closing twice is harmless
    }
}
