// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the one writer. Callers enqueue and return; one thread commits whatever has queued
// up in one transaction, so under load one fsync (or one WAL append) serves many calls. The
// queue is the same for every backend; a ``TicketBatchCommitter`` does the storage.

import Foundation
import Synchronization
import Timers

/// The single writer of a ticket store.
///
/// Callers append to a queue under a short lock and return. A dedicated thread waits for
/// the queue to be non-empty, takes everything in it, hands it to the committer as one
/// transaction, then calls each write's callback in submission order. While it commits, new
/// writes queue up and form the next batch, so batches grow with load without any
/// batch-size knob.
///
/// Writes that nothing waits for — a call's finish, a refused call's record — are deferred,
/// like PostgreSQL's `synchronous_commit = off`: they queue apart and commit together once
/// the oldest has waited `deferral` (or `deferredBatch` of them are queued, or a flush asks),
/// in a transaction that may skip its own fsync (`relaxedSync`). With SQLite under `full`
/// durability they are written at once, so they survive a crash of the process from then
/// on; the next fsync'ed commit, or the WAL checkpointer's sync within half a second, makes
/// them survive a power cut. Every commit costs a log append and an fsync whatever it holds,
/// so this takes half of a call's commits off the disk and the writer's CPU, and the ticket
/// opens that hold a caller's 200 OK back never wait behind a batch of finishes. A crash in
/// the window leaves the call `interrupted`, the disposition every call in progress gets at
/// a crash.
///
/// A write the schema refuses is rolled back alone and reported to its own callback, and the
/// rest of the batch commits (the committer replays a failed batch with a savepoint per write).
///
/// `@unchecked Sendable`: every mutable property is guarded by `condition`.
public final class GroupCommitQueue<Committer: TicketBatchCommitter>: @unchecked Sendable {
    /// How the queue batches.
    public struct Configuration: Sendable {
        /// At most this many writes per transaction (benchmarks' "one commit per ticket");
        /// nil: everything queued. A cap disables deferral.
        public var maxBatch: Int?
        /// How long a deferrable write may wait for a ride (zero: never deferred).
        public var deferral: Duration
        /// This many deferred writes go at once, due or not.
        public var deferredBatch: Int
        /// Whether deferred writes are committed with `relaxedSync` (the store's commits wait
        /// for the disk, and a deferred write need not).
        public var relaxDeferredSync: Bool
        /// Where the writer records its latencies.
        public var timers: TicketWriterTimers
        /// Runs first on the writer thread (the server sets its scheduling there).
        public var onStart: (@Sendable () -> Void)?

        public init(maxBatch: Int? = nil, deferral: Duration = .milliseconds(20), deferredBatch: Int = 256,
                    relaxDeferredSync: Bool = false, timers: TicketWriterTimers = TicketWriterTimers(),
                    onStart: (@Sendable () -> Void)? = nil) {
            self.maxBatch = maxBatch
            self.deferral = deferral
            self.deferredBatch = deferredBatch
            self.relaxDeferredSync = relaxDeferredSync
            self.timers = timers
            self.onStart = onStart
        }
    }

    /// Who to tell once a write is committed or has failed.
    public enum Completion: Sendable {
        case plain(TicketCommitCallback?)
        case workOrder(WorkOrderCommitCallback)

        func callAsFunction(_ result: Result<WorkOrder?, TicketStoreError>) {
            switch self {
            case .plain(let callback):
                callback?(result.map { _ in () })
            case .workOrder(let callback):
                callback(result.flatMap { order in
                    order.map { .success($0) } ?? .failure(.invalidQuery("the write returned no work order"))
                })
            }
        }
    }

    private struct Pending {
        /// nil: a barrier, which writes nothing; its callback runs once everything queued
        /// before it is done.
        var write: TicketWrite?
        var completion: Completion
        /// Monotonic nanoseconds at submission.
        var submittedAt: UInt64
    }

    private let committer: Committer
    private let maxBatch: Int?
    private let deferralNanoseconds: UInt64
    private let deferredBatch: Int
    private let relaxDeferredSync: Bool
    private let condition = NSCondition()
    private let policyBox: Mutex<WorkOrderPolicy>

