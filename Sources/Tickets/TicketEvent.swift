// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: one entry of a work order's append-only event log.

import Foundation

/// Something that happened to a work order: what, when and who did it. The log of these is
/// append-only (the schema refuses UPDATE and DELETE); the status is derived from it by
/// ``TicketLifecycle``.
public struct TicketEvent: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// What happened. A closed set: each case is a transition ``TicketLifecycle`` knows.
    public enum Kind: Sendable, Equatable, Hashable {
        /// 受理: the work order was recorded. Always the first event, and only the first.
        case accepted
        /// 直接答复: the centre answered the caller without dispatching.
        case answeredDirectly
        /// 派单: sent to a handling unit (again, when re-dispatched).
        case dispatched(to: UnitID)
        /// 签收: the unit it was dispatched to signed for it.
        case signed(by: UnitID)
        /// 办理: the unit reports it handled.
        case handled
        /// 反馈: the result was fed back to the caller.
        case fedBack
        /// 回访: a return visit scored the caller's satisfaction, 1 (very dissatisfied) to 5
        /// (very satisfied).
        case returnVisited(score: Int)
        /// 办结: closed.
        case closed
        /// 重办: reopened, for a reason (the caller was not satisfied, the handling was not
        /// adequate...).
        case reopened(reason: String)

        /// The name in the database and in JSON: `accepted`, `answered_directly`,
        /// `dispatched`, `signed`, `handled`, `feedback`, `return_visit`, `closed`, `reopened`.
        public var name: String {
            switch self {
            case .accepted: "accepted"
            case .answeredDirectly: "answered_directly"
            case .dispatched: "dispatched"
            case .signed: "signed"
            case .handled: "handled"
            case .fedBack: "feedback"
            case .returnVisited: "return_visit"
            case .closed: "closed"
            case .reopened: "reopened"
            }
        }

        /// Every event name, in lifecycle order.
        public static let names = [
            "accepted", "answered_directly", "dispatched", "signed", "handled", "feedback", "return_visit", "closed",
            "reopened",
        ]

        /// The unit a dispatch or a signature names.
        public var unit: UnitID? {
            switch self {
            case .dispatched(let unit), .signed(let unit): unit
            default: nil
            }
        }

        /// Builds a kind from its stored parts; nil if they do not fit together (a
        /// `dispatched` without a unit, a `return_visit` without a score...).
        public init?(name: String, unit: UnitID? = nil, score: Int? = nil, reason: String? = nil) {
            switch name {
            case "accepted": self = .accepted
            case "answered_directly": self = .answeredDirectly
            case "dispatched":
                guard let unit else { return nil }
                self = .dispatched(to: unit)
            case "signed":
                guard let unit else { return nil }
                self = .signed(by: unit)
            case "handled": self = .handled
            case "feedback": self = .fedBack
            case "return_visit":
                guard let score else { return nil }
                self = .returnVisited(score: score)
            case "closed": self = .closed
            case "reopened":
                guard let reason else { return nil }
                self = .reopened(reason: reason)
            default: return nil
            }
        }
    }

    public var kind: Kind
    /// When it happened. Rounded to the millisecond, the precision the store keeps.
    public var at: Date { didSet { at = TicketTimestamp.normalized(at) } }
    /// Who did it: `ivr`, `agent:1001`, `unit:yinchuan.xingqing/zhang`, `cli:root`... Never empty.
    public var actor: String
    /// Free text kept with the event (what was done, what the caller was told), if any.
    public var note: String?
    /// The knowledge-base article the caller was answered with: only on `answered_directly`,
    /// and it must exist (the store checks). What the direct-answer rate is broken down by.
    public var article: KnowledgeArticleID?

    public init(_ kind: Kind, at: Date, actor: String, note: String? = nil, article: KnowledgeArticleID? = nil) {
        self.kind = kind
        self.at = TicketTimestamp.normalized(at)
        self.actor = actor
        self.note = note
        self.article = article
    }

    public var description: String {
        var text = "\(kind.name)"
        switch kind {
        case .dispatched(let unit), .signed(let unit): text += "(\(unit))"
        case .returnVisited(let score): text += "(\(score))"
        case .reopened(let reason): text += "(\(reason))"
        default: break
        }
        if let article { text += "[article \(article)]" }
        return text + " at \(TicketTimestamp.format(at)) by \(actor)"
    }
}

/// An event as stored: its place in the work order's log (1 for `accepted`, then 2, 3...).
public struct RecordedTicketEvent: Sendable, Equatable, Hashable {
    /// The work order.
    public var workOrderID: TicketID
    /// The position in the log, from 1, without gaps.
    public var sequence: Int
    /// The event.
    public var event: TicketEvent

    public init(workOrderID: TicketID, sequence: Int, event: TicketEvent) {
        self.workOrderID = workOrderID
        self.sequence = sequence
        self.event = event
    }
}
