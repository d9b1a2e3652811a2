// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: an event as a client sends it (the body of `POST /api/tickets/{id}/events`,
// the arguments of `hotline tickets dispatch ...`), checked into a ``TicketEvent``.

import ConfigFiles
import Foundation

/// `{"kind": "dispatched", "unit": "yinchuan.xingqing", "note": "...", "at": "2026-11-02T11:00:00+08:00"}`.
///
/// `kind` is an event name (``TicketEvent/Kind/names``); `unit` goes with `dispatched` and
/// `signed`, `score` (1-5) with `return_visit`, `reason` with `reopened`, `article` (the
/// knowledge-base article the caller was answered with, optional) with `answered_directly`; `at` is optional (the
/// server's clock), ISO 8601 with a zone. The actor is not taken from the body: the server
/// knows who is calling.
public struct TicketEventRequest: Decodable, Sendable, Equatable {
    public var kind: String
    public var unit: String?
    public var score: Int?
    public var reason: String?
    public var note: String?
    public var at: String?
    public var article: String?

    public init(kind: String, unit: String? = nil, score: Int? = nil, reason: String? = nil, note: String? = nil,
                at: String? = nil, article: String? = nil) {
        self.article = article
        self.kind = kind
        self.unit = unit
        self.score = score
        self.reason = reason
        self.note = note
        self.at = at
    }

    /// The event, by `actor`, at ``at`` or else `now`.
    public func event(actor: String, now: Date) throws(TicketEventRequestError) -> TicketEvent {
        guard TicketEvent.Kind.names.contains(kind) else {
            throw .unknownKind(kind, hint: LocatedYAMLReader.closest(to: kind, among: TicketEvent.Kind.names))
        }
        let unitID = unit.map(UnitID.init(rawValue:))
        if kind == "dispatched" || kind == "signed" {
            guard let unitID, unitID.isWellFormed else { throw .missing("unit", kind: kind) }
        }
        if kind == "return_visit", score == nil { throw .missing("score", kind: kind) }
        if kind == "reopened", reason?.allSatisfy(\.isWhitespace) ?? true { throw .missing("reason", kind: kind) }
        guard let parsed = TicketEvent.Kind(name: kind, unit: unitID, score: score, reason: reason) else {
            throw .unknownKind(kind, hint: nil)
        }
        var articleID: KnowledgeArticleID?
        if let article {
            guard kind == "answered_directly" else { throw .notAllowed("article", kind: kind) }
            let id = KnowledgeArticleID(article.trimmingCharacters(in: .whitespaces))
            guard id.isWellFormed else { throw .badArticle(article) }
            articleID = id
        }
        var time = now
        if let at {
            guard let date = Self.parseInstant(at) else { throw .badTime(at) }
            time = date
        }
        let trimmedNote = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        return TicketEvent(parsed, at: time, actor: actor, note: trimmedNote?.isEmpty == false ? trimmedNote : nil,
                           article: articleID)
    }

    /// ISO 8601 with a zone: `2026-11-02T11:00:00+08:00`, `2026-11-02T03:00:00Z`, with or
    /// without fractional seconds.
    public static func parseInstant(_ text: String) -> Date? {
        if let date = TicketTimestamp.parse(text) { return date }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// Why a ``TicketEventRequest`` is not an event.
public enum TicketEventRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownKind(String, hint: String?)
    case missing(String, kind: String)
    case badTime(String)
    /// A field this kind of event does not take (`article` on anything but `answered_directly`).
    case notAllowed(String, kind: String)
    case badArticle(String)

    public var description: String {
        switch self {
        case .unknownKind(let kind, let hint):
            "unknown event '\(kind)'" + (hint.map { " (did you mean '\($0)'?)" } ?? "")
                + "; events are " + TicketEvent.Kind.names.joined(separator: ", ")
        case .missing(let field, let kind): "'\(kind)' needs a \(field)"
        case .badTime(let text): "'\(text)' is not a time: use ISO 8601 with a zone, e.g. 2026-11-02T11:00:00+08:00"
        case .notAllowed(let field, let kind): "'\(kind)' takes no \(field) (only 'answered_directly' names an article)"
        case .badArticle(let text): "'\(text)' is not an article id"
        }
    }
}
