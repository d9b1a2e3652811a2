// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the rules of every write — what a call's end does to work orders (intake,
// repeat-call linking), what an event may do (the lifecycle replay, active units, SLA
// deadlines, unit scope) — over a backend's transaction primitives, so every backend
// applies the same rules.

import Foundation

/// Applies ``TicketWrite``s through a backend's ``TicketWriteTransaction``.
public enum TicketWriteRules {
    /// Applies one write with the intake fallback: the write runs in a savepoint (`savepoint`
    /// runs its body in one, releasing it on success and rolling it back on a throw, which it
    /// rethrows); if the call's intake into a work order fails (it should not), the write is
    /// applied again without intake in a fresh savepoint — a call never loses its ticket over
    /// its work order — and the effects count the failure.
    ///
    /// Any other error is the write's own failure (the savepoint rolled back), for its callback.
    public static func apply<Transaction: TicketWriteTransaction>(
        _ write: TicketWrite, policy: WorkOrderPolicy, in transaction: Transaction,
        savepoint: (() throws -> Void) throws -> Void
    ) throws -> TicketWriteEffects {
        var effects = TicketWriteEffects()
        do {
            try savepoint {
                effects = try apply(write, policy: policy, intake: true, in: transaction)
            }
        } catch is IntakeFailure {
            try savepoint {
                effects = try apply(write, policy: policy, intake: false, in: transaction)
            }
            effects.intakeFailed += 1
        }
        return effects
    }

    /// Applies one write. With `intake`, a finished call that reached a business line goes
    /// through the intake rule too; an intake error is thrown as ``IntakeFailure`` so the
    /// caller can roll the write back and apply it again without intake. (No savepoint of its
    /// own around intake: on the hot path that would double the savepoints per call.)
    public static func apply<Transaction: TicketWriteTransaction>(
        _ write: TicketWrite, policy: WorkOrderPolicy, intake: Bool, in transaction: Transaction
    ) throws -> TicketWriteEffects {
        var effects = TicketWriteEffects()
        switch write {
        case .open(let ticket):
            guard ticket.disposition == nil, ticket.endedAt == nil else {
                throw TicketStoreError.invalidWrite(
                    ticket.id, reason: "open() takes a call in progress: no disposition, no ended_at; use record()")
            }
            try transaction.insertCall(ticket)
        case .record(let ticket):
            guard ticket.disposition != nil else {
                throw TicketStoreError.invalidWrite(
                    ticket.id, reason: "record() takes a finished call: set its disposition, or use open()")
            }
            try transaction.insertCall(ticket)
            if intake, ticket.businessLine != nil {
                try intakeOrThrow(ticket, override: nil, summary: [:], policy: policy, effects: &effects, in: transaction)
            }
        case .finish(let id, let outcome):
            guard let call = try transaction.finishCall(id: id, outcome: outcome) else {
                throw try transaction.finishFailure(id: id)
            }
            // Only a call that reached a business line concerns a work order.
            if intake, outcome.businessLine != nil {
                try intakeOrThrow(call, override: outcome.resolution, summary: outcome.summary, policy: policy,
                                  handedOff: outcome.handedOff, effects: &effects, in: transaction)
            }
        case .createWorkOrder(let intake, let id):
            effects.workOrder = try create(intake, id: id, in: transaction)
            effects.opened += 1
        case .appendEvent(let event, let id, let scope):
            effects.workOrder = try append(event, to: id, scope: scope, policy: policy.sla, in: transaction)
        case .linkCall(let call, let id, let at):
            try link(call: call, to: id, at: at, reason: .manual, in: transaction)
            effects.workOrder = try transaction.workOrder(id: id)
        case .fileForm(let form):
            let filed = try file(form, policy: policy.sla, in: transaction)
            effects.workOrder = filed.order
            if filed.opened { effects.opened += 1 }
        case .syncUnits(let directory):
            try transaction.syncUnits(directory)
        case .handOff(let request):
            let handed = try handOff(request, in: transaction)
            effects.workOrder = handed.order
            if handed.opened { effects.opened += 1 }
        case .acceptHandoff(let inbound, let id):
            let accepted = try accept(inbound, id: id, in: transaction)
            effects.workOrder = accepted.order
            if accepted.opened { effects.opened += 1 }
        case .recordDelivery(let delivery):
            effects.workOrder = try record(delivery, in: transaction)
        case .recordPartnerStatus(let update):
            effects.workOrder = try record(update, in: transaction)
        }
        return effects
    }

    private static func intakeOrThrow<Transaction: TicketWriteTransaction>(
        _ call: CallTicket, override: CallResolution?, summary: [String: String], policy: WorkOrderPolicy,
        handedOff: Bool = false, effects: inout TicketWriteEffects, in transaction: Transaction
    ) throws {
        let effect: IntakeEffect
        do {
            effect = try self.intake(call, override: override, summary: summary, policy: policy, handedOff: handedOff,
                                     in: transaction)
        } catch {
            throw IntakeFailure(underlying: error)
        }
        switch effect {
        case .none: break
        case .opened: effects.opened += 1
        case .linked: effects.linked += 1
        }
    }

