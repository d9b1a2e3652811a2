// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: work orders as CSV (RFC 4180), for the CSV export and `hotline tickets list --csv`.

import Foundation

/// Work orders as CSV: a header line, then one line per work order, CRLF line ends (RFC 4180
/// §2), fields quoted when they hold a comma, a quote or a line break. Times are ticket
/// timestamps (UTC); empty fields are absent values.
public enum WorkOrderCSV {
    /// The columns, in order.
    public static let columns = [
        "id", "channel", "caller", "business_line", "category", "subject", "status", "unit", "accepted_at",
        "answered_directly_at", "dispatched_at", "sign_deadline", "signed_at", "signed_on_time", "completion_deadline",
        "handled_at", "completed_on_time", "fed_back_at", "visited_at", "satisfaction", "closed_at", "dispatch_count",
        "reopen_count", "call_count", "updated_at", "details",
    ]

    /// The header line, with its line end.
    public static var header: String { line(columns) }

    /// One work order's line, with its line end.
    public static func line(for order: WorkOrder, maskCaller: Bool = false) -> String {
        func time(_ date: Date?) -> String { date.map(TicketTimestamp.format) ?? "" }
        func flag(_ value: Bool?) -> String { value.map { $0 ? "yes" : "no" } ?? "" }
        return line([
            order.id.rawValue, order.channel.rawValue, maskCaller ? PhoneNumber.masked(order.caller) : order.caller,
            order.businessLine ?? "", order.category?.rawValue ?? "", order.subject ?? "", order.status.rawValue,
            order.unit?.rawValue ?? "", time(order.acceptedAt), time(order.answeredDirectlyAt), time(order.dispatchedAt),
            time(order.signDeadline), time(order.signedAt), flag(order.signedOnTime), time(order.completionDeadline),
            time(order.handledAt), flag(order.completedOnTime), time(order.fedBackAt), time(order.visitedAt),
            order.satisfaction.map(String.init) ?? "", time(order.closedAt), String(order.dispatchCount),
            String(order.reopenCount), String(order.callCount), time(order.updatedAt), order.details,
        ])
    }

    /// The document for `orders`: header and lines.
    public static func document(_ orders: [WorkOrder], maskCallers: Bool = false) -> String {
        orders.reduce(into: header) { $0 += line(for: $1, maskCaller: maskCallers) }
    }

    /// Fields joined by commas and ended by CRLF, each quoted if it needs it. A field that a
    /// spreadsheet would take for a formula (`=`, `+`, `-`, `@` first) is quoted as well, with
    /// a leading `'` inside the quotes, so a caller-supplied text cannot run in Excel.
    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\r\n"
    }

    static func escape(_ field: String) -> String {
        var field = field
        if let first = field.first, "=+-@".contains(first), Double(field) == nil { field = "'" + field }
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || field.hasPrefix("'") else {
            return field
        }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Pages through `query` with `page` and hands `sink` the header and then each page.
    public static func export(_ query: WorkOrderQuery, maskCallers: Bool, to sink: (String) throws -> Void,
                       page: (WorkOrderQuery) throws(TicketStoreError) -> WorkOrderPage) throws(TicketStoreError) {
        func emit(_ text: String) throws(TicketStoreError) {
            do {
                try sink(text)
            } catch {
                throw TicketStoreError.database(code: -1, message: "CSV export stopped: \(error)")
            }
        }
        try emit(header)
        var next = query
        while true {
            let result = try page(next)
            if !result.items.isEmpty {
                try emit(result.items.reduce(into: "") { $0 += line(for: $1, maskCaller: maskCallers) })
            }
            guard let cursor = result.next else { return }
            next.after = cursor
        }
    }
}
