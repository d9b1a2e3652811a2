import Foundation
import Synchronization
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

/// Deferred writes on SQLite under `full` durability: their transaction skips its own fsync
/// (`synchronous = NORMAL` for it alone), and the writer's connection is back to FULL after.
/// (The queueing itself, on every backend, is TicketStoreTests' DeferredWriteTests.)
@Suite final class SQLiteDeferredSyncTests {
    let directory: TemporaryDirectory
    let noon = date(2026, 11, 29, 12)

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test func aFlushCommitsTheUrgentWritesFirstThenTheDeferredOnesWithoutTheirFsync() throws {
        let store = try SQLiteTicketStore(path: directory.path("mixed.sqlite"),
                                          options: .init(durability: .full, timeZone: shanghai, deferral: .seconds(10)))
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
        // The relaxed fsync was for that transaction only: the connection is back to FULL.
        #expect(try store.writerPragma("synchronous") == "2")
        #expect(try store.ticket(id: first.id)?.disposition == .callerHangup)
        #expect(try store.ticket(id: finished.id) != nil)
    }
}
