import Foundation
import Synchronization
import Testing
import Tickets
import TicketsTestSupport

/// Writes nobody waits for (finish, record) queue apart and commit together once the oldest
/// has waited `deferral` or a flush asks; urgent writes never wait for them.
@Suite struct DeferredWriteTests {
    let noon = date(2026, 11, 29, 12)

    @Test(arguments: StoreBackend.allCases)
    func aFlushCommitsTheUrgentWritesFirstThenTheDeferredOnesWithoutTheirFsync(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(TestStoreOptions(deferral: .seconds(10), waitsForDisk: true))
        defer { store.close() }
        // Hold the writer in a callback so that what follows forms one batch.
        let writerHeld = DispatchSemaphore(value: 0)
        let releaseWriter = DispatchSemaphore(value: 0)
        let first = arrivingTicket(store.allocateID(at: noon), at: noon)
        store.open(first) { _ in
            writerHeld.signal()
            releaseWriter.wait()
        }
        writerHeld.wait()
        let before = store.metrics
        let order = Mutex<[String]>([])
        let finished = rejectedTicket(store.allocateID(at: noon), at: noon)
        let opened = arrivingTicket(store.allocateID(at: noon), at: noon)
        store.record(finished) { result in order.withLock { $0.append("record \(result.succeeded)") } }
        store.finish(id: first.id, outcome: CallOutcome(endedAt: noon.addingTimeInterval(5), disposition: .callerHangup)) { result in
            order.withLock { $0.append("finish \(result.succeeded)") }
        }
        store.open(opened) { result in order.withLock { $0.append("open \(result.succeeded)") } }
        releaseWriter.signal()
        store.flushAndWait()

        // The open (a 200 OK waits for it) is answered first, though submitted last; the
        // deferred ones follow in submission order, in a transaction of their own.
        #expect(order.withLock { $0 } == ["open true", "record true", "finish true"])
        let after = store.metrics
        #expect(after.commits == before.commits + 2)
        #expect(after.lastCommitWrites == 2)
        #expect(after.writesCommitted == before.writesCommitted + 3)
        // (That its transaction skipped its own fsync is a backend's matter: SQLiteDeferredSyncTests.)
        #expect(try store.ticket(id: first.id)?.disposition == .callerHangup)
        #expect(try store.ticket(id: finished.id) != nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func aDeferredWriteAloneWaitsForItsDeadlineThenCommits(_ backend: StoreBackend) async throws {
        let deferral = Duration.milliseconds(150)
        let database = try await TestDatabase(backend)
        let store = try database.open(TestStoreOptions(deferral: deferral, waitsForDisk: false))
        defer { store.close() }
        let ticket = rejectedTicket(store.allocateID(at: noon), at: noon)
        let submitted = ContinuousClock.now
        let waited: Duration = try await withCheckedThrowingContinuation { continuation in
            store.record(ticket) { result in
                switch result {
                case .success: continuation.resume(returning: ContinuousClock.now - submitted)
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        }
        // Nothing urgent came along, so it went alone at its deadline, not before.
        #expect(waited >= deferral, "\(waited)")
        #expect(store.metrics.commits == 1)
        #expect(try store.ticket(id: ticket.id) != nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func anUrgentWriteGoesAloneAndAFlushTakesTheDeferredOnes(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        // A deferral far longer than the test: on a loaded machine opening the database and one
        // commit have taken over 30 s, and the deferred write then went at its deadline.
        let store = try database.open(TestStoreOptions(deferral: .seconds(3600), waitsForDisk: true))
        defer { store.close() }
        let deferred = Mutex<Result<Void, TicketStoreError>?>(nil)
        let record = rejectedTicket(store.allocateID(at: noon), at: noon)
        store.record(record) { result in deferred.withLock { $0 = result } }
        let open = arrivingTicket(store.allocateID(at: noon), at: noon)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            store.open(open) { result in continuation.resume(with: result.mapError { $0 as Error }) }
        }
        // The open did not wait for, nor carry, the record queued before it (an hour's deferral).
        #expect(deferred.withLock { $0 } == nil)
        #expect(store.metrics.pendingWrites == 1)
        // A flush answers only once everything queued before it is committed.
        await store.flush()
        #expect(deferred.withLock { $0 }?.succeeded == true)
        #expect(store.metrics.writesCommitted == 2)
        #expect(try store.ticket(id: record.id) != nil)
    }
}
