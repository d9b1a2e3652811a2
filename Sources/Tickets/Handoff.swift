// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: hand-offs — a work order's matter exchanged with a partner centre (the police
// 110 linkage) by signed webhook, in either direction, and what became of each delivery.

import Foundation

/// Which way a hand-off went.
public enum HandoffDirection: String, Sendable, Hashable, Codable, CaseIterable {
    /// We handed the matter to the partner (a call transferred to 110): a row of the outbox.
    case outbound = "out"
    /// The partner handed a matter to us (`POST /api/handoffs`).
    case inbound = "in"
}

/// Where a hand-off's delivery stands. Outbound: `pending` (stored, not yet acknowledged; the
/// outbox retries it), then `delivered` (the partner answered 2xx) or `failed` (retries
/// exhausted, or the partner refused it for good). Inbound hand-offs are `received`.
public enum HandoffState: String, Sendable, Hashable, Codable, CaseIterable {
    case pending
    case delivered
    case failed
    case received
}

/// One hand-off of a work order to or from a partner, as stored.
///
/// `id` is the hand-off's id on the wire: ours (a UUID) for an outbound one, the partner's for
/// an inbound one. The partner and the id identify a hand-off for its whole life, so a
/// partner re-sending the same hand-off creates nothing new.
public struct Handoff: Sendable, Equatable, Hashable {
    public var id: String
    public var workOrderID: TicketID
    public var direction: HandoffDirection
    /// The partner's name in `handoffs.yaml` (`110`).
    public var partner: String
    public var state: HandoffState
    /// Delivery attempts made (outbound); 0 for inbound.
    public var attempts: Int
    /// The partner's own number for the matter: their work order in the answer to our POST,
    /// or the work order their hand-off names.
    public var partnerReference: String?
    /// The latest status the partner reported on it (`received`, `handled`...), and when.
    public var partnerStatus: String?
    public var partnerStatusAt: Date?
    public var partnerNote: String?
    /// Why the last attempt failed (HTTP status and a short reason), if it did.
    public var lastError: String?
    /// The hand-off's JSON body as sent or received (the signed bytes; re-sent unchanged).
    public var body: String
    public var createdAt: Date
    public var updatedAt: Date
    public var deliveredAt: Date?
    /// When the outbox tries next (pending outbound only).
    public var nextAttemptAt: Date?

    public init(id: String, workOrderID: TicketID, direction: HandoffDirection, partner: String, state: HandoffState,
                attempts: Int = 0, partnerReference: String? = nil, partnerStatus: String? = nil,
                partnerStatusAt: Date? = nil, partnerNote: String? = nil, lastError: String? = nil, body: String,
                createdAt: Date, updatedAt: Date? = nil, deliveredAt: Date? = nil, nextAttemptAt: Date? = nil) {
        self.id = id
        self.workOrderID = workOrderID
        self.direction = direction
        self.partner = partner
        self.state = state
        self.attempts = attempts
        self.partnerReference = partnerReference
        self.partnerStatus = partnerStatus
        self.partnerStatusAt = partnerStatusAt.map(TicketTimestamp.normalized)
        self.partnerNote = partnerNote
        self.lastError = lastError
        self.body = body
        self.createdAt = TicketTimestamp.normalized(createdAt)
        self.updatedAt = TicketTimestamp.normalized(updatedAt ?? createdAt)
        self.deliveredAt = deliveredAt.map(TicketTimestamp.normalized)
        self.nextAttemptAt = nextAttemptAt.map(TicketTimestamp.normalized)
    }
}

/// The matter as it travels in a hand-off's body (`application/json`, snake_case keys). The
/// same shape both ways, so two Hotline centres can be each other's partner.
public struct HandoffMatter: Sendable, Equatable, Hashable, Codable {
    /// The hand-off's id (the sender's; a UUID from Hotline).
    public var handoffID: String
    /// Who sends it (`handoffs.yaml`'s `local_name`, e.g. `12345`).
    public var from: String
    /// The sender's work order (and, for a call, the number the caller was given).
    public var workOrder: String
    /// The call the matter came in on, if any (the same number as the work order for IVR calls).
    public var call: String?
    public var caller: String
    public var businessLine: String?
    public var category: String?
    public var subject: String?
    public var details: String
    /// When the sender accepted the matter, and when it handed it off (ISO 8601, UTC).
    public var acceptedAt: String
    public var handedOffAt: String

