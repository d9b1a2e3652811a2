// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the ticket of a call — one row per SIP call, whatever became of the call.

import Foundation

/// The ticket of one SIP call: who called which number, when, what they pressed, where
/// the menus took them, and how the call ended. (The matter the caller raised is a
/// ``WorkOrder``, which an answered call that reached a business line opens or joins.)
///
/// Every call gets exactly one, including rejected, cancelled and abandoned ones. Dates are
/// rounded to the millisecond when set, the precision the store and the JSON keep, so a
/// ticket read back equals the ticket written.
///
/// `description` masks the caller's number (``PhoneNumber/masked``) and leaves out the dialled
/// one, so that logging a ticket does not log phone numbers; read the properties when they
/// are wanted.
public struct CallTicket: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The ticket number.
    public var id: TicketID
    /// The SIP Call-ID of the INVITE (RFC 3261 §8.1.1.4). Not unique: a broken or hostile
    /// user agent may reuse one, and its second call still gets its own ticket.
    public var callID: String
    /// The caller: the user part of the From URI (usually a number), possibly `anonymous`.
    public var caller: String
    /// The dialled number: the user part of the Request-URI.
    public var dialled: String
    /// When the INVITE arrived.
    public var arrivedAt: Date { didSet { arrivedAt = TicketTimestamp.normalized(arrivedAt) } }
    /// When we sent 200 OK; nil if the call was never answered.
    public var answeredAt: Date? { didSet { answeredAt = answeredAt.map(TicketTimestamp.normalized) } }
    /// When the call ended; nil while in progress, and on ``CallDisposition/interrupted``
    /// tickets, whose end nobody saw.
    public var endedAt: Date? { didSet { endedAt = endedAt.map(TicketTimestamp.normalized) } }
    /// The DTMF keys pressed, in order (`0`-`9`, `*`, `#`, `A`-`D`), e.g. `"13"`.
    public var keys: String
    /// The menus visited and the key chosen in each, in order, e.g.
    /// `["language_menu:1", "main_menu:3"]`.
    public var menuPath: [String]
    /// The business line the call was routed to (e.g. `enterprise`), if any.
    public var businessLine: String?
    /// What the call was about, if the caller chose.
    public var category: TicketCategory?
    /// How the call ended; nil while it is in progress.
    public var disposition: CallDisposition?
    /// The final SIP status we sent for the INVITE (200, 404, 486, 487, 488, 503...), if any.
    public var sipStatus: Int?
    /// The version of the dialplan that handled the call.
    public var dialplanVersion: String
    /// What the agent queues did with the call; nil if it never reached a `queue` node.
    public var queue: QueueOutcome?
    /// Whether the citizen called us or we called them (a return visit, a callback...).
    public var direction: CallDirection = .inbound

    /// A ticket. Defaults describe a call that has just arrived.
    public init(
        id: TicketID,
        callID: String,
        caller: String,
        dialled: String,
        arrivedAt: Date,
        answeredAt: Date? = nil,
        endedAt: Date? = nil,
        keys: String = "",
        menuPath: [String] = [],
        businessLine: String? = nil,
        category: TicketCategory? = nil,
        disposition: CallDisposition? = nil,
        sipStatus: Int? = nil,
        dialplanVersion: String,
        queue: QueueOutcome? = nil,
        direction: CallDirection = .inbound
    ) {
        self.direction = direction
        self.id = id
        self.callID = callID
        self.caller = caller
        self.dialled = dialled
        self.arrivedAt = TicketTimestamp.normalized(arrivedAt)
        self.answeredAt = answeredAt.map(TicketTimestamp.normalized)
        self.endedAt = endedAt.map(TicketTimestamp.normalized)
        self.keys = keys
        self.menuPath = menuPath
        self.businessLine = businessLine
        self.category = category
        self.disposition = disposition
        self.sipStatus = sipStatus
        self.dialplanVersion = dialplanVersion
        self.queue = queue
    }

    /// True while the call has no disposition yet.
    public var isInProgress: Bool { disposition == nil }

    /// This ticket as ``TicketStore/finish(id:outcome:onCommit:)`` leaves it: the outcome's
    /// fields replace the ticket's, except a nil `answeredAt` or `queue`, which keep the ticket's
    /// (an `unanswered` outcome clears `answeredAt`).
    public func finished(with outcome: CallOutcome) -> CallTicket {
        var ticket = self
        if outcome.unanswered {
            ticket.answeredAt = nil
        } else if let answeredAt = outcome.answeredAt {
            ticket.answeredAt = answeredAt
        }
        ticket.endedAt = outcome.endedAt
        ticket.keys = outcome.keys
        ticket.menuPath = outcome.menuPath
        ticket.businessLine = outcome.businessLine
        ticket.category = outcome.category
        ticket.disposition = outcome.disposition
        ticket.sipStatus = outcome.sipStatus
        if let queue = outcome.queue { ticket.queue = queue }
        return ticket
    }

    public var description: String {
        "CallTicket(\(id), caller: \(PhoneNumber.masked(caller)), disposition: \(disposition?.rawValue ?? "in progress"), "
            + "sip_status: \(sipStatus.map(String.init) ?? "none"), arrived_at: \(TicketTimestamp.format(arrivedAt)))"
    }
}

