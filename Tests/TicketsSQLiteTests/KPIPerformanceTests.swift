// 100,000 work orders: the KPI report and the work-order list run as a few indexed queries.
// Every statement they run is checked with EXPLAIN QUERY PLAN: no full scan of calls,
// work_orders or dispatches when a period is given.

import Foundation
import GRDB
import Testing
import WorkCalendar
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

@Suite struct KPIPerformanceTests {
    /// 100,000 calls over November 2026, each with its work order: a quarter accepted, a
    /// quarter dispatched, a quarter handled, a quarter answered directly.
    static func fill(_ queue: DatabaseQueue, count: Int) throws {
        try queue.write { db in
            try SQLiteWriteTransaction.syncUnits(testUnits, in: db)
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
                rows AS (SELECT i, printf('202611%02d-%06d', 1 + i % 30, i) AS id,
                                printf('2026-11-%02dT%02d:%02d:%02d.000Z', 1 + i % 30, (i / 3600) % 24, (i / 60) % 60, i % 60) AS at
                         FROM n)
                INSERT INTO calls (id, call_id, caller, dialled, arrived_at, answered_at, ended_at, business_line, category,
                                   disposition, sip_status, dialplan_version)
                SELECT id, 'call-' || i, printf('138%08d', i % 5000), '12345', at, at, at,
                       CASE i % 3 WHEN 0 THEN 'complaints' WHEN 1 THEN 'policy' ELSE 'enterprise' END,
                       CASE i % 5 WHEN 0 THEN 'consultation' WHEN 1 THEN 'help' ELSE 'complaint' END,
                       'completed_in_ivr', 200, 'perf' FROM rows;

                INSERT INTO work_orders (id, channel, caller, business_line, category, status, unit_id, accepted_at,
                    answered_directly_at, dispatched_at, sign_deadline, completion_deadline, signed_at, handled_at,
                    satisfaction, call_count, event_count, updated_at)
                SELECT id, 'phone', caller, business_line, category,
                       CASE CAST(substr(id, 10) AS INTEGER) % 4 WHEN 0 THEN 'accepted' WHEN 1 THEN 'dispatched'
                            WHEN 2 THEN 'handled' ELSE 'answered_directly' END,
                       CASE CAST(substr(id, 10) AS INTEGER) % 4 WHEN 1 THEN 'xingqing' WHEN 2 THEN 'jinfeng' END,
                       arrived_at,
                       CASE CAST(substr(id, 10) AS INTEGER) % 4 WHEN 3 THEN arrived_at END,
                       CASE WHEN CAST(substr(id, 10) AS INTEGER) % 4 IN (1, 2) THEN arrived_at END,
                       CASE WHEN CAST(substr(id, 10) AS INTEGER) % 4 IN (1, 2) THEN arrived_at END,
                       CASE WHEN CAST(substr(id, 10) AS INTEGER) % 4 IN (1, 2) THEN arrived_at END,
                       CASE CAST(substr(id, 10) AS INTEGER) % 4 WHEN 2 THEN arrived_at END,
                       CASE CAST(substr(id, 10) AS INTEGER) % 4 WHEN 2 THEN arrived_at END,
                       CASE CAST(substr(id, 10) AS INTEGER) % 4 WHEN 2 THEN 1 + CAST(substr(id, 10) AS INTEGER) % 5 END,
                       1, 1, arrived_at
                FROM calls;

                INSERT INTO work_order_events (work_order_id, seq, kind, at, actor)
                SELECT id, 1, 'accepted', accepted_at, 'ivr' FROM work_orders;
                INSERT INTO work_order_events (work_order_id, seq, kind, at, actor, unit_id)
                SELECT id, 2, 'dispatched', accepted_at, 'perf', unit_id FROM work_orders WHERE unit_id IS NOT NULL;
                INSERT INTO work_order_dispatches (work_order_id, seq, unit_id, dispatched_at, sign_deadline,
                                                   completion_deadline, signed_at, handled_at)
                SELECT id, 2, unit_id, dispatched_at, sign_deadline, completion_deadline, signed_at, handled_at
                FROM work_orders WHERE unit_id IS NOT NULL;
                INSERT INTO work_order_calls (work_order_id, call_ticket_id, linked_at, reason)
                SELECT id, id, accepted_at, 'intake' FROM work_orders;
                ANALYZE;
                """, arguments: [count])
        }
    }

    /// The plan lines of every statement `body` runs.
    static func plans(in queue: DatabaseQueue, _ body: (Database) throws -> Void) throws -> [(sql: String, plan: [String])] {
        try queue.read { db in
            var statements: [String] = []
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event { statements.append(statement.expandedSQL) }
            }
            try body(db)
            db.trace(options: [])
            return try statements.filter { $0.trimmingCharacters(in: .whitespacesAndNewlines).uppercased().hasPrefix("SELECT")
                || $0.trimmingCharacters(in: .whitespacesAndNewlines).uppercased().hasPrefix("WITH") }
                .map { sql in
                    (sql, try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String })
                }
        }
    }

    /// True if a plan line reads a whole big table (`SCAN calls`, `SCAN w`...) rather than
    /// searching an index. Scanning the units tree or a covering index range is fine.
    static func scansABigTable(_ line: String) -> Bool {
        guard line.hasPrefix("SCAN ") else { return false }
        let table = line.dropFirst(5).split(separator: " ").first.map(String.init) ?? ""
        let big = ["calls", "work_orders", "work_order_dispatches", "work_order_events", "w", "d"]
        return big.contains(table) && !line.contains("USING COVERING INDEX") && !line.contains("USING INDEX")
    }

    @Test func kpisOverAHundredThousandWorkOrdersUseIndexes() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("perf.sqlite")
        try SQLiteTicketStore(path: path, options: .init(durability: .normal, timeZone: shanghai)).close()
        let queue = try DatabaseQueue(path: path)
        let count = 100_000
        try Self.fill(queue, count: count)

        let week = ReportPeriod(from: LocalDate(year: 2026, month: 11, day: 9)!,
                                through: LocalDate(year: 2026, month: 11, day: 15)!, in: .gmt)!
        let asOf = date(2026, 12, 1)
        var report: KPIReport?
        let started = ContinuousClock.now
        let plans = try Self.plans(in: queue) { db in
            report = try KPIQueries.report(KPIQuery(period: week, asOf: asOf), in: db)
            _ = try KPIQueries.report(KPIQuery(period: week, unit: "yinchuan", asOf: asOf), in: db)
            _ = try WorkOrderQueries.list(WorkOrderQuery(statuses: [.dispatched], limit: 50), in: db)
            _ = try WorkOrderQueries.list(WorkOrderQuery(unit: "yinchuan", acceptedFrom: week.start, limit: 50), in: db)
            _ = try WorkOrderQueries.list(WorkOrderQuery(caller: "13800000042"), in: db)
            _ = try WorkOrderQueries.list(WorkOrderQuery(limit: 100), in: db)
        }
        let elapsed = ContinuousClock.now - started
        print("KPI reports and lists over \(count) work orders: \(elapsed)")
        #expect(elapsed < .seconds(20), "\(elapsed)")

        #expect(plans.count >= 12)
        for (sql, plan) in plans {
            let scans = plan.filter(Self.scansABigTable)
            #expect(scans.isEmpty, "full scan in \(plan) of \(sql)")
        }
        // The figures are the database's, not a sample: a week of November is 7/30 of the calls.
        let days = (1...count).filter { (9...15).contains(1 + $0 % 30) }.count
        #expect(report?.calls?.offered == days)
        #expect(report?.workOrders.accepted == days)
    }
}
