// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: what a storage backend (SQLite, PostgreSQL) provides to the write rules: one
// open transaction's primitives, each one statement or so. The rules themselves — intake,
// repeat-call linking, the lifecycle replay, SLA deadlines — are TicketWriteRules', written
// once for every backend.

import Foundation

/// One write the group-commit queue carries to a backend.
public enum TicketWrite: Sendable {
    /// A call in progress (``TicketStore/open(_:onCommit:)``).
    case open(CallTicket)
    /// A call's end (``TicketStore/finish(id:outcome:onCommit:)``), and its intake.
    case finish(TicketID, CallOutcome)
    /// A call already over (``TicketStore/record(_:onCommit:)``), and its intake.
    case record(CallTicket)
    /// A work order from another channel under a freshly allocated number.
    case createWorkOrder(WorkOrderIntake, TicketID)
    /// An event on a work order's log; with `scope`, only if the work order is with that unit or under it.
    case appendEvent(TicketEvent, to: TicketID, scope: UnitID?)
    /// A call linked to a work order by hand.
    case linkCall(TicketID, to: TicketID, at: Date)
    /// An agent's work-order form, filed to its call's work order.
    case fileForm(WorkOrderForm)
    /// The units table made to match `units.yaml`.
    case syncUnits(UnitDirectory)
    /// A call transferred to a partner: its work order (opened if need be) gets an outbound
    /// hand-off, pending in the outbox.
    case handOff(OutboundHandoff)
    /// A partner's hand-off: a new work order under the allocated number (or, for a hand-off id
    /// already received, the work order it opened).
    case acceptHandoff(InboundHandoff, TicketID)
    /// The outcome of one delivery attempt of an outbound hand-off.
    case recordDelivery(HandoffDelivery)
    /// A partner's status report on a hand-off.
    case recordPartnerStatus(HandoffStatusUpdate)

    /// Whether nobody waits on this write's commit, so it may ride in a later, cheaper one
    /// (see ``GroupCommitQueue``).
    public var isDeferrable: Bool {
        switch self {
        case .finish, .record: true
        case .open, .createWorkOrder, .appendEvent, .linkCall, .fileForm, .syncUnits, .handOff, .acceptHandoff,
             .recordDelivery, .recordPartnerStatus: false
        }
    }
}

/// What one write did besides its own row, for the writer's counters.
public struct TicketWriteEffects: Sendable, Equatable {
    /// The work order as it stands after the write (work-order writes only).
    public var workOrder: WorkOrder?
    /// Work orders opened (by intake or ``TicketWrite/createWorkOrder(_:_:)``).
    public var opened: Int
    /// Repeat calls linked by intake.
    public var linked: Int
    /// Intakes that failed, the call written without its work order.
    public var intakeFailed: Int

    public init(workOrder: WorkOrder? = nil, opened: Int = 0, linked: Int = 0, intakeFailed: Int = 0) {
        self.workOrder = workOrder
        self.opened = opened
        self.linked = linked
        self.intakeFailed = intakeFailed
    }
}

/// Intake of a call into a work order failed; the call itself is fine. Thrown by
/// ``TicketWriteRules/apply(_:policy:intake:in:)`` so the backend can roll the write's
/// savepoint back and apply it again without intake (``TicketWriteRules/apply(_:policy:in:savepoint:)``
/// does that dance given a savepoint).
public struct IntakeFailure: Error {
    public var underlying: any Error

    public init(underlying: any Error) {
        self.underlying = underlying
    }
}

