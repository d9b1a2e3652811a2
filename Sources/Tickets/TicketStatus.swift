// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: where a work order stands, as derived from its events by ``TicketLifecycle``.

/// The status of a work order (工单状态). A closed set: ``TicketLifecycle`` switches over it,
/// and the schema's `status_known` CHECK lists the same raw values.
public enum TicketStatus: String, CaseIterable, Sendable, Codable, Hashable, CustomStringConvertible {
    /// 已受理: recorded, neither answered nor dispatched yet.
    case accepted
    /// 直接答复: the centre answered the caller itself (in the IVR or by an agent).
    case answeredDirectly = "answered_directly"
    /// 已派单: sent to a handling unit, waiting for it to sign for it.
    case dispatched
    /// 已签收: the unit signed for it and is working on it.
    case signed
    /// 已办理: the unit reports it handled.
    case handled
    /// 已反馈: the result was fed back to the caller.
    case fedBack = "fed_back"
    /// 已回访: a return-visit call scored the caller's satisfaction.
    case visited
    /// 已办结: closed.
    case closed
    /// 重办: reopened after it was answered, handled or closed; it goes out again from here
    /// as from ``accepted``.
    case reopened

    public var description: String { rawValue }

    /// The matter is resolved for the completion rate: answered directly, or handled (and
    /// possibly fed back, visited and closed since). A reopened work order is not.
    public var isCompleted: Bool {
        switch self {
        case .answeredDirectly, .handled, .fedBack, .visited, .closed: true
        case .accepted, .dispatched, .signed, .reopened: false
        }
    }

    /// Still open for a repeat call to be linked to: anything but answered directly and closed.
    public var acceptsRepeatCalls: Bool {
        self != .answeredDirectly && self != .closed
    }

    /// The statuses that ``isCompleted``.
    public static let completed: [TicketStatus] = allCases.filter(\.isCompleted)
}
