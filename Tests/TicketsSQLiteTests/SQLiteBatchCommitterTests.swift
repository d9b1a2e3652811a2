// The SQLite committer's fast path (no savepoints, runs of opens many rows per INSERT) and
// its replay: what one batch commits must not depend on which path wrote it.

import Foundation
import GRDB
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

@Suite final class SQLiteBatchCommitterTests {
    let directory: TemporaryDirectory
    let pool: DatabasePool
    let committer: SQLiteBatchCommitter
    let arrival = date(2026, 11, 2, 10)

    init() throws {
        directory = try TemporaryDirectory()
        pool = try DatabasePool(path: directory.path("committer.sqlite"))
        try TicketSchema.migrator.migrate(pool)
        committer = SQLiteBatchCommitter(pool: pool) {}
    }

    deinit {
        committer.close()
        try? pool.close()
    }

    func opens(_ count: Int) throws -> [TicketWrite] {
        try (1...count).map { .open(arrivingTicket(try TicketID(parsing: String(format: "20261102-%06d", $0)), at: arrival)) }
    }

    func commit(_ writes: [TicketWrite]) -> ([Result<WorkOrder?, TicketStoreError>], TicketBatchOutcome) {
        var results = [Result<WorkOrder?, TicketStoreError>](repeating: .success(nil), count: writes.count)
        let outcome = committer.commit(writes, relaxedSync: false, policy: testPolicy, results: &results)
        return (results, outcome)
    }

    func storedIDs() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM calls ORDER BY id") }
    }

    @Test func aLongRunOfOpensCommitsEveryRow() throws {
        // 70 = two statements of 32 rows, then 6 one by one.
        let writes = try opens(70)
        let (results, outcome) = commit(writes)
        #expect(!outcome.transactionFailed)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        #expect(try storedIDs() == writes.map { write in
            guard case .open(let ticket) = write else { return "" }
            return ticket.id.rawValue
        })
        let stored = try #require(try pool.read { db in try TicketSchema.ticket(id: try TicketID(parsing: "20261102-000045"), in: db) })
        guard case .open(let submitted) = writes[44] else { Issue.record("not an open"); return }
        #expect(stored == submitted)
    }

    @Test func aBadRowInAMultiRowInsertFailsAloneAfterTheReplay() throws {
        var writes = try opens(40)
        // A second open of ticket 3 in the middle of the first 32-row statement.
        writes[20] = writes[2]
        // And an open the rules refuse, which ends the run.
        var finished = arrivingTicket(try TicketID(parsing: "20261102-000099"), at: arrival)
        finished.disposition = .rejected
        writes.append(.open(finished))
        let (results, outcome) = commit(writes)
        #expect(!outcome.transactionFailed)
        for (index, result) in results.enumerated() {
            switch (index, result) {
            case (20, .failure(.constraintViolated)), (40, .failure(.invalidWrite)): break
            case (20, _), (40, _): Issue.record("write \(index): \(result)")
            case (_, .failure(let error)): Issue.record("write \(index) failed: \(error)")
            default: break
            }
        }
        #expect(try storedIDs().count == 39)
    }
}