    // MARK: - Intake

    /// What intake did with a call.
    public enum IntakeEffect: Sendable, Equatable {
        case none
        case opened(TicketID)
        case linked(TicketID)
    }

    /// Applies the intake rule (``IntakePolicy``) to a call whose row was just finished or
    /// recorded, in the caller's transaction: no work order, a repeat call linked to the
    /// caller's open one, or a new work order (answered directly, or waiting for dispatch).
    @discardableResult
    public static func intake<Transaction: TicketWriteTransaction>(
        _ call: CallTicket, override: CallResolution?, summary: [String: String] = [:], policy: WorkOrderPolicy,
        handedOff: Bool = false, in transaction: Transaction
    ) throws -> IntakeEffect {
        // A call handed off to a partner got its work order at the transfer, whatever it reached.
        if handedOff, try transaction.workOrder(id: call.id) != nil { return .none }
        let resolution = policy.intake.resolution(for: call, override: override)
        guard resolution != .noWorkOrder else { return .none }
        // An agent who took the call may have filed its work order while talking (only calls an
        // agent answered pay for this lookup).
        if call.queue?.agent != nil, try transaction.workOrder(id: call.id) != nil { return .none }
        let acceptedAt = call.endedAt ?? call.answeredAt ?? call.arrivedAt
        if resolution == .workOrder, let window = policy.intake.repeatCallWindow, PhoneNumber(call.caller).identifiesCaller {
            let earliest = acceptedAt.addingTimeInterval(-Double(window.components.seconds))
            if let id = try transaction.repeatCallCandidate(caller: call.caller, acceptedFrom: earliest, through: acceptedAt,
                                                            businessLine: call.businessLine, category: call.category) {
                try transaction.linkCall(call.id, to: id, at: acceptedAt, reason: .repeatCall)
                return .linked(id)
            }
        }
        let (subject, details) = text(ofSummary: summary)
        let order = WorkOrder(id: call.id, channel: .phone, caller: call.caller, businessLine: call.businessLine,
                              category: call.category, subject: subject, details: details, acceptedAt: acceptedAt,
                              callCount: 1)
        try insert(order, actor: "ivr", note: nil, in: transaction)
        // Intake knows both exist: no friendly not-found checks (the schema's keys still hold).
        try transaction.insertCallLink(call.id, to: order.id, at: acceptedAt, reason: .intake)
        if resolution == .answeredDirectly {
            _ = try append(TicketEvent(.answeredDirectly, at: acceptedAt, actor: "ivr"), to: order.id, scope: nil,
                           policy: policy.sla, in: transaction)
        }
        return .opened(order.id)
    }

    /// The dialplan's summary as a work order's text: `subject` is the subject, the rest
    /// "name: value" lines of details.
    static func text(ofSummary summary: [String: String]) -> (subject: String?, details: String) {
        let subject = summary["subject"].flatMap { $0.isEmpty ? nil : $0 }
        let details = summary.filter { $0.key != "subject" }.sorted { $0.key < $1.key }
            .map { "\($0.key): \($0.value)" }.joined(separator: "\n")
        return (subject, details)
    }

    // MARK: - Work orders

    /// Files an agent's form to the call's own work order: opens it (linked to the call) if the
    /// call has none yet, replaces its text while it is `accepted`, then appends the resolution.
    public static func file<Transaction: TicketWriteTransaction>(
        _ form: WorkOrderForm, policy: SLAPolicy, in transaction: Transaction
    ) throws -> (order: WorkOrder, opened: Bool) {
        guard try transaction.callExists(form.call) else { throw TicketStoreError.ticketNotFound(form.call) }
        var opened = false
        if var order = try transaction.workOrder(id: form.call) {
            if order.status != .accepted, form.resolution == .pending {
                throw TicketStoreError.eventRefused(form.call, TicketLifecycleError(
                    status: order.status, event: "form", reason: .notAllowed))
            }
            if order.status == .accepted {
                order.businessLine = form.businessLine ?? order.businessLine
                order.category = form.category
                order.subject = form.subject
                order.details = form.details
                order.updatedAt = max(order.updatedAt, form.at)
                try transaction.updateWorkOrderText(order)
            }
        } else {
            let order = WorkOrder(id: form.call, channel: .phone, caller: form.caller, businessLine: form.businessLine,
                                  category: form.category, subject: form.subject, details: form.details, acceptedAt: form.at,
                                  callCount: 1)
            try insert(order, actor: form.actor, note: nil, in: transaction)
            try transaction.insertCallLink(form.call, to: order.id, at: form.at, reason: .intake)
            opened = true
        }
        let kind: TicketEvent.Kind? = switch form.resolution {
        case .pending: nil
        case .answeredDirectly: TicketEvent.Kind.answeredDirectly
        case .dispatched(let unit): TicketEvent.Kind.dispatched(to: unit)
        }
        if let kind {
            let order = try append(TicketEvent(kind, at: form.at, actor: form.actor, note: form.note), to: form.call,
                                   scope: nil, policy: policy, in: transaction)
            return (order, opened)
        }
        guard let order = try transaction.workOrder(id: form.call) else { throw TicketStoreError.workOrderNotFound(form.call) }
        return (order, opened)
    }

