// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the work order (工单) — the matter a caller raised, as it stands after its events.

import Foundation

/// How a work order came in. An open set: `phone` today; the web form, the app, WeChat,
/// e-mail, letters and the other intake channels of a 12345 centre later.
public struct TicketChannel: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// A call to the hotline.
    public static let phone = TicketChannel("phone")
    /// The centre's web form.
    public static let web = TicketChannel("web")
    /// The mobile app.
    public static let app = TicketChannel("app")
}

/// A work order: who raised what, which unit has it, where it stands and against which
/// deadlines. Its fields are a projection of its event log kept by the store in the same
/// transaction as each event (so lists and reports can use indexes); ``status`` is what
/// ``TicketLifecycle`` derives from the events.
///
/// A work order opened by a call has the call's number (the one the caller was given). Every
/// field about "the dispatch" describes the current (latest) dispatch.
///
/// `description` masks the caller's number.
public struct WorkOrder: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var id: TicketID
    public var channel: TicketChannel
    /// The caller's number (or whatever identifies the requester on other channels).
    public var caller: String
    /// The business line (`enterprise`...), if any.
    public var businessLine: String?
    public var category: TicketCategory?
    /// A short title (`wage arrears`), if one was given.
    public var subject: String?
    /// The full text of the request; empty for IVR work orders, whose calls tell the story.
    public var details: String
    public var status: TicketStatus
    /// The unit it was last dispatched to; nil if never dispatched.
    public var unit: UnitID?
    /// When it was accepted (for a call: when the call ended).
    public var acceptedAt: Date
    /// When it was first answered directly, if ever.
    public var answeredDirectlyAt: Date?
    /// When the current dispatch was made.
    public var dispatchedAt: Date?
    /// The current dispatch's sign-in and completion deadlines.
    public var signDeadline: Date?
    public var completionDeadline: Date?
    /// When the current dispatch was signed for, and reported handled.
    public var signedAt: Date?
    public var handledAt: Date?
    /// The latest feedback to the caller, return visit and closing.
    public var fedBackAt: Date?
    public var visitedAt: Date?
    public var closedAt: Date?
    /// The latest return-visit score, 1...5.
    public var satisfaction: Int?
    /// How many times it was dispatched and reopened.
    public var dispatchCount: Int
    public var reopenCount: Int
    /// How many calls are linked to it (the first one included).
    public var callCount: Int
    /// How many events its log holds.
    public var eventCount: Int
    /// When it last changed (its last event, or the last call linked to it).
    public var updatedAt: Date

    public init(id: TicketID, channel: TicketChannel, caller: String, businessLine: String? = nil,
                category: TicketCategory? = nil, subject: String? = nil, details: String = "",
                status: TicketStatus = .accepted, unit: UnitID? = nil, acceptedAt: Date,
                answeredDirectlyAt: Date? = nil, dispatchedAt: Date? = nil, signDeadline: Date? = nil,
                completionDeadline: Date? = nil, signedAt: Date? = nil, handledAt: Date? = nil, fedBackAt: Date? = nil,
                visitedAt: Date? = nil, closedAt: Date? = nil, satisfaction: Int? = nil, dispatchCount: Int = 0,
                reopenCount: Int = 0, callCount: Int = 0, eventCount: Int = 1, updatedAt: Date? = nil) {
        self.id = id
        self.channel = channel
        self.caller = caller
        self.businessLine = businessLine
        self.category = category
        self.subject = subject
        self.details = details
        self.status = status
        self.unit = unit
        self.acceptedAt = TicketTimestamp.normalized(acceptedAt)
        self.answeredDirectlyAt = answeredDirectlyAt.map(TicketTimestamp.normalized)
        self.dispatchedAt = dispatchedAt.map(TicketTimestamp.normalized)
        self.signDeadline = signDeadline.map(TicketTimestamp.normalized)
        self.completionDeadline = completionDeadline.map(TicketTimestamp.normalized)
        self.signedAt = signedAt.map(TicketTimestamp.normalized)
        self.handledAt = handledAt.map(TicketTimestamp.normalized)
        self.fedBackAt = fedBackAt.map(TicketTimestamp.normalized)
        self.visitedAt = visitedAt.map(TicketTimestamp.normalized)
        self.closedAt = closedAt.map(TicketTimestamp.normalized)
        self.satisfaction = satisfaction
        self.dispatchCount = dispatchCount
        self.reopenCount = reopenCount
        self.callCount = callCount
        self.eventCount = eventCount
        self.updatedAt = TicketTimestamp.normalized(updatedAt ?? acceptedAt)
    }

    /// Whether the current dispatch was signed for by its deadline; nil until it is signed.
    public var signedOnTime: Bool? {
        guard let signedAt, let signDeadline else { return nil }
        return signedAt <= signDeadline
    }

    /// Whether the current dispatch was handled by its deadline; nil until it is handled.
    public var completedOnTime: Bool? {
        guard let handledAt, let completionDeadline else { return nil }
        return handledAt <= completionDeadline
    }

    /// True if, at `now`, it waits for a signature past the sign-in deadline, or for handling
    /// past the completion deadline.
    public func isOverdue(at now: Date) -> Bool {
        switch status {
        case .dispatched:
            return (signDeadline.map { now > $0 } ?? false) || (completionDeadline.map { now > $0 } ?? false)
        case .signed:
            return completionDeadline.map { now > $0 } ?? false
        default:
            return false
        }
    }

    /// This work order after `event` (already checked by ``TicketLifecycle``, which gave
    /// `status`); `deadlines` are the SLA deadlines when `event` is a dispatch.
    func applying(_ event: TicketEvent, status: TicketStatus, deadlines: SLADeadlines?) -> WorkOrder {
        var order = self
        order.status = status
        order.eventCount += 1
        order.updatedAt = max(updatedAt, event.at)
        switch event.kind {
        case .accepted:
            break
        case .answeredDirectly:
            order.answeredDirectlyAt = answeredDirectlyAt ?? event.at
        case .dispatched(let unit):
            order.unit = unit
            order.dispatchedAt = event.at
            order.signDeadline = deadlines?.signIn
            order.completionDeadline = deadlines?.completion
            order.signedAt = nil
            order.handledAt = nil
            order.dispatchCount += 1
        case .signed:
            order.signedAt = event.at
        case .handled:
            order.handledAt = event.at
        case .fedBack:
            order.fedBackAt = event.at
        case .returnVisited(let score):
            order.satisfaction = score
            order.visitedAt = event.at
        case .closed:
            order.closedAt = event.at
        case .reopened:
            order.reopenCount += 1
        }
        return order
    }

    public var description: String {
        "WorkOrder(\(id), \(status.rawValue), caller: \(PhoneNumber.masked(caller)), unit: \(unit?.rawValue ?? "none"), "
            + "accepted_at: \(TicketTimestamp.format(acceptedAt)))"
    }
}