    // Guarded by `condition`.
    /// Writes somebody waits for (and barriers): the writer takes them as soon as it is free.
    private var queue: [Pending] = []
    /// Deferred writes, taken when the oldest is due, when there are enough, or at a barrier.
    private var deferredQueue: [Pending] = []
    private var accepting = true
    private var counters = TicketStoreMetrics()
    private let timers: TicketWriterTimers
    private var thread: Thread?
    private var finished = false

    /// Starts the writer thread. After the last batch, once closed, it calls the committer's
    /// ``TicketBatchCommitter/close()``.
    public init(committer: Committer, policy: WorkOrderPolicy, configuration: Configuration = Configuration()) {
        self.committer = committer
        self.timers = configuration.timers
        self.relaxDeferredSync = configuration.relaxDeferredSync
        self.maxBatch = configuration.maxBatch.map { max(1, $0) }
        // A cap on the batch is the benchmarks' "no batching" baseline: no deferral with it.
        self.deferralNanoseconds = configuration.maxBatch == nil
            ? UInt64(max(0, configuration.deferral.nanosecondsClamped)) : 0
        self.deferredBatch = max(1, configuration.deferredBatch)
        self.policyBox = Mutex(policy)
        let onStart = configuration.onStart
        let thread = Thread { [self] in
            // Set from the thread itself: on Linux that is what names it for top -H and perf.
            Thread.current.name = "hotline-tickets"
            onStart?()
            run()
        }
        self.thread = thread
        thread.start()
    }

    /// Queues a write. Never blocks beyond the queue lock. After ``close()``, fails the
    /// write at once on the calling thread.
    public func submit(_ write: TicketWrite, completion: TicketCommitCallback?) {
        submit(write, completion: .plain(completion))
    }

    public func submit(_ write: TicketWrite, completion: Completion) {
        enqueue(write, completion: completion)
    }

    private func enqueue(_ write: TicketWrite?, completion: Completion) {
        condition.lock()
        guard accepting else {
            condition.unlock()
            completion(.failure(.closed))
            return
        }
        let pending = Pending(write: write, completion: completion, submittedAt: DispatchTime.now().uptimeNanoseconds)
        if write != nil { counters.writesSubmitted += 1 }
        if deferralNanoseconds > 0, write?.isDeferrable == true {
            deferredQueue.append(pending)
            // The first deferred write sets the writer's deadline; a full batch goes at once.
            if deferredQueue.count == 1 || deferredQueue.count >= deferredBatch { condition.signal() }
        } else {
            queue.append(pending)
            condition.signal()
        }
        condition.unlock()
    }

    /// The rules later writes apply (SLA clocks, intake); writes already queued may still
    /// see the old ones if their batch has started.
    public var policy: WorkOrderPolicy {
        get { policyBox.withLock { $0 } }
        set { policyBox.withLock { $0 = newValue } }
    }

    public var isAccepting: Bool {
        condition.lock()
        defer { condition.unlock() }
        return accepting
    }