    /// Creates a work order from another channel (or keyed in by an agent) under `id`.
    public static func create<Transaction: TicketWriteTransaction>(
        _ intake: WorkOrderIntake, id: TicketID, in transaction: Transaction
    ) throws -> WorkOrder {
        let order = WorkOrder(id: id, channel: intake.channel, caller: intake.caller, businessLine: intake.businessLine,
                              category: intake.category, subject: intake.subject, details: intake.details,
                              acceptedAt: intake.acceptedAt)
        guard !intake.actor.allSatisfy(\.isWhitespace) else {
            throw TicketStoreError.eventRefused(id, TicketLifecycleError(status: nil, event: "accepted", reason: .blankActor))
        }
        try insert(order, actor: intake.actor, note: nil, in: transaction)
        for call in intake.calls {
            try link(call: call, to: id, at: intake.acceptedAt, reason: .manual, in: transaction)
        }
        guard let stored = try transaction.workOrder(id: id) else { throw TicketStoreError.workOrderNotFound(id) }
        return stored
    }

    /// Inserts a new work order and its `accepted` event.
    static func insert<Transaction: TicketWriteTransaction>(
        _ order: WorkOrder, actor: String, note: String?, in transaction: Transaction
    ) throws {
        try transaction.insertWorkOrder(order)
        try transaction.insertEvent(TicketEvent(.accepted, at: order.acceptedAt, actor: actor, note: note), sequence: 1,
                                    of: order.id)
    }

    /// Links a call to a work order by hand, with friendly errors if either does not exist.
    public static func link<Transaction: TicketWriteTransaction>(
        call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason, in transaction: Transaction
    ) throws {
        guard try transaction.callExists(call) else { throw TicketStoreError.ticketNotFound(call) }
        guard try transaction.workOrder(id: workOrder) != nil else { throw TicketStoreError.workOrderNotFound(workOrder) }
        try transaction.linkCall(call, to: workOrder, at: at, reason: reason)
    }

    /// Appends `event` to a work order's log after replaying the log through
    /// ``TicketLifecycle``, and updates the projection (the work order and, for dispatches,
    /// the dispatches). With `scope`, the work order must currently be with that unit or a
    /// unit under it.
    public static func append<Transaction: TicketWriteTransaction>(
        _ event: TicketEvent, to id: TicketID, scope: UnitID?, policy: SLAPolicy, in transaction: Transaction
    ) throws -> WorkOrder {
        guard let order = try transaction.workOrder(id: id) else { throw TicketStoreError.workOrderNotFound(id) }
        if let scope, !(try transaction.isWithin(order.unit, scope: scope)) {
            throw TicketStoreError.outsideUnit(id, unit: scope)
        }
        let events = try transaction.events(of: id)
        var lifecycle: TicketLifecycle
        do {
            lifecycle = try TicketLifecycle(replaying: events.map(\.event))
        } catch {
            throw TicketStoreError.corruptRow(id: id.rawValue, column: "work_order_events (\(error))")
        }
        let status: TicketStatus
        do {
            status = try lifecycle.nextStatus(after: event)
        } catch {
            throw TicketStoreError.eventRefused(id, error)
        }
        if let article = event.article {
            guard case .answeredDirectly = event.kind else {
                throw TicketStoreError.invalidWrite(id, reason: "only 'answered_directly' names an article")
            }
            guard try transaction.articleExists(article) else { throw TicketStoreError.unknownArticle(article) }
        }
        var deadlines: SLADeadlines?
        if case .dispatched(let unit) = event.kind {
            guard try transaction.unitIsActive(unit) else { throw TicketStoreError.unknownUnit(unit) }
            deadlines = policy.deadlines(category: order.category, businessLine: order.businessLine, dispatchedAt: event.at)
        }
        let sequence = events.count + 1
        try transaction.insertEvent(event, sequence: sequence, of: id)
        let updated = order.applying(event, status: status, deadlines: deadlines)
        try transaction.updateWorkOrder(updated)
        switch event.kind {
        case .dispatched(let unit):
            if let deadlines {
                try transaction.openDispatch(of: id, sequence: sequence, unit: unit, at: event.at, deadlines: deadlines)
            }
        case .signed:
            try transaction.stampDispatch(of: id, .signed, at: event.at)
        case .handled:
            try transaction.stampDispatch(of: id, .handled, at: event.at)
        default:
            break
        }
        return updated
    }
}