/// What became of an answered call, applied to its open ticket by
/// ``TicketStore/finish(id:outcome:onCommit:)``.
public struct CallOutcome: Sendable, Equatable, Hashable {
    /// When we sent 200 OK. nil keeps the value the ticket was opened with.
    public var answeredAt: Date? { didSet { answeredAt = answeredAt.map(TicketTimestamp.normalized) } }
    /// The 200 OK never left (CANCEL, BYE or a failure while the ticket was being opened as
    /// answered): clears the `answeredAt` the ticket was opened with, so the call counts as
    /// unanswered. Overrides ``answeredAt``.
    public var unanswered: Bool
    /// When the call ended.
    public var endedAt: Date { didSet { endedAt = TicketTimestamp.normalized(endedAt) } }
    /// The DTMF keys pressed, in order.
    public var keys: String
    /// The menus visited, in order.
    public var menuPath: [String]
    /// The business line the call was routed to, if any.
    public var businessLine: String?
    /// What the call was about, if the caller chose.
    public var category: TicketCategory?
    /// How the call ended.
    public var disposition: CallDisposition
    /// The final SIP status we sent for the INVITE, if any.
    public var sipStatus: Int?
    /// What the call resolved for its work order, when the dialplan says (a `ticket` node
    /// marking a direct answer); nil lets the store's ``IntakePolicy`` decide.
    public var resolution: CallResolution?
    /// The dialplan's summary fields (`ticket` node): `subject` becomes the work order's
    /// subject, the others its details. Only the work order keeps them.
    public var summary: [String: String]
    /// What the agent queues did with the call (queue, agent, wait and talk time...); nil if
    /// it never reached a `queue` node.
    public var queue: QueueOutcome?
    /// The call was handed off to a partner (a transfer to 110), which opened its work order
    /// then: intake leaves that work order alone.
    public var handedOff: Bool

    public init(
        answeredAt: Date? = nil,
        unanswered: Bool = false,
        endedAt: Date,
        keys: String = "",
        menuPath: [String] = [],
        businessLine: String? = nil,
        category: TicketCategory? = nil,
        disposition: CallDisposition,
        sipStatus: Int? = nil,
        resolution: CallResolution? = nil,
        summary: [String: String] = [:],
        queue: QueueOutcome? = nil,
        handedOff: Bool = false
    ) {
        self.answeredAt = answeredAt.map(TicketTimestamp.normalized)
        self.unanswered = unanswered
        self.endedAt = TicketTimestamp.normalized(endedAt)
        self.keys = keys
        self.menuPath = menuPath
        self.businessLine = businessLine
        self.category = category
        self.disposition = disposition
        self.sipStatus = sipStatus
        self.resolution = resolution
        self.summary = summary
        self.queue = queue
        self.handedOff = handedOff
    }
}

/// Who placed the call: the citizen (`inbound`) or the hotline (`outbound`: return visits,
/// callbacks, car owners' notices). KPIs of calls received count inbound calls only.
public enum CallDirection: String, Sendable, Hashable, Codable, CaseIterable {
    case inbound
    case outbound
}