    public var metrics: TicketStoreMetrics {
        condition.lock()
        defer { condition.unlock() }
        var snapshot = counters
        snapshot.pendingWrites = Int(counters.writesSubmitted - counters.writesCommitted - counters.writesFailed)
        return snapshot
    }

    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enqueue(nil, completion: .plain { _ in continuation.resume() })
        }
    }

    public func flushAndWait() {
        precondition(!isWriterThread, "flushAndWait() on the ticket writer thread would wait for itself")
        let done = DispatchSemaphore(value: 0)
        enqueue(nil, completion: .plain { _ in done.signal() })
        done.wait()
    }

    /// Stops accepting writes; the thread drains the queue, closes the committer and exits.
    /// Waits for that, unless called on the writer thread itself.
    public func close() {
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
        // Two lists, as queued; their storage is reused batch after batch.
        var urgent: [Pending] = []
        var deferred: [Pending] = []
        var buffers = Buffers()
        while true {
            condition.lock()
            while queue.isEmpty && accepting {
                // Only deferred writes (or none): wait for an urgent one or the oldest's deadline.
                guard let oldest = deferredQueue.first?.submittedAt else {
                    condition.wait()
                    continue
                }
                let now = DispatchTime.now().uptimeNanoseconds
                let due = oldest &+ deferralNanoseconds
                if now >= due || deferredQueue.count >= deferredBatch { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(due - now) / 1e9))
            }
            if queue.isEmpty && deferredQueue.isEmpty {
                // Closed and drained.
                thread = nil
                condition.unlock()
                break
            }
            if let maxBatch, queue.count > maxBatch {
                urgent.append(contentsOf: queue.prefix(maxBatch))
                queue.removeFirst(maxBatch)
            } else {
                swap(&urgent, &queue)
            }
            // Deferred writes go when due or numerous enough, with a barrier (which must see
            // every write queued before it), and when closing. (No cap: a cap disables deferral.)
            if let oldest = deferredQueue.first?.submittedAt,
               !accepting || deferredQueue.count >= deferredBatch
                || DispatchTime.now().uptimeNanoseconds >= oldest &+ deferralNanoseconds
                || urgent.contains(where: { $0.write == nil }) {
                swap(&deferred, &deferredQueue)
            }
            condition.unlock()
            execute(urgent: urgent, deferred: deferred, buffers: &buffers)
            urgent.removeAll(keepingCapacity: true)
            deferred.removeAll(keepingCapacity: true)
        }
        committer.close()
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Commits a batch: first the writes somebody waits for, in one transaction whose
    /// callbacks run as soon as it is durable; then the deferred ones, if any, in a second
    /// that may skip its own fsync (`relaxDeferredSync`; see the type's documentation).
    /// Barriers answer last, after both.
    private func execute(urgent: [Pending], deferred: [Pending], buffers: inout Buffers) {
        if urgent.contains(where: { $0.write != nil }) {
            commit(urgent, relaxedSync: false, buffers: &buffers)
            var next = 0
            for pending in urgent where pending.write != nil {
                pending.completion(buffers.results[next])
                next += 1
            }
        }
        if !deferred.isEmpty {
            commit(deferred, relaxedSync: relaxDeferredSync, buffers: &buffers)
            for (pending, result) in zip(deferred, buffers.results) { pending.completion(result) }
        }
        for pending in urgent where pending.write == nil {
            pending.completion(.success(nil))
        }
    }

    /// The writes of a batch and their results, storage reused batch after batch.
    private struct Buffers {
        var writes: [TicketWrite] = []
        var results: [Result<WorkOrder?, TicketStoreError>] = []
    }

    /// One transaction over the writes of `batch` (barriers skipped); leaves their results,
    /// in order, in `buffers.results`.
    private func commit(_ batch: [Pending], relaxedSync: Bool, buffers: inout Buffers) {
        buffers.writes.removeAll(keepingCapacity: true)
        buffers.results.removeAll(keepingCapacity: true)
        var oldest: UInt64?
        for pending in batch {
            guard let write = pending.write else { continue }
            if oldest == nil { oldest = pending.submittedAt }
            buffers.writes.append(write)
            buffers.results.append(.success(nil))
        }
        let began = DispatchTime.now().uptimeNanoseconds
        let outcome = committer.commit(buffers.writes, relaxedSync: relaxedSync, policy: policy, results: &buffers.results)
        let committed = buffers.results.count { result in
            if case .success = result { true } else { false }
        }
        let ended = DispatchTime.now().uptimeNanoseconds
        // The timers have their own lock: recorded outside the queue's, which submitters wait for.
        timers.commitTime.recordNanoseconds(max(0, Int64(ended) - Int64(began)))
        if let oldest {
            timers.queueWait.recordNanoseconds(max(0, Int64(began) - Int64(oldest)))
        }
        condition.lock()
        counters.writesCommitted += UInt64(committed)
        counters.writesFailed += UInt64(buffers.writes.count - committed)
        if outcome.transactionFailed {
            counters.failedTransactions += 1
        } else {
            counters.workOrdersOpened += UInt64(outcome.effects.opened)
            counters.repeatCallsLinked += UInt64(outcome.effects.linked)
            counters.intakeFailures += UInt64(outcome.effects.intakeFailed)
            counters.commits += 1
            counters.lastCommitWrites = committed
            counters.maxCommitWrites = max(counters.maxCommitWrites, committed)
        }
        condition.unlock()
    }
}
