// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: a small JSON tree, so each API value spells out its JSON once, with every key
// present (null when absent) and snake_case names like the database's columns.

import Foundation

/// A JSON value. Values build one in `json`; their `Encodable` conformance encodes it.
enum JSONValue: Encodable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.double(let a), .double(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        default: false
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .object(let members):
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in members { try container.encode(value, forKey: Key(key)) }
        }
    }

    static func time(_ date: Date?) -> JSONValue { date.map { .string(TicketTimestamp.format($0)) } ?? .null }
    static func text(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
    static func number(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }
    static func number(_ value: Double?) -> JSONValue { value.map(JSONValue.double) ?? .null }
    static func flag(_ value: Bool?) -> JSONValue { value.map(JSONValue.bool) ?? .null }
}

/// The JSON encoder for API and CLI output: pretty, keys sorted, slashes unescaped — the
/// same as ``CallTicket/jsonEncoder``.
public enum TicketJSON {
    public static var encoder: JSONEncoder { CallTicket.jsonEncoder }

    /// `value` as JSON text, with a final newline.
    public static func text(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}

extension WorkOrder: Encodable {
    var json: JSONValue {
        .object([
            ("id", .string(id.rawValue)), ("channel", .string(channel.rawValue)), ("caller", .string(caller)),
            ("business_line", .text(businessLine)), ("category", .text(category?.rawValue)), ("subject", .text(subject)),
            ("details", .string(details)), ("status", .string(status.rawValue)), ("unit", .text(unit?.rawValue)),
            ("accepted_at", .time(acceptedAt)), ("answered_directly_at", .time(answeredDirectlyAt)),
            ("dispatched_at", .time(dispatchedAt)), ("sign_deadline", .time(signDeadline)),
            ("completion_deadline", .time(completionDeadline)), ("signed_at", .time(signedAt)),
            ("signed_on_time", .flag(signedOnTime)), ("handled_at", .time(handledAt)),
            ("completed_on_time", .flag(completedOnTime)), ("fed_back_at", .time(fedBackAt)),
            ("visited_at", .time(visitedAt)), ("satisfaction", .number(satisfaction)), ("closed_at", .time(closedAt)),
            ("dispatch_count", .int(dispatchCount)), ("reopen_count", .int(reopenCount)), ("call_count", .int(callCount)),
            ("event_count", .int(eventCount)), ("updated_at", .time(updatedAt)),
        ])
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

extension RecordedTicketEvent: Encodable {
    var json: JSONValue {
        var score: Int?, reason: String?
        if case .returnVisited(let value) = event.kind { score = value }
        if case .reopened(let value) = event.kind { reason = value }
        return .object([
            ("seq", .int(sequence)), ("kind", .string(event.kind.name)), ("at", .time(event.at)),
            ("actor", .string(event.actor)), ("unit", .text(event.kind.unit?.rawValue)), ("score", .number(score)),
            ("reason", .text(reason)), ("note", .text(event.note)), ("article", .text(event.article?.rawValue)),
        ])
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

extension WorkOrderDispatch: Encodable {
    var json: JSONValue {
        .object([
            ("seq", .int(sequence)), ("unit", .string(unit.rawValue)), ("dispatched_at", .time(dispatchedAt)),
            ("sign_deadline", .time(signDeadline)), ("signed_at", .time(signedAt)),
            ("signed_on_time", .flag(signedAt.map { $0 <= signDeadline })),
            ("completion_deadline", .time(completionDeadline)), ("handled_at", .time(handledAt)),
            ("completed_on_time", .flag(handledAt.map { $0 <= completionDeadline })), ("withdrawn_at", .time(withdrawnAt)),
        ])
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

extension WorkOrderDetail: Encodable {
    var json: JSONValue {
        .object([
            ("work_order", workOrder.json), ("events", .array(events.map(\.json))),
            ("dispatches", .array(dispatches.map(\.json))),
            ("calls", .array(calls.map { linked in
                .object([("reason", .string(linked.reason.rawValue)), ("linked_at", .time(linked.linkedAt)),
                         ("call", CallTicketJSON(linked.call).json)])
            })),
            ("allowed_events", .array(allowedEvents.map(JSONValue.string))),
            ("handoffs", .array(handoffs.map(\.json))),
            ("outbound_attempts", .array(outboundAttempts.map { attempt in
                .object([("job", .string(attempt.job)), ("attempt", .int(attempt.attempt)), ("started_at", .time(attempt.startedAt)),
                         ("ended_at", .time(attempt.endedAt)), ("outcome", .string(attempt.outcome.rawValue)),
                         ("sip_status", attempt.sipStatus.map(JSONValue.int) ?? .null),
                         ("ticket", attempt.ticket.map { JSONValue.string($0.rawValue) } ?? .null)])
            })),
        ])
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

extension Handoff: Encodable {
    /// The body stays out: it holds the caller's number, which the work order's own JSON masks
    /// for those who may not see it.
    var json: JSONValue {
        .object([
            ("id", .string(id)), ("work_order", .string(workOrderID.rawValue)), ("direction", .string(direction.rawValue)),
            ("partner", .string(partner)), ("state", .string(state.rawValue)), ("attempts", .int(attempts)),
            ("partner_reference", .text(partnerReference)), ("partner_status", .text(partnerStatus)),
            ("partner_status_at", .time(partnerStatusAt)), ("partner_note", .text(partnerNote)),
            ("last_error", .text(lastError)), ("created_at", .time(createdAt)), ("updated_at", .time(updatedAt)),
            ("delivered_at", .time(deliveredAt)), ("next_attempt_at", .time(nextAttemptAt)),
        ])
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

extension WorkOrderPage: Encodable {
    public func encode(to encoder: any Encoder) throws {
        try JSONValue.object([("items", .array(items.map(\.json))), ("next", .text(next?.rawValue))]).encode(to: encoder)
    }
}

/// A call's JSON as a tree: the one spelling of it. ``CallTicket``'s `Encodable` form (the
/// command line's `tickets list --json`) encodes this tree, and a work order's detail embeds
/// it, so a call has the same keys wherever it appears. The queue keys (migration v3) are null,
/// or false, for a call that never queued.
struct CallTicketJSON {
    let json: JSONValue

    init(_ call: CallTicket) {
        let queue = call.queue
        json = .object([
            ("id", .string(call.id.rawValue)), ("call_id", .string(call.callID)), ("caller", .string(call.caller)),
            ("dialled", .string(call.dialled)), ("arrived_at", .time(call.arrivedAt)), ("answered_at", .time(call.answeredAt)),
            ("ended_at", .time(call.endedAt)), ("keys", .string(call.keys)),
            ("menu_path", .array(call.menuPath.map(JSONValue.string))), ("business_line", .text(call.businessLine)),
            ("category", .text(call.category?.rawValue)), ("disposition", .text(call.disposition?.rawValue)),
            ("sip_status", .number(call.sipStatus)), ("dialplan_version", .string(call.dialplanVersion)),
            ("queue", .text(queue?.queue)), ("agent", .text(queue?.agent)), ("enqueued_at", .time(queue?.enqueuedAt)),
            ("agent_answered_at", .time(queue?.agentAnsweredAt)), ("wait_ms", .number(queue?.waitMilliseconds)),
            ("talk_ms", .number(queue?.talkMilliseconds)), ("abandoned", .bool(queue?.abandoned ?? false)),
            ("overflowed", .bool(queue?.overflowed ?? false)), ("callback", .bool(queue?.callback ?? false)),
            ("direction", .string(call.direction.rawValue)),
        ])
    }
}

extension KPIRatio: Encodable {
    var json: JSONValue {
        .object([("value", .number(value)), ("numerator", .int(numerator)), ("denominator", .int(denominator))])
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

extension KPIReport: Encodable {
    var json: JSONValue {
        var period = JSONValue.null
        if let p = query.period {
            period = .object([
                ("from", .text(p.firstDay?.description)), ("to", .text(p.lastDay?.description)),
                ("time_zone", .text(p.timeZone?.identifier)), ("start", .time(p.start)), ("end", .time(p.end)),
                ("previous_start", .time(p.previous.start)), ("previous_end", .time(p.previous.end)),
            ])
        }
        var calls = JSONValue.null
        if let c = self.calls {
            calls = .object([
                ("offered", .int(c.offered)), ("answered", .int(c.answered)), ("abandoned", .int(c.abandoned)),
                ("abandoned_short", .int(c.abandonedShort)),
                ("short_abandon_seconds", .int(Int(query.shortAbandon.components.seconds))),
                ("connect_rate", c.connectRate.json), ("service_level", c.serviceLevel.json),
                ("service_level_seconds", .int(Int(query.serviceLevel.components.seconds))),
                ("average_speed_of_answer_seconds", .number(c.averageSpeedOfAnswer)),
                ("average_handle_time_seconds", .number(c.averageHandleTime)),
            ])
        }
        let w = workOrders
        func top(_ entries: [TopEntry]) -> JSONValue {
            .array(entries.map { entry in
                .object([("key", .string(entry.key)), ("count", .int(entry.count)),
                         ("previous_count", .number(entry.previousCount)), ("change", .number(entry.change)),
                         ("change_rate", .number(entry.changeRate))])
            })
        }
        return .object([
            ("period", period), ("unit", .text(query.unit?.rawValue)), ("as_of", .time(query.asOf)), ("calls", calls),
            ("work_orders", .object([
                ("accepted", .int(w.accepted)), ("direct_answer_rate", w.directAnswerRate?.json ?? .null),
                ("completion_rate", w.completionRate.json), ("on_time_sign_in_rate", w.onTimeSignInRate.json),
                ("on_time_completion_rate", w.onTimeCompletionRate.json), ("satisfaction_rate", w.satisfactionRate.json),
                ("satisfied_score", .int(query.satisfiedScore)), ("open", .int(w.open)), ("overdue", .int(w.overdue)),
                ("repeat_calls", .int(w.repeatCalls)),
            ])),
            ("units", .array(units.map { unit in
                .object([
                    ("rank", .int(unit.rank)), ("unit", .string(unit.unit.rawValue)), ("name", .text(unit.name)),
                    ("dispatched", .int(unit.dispatched)), ("handled", .int(unit.handled)),
                    ("on_time_sign_in_rate", unit.onTimeSignInRate.json),
                    ("on_time_completion_rate", unit.onTimeCompletionRate.json),
                    ("satisfaction_rate", unit.satisfactionRate.json),
                ])
            })),
            ("top_categories", top(topCategories)), ("top_subjects", top(topSubjects)),
            ("direct_answers_by_article", .array(directAnswersByArticle.map { entry in
                .object([("article", .text(entry.article?.rawValue)), ("title", .text(entry.title)),
                         ("count", .int(entry.count)), ("rate", entry.rate.json)])
            })),
        ])
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}
