// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: the KPIs in SQL — each figure one aggregate over an index range, so a report on
// 100,000 work orders is a handful of queries with no per-row work in Swift. Definitions:
// docs/kpis.md.

import Foundation
import Tickets
import GRDB

enum KPIQueries {
    /// Calls that are not offered calls: refused because the number is not the hotline's
    /// (404, 484) or the request was not a well-formed call (400).
    static let notOffered = "(coalesce(disposition, '') = 'rejected' AND coalesce(sip_status, 0) IN (400, 404, 484))"

    /// Milliseconds between two timestamp columns, exact to the millisecond.
    static func milliseconds(from start: String, to end: String) -> String {
        "CAST(round((julianday(\(end)) - julianday(\(start))) * 86400000.0) AS INTEGER)"
    }

    static func report(_ query: KPIQuery, in db: Database) throws -> KPIReport {
        if let unit = query.unit,
           try Bool.fetchOne(db, sql: "SELECT 1 FROM units WHERE id = ?", arguments: [unit.rawValue]) != true
        {
            throw TicketStoreError.unknownUnit(unit)
        }
        let calls = query.unit == nil ? try callKPIs(query, in: db) : nil
        let (categories, subjects) = try tops(query, in: db)
        let workOrders = try workOrderKPIs(query, in: db)
        return KPIReport(query: query, calls: calls, workOrders: workOrders,
                         units: try unitRanking(query, in: db), topCategories: categories, topSubjects: subjects,
                         directAnswersByArticle: query.unit == nil ? try directAnswersByArticle(query, accepted: workOrders.accepted, in: db) : [])
    }

    /// The cohort's direct answers by the article of each work order's first `answered_directly`.
    static func directAnswersByArticle(_ query: KPIQuery, accepted: Int, in db: Database) throws -> [ArticleDirectAnswers] {
        let (filter, filterArguments) = cohort(query)
        var arguments = filterArguments
        _ = arguments.append(contentsOf: [query.topCount])
        return try Row.fetchAll(db, sql: """
            SELECT e.article_id AS article, k.title AS title, count(*) AS answered
            FROM work_orders w
                 JOIN work_order_events e ON e.work_order_id = w.id AND e.seq = (
                     SELECT min(seq) FROM work_order_events WHERE work_order_id = w.id AND kind = 'answered_directly')
                 LEFT JOIN kb_articles k ON k.id = e.article_id
            WHERE w.answered_directly_at IS NOT NULL AND \(filter)
            GROUP BY e.article_id ORDER BY answered DESC, e.article_id IS NULL, e.article_id LIMIT ?
            """, arguments: arguments).map { row in
            ArticleDirectAnswers(article: (row["article"] as String?).map(KnowledgeArticleID.init(rawValue:)), title: row["title"],
                                 rate: KPIRatio(row["answered"], of: accepted))
        }
    }

    // MARK: - Calls

    static func callKPIs(_ query: KPIQuery, in db: Database) throws -> CallKPIs {
        var arguments: StatementArguments = [
            Int(query.shortAbandon.components.seconds * 1000), Int(query.serviceLevel.components.seconds * 1000),
        ]
        var range = ""
        if let period = query.period {
            range = "arrived_at >= ? AND arrived_at < ? AND"
            _ = arguments.append(contentsOf: [TicketTimestamp.format(period.start), TicketTimestamp.format(period.end)])
        }
        let row = try Row.fetchOne(db, sql: """
            SELECT count(*) AS offered,
                   count(answered_at) AS answered,
                   coalesce(sum(answered_at IS NULL AND disposition = 'cancelled'), 0) AS abandoned,
                   coalesce(sum(answered_at IS NULL AND disposition = 'cancelled' AND life_ms <= ?1), 0) AS abandoned_short,
                   coalesce(sum(wait_ms <= ?2), 0) AS within_service_level,
                   avg(wait_ms) AS asa_ms,
                   avg(talk_ms) AS aht_ms
            FROM (SELECT answered_at, disposition,
                         \(milliseconds(from: "arrived_at", to: "ended_at")) AS life_ms,
                         \(milliseconds(from: "arrived_at", to: "answered_at")) AS wait_ms,
                         \(milliseconds(from: "answered_at", to: "ended_at")) AS talk_ms
                  FROM calls WHERE \(range) NOT \(notOffered))
            """, arguments: arguments)!
        return CallKPIs(offered: row["offered"], answered: row["answered"], abandoned: row["abandoned"],
                        abandonedShort: row["abandoned_short"], serviceLevelCount: row["within_service_level"],
                        averageSpeedOfAnswer: (row["asa_ms"] as Double?).map { $0 / 1000 },
                        averageHandleTime: (row["aht_ms"] as Double?).map { $0 / 1000 })
    }

