// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the KPIs (docs/kpis.md), the same aggregates as SQLite's KPIQueries in
// PostgreSQL's dialect: booleans counted with FILTER, least/greatest for scalar min/max,
// durations from the timestamp text cast to timestamptz.

import Foundation
import PostgresNIO
import Tickets

enum PostgresKPIQueries {
    static let notOffered = "(coalesce(disposition, '') = 'rejected' AND coalesce(sip_status, 0) IN (400, 404, 484))"

    static func milliseconds(from start: String, to end: String) -> String {
        "round(extract(epoch FROM (\(end)::timestamptz - \(start)::timestamptz)) * 1000)::bigint"
    }

    static func sum(_ condition: String) -> String {
        "count(*) FILTER (WHERE \(condition))"
    }

    static func report(_ query: KPIQuery, session: PostgresSession) throws -> KPIReport {
        if let unit = query.unit, try session.query("SELECT 1 FROM units WHERE id = $1", [.text(unit.rawValue)]).isEmpty {
            throw TicketStoreError.unknownUnit(unit)
        }
        let calls = query.unit == nil ? try callKPIs(query, session: session) : nil
        let workOrders = try workOrderKPIs(query, session: session)
        return KPIReport(query: query, calls: calls, workOrders: workOrders,
                         units: try unitRanking(query, session: session),
                         topCategories: try top("w.category", query, session: session),
                         topSubjects: try top("coalesce(w.subject, w.business_line)", query, session: session),
                         directAnswersByArticle: query.unit == nil
                            ? try directAnswersByArticle(query, accepted: workOrders.accepted, session: session) : [])
    }

    /// The cohort's direct answers by the article of each work order's first `answered_directly`.
    static func directAnswersByArticle(_ query: KPIQuery, accepted: Int, session: PostgresSession) throws -> [ArticleDirectAnswers] {
        let (filter, values) = cohort(query, first: 1)
        return try session.query("""
            SELECT e.article_id AS article, k.title AS title, count(*)::bigint AS answered
            FROM work_orders w
                 JOIN work_order_events e ON e.work_order_id = w.id AND e.seq = (
                     SELECT min(seq) FROM work_order_events WHERE work_order_id = w.id AND kind = 'answered_directly')
                 LEFT JOIN kb_articles k ON k.id = e.article_id
            WHERE w.answered_directly_at IS NOT NULL AND \(filter)
            GROUP BY e.article_id, k.title ORDER BY answered DESC, e.article_id IS NULL, e.article_id LIMIT $\(values.count + 1)
            """, values + [.int(query.topCount)]).map { row in
            let (article, title, answered) = try row.decode((String?, String?, Int).self)
            return ArticleDirectAnswers(article: article.map(KnowledgeArticleID.init(rawValue:)), title: title,
                                        rate: KPIRatio(answered, of: accepted))
        }
    }

    static func callKPIs(_ query: KPIQuery, session: PostgresSession) throws -> CallKPIs {
        var values: [PostgresValue] = [
            .int(Int(query.shortAbandon.components.seconds * 1000)), .int(Int(query.serviceLevel.components.seconds * 1000)),
        ]
        var range = ""
        if let period = query.period {
            range = "arrived_at >= $3 AND arrived_at < $4 AND"
            values += [.text(PostgresTime.format(period.start)), .text(PostgresTime.format(period.end))]
        }
        let row = try session.query("""
            SELECT count(*) AS offered,
                   count(answered_at) AS answered,
                   \(sum("answered_at IS NULL AND disposition = 'cancelled'")) AS abandoned,
                   \(sum("answered_at IS NULL AND disposition = 'cancelled' AND life_ms <= $1")) AS abandoned_short,
                   \(sum("wait_ms <= $2")) AS within_service_level,
                   avg(wait_ms)::float8 AS asa_ms,
                   avg(talk_ms)::float8 AS aht_ms
            FROM (SELECT answered_at, disposition,
                         \(milliseconds(from: "arrived_at", to: "ended_at")) AS life_ms,
                         \(milliseconds(from: "arrived_at", to: "answered_at")) AS wait_ms,
                         \(milliseconds(from: "answered_at", to: "ended_at")) AS talk_ms
                  FROM calls WHERE \(range) NOT \(notOffered)) c
            """, values)[0]
        let (offered, answered, abandoned, short, within, asa, aht) = try row.decode(
            (Int, Int, Int, Int, Int, Double?, Double?).self)
        return CallKPIs(offered: offered, answered: answered, abandoned: abandoned, abandonedShort: short,
                        serviceLevelCount: within, averageSpeedOfAnswer: asa.map { $0 / 1000 },
                        averageHandleTime: aht.map { $0 / 1000 })
    }

