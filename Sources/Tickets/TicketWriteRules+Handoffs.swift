// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the rules of hand-off writes — the outbox row a transfer to a partner leaves,
// a partner's hand-off opening a work order once per hand-off id, delivery attempts and the
// partner's status reports — over a backend's transaction primitives.

import Foundation

extension TicketWriteRules {
    /// A call transferred to a partner: its own work order (numbered like the call) is opened
    /// now, linked to the call, if it has none yet (the agent's form or an earlier hand-off may
    /// have opened it); then the hand-off is stored pending, with the body the outbox will
    /// sign and send (so every attempt sends the same bytes).
    public static func handOff<Transaction: TicketWriteTransaction>(
        _ request: OutboundHandoff, in transaction: Transaction
    ) throws -> (order: WorkOrder, opened: Bool) {
        guard try transaction.callExists(request.call) else { throw TicketStoreError.ticketNotFound(request.call) }
        var opened = false
        let order: WorkOrder
        if let existing = try transaction.workOrder(id: request.call) {
            order = existing
        } else {
            let (subject, details) = text(ofSummary: request.summary)
            order = WorkOrder(id: request.call, channel: .phone, caller: request.caller, businessLine: request.businessLine,
                              category: request.category, subject: subject, details: details, acceptedAt: request.at,
                              callCount: 1)
            try insert(order, actor: request.actor, note: nil, in: transaction)
            try transaction.insertCallLink(request.call, to: order.id, at: request.at, reason: .intake)
            opened = true
        }
        let matter = HandoffMatter(handoffID: request.id, from: request.localName, workOrder: order.id.rawValue,
                                   call: request.call.rawValue, caller: order.caller, businessLine: order.businessLine,
                                   category: order.category?.rawValue, subject: order.subject, details: order.details,
                                   acceptedAt: order.acceptedAt, handedOffAt: request.at)
        try transaction.insertHandoff(Handoff(id: request.id, workOrderID: order.id, direction: .outbound,
                                              partner: request.partner, state: .pending, body: matter.encoded(),
                                              createdAt: request.at, nextAttemptAt: request.at))
        return (order, opened)
    }

    /// A partner's hand-off: a work order on the `handoff` channel under `id`, with an inbound
    /// hand-off naming the partner's work order. Idempotent on the hand-off id: the same id
    /// again opens nothing and returns the work order the first one opened.
    public static func accept<Transaction: TicketWriteTransaction>(
        _ inbound: InboundHandoff, id: TicketID, in transaction: Transaction
    ) throws -> (order: WorkOrder, opened: Bool) {
        let matter = inbound.matter
        if let existing = try transaction.handoff(partner: inbound.partner, id: matter.handoffID, direction: .inbound) {
            guard let order = try transaction.workOrder(id: existing.workOrderID) else {
                throw TicketStoreError.workOrderNotFound(existing.workOrderID)
            }
            return (order, false)
        }
        let order = WorkOrder(id: id, channel: .handoff, caller: matter.caller, businessLine: matter.businessLine,
                              category: matter.category.map(TicketCategory.init(rawValue:)), subject: matter.subject,
                              details: matter.details, acceptedAt: inbound.receivedAt)
        try insert(order, actor: "partner:\(inbound.partner)", note: "handed off by \(inbound.partner) as \(matter.workOrder)",
                   in: transaction)
        try transaction.insertHandoff(Handoff(id: matter.handoffID, workOrderID: id, direction: .inbound,
                                              partner: inbound.partner, state: .received,
                                              partnerReference: matter.workOrder, body: inbound.body,
                                              createdAt: inbound.receivedAt))
        return (order, true)
    }

    /// One delivery attempt's outcome on a pending outbound hand-off. A result for a hand-off
    /// no longer pending (another node delivered it first) changes nothing.
    public static func record<Transaction: TicketWriteTransaction>(
        _ delivery: HandoffDelivery, in transaction: Transaction
    ) throws -> WorkOrder {
        guard var handoff = try transaction.handoff(partner: delivery.partner, id: delivery.handoffID, direction: .outbound)
        else { throw TicketStoreError.handoffNotFound(delivery.handoffID) }
        if handoff.state == .pending {
            handoff.attempts += 1
            handoff.updatedAt = max(handoff.updatedAt, delivery.at)
            switch delivery.outcome {
            case .delivered(let reference):
                handoff.state = .delivered
                handoff.deliveredAt = delivery.at
                handoff.partnerReference = reference ?? handoff.partnerReference
                handoff.lastError = nil
                handoff.nextAttemptAt = nil
            case .retry(let error, let next):
                handoff.lastError = error
                handoff.nextAttemptAt = TicketTimestamp.normalized(next)
            case .failed(let error):
                handoff.state = .failed
                handoff.lastError = error
                handoff.nextAttemptAt = nil
            }
            try transaction.updateHandoff(handoff)
        }
        guard let order = try transaction.workOrder(id: handoff.workOrderID) else {
            throw TicketStoreError.workOrderNotFound(handoff.workOrderID)
        }
        return order
    }

    /// A partner's status report. One older than the status recorded is ignored (a late or
    /// replayed report must not undo a newer one).
    public static func record<Transaction: TicketWriteTransaction>(
        _ update: HandoffStatusUpdate, in transaction: Transaction
    ) throws -> WorkOrder {
        guard var handoff = try transaction.handoff(partner: update.partner, id: update.handoffID, direction: nil)
        else { throw TicketStoreError.handoffNotFound(update.handoffID) }
        if handoff.partnerStatusAt.map({ update.at >= $0 }) ?? true {
            handoff.partnerStatus = update.status
            handoff.partnerStatusAt = update.at
            handoff.partnerNote = update.note
            handoff.updatedAt = max(handoff.updatedAt, update.at)
            try transaction.updateHandoff(handoff)
        }
        guard let order = try transaction.workOrder(id: handoff.workOrderID) else {
            throw TicketStoreError.workOrderNotFound(handoff.workOrderID)
        }
        return order
    }
}
