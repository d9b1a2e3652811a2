// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the hand-off writes and reads every backend's store provides: the outbox the
// server's delivery loop drains, and the partner's hand-offs and reports it records.

import Foundation

/// Hand-off writes, through the same group-commit writer as calls (callbacks on the writer
/// thread, like ``WorkOrderCommitCallback``); each gives the hand-off's work order.
public protocol HandoffWriting: Sendable {
    /// Stores an outbound hand-off of a call being transferred (``TicketWriteRules/handOff(_:in:)``).
    func handOff(_ request: OutboundHandoff, onCommit: @escaping WorkOrderCommitCallback)
    /// Records a partner's hand-off (``TicketWriteRules/accept(_:id:in:)``), under a new number.
    func acceptHandoff(_ inbound: InboundHandoff, onCommit: @escaping WorkOrderCommitCallback)
    /// Records one delivery attempt's outcome.
    func recordDelivery(_ delivery: HandoffDelivery, onCommit: @escaping WorkOrderCommitCallback)
    /// Records a partner's status report on a hand-off.
    func recordPartnerStatus(_ update: HandoffStatusUpdate, onCommit: @escaping WorkOrderCommitCallback)
}

extension HandoffWriting {
    @discardableResult
    public func handOff(_ request: OutboundHandoff) async throws(TicketStoreError) -> WorkOrder {
        try await Self.awaiting { handOff(request, onCommit: $0) }
    }

    @discardableResult
    public func acceptHandoff(_ inbound: InboundHandoff) async throws(TicketStoreError) -> WorkOrder {
        try await Self.awaiting { acceptHandoff(inbound, onCommit: $0) }
    }

    @discardableResult
    public func recordDelivery(_ delivery: HandoffDelivery) async throws(TicketStoreError) -> WorkOrder {
        try await Self.awaiting { recordDelivery(delivery, onCommit: $0) }
    }

    @discardableResult
    public func recordPartnerStatus(_ update: HandoffStatusUpdate) async throws(TicketStoreError) -> WorkOrder {
        try await Self.awaiting { recordPartnerStatus(update, onCommit: $0) }
    }

    private static func awaiting(_ write: (@escaping WorkOrderCommitCallback) -> Void) async throws(TicketStoreError)
        -> WorkOrder
    {
        let result = await withCheckedContinuation { continuation in
            write { continuation.resume(returning: $0) }
        }
        return try result.get()
    }
}

/// Hand-off reads (committed data; they block on the database like ``TicketReading``'s).
public protocol HandoffReading: Sendable {
    /// The hand-offs of a work order, oldest first.
    func handoffs(ofWorkOrder id: TicketID) throws(TicketStoreError) -> [Handoff]
    /// The hand-off a partner knows by `id` (outbound first, as ``TicketWriteTransaction/handoff(partner:id:direction:)``).
    func handoff(partner: String, id: String) throws(TicketStoreError) -> Handoff?
    /// Pending outbound hand-offs whose next attempt is due at `now`, most overdue first.
    func dueHandoffs(at now: Date, limit: Int) throws(TicketStoreError) -> [Handoff]
    /// When the earliest pending outbound hand-off is next due; nil if none is pending.
    func nextHandoffAttempt() throws(TicketStoreError) -> Date?
}