    /// The cohort's WHERE clause, parameters numbered from `first`.
    static func cohort(_ query: KPIQuery, unitColumn: String = "w.unit_id", first: Int) -> (sql: String, values: [PostgresValue]) {
        var conditions: [String] = []
        var values: [PostgresValue] = []
        func parameter(_ value: PostgresValue) -> String {
            values.append(value)
            return "$\(first + values.count - 1)"
        }
        if let period = query.period {
            conditions.append("w.accepted_at >= \(parameter(.text(PostgresTime.format(period.start))))"
                + " AND w.accepted_at < \(parameter(.text(PostgresTime.format(period.end))))")
        }
        if let unit = query.unit {
            let scope = parameter(.text(unit.rawValue))
            conditions.append("""
                \(unitColumn) IN (WITH RECURSIVE subtree(id) AS (SELECT \(scope)::text UNION
                    SELECT units.id FROM units JOIN subtree ON units.parent_id = subtree.id) SELECT id FROM subtree)
                """)
        }
        return (conditions.isEmpty ? "true" : conditions.joined(separator: " AND "), values)
    }

    static let completedStatuses = TicketStatus.completed.map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// The dispatch sums, `$1` being "as of".
    static let dispatchSums = """
        \(sum("d.signed_at IS NOT NULL AND d.signed_at <= d.sign_deadline")) AS sign_on_time,
        \(sum("(d.signed_at IS NOT NULL AND d.signed_at > d.sign_deadline) OR (d.signed_at IS NULL AND least(coalesce(d.withdrawn_at, $1), $1) > d.sign_deadline)")) AS sign_late,
        \(sum("d.handled_at IS NOT NULL AND d.handled_at <= d.completion_deadline")) AS done_on_time,
        \(sum("(d.handled_at IS NOT NULL AND d.handled_at > d.completion_deadline) OR (d.handled_at IS NULL AND least(coalesce(d.withdrawn_at, $1), $1) > d.completion_deadline)")) AS done_late
        """

    static func workOrderKPIs(_ query: KPIQuery, session: PostgresSession) throws -> WorkOrderKPIs {
        let asOf = PostgresValue.text(PostgresTime.format(query.asOf))
        let (filter, filterValues) = cohort(query, first: 3)
        let row = try session.query("""
            SELECT count(*) AS accepted,
                   count(w.answered_directly_at) AS direct,
                   \(sum("w.status IN (\(completedStatuses))")) AS completed,
                   count(w.satisfaction) AS visited,
                   \(sum("w.satisfaction >= $2")) AS satisfied,
                   \(sum("(w.status = 'dispatched' AND (w.sign_deadline < $1 OR w.completion_deadline < $1)) OR (w.status = 'signed' AND w.completion_deadline < $1)")) AS overdue,
                   coalesce(sum(greatest(w.call_count - 1, 0)), 0)::bigint AS repeat_calls
            FROM work_orders w WHERE \(filter)
            """, [asOf, .int(query.satisfiedScore)] + filterValues)[0]
        let (accepted, direct, completed, visited, satisfied, overdue, repeatCalls) = try row.decode(
            (Int, Int, Int, Int, Int, Int, Int).self)
        let (dispatchFilter, dispatchValues) = cohort(query, unitColumn: "d.unit_id", first: 2)
        let sums = try session.query("""
            SELECT \(dispatchSums)
            FROM work_order_dispatches d JOIN work_orders w ON w.id = d.work_order_id
            WHERE \(dispatchFilter)
            """, [asOf] + dispatchValues)[0]
        let (signOnTime, signLate, doneOnTime, doneLate) = try sums.decode((Int, Int, Int, Int).self)
        return WorkOrderKPIs(
            accepted: accepted,
            directAnswerRate: query.unit == nil ? KPIRatio(direct, of: accepted) : nil,
            completionRate: KPIRatio(completed, of: accepted),
            onTimeSignInRate: KPIRatio(signOnTime, of: signOnTime + signLate),
            onTimeCompletionRate: KPIRatio(doneOnTime, of: doneOnTime + doneLate),
            satisfactionRate: KPIRatio(satisfied, of: visited),
            open: accepted - completed, overdue: overdue, repeatCalls: repeatCalls)
    }

