// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the work-order writes the admin API makes, and the whole store as the server
// and the CLI see it, whatever the backend.

import Foundation

/// Work-order writes, through the same group-commit writer as calls (see ``TicketStore``).
/// Callbacks run on the writer thread, like ``TicketCommitCallback``.
public protocol WorkOrderWriting: Sendable {
    /// Appends an event to a work order's log (`POST /api/tickets/{id}/events`). In the
    /// writer's transaction the log is replayed through ``TicketLifecycle``, the event is
    /// refused if illegal (``TicketStoreError/eventRefused(_:_:)``), a dispatch's unit must
    /// be active (``TicketStoreError/unknownUnit(_:)``) and gets its SLA deadlines, and with
    /// `unit` the work order must be with that unit or under it
    /// (``TicketStoreError/outsideUnit(_:unit:)``, for unit staff). `onCommit` gets the work
    /// order as it stands after the event.
    func append(_ event: TicketEvent, to id: TicketID, within unit: UnitID?, onCommit: @escaping WorkOrderCommitCallback)

    /// Opens a work order that did not come through the IVR (another channel, an agent), with
    /// a new number from the same numbering as calls, and its `accepted` event.
    func createWorkOrder(_ intake: WorkOrderIntake, onCommit: @escaping WorkOrderCommitCallback)

    /// Links a call to a work order by hand (a repeat call the intake rule did not catch).
    func linkCall(_ call: TicketID, to workOrder: TicketID, at: Date, onCommit: @escaping WorkOrderCommitCallback)

    /// Files an agent's work-order form to its call's work order (``WorkOrderForm``).
    func fileForm(_ form: WorkOrderForm, onCommit: @escaping WorkOrderCommitCallback)

    /// Replaces the units (after `units.yaml` changed).
    func updateUnits(_ units: UnitDirectory, onCommit: TicketCommitCallback?)

    /// The SLA and intake rules writes apply from now on.
    var policy: WorkOrderPolicy { get nonmutating set }
}

extension WorkOrderWriting {
    /// ``append(_:to:within:onCommit:)`` for someone who may change every work order.
    public func append(_ event: TicketEvent, to id: TicketID, onCommit: @escaping WorkOrderCommitCallback) {
        append(event, to: id, within: nil, onCommit: onCommit)
    }

    /// ``append(_:to:within:onCommit:)``, awaiting the commit.
    public func append(_ event: TicketEvent, to id: TicketID, within unit: UnitID? = nil) async throws(TicketStoreError)
        -> WorkOrder
    {
        let result = await withCheckedContinuation { continuation in
            append(event, to: id, within: unit) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// ``createWorkOrder(_:onCommit:)``, awaiting the commit.
    public func createWorkOrder(_ intake: WorkOrderIntake) async throws(TicketStoreError) -> WorkOrder {
        let result = await withCheckedContinuation { continuation in
            createWorkOrder(intake) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// ``linkCall(_:to:at:onCommit:)``, awaiting the commit.
    public func linkCall(_ call: TicketID, to workOrder: TicketID, at: Date) async throws(TicketStoreError) -> WorkOrder {
        let result = await withCheckedContinuation { continuation in
            linkCall(call, to: workOrder, at: at) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// ``fileForm(_:onCommit:)``, awaiting the commit.
    public func fileForm(_ form: WorkOrderForm) async throws(TicketStoreError) -> WorkOrder {
        let result = await withCheckedContinuation { continuation in
            fileForm(form) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// ``updateUnits(_:onCommit:)`` without a callback.
    public func updateUnits(_ units: UnitDirectory) {
        updateUnits(units, onCommit: nil)
    }
}

/// Everything the server and the CLI do with a ticket store: calls, work-order writes and
/// reads. ``SQLiteTicketStore`` (TicketsSQLite) is one; the composition root picks the backend.
public typealias HotlineStore = TicketStore & WorkOrderWriting & TicketReading & HandoffWriting & HandoffReading

/// Appends work-order events from outside the server process (`hotline tickets dispatch ...`),
/// beside a running server: each append is its own short transaction, committed on return,
/// with the same rules as ``WorkOrderWriting/append(_:to:within:onCommit:)``.
public protocol TicketEventDesk: Sendable {
    func append(_ event: TicketEvent, to id: TicketID, within unit: UnitID?) throws(TicketStoreError) -> WorkOrder
}
