// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the work-order list and count (filters, keyset paging newest first), the same
// SQL as SQLite's WorkOrderQueries in PostgreSQL's dialect.

import Foundation
import PostgresNIO
import Tickets

enum PostgresWorkOrderQueries {
    /// The WHERE clause (parameters from `$first`) and values of a query's filters.
    static func filter(_ query: WorkOrderQuery) -> (sql: String, values: [PostgresValue]) {
        var conditions: [String] = []
        var values: [PostgresValue] = []
        func parameter(_ value: PostgresValue) -> String {
            values.append(value)
            return "$\(values.count)"
        }
        if !query.statuses.isEmpty {
            let statuses = query.statuses.map(\.rawValue).sorted()
            conditions.append("status IN (\(statuses.map { parameter(.text($0)) }.joined(separator: ", ")))")
        }
        if let unit = query.unit {
            let scope = parameter(.text(unit.rawValue))
            conditions.append("""
                unit_id IN (WITH RECURSIVE subtree(id) AS (SELECT \(scope)::text UNION
                    SELECT units.id FROM units JOIN subtree ON units.parent_id = subtree.id) SELECT id FROM subtree)
                """)
        }
        if let category = query.category { conditions.append("category = \(parameter(.text(category.rawValue)))") }
        if let line = query.businessLine { conditions.append("business_line = \(parameter(.text(line)))") }
        if let channel = query.channel { conditions.append("channel = \(parameter(.text(channel.rawValue)))") }
        if let caller = query.caller { conditions.append("caller = \(parameter(.text(caller)))") }
        if let from = query.acceptedFrom { conditions.append("accepted_at >= \(parameter(.text(PostgresTime.format(from))))") }
        if let before = query.acceptedBefore {
            conditions.append("accepted_at < \(parameter(.text(PostgresTime.format(before))))")
        }
        if let now = query.overdueAt {
            let at = parameter(.text(PostgresTime.format(now)))
            conditions.append("""
                ((status = 'dispatched' AND (sign_deadline < \(at) OR completion_deadline < \(at)))
                 OR (status = 'signed' AND completion_deadline < \(at)))
                """)
        }
        return (conditions.isEmpty ? "true" : conditions.joined(separator: " AND "), values)
    }

    static func list(_ query: WorkOrderQuery, session: PostgresSession) throws -> WorkOrderPage {
        guard (1...WorkOrderQuery.maximumLimit).contains(query.limit) else {
            throw TicketStoreError.invalidQuery("limit must be 1 to \(WorkOrderQuery.maximumLimit), not \(query.limit)")
        }
        var (sql, values) = filter(query)
        if let after = query.after {
            // The cursor is `<accepted_at in ms>_<id>` (WorkOrderCursor).
            let parts = after.rawValue.split(separator: "_", maxSplits: 1)
            let milliseconds = Int64(parts[0]) ?? 0
            let at = PostgresTime.format(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            values.append(.text(at))
            values.append(.text(String(parts[1])))
            sql += " AND (accepted_at < $\(values.count - 1) OR (accepted_at = $\(values.count - 1) AND id < $\(values.count)))"
        }
        values.append(.int(query.limit + 1))
        let rows = try session.query("""
            SELECT \(PostgresRows.workOrderColumns) FROM work_orders WHERE \(sql)
            ORDER BY accepted_at DESC, id DESC LIMIT $\(values.count)
            """, values)
        var items = try rows.map { row throws(TicketStoreError) in try PostgresRows.workOrder(row) }
        var next: WorkOrderCursor?
        if items.count > query.limit {
            items.removeLast()
            next = items.last.flatMap { order in
                WorkOrderCursor(rawValue: "\(PostgresTime.milliseconds(of: order.acceptedAt))_\(order.id.rawValue)")
            }
        }
        return WorkOrderPage(items: items, next: next)
    }

    static func count(_ query: WorkOrderQuery, session: PostgresSession) throws -> Int {
        let (sql, values) = filter(query)
        return try session.query("SELECT count(*) FROM work_orders WHERE \(sql)", values).first?.decode(Int.self) ?? 0
    }
}