/// One dispatch of a work order to a unit, with its SLA deadlines and what became of it.
public struct WorkOrderDispatch: Sendable, Equatable, Hashable {
    /// The sequence number of the `dispatched` event.
    public var sequence: Int
    public var unit: UnitID
    public var dispatchedAt: Date
    public var signDeadline: Date
    public var completionDeadline: Date
    public var signedAt: Date?
    public var handledAt: Date?
    /// When it was taken away from the unit (re-dispatched elsewhere) before being handled.
    public var withdrawnAt: Date?

    public init(sequence: Int, unit: UnitID, dispatchedAt: Date, signDeadline: Date, completionDeadline: Date,
                signedAt: Date? = nil, handledAt: Date? = nil, withdrawnAt: Date? = nil) {
        self.sequence = sequence
        self.unit = unit
        self.dispatchedAt = TicketTimestamp.normalized(dispatchedAt)
        self.signDeadline = TicketTimestamp.normalized(signDeadline)
        self.completionDeadline = TicketTimestamp.normalized(completionDeadline)
        self.signedAt = signedAt.map(TicketTimestamp.normalized)
        self.handledAt = handledAt.map(TicketTimestamp.normalized)
        self.withdrawnAt = withdrawnAt.map(TicketTimestamp.normalized)
    }
}

/// Why a call is linked to a work order.
public enum CallLinkReason: String, Sendable, Hashable, Codable {
    /// The call opened the work order.
    case intake
    /// A repeat call by the same caller on the same line while the work order was open.
    case repeatCall = "repeat"
    /// Linked by hand.
    case manual
}

/// A call linked to a work order.
public struct LinkedCall: Sendable, Equatable, Hashable {
    public var call: CallTicket
    public var reason: CallLinkReason
    public var linkedAt: Date

    public init(call: CallTicket, reason: CallLinkReason, linkedAt: Date) {
        self.call = call
        self.reason = reason
        self.linkedAt = TicketTimestamp.normalized(linkedAt)
    }
}

/// A work order with everything about it: its event log, its dispatches and its calls.
/// What `GET /api/tickets/{id}` returns.
public struct WorkOrderDetail: Sendable, Equatable, Hashable {
    public var workOrder: WorkOrder
    /// In order, from `accepted`.
    public var events: [RecordedTicketEvent]
    /// In order.
    public var dispatches: [WorkOrderDispatch]
    /// In the order they arrived.
    public var calls: [LinkedCall]
    /// What may happen next (``TicketLifecycle/allowedEvents``).
    public var allowedEvents: [String]
    /// Its hand-offs to and from partners (110), oldest first.
    public var handoffs: [Handoff]
    /// The calls the server placed about it (return visits, owners' notices), answered or not,
    /// oldest first; an answered one is also among `calls`.
    public var outboundAttempts: [OutboundAttempt]

    public init(workOrder: WorkOrder, events: [RecordedTicketEvent], dispatches: [WorkOrderDispatch],
                calls: [LinkedCall], allowedEvents: [String], handoffs: [Handoff] = [], outboundAttempts: [OutboundAttempt] = []) {
        self.outboundAttempts = outboundAttempts
        self.workOrder = workOrder
        self.events = events
        self.dispatches = dispatches
        self.calls = calls
        self.allowedEvents = allowedEvents
        self.handoffs = handoffs
    }
}

/// A work order that did not come from a call through the IVR (another channel, an agent
/// keying it in), for ``WorkOrderWriting/createWorkOrder(_:onCommit:)``.
public struct WorkOrderIntake: Sendable, Equatable, Hashable {
    public var channel: TicketChannel
    public var caller: String
    public var businessLine: String?
    public var category: TicketCategory?
    public var subject: String?
    public var details: String
    public var acceptedAt: Date
    /// Who accepted it (`agent:1001`, `web`).
    public var actor: String
    /// Calls to link to it (e.g. the call an agent took it on).
    public var calls: [TicketID]

    public init(channel: TicketChannel, caller: String, businessLine: String? = nil, category: TicketCategory? = nil,
                subject: String? = nil, details: String = "", acceptedAt: Date, actor: String, calls: [TicketID] = []) {
        self.channel = channel
        self.caller = caller
        self.businessLine = businessLine
        self.category = category
        self.subject = subject
        self.details = details
        self.acceptedAt = TicketTimestamp.normalized(acceptedAt)
        self.actor = actor
        self.calls = calls
    }
}
