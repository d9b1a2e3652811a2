// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: how a batch of the group-commit queue becomes one PostgreSQL transaction, and
// what the writer does while PostgreSQL is away (retry with backoff, reconnect, never lose
// or double a write).

import Foundation
import PostgresNIO
import Synchronization
import Tickets

/// The writer's connection state, shared with the store (admission, /health, /metrics).
final class PostgresWriterState: Sendable {
    struct Snapshot: Sendable {
        var connected = false
        var reconnects: UInt64 = 0
        var lastError: String?
        var closing = false
    }

    let snapshot = Mutex(Snapshot())
    /// Tests: how many of the next commits lose their reply (the connection is dropped right
    /// after COMMIT succeeded), to exercise the lookup in `committed_batches`.
    let replyLossesToInject = Mutex(0)

    func takeInjectedReplyLoss() -> Bool {
        replyLossesToInject.withLock { count in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
    }
    /// Called (on the writer thread) each time the writer finds PostgreSQL unreachable.
    let onDown: Mutex<(@Sendable () -> Void)?> = Mutex(nil)

    func markUp(reconnected: Bool) {
        snapshot.withLock {
            if reconnected { $0.reconnects += 1 }
            $0.connected = true
        }
    }

    func markDown(_ error: String) {
        snapshot.withLock {
            $0.connected = false
            $0.lastError = error
        }
        onDown.withLock { $0 }?()
    }
}

/// Commits the queue's batches on the writer's own connection: one transaction per batch,
/// the batch's opens in one multi-row INSERT (so no call waits on another call's round trip).
/// The other writes go without savepoints; if one fails, the transaction is rolled back and
/// the batch replayed with a savepoint per write (so a write the schema refuses fails alone).
///
/// PostgreSQL unreachable (refused, lost, restarted): the batch is retried with exponential
/// backoff until it commits, reconnecting each time; meanwhile the queue keeps accepting
/// writes (the store bounds it). A batch writes its id into `committed_batches` in its own
/// transaction: if the connection is lost after COMMIT was sent, the retry first looks the id
/// up, and if it is there the batch committed and is not applied again.
final class PostgresBatchCommitter: TicketBatchCommitter, @unchecked Sendable {
    struct Backoff: Sendable {
        var initial: Duration = .milliseconds(100)
        var maximum: Duration = .seconds(5)
    }

    let url: PostgresURL
    let node: String
    let state: PostgresWriterState
    let backoff: Backoff
    /// Only the writer thread touches it (`@unchecked Sendable`).
    private var session: PostgresSession?
    private var batches = 0

    /// A commit unanswered this long means the connection is dead (a healthy one answers in
    /// milliseconds): it is closed and the writer reconnects, its writes kept in the queue.
    static let roundTripLimit: TimeAmount = .seconds(10)

    init(url: PostgresURL, node: String, session: PostgresSession, state: PostgresWriterState, backoff: Backoff) {
        self.url = url
        self.node = node
        session.roundTripLimit = Self.roundTripLimit
        self.session = session
        self.state = state
        self.backoff = backoff
        state.markUp(reconnected: false)
    }

    private struct ConnectionLost: Error {
        var underlying: any Error
        /// COMMIT was sent: the batch may have committed.
        var commitSent: Bool
        /// What the batch did, if it turns out committed (for the counters).
        var outcome = TicketBatchOutcome()
    }

