// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the pure state machine that derives a work order's status from its events and
// refuses the transitions a 12345 centre does not allow.

import Foundation

/// The life of one work order: feed it the events in order, it keeps the status and the unit
/// that has the work order, and throws on an event the current status does not allow.
///
/// Transitions (an event not listed for a status is illegal):
///
/// | status | allowed events → next status |
/// |---|---|
/// | (none) | `accepted` → accepted |
/// | accepted, reopened | `answered_directly` → answered_directly; `dispatched(u)` → dispatched |
/// | answered_directly | `return_visit(s)` → visited; `closed` → closed; `reopened(r)` → reopened |
/// | dispatched(u) | `signed(u)` → signed; `dispatched(v)`, v ≠ u → dispatched (re-dispatch) |
/// | signed(u) | `handled` → handled; `dispatched(v)`, v ≠ u → dispatched (returned, re-dispatched) |
/// | handled | `feedback` → fed_back; `reopened(r)` → reopened (handling sent back) |
/// | fed_back | `return_visit(s)` → visited; `closed` → closed; `reopened(r)` → reopened |
/// | visited | `closed` → closed; `reopened(r)` → reopened |
/// | closed | `reopened(r)` → reopened |
///
/// Besides: `signed` must name the unit the work order is dispatched to; a return-visit score
/// is 1...5; a reopen reason is not blank; the actor is not blank; and no event is earlier
/// than the one before it.
///
/// A value type with no I/O: the store replays a work order's events through it inside the
/// writer's transaction before appending one, and tests feed it tables of events.
public struct TicketLifecycle: Sendable, Equatable, Hashable {
    /// The current status; nil before `accepted`.
    public private(set) var status: TicketStatus?
    /// The unit the work order was last dispatched to (it keeps it after handling, for
    /// reports); nil if it was never dispatched.
    public private(set) var unit: UnitID?
    /// When the last event happened.
    public private(set) var lastEventAt: Date?
    /// How many events were applied.
    public private(set) var eventCount = 0

    /// A work order before its first event.
    public init() {}

    /// The state after `events`, in order.
    public init(replaying events: some Sequence<TicketEvent>) throws(TicketLifecycleError) {
        self.init()
        for event in events {
            try apply(event)
        }
    }

    /// Applies `event`, or throws and leaves the lifecycle unchanged.
    public mutating func apply(_ event: TicketEvent) throws(TicketLifecycleError) {
        let next = try nextStatus(after: event)
        if case .dispatched(let to) = event.kind { unit = to }
        status = next
        lastEventAt = event.at
        eventCount += 1
    }

    /// The status `event` would lead to, without applying it.
    public func nextStatus(after event: TicketEvent) throws(TicketLifecycleError) -> TicketStatus {
        func refuse(_ reason: TicketLifecycleError.Reason) -> TicketLifecycleError {
            TicketLifecycleError(status: status, event: event.kind.name, reason: reason)
        }
        if event.actor.allSatisfy(\.isWhitespace) { throw refuse(.blankActor) }
        if let lastEventAt, event.at < lastEventAt { throw refuse(.earlierThanPreviousEvent(lastEventAt)) }
        guard let status else {
            guard case .accepted = event.kind else { throw refuse(.notAccepted) }
            return .accepted
        }
        switch (status, event.kind) {
        case (_, .accepted):
            throw refuse(.alreadyAccepted)

        case (.accepted, .answeredDirectly), (.reopened, .answeredDirectly):
            return .answeredDirectly
        case (.accepted, .dispatched), (.reopened, .dispatched):
            return .dispatched

        case (.dispatched, .dispatched(let to)), (.signed, .dispatched(let to)):
            guard to != unit else { throw refuse(.alreadyAtUnit(to)) }
            return .dispatched
        case (.dispatched, .signed(let by)):
            guard by == unit else { throw refuse(.wrongUnit(expected: unit, got: by)) }
            return .signed
        case (.signed, .handled):
            return .handled

        case (.handled, .fedBack):
            return .fedBack
        case (.answeredDirectly, .returnVisited(let score)), (.fedBack, .returnVisited(let score)):
            guard (1...5).contains(score) else { throw refuse(.scoreOutOfRange(score)) }
            return .visited
        case (.answeredDirectly, .closed), (.fedBack, .closed), (.visited, .closed):
            return .closed

        case (.answeredDirectly, .reopened(let reason)), (.handled, .reopened(let reason)),
             (.fedBack, .reopened(let reason)), (.visited, .reopened(let reason)), (.closed, .reopened(let reason)):
            guard !reason.allSatisfy(\.isWhitespace) else { throw refuse(.blankReason) }
            return .reopened

        default:
            throw refuse(.notAllowed)
        }
    }

