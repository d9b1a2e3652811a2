// Tickets: one durable row per SIP call (a "ticket"), written by one group-committing writer.
// This file: that writer. Callers enqueue and return; one thread commits whatever has queued
// up in one transaction, so under load one fsync (or one WAL append) serves many calls.

import Foundation
import GRDB

/// The single writer of a SQLite ticket database.
///
/// Callers append to a queue under a short lock and return. A dedicated thread waits for
/// the queue to be non-empty, takes everything in it, applies it in one `BEGIN IMMEDIATE`
/// transaction, commits, then calls each write's callback in submission order. While it
/// commits, new writes queue up and form the next batch, so batches grow with load without
/// any timer or batch-size knob, and an idle store commits each write at once.
///
/// Each write runs inside its own savepoint: a write the schema refuses is rolled back alone
/// and reported to its own callback, and the rest of the batch commits.
///
/// `@unchecked Sendable`: every mutable property is guarded by `condition`.
final class GroupCommitWriter: @unchecked Sendable {
    enum Operation {
        case open(CallTicket)
        case finish(TicketID, CallOutcome)
        case record(CallTicket)
        /// Writes nothing; its callback runs once everything queued before it is done.
        case barrier
    }

    private struct Pending {
        var operation: Operation
        var completion: TicketCommitCallback?
    }

    private let pool: DatabasePool
    private let onStop: @Sendable () -> Void
    private let condition = NSCondition()

    // Guarded by `condition`.
    private var queue: [Pending] = []
    private var accepting = true
    private var counters = TicketStoreMetrics()
    private var thread: Thread?
    private var finished = false

    /// Starts the writer thread. `onStop` runs on it after the last batch, once closed.
    init(pool: DatabasePool, onStop: @escaping @Sendable () -> Void) {
        self.pool = pool
        self.onStop = onStop
        let thread = Thread { [self] in run() }
        thread.name = "hotline-tickets-writer"
        self.thread = thread
        thread.start()
    }

    /// Queues a write. Never blocks beyond the queue lock. After ``close()``, fails the
    /// write at once on the calling thread.
    func submit(_ operation: Operation, completion: TicketCommitCallback?) {
        condition.lock()
        guard accepting else {
            condition.unlock()
            completion?(.failure(.closed))
            return
        }
        queue.append(Pending(operation: operation, completion: completion))
        if case .barrier = operation {} else { counters.writesSubmitted += 1 }
        condition.signal()
        condition.unlock()
    }

    var isAccepting: Bool {
        condition.lock()
        defer { condition.unlock() }
        return accepting
    }

    var metrics: TicketStoreMetrics {
        condition.lock()
        defer { condition.unlock() }
        var snapshot = counters
        snapshot.pendingWrites = Int(counters.writesSubmitted - counters.writesCommitted - counters.writesFailed)
        return snapshot
    }

    func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            submit(.barrier) { _ in continuation.resume() }
        }
    }

    func flushAndWait() {
        precondition(!isWriterThread, "flushAndWait() on the ticket writer thread would wait for itself")
        let done = DispatchSemaphore(value: 0)
        submit(.barrier) { _ in done.signal() }
        done.wait()
    }

    /// Stops accepting writes; the thread drains the queue, runs `onStop` and exits.
    /// Waits for that, unless called on the writer thread itself.
    func close() {
        guard !isWriterThread else {
            condition.lock()
            accepting = false
            condition.unlock()
            return
        }
        condition.lock()
        accepting = false
        condition.broadcast()
        while !finished {
            condition.wait()
        }
        condition.unlock()
    }

    private var isWriterThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return thread.map { $0 === Thread.current } ?? false
    }

    // MARK: - Writer thread

    private func run() {
        var batch: [Pending] = []
        while true {
            condition.lock()
            while queue.isEmpty && accepting {
                condition.wait()
            }
            if queue.isEmpty {
                // Closed and drained.
                thread = nil
                condition.unlock()
                break
            }
            // Swap buffers, so the two arrays' storage is reused batch after batch.
            swap(&batch, &queue)
            condition.unlock()
            execute(batch)
            batch.removeAll(keepingCapacity: true)
        }
        onStop()
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func execute(_ batch: [Pending]) {
        var results = [Result<Void, TicketStoreError>](repeating: .success(()), count: batch.count)
        let writeCount = batch.count { if case .barrier = $0.operation { false } else { true } }
        var committed = 0
        var transactionFailed = false
        if writeCount > 0 {
            do {
                try pool.writeWithoutTransaction { db in
                    try db.inTransaction(.immediate) {
                        for index in batch.indices {
                            do {
                                try db.inSavepoint {
                                    try Self.apply(batch[index].operation, in: db)
                                    return .commit
                                }
                            } catch {
                                results[index] = .failure(TicketStoreError(error))
                            }
                        }
                        return .commit
                    }
                }
            } catch {
                // The transaction itself failed (BEGIN, COMMIT, I/O, disk full): none of the
                // batch is durable, so every write that had not failed on its own fails now.
                transactionFailed = true
                let failure = TicketStoreError(error)
                for index in batch.indices where Self.isWrite(batch[index]) {
                    if case .success = results[index] { results[index] = .failure(failure) }
                }
            }
            committed = batch.indices.count { index in
                guard Self.isWrite(batch[index]), case .success = results[index] else { return false }
                return true
            }
        }
        if writeCount > 0 {
            condition.lock()
            counters.writesCommitted += UInt64(committed)
            counters.writesFailed += UInt64(writeCount - committed)
            if transactionFailed {
                counters.failedTransactions += 1
            } else {
                counters.commits += 1
                counters.lastCommitWrites = committed
                counters.maxCommitWrites = max(counters.maxCommitWrites, committed)
            }
            condition.unlock()
        }
        for index in batch.indices {
            batch[index].completion?(results[index])
        }
    }

    private static func isWrite(_ pending: Pending) -> Bool {
        if case .barrier = pending.operation { false } else { true }
    }

    private static func apply(_ operation: Operation, in db: Database) throws {
        switch operation {
        case .open(let ticket):
            guard ticket.disposition == nil, ticket.endedAt == nil else {
                throw TicketStoreError.invalidWrite(
                    ticket.id, reason: "open() takes a call in progress: no disposition, no ended_at; use record()")
            }
            try TicketSchema.insert(ticket, in: db)
        case .record(let ticket):
            guard ticket.disposition != nil else {
                throw TicketStoreError.invalidWrite(
                    ticket.id, reason: "record() takes a finished call: set its disposition, or use open()")
            }
            try TicketSchema.insert(ticket, in: db)
        case .finish(let id, let outcome):
            guard try TicketSchema.finish(id: id, outcome: outcome, in: db) else {
                throw try TicketSchema.finishFailure(id: id, in: db)
            }
        case .barrier:
            break
        }
    }
}
