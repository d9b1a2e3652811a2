// TicketsSQLite: the SQLite backend of the ticket store.
// This file: how a batch of the group-commit queue becomes one SQLite transaction.

import Foundation
import Tickets
import GRDB

/// Commits the group-commit queue's batches on the pool's writer connection: one
/// `BEGIN IMMEDIATE` transaction per batch, one savepoint per write.
struct SQLiteBatchCommitter: TicketBatchCommitter {
    let pool: DatabasePool
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
                let transaction = SQLiteWriteTransaction(db)
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
                            outcome.effects.opened += effects.opened
                            outcome.effects.linked += effects.linked
                            outcome.effects.intakeFailed += effects.intakeFailed
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
        onClose()
    }
}
