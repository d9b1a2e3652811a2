// Tickets: calls, and the 12345 work orders they open, in SQLite behind intention-named APIs.
// This file: the one writer. Callers enqueue and return; one thread commits whatever has queued
// up in one transaction, so under load one fsync (or one WAL append) serves many calls.

import Foundation
import GRDB
import Synchronization
import Timers

/// The single writer of a SQLite ticket database.
///
/// Callers append to a queue under a short lock and return. A dedicated thread waits for
/// the queue to be non-empty, takes everything in it, applies it in one `BEGIN IMMEDIATE`
/// transaction, commits, then calls each write's callback in submission order. While it
/// commits, new writes queue up and form the next batch, so batches grow with load without
/// any batch-size knob.
///
/// Writes that nothing waits for — a call's finish, a refused call's record — are deferred,
/// like PostgreSQL's `synchronous_commit = off`: they queue apart and commit together once
/// the oldest has waited `deferral` (or `deferredBatch` of them are queued, or a flush asks),
/// in a transaction that skips its own fsync under `full` durability. Written at once, they
/// survive a crash of the process from then on; the next fsync'ed commit, or the WAL
/// checkpointer's sync within half a second, makes them survive a power cut. Every commit
/// costs a WAL append and (for `full`) an fsync whatever it holds, so this takes half of a
/// call's commits off the disk and the writer's CPU, and the ticket opens that hold a
/// caller's 200 OK back never wait behind a batch of finishes. A crash in the window leaves
/// the call `interrupted`, the disposition every call in progress gets at a crash.
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
        case createWorkOrder(WorkOrderIntake, TicketID)
        case appendEvent(TicketEvent, to: TicketID, scope: UnitID?)
        case linkCall(TicketID, to: TicketID, at: Date)
        case syncUnits(UnitDirectory)
        /// Writes nothing; its callback runs once everything queued before it is done.
        case barrier
    }

    /// Who to tell once a write is committed or has failed.
    enum Completion {
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
        var operation: Operation
        var completion: Completion
        /// Monotonic nanoseconds at submission.
        var submittedAt: UInt64
    }

    /// Whether anybody waits on this write's commit (see the type's documentation).
    private static func isDeferrable(_ operation: Operation) -> Bool {
        switch operation {
        case .finish, .record: true
        case .open, .createWorkOrder, .appendEvent, .linkCall, .syncUnits, .barrier: false
        }
    }

    /// What a write did besides its own row, for the counters.
    private struct Effects {
        var workOrder: WorkOrder?
        var opened = 0
        var linked = 0
        var intakeFailed = 0
    }

    private let pool: DatabasePool
    /// At most this many operations per transaction (benchmarks' "one commit per ticket");
    /// nil: everything queued.
    private let maxBatch: Int?
    /// How long a deferrable write may wait for a ride (zero: never deferred).
    private let deferralNanoseconds: UInt64
    private let deferredBatch: Int
    /// Whether commits fsync (durability `full`), so a deferred write may skip its own.
    private let relaxDeferredSync: Bool
    private let onStop: @Sendable () -> Void
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

    /// Starts the writer thread. `onStop` runs on it after the last batch, once closed.
    init(pool: DatabasePool, policy: WorkOrderPolicy, maxBatch: Int? = nil, deferral: Duration = .milliseconds(20),
         deferredBatch: Int = 256, fsyncsCommits: Bool = false, timers: TicketWriterTimers = TicketWriterTimers(),
         onStart: (@Sendable () -> Void)? = nil, onStop: @escaping @Sendable () -> Void) {
        self.timers = timers
        self.relaxDeferredSync = fsyncsCommits
        self.pool = pool
        self.maxBatch = maxBatch
        // A cap on the batch is the benchmarks' "no batching" baseline: no deferral with it.
        self.deferralNanoseconds = maxBatch == nil ? UInt64(max(0, deferral.nanosecondsClamped)) : 0
        self.deferredBatch = max(1, deferredBatch)
        self.policyBox = Mutex(policy)
        self.onStop = onStop
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
    func submit(_ operation: Operation, completion: TicketCommitCallback?) {
        submit(operation, completion: .plain(completion))
    }

    func submit(_ operation: Operation, completion: Completion) {
        condition.lock()
        guard accepting else {
            condition.unlock()
            completion(.failure(.closed))
            return
        }
        let pending = Pending(operation: operation, completion: completion, submittedAt: DispatchTime.now().uptimeNanoseconds)
        if case .barrier = operation {} else { counters.writesSubmitted += 1 }
        if deferralNanoseconds > 0, Self.isDeferrable(operation) {
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
    var policy: WorkOrderPolicy {
        get { policyBox.withLock { $0 } }
        set { policyBox.withLock { $0 = newValue } }
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
        // Two lists, as queued; their storage is reused batch after batch.
        var urgent: [Pending] = []
        var deferred: [Pending] = []
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
                || urgent.contains(where: { !Self.isWrite($0) }) {
                swap(&deferred, &deferredQueue)
            }
            condition.unlock()
            execute(urgent: urgent, deferred: deferred)
            urgent.removeAll(keepingCapacity: true)
            deferred.removeAll(keepingCapacity: true)
        }
        onStop()
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Commits a batch: first the writes somebody waits for, in one transaction whose
    /// callbacks run as soon as it is durable; then the deferred ones, if any, in a second
    /// that skips its own fsync (`relaxDeferredSync`; see the type's documentation). Barriers
    /// answer last, after both.
    private func execute(urgent: [Pending], deferred: [Pending]) {
        if urgent.contains(where: Self.isWrite) {
            let results = commit(urgent, relaxedSync: false)
            for (pending, result) in zip(urgent, results) where Self.isWrite(pending) { pending.completion(result) }
        }
        if !deferred.isEmpty {
            let results = commit(deferred, relaxedSync: relaxDeferredSync)
            for (pending, result) in zip(deferred, results) { pending.completion(result) }
        }
        for pending in urgent where !Self.isWrite(pending) {
            pending.completion(.success(nil))
        }
    }

    /// One transaction over the writes of `batch` (barriers skipped), each in its own
    /// savepoint; the results line up with `batch`.
    private func commit(_ batch: [Pending], relaxedSync: Bool) -> [Result<WorkOrder?, TicketStoreError>] {
        var results = [Result<WorkOrder?, TicketStoreError>](repeating: .success(nil), count: batch.count)
        let indices = batch.indices.filter { Self.isWrite(batch[$0]) }
        var effects = Effects()
        var transactionFailed = false
        let began = DispatchTime.now().uptimeNanoseconds
        let policy = self.policy
        do {
            try pool.writeWithoutTransaction { db in
                if relaxedSync { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                defer { if relaxedSync { try? db.execute(sql: "PRAGMA synchronous = FULL") } }
                try db.inTransaction(.immediate) {
                    for index in indices {
                        var writeEffects = Effects()
                        do {
                            do {
                                try db.inSavepoint {
                                    try Self.apply(batch[index].operation, policy: policy, intake: true,
                                                   effects: &writeEffects, in: db)
                                    return .commit
                                }
                            } catch is IntakeFailure {
                                // The call's work order could not be written (it should
                                // not happen): write the call alone rather than lose it.
                                writeEffects = Effects(intakeFailed: 1)
                                try db.inSavepoint {
                                    try Self.apply(batch[index].operation, policy: policy, intake: false,
                                                   effects: &writeEffects, in: db)
                                    return .commit
                                }
                            }
                            results[index] = .success(writeEffects.workOrder)
                            effects.opened += writeEffects.opened
                            effects.linked += writeEffects.linked
                            effects.intakeFailed += writeEffects.intakeFailed
                        } catch {
                            results[index] = .failure(TicketStoreError(error))
                        }
                    }
                    return .commit
                }
            }
        } catch {
            // The transaction itself failed (BEGIN, COMMIT, I/O, disk full): none of it is
            // durable, so every write that had not failed on its own fails now.
            transactionFailed = true
            let failure = TicketStoreError(error)
            for index in indices {
                if case .success = results[index] { results[index] = .failure(failure) }
            }
        }
        let committed = indices.count { index in
            if case .success = results[index] { true } else { false }
        }
        let ended = DispatchTime.now().uptimeNanoseconds
        // The timers have their own lock: recorded outside the queue's, which submitters wait for.
        timers.commitTime.recordNanoseconds(max(0, Int64(ended) - Int64(began)))
        if let oldest = indices.first.map({ batch[$0].submittedAt }) {
            timers.queueWait.recordNanoseconds(max(0, Int64(began) - Int64(oldest)))
        }
        condition.lock()
        counters.writesCommitted += UInt64(committed)
        counters.writesFailed += UInt64(indices.count - committed)
        if transactionFailed {
            counters.failedTransactions += 1
        } else {
            counters.workOrdersOpened += UInt64(effects.opened)
            counters.repeatCallsLinked += UInt64(effects.linked)
            counters.intakeFailures += UInt64(effects.intakeFailed)
            counters.commits += 1
            counters.lastCommitWrites = committed
            counters.maxCommitWrites = max(counters.maxCommitWrites, committed)
        }
        condition.unlock()
        return results
    }

    private static func isWrite(_ pending: Pending) -> Bool {
        if case .barrier = pending.operation { false } else { true }
    }

    /// Applies one write. With `intake`, a finished call that reached a business line goes
    /// through the intake rule too; an intake error is thrown as ``IntakeFailure`` so the
    /// caller can roll the write back and apply it again without intake.
    private static func apply(_ operation: Operation, policy: WorkOrderPolicy, intake: Bool, effects: inout Effects,
                              in db: Database) throws {
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
            if intake, ticket.businessLine != nil {
                try Self.intake(ticket, override: nil, policy: policy, effects: &effects, in: db)
            }
        case .finish(let id, let outcome):
            guard try TicketSchema.finish(id: id, outcome: outcome, in: db) else {
                throw try TicketSchema.finishFailure(id: id, in: db)
            }
            // Only a call that reached a business line concerns a work order.
            if intake, outcome.businessLine != nil,
               let call = try TicketSchema.finishedForIntake(id: id, outcome: outcome, in: db)
            {
                try Self.intake(call, override: outcome.resolution, summary: outcome.summary, policy: policy, effects: &effects, in: db)
            }
        case .createWorkOrder(let intake, let id):
            effects.workOrder = try WorkOrderSchema.create(intake, id: id, in: db)
            effects.opened += 1
        case .appendEvent(let event, let id, let scope):
            effects.workOrder = try WorkOrderSchema.append(event, to: id, scope: scope, policy: policy.sla, in: db)
        case .linkCall(let call, let id, let at):
            try WorkOrderSchema.link(call: call, to: id, at: at, reason: .manual, in: db)
            effects.workOrder = try WorkOrderQueries.workOrder(id: id, in: db)
        case .syncUnits(let directory):
            try WorkOrderSchema.syncUnits(directory, in: db)
        case .barrier:
            break
        }
    }

    /// Runs the intake rule for a finished call. If it fails (it should not), the error comes
    /// out as ``IntakeFailure``: ``execute(_:)`` then writes the call without its work order —
    /// a call never loses its ticket over its work order — and counts the failure in
    /// ``TicketStoreMetrics/intakeFailures``. (No savepoint of its own: on the hot path that
    /// would double the savepoints per call.)
    private static func intake(_ call: CallTicket, override: CallResolution?, summary: [String: String] = [:],
                               policy: WorkOrderPolicy, effects: inout Effects, in db: Database) throws {
        let effect: WorkOrderSchema.IntakeEffect
        do {
            effect = try WorkOrderSchema.intake(call, override: override, summary: summary, policy: policy, in: db)
        } catch {
            throw IntakeFailure(underlying: error)
        }
        switch effect {
        case .none: break
        case .opened: effects.opened += 1
        case .linked: effects.linked += 1
        }
    }
}

/// Intake of a call into a work order failed; the call itself is fine.
private struct IntakeFailure: Error {
    var underlying: any Error
}