    func commit(_ writes: [TicketWrite], relaxedSync: Bool, policy: WorkOrderPolicy,
                results: inout [Result<WorkOrder?, TicketStoreError>]) -> TicketBatchOutcome {
        let batch = UUID().uuidString
        let initial = results
        var delay = backoff.initial
        // The results and outcome of an attempt whose COMMIT was sent and whose reply was lost.
        var uncertain: ([Result<WorkOrder?, TicketStoreError>], TicketBatchOutcome)?
        var reconnecting = false
        while true {
            do {
                let session = try connected(reconnecting: reconnecting)
                if let (attemptResults, outcome) = uncertain {
                    if try !session.query("SELECT 1 FROM committed_batches WHERE batch = $1", [.text(batch)]).isEmpty {
                        results = attemptResults
                        return outcome
                    }
                    uncertain = nil
                }
                var attempt = initial
                do {
                    let outcome: TicketBatchOutcome
                    do {
                        outcome = try run(writes, batch: batch, relaxedSync: relaxedSync, policy: policy, savepoints: false,
                                          results: &attempt, session: session)
                    } catch is WriteFailed {
                        // A write failed with no savepoint to roll back to: the batch again, each
                        // write in its own savepoint, so that one fails alone.
                        do {
                            try session.script("ROLLBACK")
                        } catch where PostgresSession.isConnectionFailure(error) {
                            throw ConnectionLost(underlying: error, commitSent: false)
                        }
                        attempt = initial
                        outcome = try run(writes, batch: batch, relaxedSync: relaxedSync, policy: policy, savepoints: true,
                                          results: &attempt, session: session)
                    }
                    results = attempt
                    return outcome
                } catch let lost as ConnectionLost {
                    if lost.commitSent { uncertain = (attempt, lost.outcome) }
                    throw lost
                }
            } catch let lost as ConnectionLost {
                dropSession(PostgresSession.describe(lost.underlying))
                if state.snapshot.withLock(\.closing) {
                    // The store is closing and PostgreSQL is still away: the writes that are
                    // left cannot be written; they fail (and are counted) rather than hang
                    // the shutdown forever.
                    var outcome = TicketBatchOutcome()
                    outcome.transactionFailed = true
                    results = initial
                    let failure = TicketStoreError.database(
                        code: -4, message: "PostgreSQL unreachable at shutdown: \(PostgresSession.describe(lost.underlying))")
                    for index in results.indices { results[index] = .failure(failure) }
                    return outcome
                }
            } catch {
                // The transaction failed as a whole for another reason (BEGIN or COMMIT
                // refused): none of it is durable, as with SQLite.
                try? self.session?.script("ROLLBACK")
                var outcome = TicketBatchOutcome()
                outcome.transactionFailed = true
                let failure = TicketStoreError.postgres(error)
                results = initial
                for index in results.indices { results[index] = .failure(failure) }
                return outcome
            }
            reconnecting = true
            Thread.sleep(forTimeInterval: delay.timeInterval)
            delay = min(delay * 2, backoff.maximum)
        }
    }

    /// The writer's session, connecting if there is none (a failure is ``ConnectionLost``).
    private func connected(reconnecting: Bool) throws -> PostgresSession {
        if let session, !session.isClosed { return session }
        do {
            let session = try PostgresSession.connect(url)
            session.roundTripLimit = Self.roundTripLimit
            self.session = session
            state.markUp(reconnected: true)
            return session
        } catch {
            throw ConnectionLost(underlying: error, commitSent: false)
        }
    }

    private func dropSession(_ reason: String) {
        session?.close()
        session = nil
        state.markDown(reason)
    }

    /// A write failed in an attempt without savepoints: the transaction is aborted, and the
    /// batch is to be replayed with them.
    private struct WriteFailed: Error {}

