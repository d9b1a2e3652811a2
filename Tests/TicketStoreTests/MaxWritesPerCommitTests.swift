import Foundation
import Testing
import Tickets
import TicketsTestSupport

/// `Options.maxWritesPerCommit`: the benchmark's "one commit per ticket" baseline.
@Suite struct MaxWritesPerCommitTests {
    let noon = date(2026, 11, 29, 12)

    func flood(_ store: any HotlineStore, writes: Int) async {
        let results = Collector<Result<Void, TicketStoreError>>()
        let noon = self.noon
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<(writes / 8) {
                store.record(rejectedTicket(store.allocateID(at: noon), at: noon)) { results.append($0) }
            }
        }
        await store.flush()
        #expect(results.all.count == writes)
        #expect(results.all.allSatisfy { $0.succeeded })
    }

    @Test(arguments: StoreBackend.allCases)
    func oneWritePerCommitCommitsEachWriteAlone(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(TestStoreOptions(maxWritesPerCommit: 1))
        defer { store.close() }
        await flood(store, writes: 400)
        let metrics = store.metrics
        #expect(metrics.writesCommitted == 400)
        #expect(metrics.commits == 400, "one transaction per write")
        #expect(metrics.maxCommitWrites == 1)
        #expect(try store.list(limit: 1000).count == 400)
    }

    @Test(arguments: StoreBackend.allCases)
    func aCapBoundsEachBatchAndKeepsTheOrder(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(TestStoreOptions(maxWritesPerCommit: 8))
        defer { store.close() }
        // Opens then finishes of the same calls, submitted back to back: order must hold across batches.
        let ids = (0..<40).map { _ in store.allocateID(at: noon) }
        let results = Collector<Result<Void, TicketStoreError>>()
        for (index, id) in ids.enumerated() {
            store.open(arrivingTicket(id, callID: "cap-\(index)", at: noon)) { results.append($0) }
            store.finish(id: id, outcome: CallOutcome(endedAt: noon.addingTimeInterval(5), disposition: .callerHangup)) {
                results.append($0)
            }
        }
        await store.flush()
        #expect(results.all.count == 80)
        #expect(results.all.allSatisfy { $0.succeeded })
        #expect(store.metrics.maxCommitWrites <= 8)
        #expect(try store.list(limit: 100).allSatisfy { $0.disposition == .callerHangup })
    }

}
