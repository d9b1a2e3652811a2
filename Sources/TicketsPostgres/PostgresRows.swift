// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: rows back into domain values, naming the column when one is unreadable.

import Foundation
import PostgresNIO
import Tickets

/// One row read by column name.
struct PostgresRowReader {
    let row: PostgresRandomAccessRow
    let id: String

    init(_ row: PostgresRow, id: String? = nil) {
        self.row = PostgresRandomAccessRow(row)
        self.id = id ?? ((try? self.row["id"].decode(String.self)) ?? "?")
    }

    func has(_ column: String) -> Bool { row.contains(column) }

    func text(_ column: String) throws(TicketStoreError) -> String {
        guard let value = try optionalText(column) else { throw .corruptRow(id: id, column: column) }
        return value
    }

    func optionalText(_ column: String) throws(TicketStoreError) -> String? {
        do { return try row[column].decode(String?.self) } catch { throw .corruptRow(id: id, column: column) }
    }

    func int(_ column: String) throws(TicketStoreError) -> Int {
        guard let value = try optionalInt(column) else { throw .corruptRow(id: id, column: column) }
        return value
    }

    func optionalInt(_ column: String) throws(TicketStoreError) -> Int? {
        do { return try row[column].decode(Int?.self) } catch { throw .corruptRow(id: id, column: column) }
    }

    func bool(_ column: String) throws(TicketStoreError) -> Bool {
        do { return try row[column].decode(Bool?.self) ?? false } catch { throw .corruptRow(id: id, column: column) }
    }

    func date(_ column: String) throws(TicketStoreError) -> Date {
        guard let value = try optionalDate(column) else { throw .corruptRow(id: id, column: column) }
        return value
    }

    func optionalDate(_ column: String) throws(TicketStoreError) -> Date? {
        guard let text = try optionalText(column) else { return nil }
        guard let date = PostgresTime.parse(text) else { throw .corruptRow(id: id, column: column) }
        return date
    }
}

enum PostgresRows {
    static let callColumns = """
        id, call_id, caller, dialled, arrived_at, answered_at, ended_at, keys, menu_path,
        business_line, category, disposition, sip_status, dialplan_version,
        queue, agent, enqueued_at, agent_answered_at, wait_ms, talk_ms, abandoned, overflowed, callback, direction
        """

    static let workOrderColumns = """
        id, channel, caller, business_line, category, subject, details, status, unit_id, accepted_at,
        answered_directly_at, dispatched_at, sign_deadline, completion_deadline, signed_at, handled_at,
        fed_back_at, visited_at, closed_at, satisfaction, dispatch_count, reopen_count, call_count,
        event_count, updated_at
        """

    static func call(_ row: PostgresRow) throws(TicketStoreError) -> CallTicket {
        let r = PostgresRowReader(row)
        guard let id = TicketID(rawValue: r.id) else { throw .corruptRow(id: r.id, column: "id") }
        let menuPath: [String]
        do {
            menuPath = try JSONDecoder().decode([String].self, from: Data(try r.text("menu_path").utf8))
        } catch {
            throw .corruptRow(id: r.id, column: "menu_path")
        }
        var queue: QueueOutcome?
        if let name = try r.optionalText("queue") {
            queue = QueueOutcome(queue: name, agent: try r.optionalText("agent"), enqueuedAt: try r.date("enqueued_at"),
                                 agentAnsweredAt: try r.optionalDate("agent_answered_at"),
                                 waitMilliseconds: try r.optionalInt("wait_ms"), talkMilliseconds: try r.optionalInt("talk_ms"),
                                 abandoned: try r.bool("abandoned"), overflowed: try r.bool("overflowed"),
                                 callback: try r.bool("callback"))
        }
        return CallTicket(
            id: id, callID: try r.text("call_id"), caller: try r.text("caller"), dialled: try r.text("dialled"),
            arrivedAt: try r.date("arrived_at"), answeredAt: try r.optionalDate("answered_at"),
            endedAt: try r.optionalDate("ended_at"), keys: try r.text("keys"), menuPath: menuPath,
            businessLine: try r.optionalText("business_line"),
            category: try r.optionalText("category").map(TicketCategory.init(rawValue:)),
            disposition: try r.optionalText("disposition").map(CallDisposition.init(rawValue:)),
            sipStatus: try r.optionalInt("sip_status"), dialplanVersion: try r.text("dialplan_version"), queue: queue,
            direction: CallDirection(rawValue: try r.text("direction")) ?? .inbound)
    }

    static func workOrder(_ row: PostgresRow) throws(TicketStoreError) -> WorkOrder {
        let r = PostgresRowReader(row)
        guard let id = TicketID(rawValue: r.id) else { throw .corruptRow(id: r.id, column: "id") }
        guard let status = TicketStatus(rawValue: try r.text("status")) else { throw .corruptRow(id: r.id, column: "status") }
        return WorkOrder(
            id: id, channel: TicketChannel(rawValue: try r.text("channel")), caller: try r.text("caller"),
            businessLine: try r.optionalText("business_line"),
            category: try r.optionalText("category").map(TicketCategory.init(rawValue:)),
            subject: try r.optionalText("subject"), details: try r.text("details"), status: status,
            unit: try r.optionalText("unit_id").map(UnitID.init(rawValue:)),
            acceptedAt: try r.date("accepted_at"), answeredDirectlyAt: try r.optionalDate("answered_directly_at"),
            dispatchedAt: try r.optionalDate("dispatched_at"), signDeadline: try r.optionalDate("sign_deadline"),
            completionDeadline: try r.optionalDate("completion_deadline"), signedAt: try r.optionalDate("signed_at"),
            handledAt: try r.optionalDate("handled_at"), fedBackAt: try r.optionalDate("fed_back_at"),
            visitedAt: try r.optionalDate("visited_at"), closedAt: try r.optionalDate("closed_at"),
            satisfaction: try r.optionalInt("satisfaction"), dispatchCount: try r.int("dispatch_count"),
            reopenCount: try r.int("reopen_count"), callCount: try r.int("call_count"), eventCount: try r.int("event_count"),
            updatedAt: try r.date("updated_at"))
    }

    static func event(_ row: PostgresRow, of id: TicketID) throws(TicketStoreError) -> RecordedTicketEvent {
        let r = PostgresRowReader(row, id: id.rawValue)
        let sequence = try r.int("seq")
        guard let kind = TicketEvent.Kind(name: try r.text("kind"), unit: try r.optionalText("unit_id").map(UnitID.init(rawValue:)),
                                          score: try r.optionalInt("score"), reason: try r.optionalText("reason"))
        else { throw .corruptRow(id: id.rawValue, column: "work_order_events.\(sequence)") }
        return RecordedTicketEvent(workOrderID: id, sequence: sequence,
                                   event: TicketEvent(kind, at: try r.date("at"), actor: try r.text("actor"),
                                                      note: try r.optionalText("note"),
                                                      article: try r.optionalText("article_id").map(KnowledgeArticleID.init(rawValue:))))
    }

    static func menuPathJSON(_ path: [String]) -> String {
        CallTicket.menuPathJSON(path)
    }
}