/// The storage primitives of one open transaction of a backend, which ``TicketWriteRules``
/// composes into writes. Each is one SQL statement or so; none decides anything a rule
/// decides. Errors: ``TicketStoreError`` where a method says so, anything else is mapped by
/// the backend (constraint violations, I/O).
public protocol TicketWriteTransaction {
    /// Inserts a call's row (in progress or finished).
    func insertCall(_ ticket: CallTicket) throws
    /// Sets a call's outcome columns if it is in progress, and returns the call as intake needs
    /// it: caller and times from the row (read by the same statement, `RETURNING`), line,
    /// category, disposition and end from `outcome`, the other fields empty. nil if no call in
    /// progress has this id.
    func finishCall(id: TicketID, outcome: CallOutcome) throws -> CallTicket?
    /// Why ``finishCall(id:outcome:)`` changed nothing: ``TicketStoreError/alreadyFinished(_:)``
    /// or ``TicketStoreError/ticketNotFound(_:)``.
    func finishFailure(id: TicketID) throws -> TicketStoreError
    /// Whether a call has this number.
    func callExists(_ id: TicketID) throws -> Bool
    /// The work order with this number, as committed so far in this transaction.
    func workOrder(id: TicketID) throws -> WorkOrder?
    /// A work order's event log, in order.
    func events(of id: TicketID) throws -> [RecordedTicketEvent]
    /// The caller's newest work order on this line and category, accepted in
    /// `acceptedFrom...through`, whose status accepts repeat calls (``TicketStatus/acceptsRepeatCalls``);
    /// newest by `accepted_at`, then id, descending. nil line or category match only nil.
    func repeatCallCandidate(caller: String, acceptedFrom: Date, through: Date, businessLine: String?,
                             category: TicketCategory?) throws -> TicketID?
    /// Inserts a new work order's row (status `accepted`, one event, ``WorkOrder/callCount``
    /// calls: 0, or 1 when its first call's link follows with ``insertCallLink(_:to:at:reason:)``).
    func insertWorkOrder(_ order: WorkOrder) throws
    /// Appends an event to a work order's log at `sequence` (1 for `accepted`).
    func insertEvent(_ event: TicketEvent, sequence: Int, of id: TicketID) throws
    /// Writes a work order's projection columns (status, unit, clocks, counts, `updated_at`).
    func updateWorkOrder(_ order: WorkOrder) throws
    /// Writes a work order's text: business line, category, subject, details (an agent's form).
    func updateWorkOrderText(_ order: WorkOrder) throws
    /// Inserts the call link and bumps the work order's `call_count` (and `updated_at` to at
    /// least `at`).
    func linkCall(_ call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason) throws
    /// Inserts the call link only, for a work order just inserted with this call already
    /// counted: one statement less than ``linkCall(_:to:at:reason:)`` on every intake.
    func insertCallLink(_ call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason) throws
    /// Whether an active unit has this id.
    func unitIsActive(_ unit: UnitID) throws -> Bool
    /// True if `unit` is `scope` or under it (nil: within no unit).
    func isWithin(_ unit: UnitID?, scope: UnitID) throws -> Bool
    /// The `work_order_dispatches` projection: withdraws the work order's open dispatch (not
    /// handled, not withdrawn) at `at`, then inserts the new one at event `sequence`.
    func openDispatch(of id: TicketID, sequence: Int, unit: UnitID, at: Date, deadlines: SLADeadlines) throws
    /// Stamps the work order's latest dispatch as signed or handled at `at`.
    func stampDispatch(of id: TicketID, _ stamp: DispatchStamp, at: Date) throws
    /// Makes the units table match `directory` (others marked inactive, never deleted).
    func syncUnits(_ directory: UnitDirectory) throws
    /// Inserts a hand-off's row.
    func insertHandoff(_ handoff: Handoff) throws
    /// The hand-off a partner knows by `id`; with `direction` nil, the outbound one if both
    /// exist (ids are UUIDs: they do not).
    func handoff(partner: String, id: String, direction: HandoffDirection?) throws -> Handoff?
    /// Writes a hand-off's changing columns (state, attempts, references, partner status,
    /// last error, times).
    func updateHandoff(_ handoff: Handoff) throws
    /// Whether the knowledge base has this article (valid or not: an answer given from it
    /// yesterday stays a fact).
    func articleExists(_ id: KnowledgeArticleID) throws -> Bool
}

/// Which moment of a dispatch ``TicketWriteTransaction/stampDispatch(of:_:at:)`` records.
public enum DispatchStamp: Sendable, Hashable {
    case signed
    case handled
}

/// Commits batches of writes for ``GroupCommitQueue``: one transaction per batch, in which a
/// write the schema refuses fails alone and the rest commit. The backends apply the batch
/// without savepoints first (``TicketWriteRules/apply(_:policy:intake:in:)``: a savepoint per
/// write costs more than the write on the hot path); if any write fails, they roll back and
/// replay the batch with each write in its own savepoint
/// (``TicketWriteRules/apply(_:policy:in:savepoint:)``).
///
/// Called on the queue's writer thread only, one batch at a time.
public protocol TicketBatchCommitter: Sendable {
    /// Commits `writes` in one transaction. Sets `results[i]` (prepared by the queue with
    /// `writes.count` elements) for every write: the write's work order, or why it failed.
    /// If the transaction itself fails (BEGIN, COMMIT, I/O), every write not already failed
    /// fails with that error and ``TicketBatchOutcome/transactionFailed`` is true.
    ///
    /// `relaxedSync`: nobody waits on these writes; the backend may skip waiting for the
    /// disk (SQLite `synchronous = NORMAL`, PostgreSQL `synchronous_commit = off`).
    func commit(_ writes: [TicketWrite], relaxedSync: Bool, policy: WorkOrderPolicy,
                results: inout [Result<WorkOrder?, TicketStoreError>]) -> TicketBatchOutcome

    /// Releases the backend (connections, locks). Called once on the writer thread after the
    /// last batch.
    func close()
}

/// What one batch did, for the counters.
public struct TicketBatchOutcome: Sendable, Equatable {
    /// Work orders opened, repeat calls linked and intake failures of the writes that committed.
    public var effects: TicketWriteEffects
    /// The transaction failed as a whole: nothing of the batch is durable.
    public var transactionFailed: Bool

    public init(effects: TicketWriteEffects = TicketWriteEffects(), transactionFailed: Bool = false) {
        self.effects = effects
        self.transactionFailed = transactionFailed
    }
}