    /// The events allowed next, by name (`dispatched` standing for any unit it allows).
    public var allowedEvents: [String] {
        guard let status else { return ["accepted"] }
        switch status {
        case .accepted, .reopened: return ["answered_directly", "dispatched"]
        case .answeredDirectly: return ["return_visit", "closed", "reopened"]
        case .dispatched: return ["dispatched", "signed"]
        case .signed: return ["dispatched", "handled"]
        case .handled: return ["feedback", "reopened"]
        case .fedBack: return ["return_visit", "closed", "reopened"]
        case .visited: return ["closed", "reopened"]
        case .closed: return ["reopened"]
        }
    }
}

/// Why ``TicketLifecycle`` refused an event.
public struct TicketLifecycleError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The rule broken. Closed: each case is one rule of the lifecycle.
    public enum Reason: Sendable, Equatable, Hashable {
        /// The status does not allow this event at all.
        case notAllowed
        /// The first event must be `accepted`.
        case notAccepted
        /// `accepted` again.
        case alreadyAccepted
        /// `signed` by a unit other than the one the work order is dispatched to.
        case wrongUnit(expected: UnitID?, got: UnitID)
        /// Re-dispatched to the unit that already has it.
        case alreadyAtUnit(UnitID)
        /// A return-visit score outside 1...5.
        case scoreOutOfRange(Int)
        /// A reopen without a reason.
        case blankReason
        /// An event without an actor.
        case blankActor
        /// An event dated before the previous event (which happened at the given time).
        case earlierThanPreviousEvent(Date)
    }

    /// The status the work order was in; nil before `accepted`.
    public var status: TicketStatus?
    /// The refused event's name (`dispatched`, `return_visit`...).
    public var event: String
    public var reason: Reason

    public init(status: TicketStatus?, event: String, reason: Reason) {
        self.status = status
        self.event = event
        self.reason = reason
    }

    public var description: String {
        let from = status.map { "a work order that is \($0.rawValue)" } ?? "a work order that was never accepted"
        switch reason {
        case .notAllowed:
            return "'\(event)' is not allowed on \(from)"
        case .notAccepted:
            return "'\(event)' is not allowed on \(from): the first event must be 'accepted'"
        case .alreadyAccepted:
            return "'accepted' is not allowed on \(from): it is only the first event"
        case .wrongUnit(let expected, let got):
            return "'signed' by \(got) is not allowed on \(from): it is dispatched to \(expected?.rawValue ?? "no unit")"
        case .alreadyAtUnit(let unit):
            return "'dispatched' to \(unit) is not allowed on \(from): it is already with \(unit)"
        case .scoreOutOfRange(let score):
            return "'return_visit' with score \(score): the score is 1 (very dissatisfied) to 5 (very satisfied)"
        case .blankReason:
            return "'reopened' needs a reason"
        case .blankActor:
            return "'\(event)' needs an actor"
        case .earlierThanPreviousEvent(let previous):
            return "'\(event)' is dated before the previous event (\(TicketTimestamp.format(previous)))"
        }
    }
}