    /// One attempt: the whole batch in one transaction. Connection failures are rethrown as
    /// ``ConnectionLost``; anything else fails the batch. A write's own failure is its result
    /// with `savepoints` (each write in one, two round trips more per write); without, it
    /// ends the attempt with ``WriteFailed``, its transaction left open and aborted.
    private func run(_ writes: [TicketWrite], batch: String, relaxedSync: Bool, policy: WorkOrderPolicy, savepoints: Bool,
                     results: inout [Result<WorkOrder?, TicketStoreError>], session: PostgresSession) throws
        -> TicketBatchOutcome {
        func guarded<T>(_ body: () throws -> T) throws -> T {
            do {
                return try body()
            } catch let error where PostgresSession.isConnectionFailure(error) {
                throw ConnectionLost(underlying: error, commitSent: false)
            }
        }
        var outcome = TicketBatchOutcome()
        // A deferred batch (finishes, records) need not wait for the WAL flush, like SQLite's
        // relaxed sync; everything a caller's 200 OK waits on is synchronous_commit = on.
        try guarded {
            try session.script(relaxedSync
                ? "BEGIN; SET LOCAL synchronous_commit = off" : "BEGIN; SET LOCAL synchronous_commit = on")
            try session.execute("INSERT INTO committed_batches (batch, node) VALUES ($1, $2)", [.text(batch), .text(node)])
        }
        let transaction = PostgresWriteTransaction(session: session, node: node)
        var handled = Set<Int>()
        try guarded {
            handled = try insertOpens(writes, in: transaction, session: session)
        }
        for index in handled { results[index] = .success(nil) }
        for index in writes.indices where !handled.contains(index) {
            if !savepoints {
                let effects: TicketWriteEffects
                do {
                    effects = try TicketWriteRules.apply(writes[index], policy: policy, intake: true, in: transaction)
                } catch let error where PostgresSession.isConnectionFailure(error) {
                    throw ConnectionLost(underlying: error, commitSent: false)
                } catch {
                    throw WriteFailed()
                }
                results[index] = .success(effects.workOrder)
                outcome.effects.opened += effects.opened
                outcome.effects.linked += effects.linked
                outcome.effects.intakeFailed += effects.intakeFailed
                continue
            }
            do {
                let effects = try TicketWriteRules.apply(writes[index], policy: policy, in: transaction) { body in
                    try session.script("SAVEPOINT w")
                    do {
                        try body()
                    } catch {
                        if PostgresSession.isConnectionFailure(error) { throw error }
                        try session.script("ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w")
                        throw error
                    }
                    try session.script("RELEASE SAVEPOINT w")
                }
                results[index] = .success(effects.workOrder)
                outcome.effects.opened += effects.opened
                outcome.effects.linked += effects.linked
                outcome.effects.intakeFailed += effects.intakeFailed
            } catch let error where PostgresSession.isConnectionFailure(error) {
                throw ConnectionLost(underlying: error, commitSent: false)
            } catch {
                results[index] = .failure(TicketStoreError.postgres(error))
            }
        }
        do {
            try session.script("COMMIT")
        } catch let error where PostgresSession.isConnectionFailure(error) {
            throw ConnectionLost(underlying: error, commitSent: true, outcome: outcome)
        }
        if state.takeInjectedReplyLoss() {
            session.close()
            throw ConnectionLost(underlying: TicketStoreError.database(code: -5, message: "injected: COMMIT reply lost"),
                                 commitSent: true, outcome: outcome)
        }
        batches += 1
        if batches % 1000 == 0 {
            // Old batch ids are only needed across one reconnect.
            _ = try? session.execute("DELETE FROM committed_batches WHERE committed_at < now() - interval '1 hour'")
        }
        return outcome
    }

    /// The batch's opens in one multi-row INSERT, inside a savepoint; if that statement fails
    /// (one bad row fails them all), the savepoint is rolled back and the opens go one by one
    /// with the rest, so the bad one fails alone. Returns the indices it wrote.
    private func insertOpens(_ writes: [TicketWrite], in transaction: PostgresWriteTransaction,
                             session: PostgresSession) throws -> Set<Int> {
        var indices: [Int] = []
        var rows: [[String: Any]] = []
        for (index, write) in writes.enumerated() {
            guard case .open(let ticket) = write, ticket.disposition == nil, ticket.endedAt == nil else { continue }
            indices.append(index)
            var row: [String: Any] = [:]
            for (column, value) in zip(Self.callColumnNames, transaction.callValues(ticket)) {
                switch value {
                case .text(let text): row[column] = text ?? NSNull()
                case .int(let int): row[column] = int ?? NSNull()
                case .bool(let bool): row[column] = bool
                default: row[column] = NSNull()
                }
            }
            rows.append(row)
        }
        guard indices.count > 1 else { return [] }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: rows), as: UTF8.self)
        try session.script("SAVEPOINT opens")
        do {
            try session.execute("""
                INSERT INTO calls (\(Self.callColumnNames.joined(separator: ", ")))
                SELECT \(Self.callColumnNames.joined(separator: ", "))
                FROM jsonb_to_recordset($1::jsonb) AS r(\(Self.callColumnTypes))
                """, [.text(json)])
        } catch {
            if PostgresSession.isConnectionFailure(error) { throw error }
            try session.script("ROLLBACK TO SAVEPOINT opens; RELEASE SAVEPOINT opens")
            return []
        }
        try session.script("RELEASE SAVEPOINT opens")
        return Set(indices)
    }

    static let callColumnNames = [
        "id", "call_id", "caller", "dialled", "arrived_at", "answered_at", "ended_at", "keys", "menu_path",
        "business_line", "category", "disposition", "sip_status", "dialplan_version",
        "queue", "agent", "enqueued_at", "agent_answered_at", "wait_ms", "talk_ms", "abandoned", "overflowed", "callback", "node", "direction",
    ]

    static let callColumnTypes = callColumnNames.map { name in
        switch name {
        case "sip_status": "\(name) integer"
        case "wait_ms", "talk_ms": "\(name) bigint"
        case "abandoned", "overflowed", "callback": "\(name) boolean"
        default: "\(name) text"
        }
    }.joined(separator: ", ")

    func close() {
        session?.close()
        session = nil
    }
}