    enum CodingKeys: String, CodingKey {
        case handoffID = "handoff_id", from, workOrder = "work_order", call, caller, businessLine = "business_line"
        case category, subject, details, acceptedAt = "accepted_at", handedOffAt = "handed_off_at"
    }

    public init(handoffID: String, from: String, workOrder: String, call: String?, caller: String, businessLine: String?,
                category: String?, subject: String?, details: String, acceptedAt: Date, handedOffAt: Date) {
        self.handoffID = handoffID
        self.from = from
        self.workOrder = workOrder
        self.call = call
        self.caller = caller
        self.businessLine = businessLine
        self.category = category
        self.subject = subject
        self.details = details
        self.acceptedAt = TicketTimestamp.format(acceptedAt)
        self.handedOffAt = TicketTimestamp.format(handedOffAt)
    }

    /// The body as sent: compact JSON, keys sorted, so the stored bytes are the signed bytes.
    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings cannot fail.
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}

/// What the call engine asks for when a call is transferred to a partner: the call's work order
/// (opened now, linked to the call, if it has none) gets an outbound hand-off, stored pending.
public struct OutboundHandoff: Sendable, Equatable, Hashable {
    /// The hand-off's id on the wire (a fresh UUID).
    public var id: String
    public var partner: String
    /// Our name as the partner knows us (the matter's `from`).
    public var localName: String
    /// The call being transferred (its ticket number is its work order's).
    public var call: TicketID
    public var caller: String
    public var businessLine: String?
    public var category: TicketCategory?
    /// The dialplan's summary so far (`subject` and "name: value" details, as intake makes them).
    public var summary: [String: String]
    /// The moment of the transfer.
    public var at: Date
    /// Who hands it off (`ivr`).
    public var actor: String

    public init(id: String, partner: String, localName: String, call: TicketID, caller: String, businessLine: String?,
                category: TicketCategory?, summary: [String: String] = [:], at: Date, actor: String = "ivr") {
        self.id = id
        self.partner = partner
        self.localName = localName
        self.call = call
        self.caller = caller
        self.businessLine = businessLine
        self.category = category
        self.summary = summary
        self.at = TicketTimestamp.normalized(at)
        self.actor = actor
    }
}

/// A partner's hand-off to us, signature already checked: it opens a work order (channel
/// `handoff`), unless the partner already sent this hand-off id, which answers with the work
/// order the first one opened.
public struct InboundHandoff: Sendable, Equatable, Hashable {
    public var partner: String
    public var matter: HandoffMatter
    /// The body as received (kept verbatim: it is what the partner signed).
    public var body: String
    public var receivedAt: Date

    public init(partner: String, matter: HandoffMatter, body: String, receivedAt: Date) {
        self.partner = partner
        self.matter = matter
        self.body = body
        self.receivedAt = TicketTimestamp.normalized(receivedAt)
    }
}

/// What one delivery attempt of an outbound hand-off came to.
public struct HandoffDelivery: Sendable, Equatable, Hashable {
    public enum Outcome: Sendable, Equatable, Hashable {
        /// The partner answered 2xx, with its own reference if it gave one.
        case delivered(partnerReference: String?)
        /// Not delivered; try again at `nextAttemptAt`.
        case retry(error: String, nextAttemptAt: Date)
        /// Not delivered, and no more tries (given up, or refused for good).
        case failed(error: String)
    }

    public var handoffID: String
    public var partner: String
    public var outcome: Outcome
    public var at: Date

    public init(handoffID: String, partner: String, outcome: Outcome, at: Date) {
        self.handoffID = handoffID
        self.partner = partner
        self.outcome = outcome
        self.at = TicketTimestamp.normalized(at)
    }
}

/// A partner's report on a hand-off (110 says it handled the matter), signature checked.
/// Applied only if it is not older than the status already recorded, so a late or replayed
/// report cannot turn `handled` back into `received`.
public struct HandoffStatusUpdate: Sendable, Equatable, Hashable {
    public var partner: String
    /// The hand-off's id on the wire (ours for an outbound one, theirs for an inbound one).
    public var handoffID: String
    public var status: String
    public var note: String?
    public var at: Date

    public init(partner: String, handoffID: String, status: String, note: String? = nil, at: Date) {
        self.partner = partner
        self.handoffID = handoffID
        self.status = status
        self.note = note
        self.at = TicketTimestamp.normalized(at)
    }
}

/// The channel of work orders a partner handed to us.
extension TicketChannel {
    public static let handoff = TicketChannel("handoff")
}
