// TicketsSQLite: the SQLite backend of the ticket store.
// This file: how a batch of the group-commit queue becomes one SQLite transaction.

import Foundation
import Tickets
import GRDB

/// Commits the group-commit queue's batches on the pool's writer connection: one
/// `BEGIN IMMEDIATE` transaction per batch. The writes are applied without savepoints (a
/// savepoint per write cost more than most writes), runs of opens many rows per INSERT; if
/// one fails, the transaction is rolled back and the batch replayed in a new one, write by
/// write, each in a savepoint, so the failed write fails alone and the rest commit.
struct SQLiteBatchCommitter: TicketBatchCommitter {
    let pool: DatabasePool
    /// The writer's prepared hot statements, across batches.
    let statements = SQLiteWriterStatements()
    /// Runs once on the writer thread after the last batch: closes what the store opened.
    let onClose: @Sendable () -> Void

    func commit(_ writes: [TicketWrite], relaxedSync: Bool, policy: WorkOrderPolicy,
                results: inout [Result<WorkOrder?, TicketStoreError>]) -> TicketBatchOutcome {
        var outcome = TicketBatchOutcome()
        do {
            try pool.writeWithoutTransaction { db in
                // A deferred batch skips its own fsync (see GroupCommitQueue); the next
                // fsync'ed commit or the checkpointer's covers it.
                if relaxedSync { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                defer { if relaxedSync { try? db.execute(sql: "PRAGMA synchronous = FULL") } }
                let transaction = SQLiteWriteTransaction(db, statements: statements)
                var opens: [CallTicket] = []
                var clean = true
                try db.inTransaction(.immediate) {
                    var index = writes.startIndex
                    while index < writes.endIndex {
                        do {
                            // A run of opens (a burst's urgent batch is nearly all opens) goes
                            // in multi-row INSERTs, in order; an open the rules refuse ends the run
                            // and goes through them (and fails there).
                            opens.removeAll(keepingCapacity: true)
                            var end = index
                            while end < writes.endIndex, case .open(let ticket) = writes[end],
                                  ticket.disposition == nil, ticket.endedAt == nil {
                                opens.append(ticket)
                                end += 1
                            }
                            if opens.count >= TicketSchema.callsPerInsert {
                                try transaction.insertCalls(opens[...])
                                for opened in index..<end { results[opened] = .success(nil) }
                                index = end
                                continue
                            }
                            let effects = try TicketWriteRules.apply(writes[index], policy: policy, intake: true, in: transaction)
                            results[index] = .success(effects.workOrder)
                            outcome.effects.add(effects)
                            index += 1
                        } catch {
                            clean = false
                            return .rollback
                        }
                    }
                    return .commit
                }
                guard !clean else { return }
                outcome = TicketBatchOutcome()
                try db.inTransaction(.immediate) {
                    for index in writes.indices {
                        do {
                            let effects = try TicketWriteRules.apply(writes[index], policy: policy, in: transaction) { body in
                                try db.inSavepoint {
                                    try body()
                                    return .commit
                                }
                            }
                            results[index] = .success(effects.workOrder)
                            outcome.effects.add(effects)
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
            outcome.transactionFailed = true
            let failure = TicketStoreError(error)
            for index in results.indices {
                if case .success = results[index] { results[index] = .failure(failure) }
            }
        }
        return outcome
    }

    func close() {
        // Finalized on the connection's own access, before it closes.
        pool.writeWithoutTransaction { _ in statements.removeAll() }
        onClose()
    }
}

extension TicketWriteEffects {
    /// Adds another write's counts (not its work order) to these.
    mutating func add(_ other: TicketWriteEffects) {
        opened += other.opened
        linked += other.linked
        intakeFailed += other.intakeFailed
    }
}
