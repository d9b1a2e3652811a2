// The `tickets` stage: one call's ticket writes through the real SQLite store (WAL, durability
// full, group-commit writer thread, WAL checkpointer), as `hotline tickets bench` and the server
// drive it: the answered call's ticket opened (the server sends its 200 OK once that commit is
// durable), then finished on the enterprise line with key 3, which opens its work order in the
// same transaction. One call at a time: each write is its own commit (the open an fsync'ed
// one; the finish, deferrable, waits its 20 ms for company and commits with relaxed sync),
// so this is the cost of a call on an idle server; under load group commit shares commits.

import Foundation
import Synchronization
import Tickets
import TicketsSQLite

final class TicketStage: Stage {
    /// What the writer thread reports back to the calling one.
    final class Commits: Sendable {
        let done = DispatchSemaphore(value: 0)
        let failures = Mutex<[String]>([])
        func callback(_ result: Result<Void, TicketStoreError>) {
            if case .failure(let error) = result { failures.withLock { $0.append("\(error)") } }
            done.signal()
        }
    }

    let directory: URL
    let store: SQLiteTicketStore
    let commits = Commits()
    let start = Date()
    var workOrdersBefore: UInt64 = 0

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hotline-stages-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The server's defaults: durability full, 20 ms deferral for finishes, standard policy.
        store = try SQLiteTicketStore(path: directory.appendingPathComponent("tickets.sqlite").path,
                                      options: SQLiteTicketStore.Options())
    }

    @inline(never)
    func call(_ index: Int) {
        let arrived = start + Double(index) / 1000
        let commits = self.commits
        // CallEngine.openTicket: the 200 OK waits for this commit.
        let id = store.allocateID(at: arrived)
        let ticket = CallTicket(id: id, callID: "\(index + 1)-4242@127.0.0.1", caller: String(13_000_000_000 + index),
                                dialled: "12345", arrivedAt: arrived, answeredAt: arrived, endedAt: nil, keys: "", menuPath: [],
                                businessLine: nil, category: nil, disposition: nil, sipStatus: 200,
                                dialplanVersion: "bench", direction: .inbound)
        store.open(ticket) { commits.callback($0) }
        commits.done.wait()
        // CallEngine's .finishTicket after the BYE: key 3, the enterprise line, completed in the IVR.
        let outcome = CallOutcome(answeredAt: arrived, unanswered: false, endedAt: arrived + 4.5, keys: "3",
                                  menuPath: ["bench_menu:3"], businessLine: "enterprise", category: nil,
                                  disposition: .completedInIVR, sipStatus: 200, resolution: nil, summary: [:],
                                  queue: nil, handedOff: false)
        store.finish(id: id, outcome: outcome) { commits.callback($0) }
        commits.done.wait()
    }

    func verify(calls: Int) -> String? {
        let failures = commits.failures.withLock { $0 }
        if !failures.isEmpty { return "\(failures.count) writes failed: \(failures.prefix(3))" }
        let metrics = store.metrics
        guard metrics.writesCommitted == 2 * UInt64(calls), metrics.workOrdersOpened == UInt64(calls) else {
            return "\(metrics.writesCommitted) writes committed, \(metrics.workOrdersOpened) work orders opened for \(calls) calls"
        }
        return nil
    }

    func finish() {
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }
}
