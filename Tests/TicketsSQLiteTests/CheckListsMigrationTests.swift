// Migration v7 spells the hot tables' constant IN lists as comparisons, in the stored schema
// text, and the constraints refuse exactly what they refused before.

import Foundation
import GRDB
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

@Suite struct CheckListsMigrationTests {
    @Test func listsOfThreeOrMoreBecomeComparisons() {
        #expect(CheckListsMigration.rewrite("CHECK (status IN ('a', 'b', 'c'))")
                == "CHECK ((status = 'a' OR status = 'b' OR status = 'c'))")
        #expect(CheckListsMigration.rewrite("CHECK (status NOT IN ('a', 'b', 'c') OR unit_id IS NOT NULL)")
                == "CHECK ((status <> 'a' AND status <> 'b' AND status <> 'c') OR unit_id IS NOT NULL)")
        #expect(CheckListsMigration.rewrite("CHECK ((kind IN ('dispatched', 'signed')) = (unit_id IS NOT NULL))")
                == "CHECK ((kind IN ('dispatched', 'signed')) = (unit_id IS NOT NULL))", "two values: SQLite compares them directly")
    }

    /// A database as v6 left it, with a work order in it, opened by the store.
    @Test func aV6DatabaseKeepsItsRowsAndItsRules() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("v6.sqlite")
        let queue = try DatabaseQueue(path: path)
        try TicketSchema.migrator.migrate(queue, upTo: "v6_handoffs")
        let before = try await queue.read { db in
            try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        }
        try queue.close()

        let noon = date(2026, 11, 20, 12)
        var id: TicketID?
        do {
            let v6Store = try SQLiteTicketStore(path: path, options: .init(durability: .normal, timeZone: shanghai,
                                                                            policy: testPolicy, units: testUnits))
            defer { v6Store.close() }
            id = try await v6Store.call(TestCall(arrivedAt: noon, businessLine: "complaints", category: .complaint))
        }
        let workOrder = try #require(id)

        let check = try DatabaseQueue(path: path)
        defer { try? check.close() }
        try await check.read { db in
            let sql = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name IN (?, ?, ?)",
                                          arguments: ["work_orders", "work_order_events", "work_order_calls"]).joined()
            #expect(sql.contains("(status = 'accepted' OR "))
            #expect(sql.contains("(reason = 'intake' OR reason = 'repeat' OR reason = 'manual')"))
            #expect(sql.contains("(status <> 'dispatched' AND "))
            #expect(!sql.contains("IN ('accepted'"), "no list of three or more is left")
            #expect(try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0 > before, "other connections reload the schema")
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM work_orders WHERE id = ?", arguments: [workOrder.rawValue]) == 1)
        }
        let at = "'2026-11-20T05:00:00.000Z'"
        let refused = [
            "UPDATE work_orders SET status = 'lost' WHERE id = '\(workOrder.rawValue)'",
            "UPDATE work_orders SET status = 'signed' WHERE id = '\(workOrder.rawValue)'", // no unit
            "INSERT INTO work_order_events (work_order_id, seq, kind, at, actor) VALUES ('\(workOrder.rawValue)', 2, 'teleported', \(at), 'x')",
            "UPDATE work_order_calls SET reason = 'whim' WHERE work_order_id = '\(workOrder.rawValue)'",
        ]
        for statement in refused {
            await #expect(throws: DatabaseError.self, "\(statement)") {
                try await check.write { db in try db.execute(sql: statement) }
            }
        }
        // What the rules allow still goes in.
        try await check.write { db in
            try db.execute(sql: "INSERT INTO work_order_events (work_order_id, seq, kind, at, actor) VALUES ('\(workOrder.rawValue)', 2, 'answered_directly', \(at), 'x')")
        }
    }
}