    static func unitRanking(_ query: KPIQuery, session: PostgresSession) throws -> [UnitKPIs] {
        let asOf = PostgresValue.text(PostgresTime.format(query.asOf))
        let (dispatchFilter, dispatchValues) = cohort(query, unitColumn: "d.unit_id", first: 2)
        let rows = try session.query("""
            SELECT d.unit_id, min(units.name) AS name, count(*) AS dispatched, count(d.handled_at) AS handled, \(dispatchSums)
            FROM work_order_dispatches d JOIN work_orders w ON w.id = d.work_order_id
                 LEFT JOIN units ON units.id = d.unit_id
            WHERE \(dispatchFilter)
            GROUP BY d.unit_id
            """, [asOf] + dispatchValues)
        let (filter, filterValues) = cohort(query, first: 2)
        var satisfaction: [String: KPIRatio] = [:]
        for row in try session.query("""
            SELECT w.unit_id, count(w.satisfaction) AS visited, \(sum("w.satisfaction >= $1")) AS satisfied
            FROM work_orders w WHERE w.unit_id IS NOT NULL AND \(filter) GROUP BY w.unit_id
            """, [.int(query.satisfiedScore)] + filterValues) {
            let (unit, visited, satisfied) = try row.decode((String, Int, Int).self)
            satisfaction[unit] = KPIRatio(satisfied, of: visited)
        }
        var units = try rows.map { row in
            let (unit, name, dispatched, handled, signOnTime, signLate, doneOnTime, doneLate) = try row.decode(
                (String, String?, Int, Int, Int, Int, Int, Int).self)
            return UnitKPIs(rank: 0, unit: UnitID(rawValue: unit), name: name, dispatched: dispatched, handled: handled,
                            onTimeSignInRate: KPIRatio(signOnTime, of: signOnTime + signLate),
                            onTimeCompletionRate: KPIRatio(doneOnTime, of: doneOnTime + doneLate),
                            satisfactionRate: satisfaction[unit] ?? KPIRatio(0, of: 0))
        }
        units.sort(by: ranksBefore)
        for index in units.indices { units[index].rank = index + 1 }
        return units
    }

    /// The ranking order of SQLite's KPIQueries (on-time completion, satisfaction, on-time
    /// sign-in, then volume, then id).
    static func ranksBefore(_ a: UnitKPIs, _ b: UnitKPIs) -> Bool {
        for (x, y) in [(a.onTimeCompletionRate.value, b.onTimeCompletionRate.value),
                       (a.satisfactionRate.value, b.satisfactionRate.value),
                       (a.onTimeSignInRate.value, b.onTimeSignInRate.value)] where x != y {
            guard let x else { return false }
            guard let y else { return true }
            return x > y
        }
        if a.dispatched != b.dispatched { return a.dispatched > b.dispatched }
        return a.unit < b.unit
    }

    static func top(_ expression: String, _ query: KPIQuery, session: PostgresSession) throws -> [TopEntry] {
        var values: [PostgresValue] = []
        func parameter(_ value: PostgresValue) -> String {
            values.append(value)
            return "$\(values.count)"
        }
        var conditions = ["\(expression) IS NOT NULL"]
        var current = "count(*)", previous = "NULL::bigint"
        if let period = query.period {
            let start = parameter(.text(PostgresTime.format(period.start)))
            conditions.append("w.accepted_at >= \(parameter(.text(PostgresTime.format(period.previous.start))))")
            conditions.append("w.accepted_at < \(parameter(.text(PostgresTime.format(period.end))))")
            current = sum("w.accepted_at >= \(start)")
            previous = sum("w.accepted_at < \(start)")
        }
        if let unit = query.unit {
            let scope = parameter(.text(unit.rawValue))
            conditions.append("""
                w.unit_id IN (WITH RECURSIVE subtree(id) AS (SELECT \(scope)::text UNION
                    SELECT units.id FROM units JOIN subtree ON units.parent_id = subtree.id) SELECT id FROM subtree)
                """)
        }
        let limit = parameter(.int(query.topCount))
        return try session.query("""
            SELECT \(expression) AS key, \(current) AS current, \(previous) AS previous
            FROM work_orders w WHERE \(conditions.joined(separator: " AND "))
            GROUP BY 1 HAVING \(current) > 0 ORDER BY 2 DESC, 1 LIMIT \(limit)
            """, values).map { row in
            let (key, count, previous) = try row.decode((String, Int, Int?).self)
            return TopEntry(key: key, count: count, previousCount: previous)
        }
    }
}