    // MARK: - Work orders

    /// The cohort: work orders accepted in the period (and with the unit, if any), as a
    /// WHERE clause on `work_orders` aliased `w`, with its arguments.
    static func cohort(_ query: KPIQuery, unitColumn: String = "w.unit_id") -> (sql: String, arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let period = query.period {
            conditions.append("w.accepted_at >= ? AND w.accepted_at < ?")
            _ = arguments.append(contentsOf: [TicketTimestamp.format(period.start), TicketTimestamp.format(period.end)])
        }
        if let unit = query.unit {
            conditions.append("\(unitColumn) IN (\(WorkOrderQueries.subtreeSQL))")
            _ = arguments.append(contentsOf: [unit.rawValue])
        }
        return (conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), arguments)
    }

    static let completedStatuses = TicketStatus.completed.map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// Sums of on-time and late sign-ins and completions over dispatch rows `d`; `?1` is as-of.
    /// A dispatch not signed (handled) counts late once its deadline is before it was
    /// withdrawn, or before as-of while it is still pending; until then it is not counted.
    static let dispatchSums = """
        coalesce(sum(d.signed_at IS NOT NULL AND d.signed_at <= d.sign_deadline), 0) AS sign_on_time,
        coalesce(sum((d.signed_at IS NOT NULL AND d.signed_at > d.sign_deadline)
            OR (d.signed_at IS NULL AND min(coalesce(d.withdrawn_at, ?1), ?1) > d.sign_deadline)), 0) AS sign_late,
        coalesce(sum(d.handled_at IS NOT NULL AND d.handled_at <= d.completion_deadline), 0) AS done_on_time,
        coalesce(sum((d.handled_at IS NOT NULL AND d.handled_at > d.completion_deadline)
            OR (d.handled_at IS NULL AND min(coalesce(d.withdrawn_at, ?1), ?1) > d.completion_deadline)), 0) AS done_late
        """

    static func workOrderKPIs(_ query: KPIQuery, in db: Database) throws -> WorkOrderKPIs {
        let asOf = TicketTimestamp.format(query.asOf)
        let (filter, filterArguments) = cohort(query)
        var arguments: StatementArguments = [asOf, query.satisfiedScore]
        _ = arguments.append(contentsOf: filterArguments)
        let row = try Row.fetchOne(db, sql: """
            SELECT count(*) AS accepted,
                   count(w.answered_directly_at) AS direct,
                   coalesce(sum(w.status IN (\(completedStatuses))), 0) AS completed,
                   count(w.satisfaction) AS visited,
                   coalesce(sum(w.satisfaction >= ?2), 0) AS satisfied,
                   coalesce(sum((w.status = 'dispatched' AND (w.sign_deadline < ?1 OR w.completion_deadline < ?1))
                       OR (w.status = 'signed' AND w.completion_deadline < ?1)), 0) AS overdue,
                   coalesce(sum(max(w.call_count - 1, 0)), 0) AS repeat_calls
            FROM work_orders w WHERE \(filter)
            """, arguments: arguments)!
        // Dispatch figures: a dispatch counts for the unit it went to.
        let (dispatchFilter, dispatchArguments) = cohort(query, unitColumn: "d.unit_id")
        var sumsArguments: StatementArguments = [asOf]
        _ = sumsArguments.append(contentsOf: dispatchArguments)
        let sums = try Row.fetchOne(db, sql: """
            SELECT \(dispatchSums)
            FROM work_order_dispatches d JOIN work_orders w ON w.id = d.work_order_id
            WHERE \(dispatchFilter)
            """, arguments: sumsArguments)!
        let accepted: Int = row["accepted"]
        let completed: Int = row["completed"]
        let signOnTime: Int = sums["sign_on_time"], signLate: Int = sums["sign_late"]
        let doneOnTime: Int = sums["done_on_time"], doneLate: Int = sums["done_late"]
        return WorkOrderKPIs(
            accepted: accepted,
            directAnswerRate: query.unit == nil ? KPIRatio(row["direct"], of: accepted) : nil,
            completionRate: KPIRatio(completed, of: accepted),
            onTimeSignInRate: KPIRatio(signOnTime, of: signOnTime + signLate),
            onTimeCompletionRate: KPIRatio(doneOnTime, of: doneOnTime + doneLate),
            satisfactionRate: KPIRatio(row["satisfied"], of: row["visited"]),
            open: accepted - completed, overdue: row["overdue"], repeatCalls: row["repeat_calls"])
    }

    // MARK: - Units

    static func unitRanking(_ query: KPIQuery, in db: Database) throws -> [UnitKPIs] {
        let asOf = TicketTimestamp.format(query.asOf)
        let (dispatchFilter, dispatchArguments) = cohort(query, unitColumn: "d.unit_id")
        var arguments: StatementArguments = [asOf]
        _ = arguments.append(contentsOf: dispatchArguments)
        let rows = try Row.fetchAll(db, sql: """
            SELECT d.unit_id, units.name, count(*) AS dispatched, count(d.handled_at) AS handled, \(dispatchSums)
            FROM work_order_dispatches d JOIN work_orders w ON w.id = d.work_order_id
                 LEFT JOIN units ON units.id = d.unit_id
            WHERE \(dispatchFilter)
            GROUP BY d.unit_id
            """, arguments: arguments)
        let (filter, filterArguments) = cohort(query)
        var satisfactionArguments: StatementArguments = [query.satisfiedScore]
        _ = satisfactionArguments.append(contentsOf: filterArguments)
        var satisfaction: [String: KPIRatio] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT w.unit_id, count(w.satisfaction) AS visited, coalesce(sum(w.satisfaction >= ?1), 0) AS satisfied
            FROM work_orders w WHERE w.unit_id IS NOT NULL AND \(filter) GROUP BY w.unit_id
            """, arguments: satisfactionArguments)
        {
            satisfaction[row["unit_id"]] = KPIRatio(row["satisfied"], of: row["visited"])
        }
        var units = rows.map { row in
            let unit: String = row["unit_id"]
            let signOnTime: Int = row["sign_on_time"], signLate: Int = row["sign_late"]
            let doneOnTime: Int = row["done_on_time"], doneLate: Int = row["done_late"]
            return UnitKPIs(rank: 0, unit: UnitID(rawValue: unit), name: row["name"], dispatched: row["dispatched"],
                            handled: row["handled"], onTimeSignInRate: KPIRatio(signOnTime, of: signOnTime + signLate),
                            onTimeCompletionRate: KPIRatio(doneOnTime, of: doneOnTime + doneLate),
                            satisfactionRate: satisfaction[unit] ?? KPIRatio(0, of: 0))
        }
        units.sort(by: ranksBefore)
        for index in units.indices { units[index].rank = index + 1 }
        return units
    }

    /// The ranking order: on-time completion rate, then satisfaction, then on-time sign-in
    /// (higher first, units with nothing to judge last), then more dispatches, then the id.
    static func ranksBefore(_ a: UnitKPIs, _ b: UnitKPIs) -> Bool {
        for (x, y) in [(a.onTimeCompletionRate.value, b.onTimeCompletionRate.value),
                       (a.satisfactionRate.value, b.satisfactionRate.value),
                       (a.onTimeSignInRate.value, b.onTimeSignInRate.value)] where x != y
        {
            guard let x else { return false }
            guard let y else { return true }
            return x > y
        }
        if a.dispatched != b.dispatched { return a.dispatched > b.dispatched }
        return a.unit < b.unit
    }

    // MARK: - Top lists

    static func tops(_ query: KPIQuery, in db: Database) throws -> (categories: [TopEntry], subjects: [TopEntry]) {
        (try top("w.category", query, in: db), try top("coalesce(w.subject, w.business_line)", query, in: db))
    }

    /// The `topCount` commonest values of `expression` over the cohort, with their counts in
    /// the previous period.
    static func top(_ expression: String, _ query: KPIQuery, in db: Database) throws -> [TopEntry] {
        var values: [(any DatabaseValueConvertible)?] = []
        func parameter(_ value: (any DatabaseValueConvertible)?) -> String {
            values.append(value)
            return "?\(values.count)"
        }
        var conditions = ["\(expression) IS NOT NULL"]
        var current = "count(*)", previous = "NULL"
        if let period = query.period {
            let start = parameter(TicketTimestamp.format(period.start))
            conditions.append("w.accepted_at >= \(parameter(TicketTimestamp.format(period.previous.start)))")
            conditions.append("w.accepted_at < \(parameter(TicketTimestamp.format(period.end)))")
            current = "sum(w.accepted_at >= \(start))"
            previous = "sum(w.accepted_at < \(start))"
        }
        if let unit = query.unit {
            conditions.append("w.unit_id IN (\(WorkOrderQueries.subtree(parameter(unit.rawValue))))")
        }
        let limit = parameter(query.topCount)
        let rows = try Row.fetchAll(db, sql: """
            SELECT \(expression) AS key, \(current) AS current, \(previous) AS previous
            FROM work_orders w WHERE \(conditions.joined(separator: " AND "))
            GROUP BY key HAVING current > 0 ORDER BY current DESC, key LIMIT \(limit)
            """, arguments: StatementArguments(values))
        return rows.map { TopEntry(key: $0["key"], count: $0["current"], previousCount: $0["previous"]) }
    }
}
