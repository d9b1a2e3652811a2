// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// The call controller in HotlineServer talks to this protocol only; SQLiteTicketStore
// (TicketsSQLite) is the single-node implementation, and a PostgreSQL one can replace it when
// nodes sit behind Kamailio.

import Foundation
import CoreMetrics
import Timers

/// Called once a write is durable, or has failed. Runs on the store's writer thread: keep it
/// short and hop to your own event loop (`eventLoop.execute { ... }`) before touching call
/// state. Never block in it on the store (``TicketStore/flushAndWait()``), which would wait
/// for the very thread it runs on.
public typealias TicketCommitCallback = @Sendable (Result<Void, TicketStoreError>) -> Void

/// Called once a work-order write (an event, a new work order, a call link) is durable, with
/// the work order as it now stands, or with why it failed. Runs on the writer thread, like
/// ``TicketCommitCallback``.
public typealias WorkOrderCommitCallback = @Sendable (Result<WorkOrder, TicketStoreError>) -> Void

/// Where calls' tickets are kept.
///
/// Writes never block the caller: they are queued and carried out by one writer, which
/// commits everything queued so far in one transaction (group commit). So an event loop can
/// call ``open(_:onCommit:)`` and send its `200 OK` from the callback, and no call waits for
/// another call's disk write longer than one shared commit.
///
/// Within one store, writes are applied in the order they were submitted, and callbacks are
/// called in that order.
public protocol TicketStore: Sendable {
    /// Allocates the next ticket number for the local day of `date`. Never touches the disk
    /// and is safe from any thread; numbers are never reused, even across restarts.
    func allocateID(at date: Date) -> TicketID

    /// Inserts the ticket of a call in progress (its ``CallTicket/disposition`` and
    /// ``CallTicket/endedAt`` must be nil). `onCommit` runs once the row is durably
    /// committed: answer the call (send 200 OK) only then.
    func open(_ ticket: CallTicket, onCommit: @escaping TicketCommitCallback)

    /// Completes the ticket that ``open(_:onCommit:)`` inserted. Fails with
    /// ``TicketStoreError/ticketNotFound(_:)`` if there is no such ticket and
    /// ``TicketStoreError/alreadyFinished(_:)`` if it already has a disposition.
    func finish(id: TicketID, outcome: CallOutcome, onCommit: TicketCommitCallback?)

    /// Inserts the ticket of a call that is already over (rejected, cancelled before we
    /// answered...) in one go. Its ``CallTicket/disposition`` must be set.
    func record(_ ticket: CallTicket, onCommit: TicketCommitCallback?)

    /// The newest tickets first: at most `limit` tickets that arrived at or after `since`
    /// (all if nil), ordered by `arrived_at` then ticket number, both descending.
    /// Reads committed data only and does not wait for the writer.
    func list(limit: Int, since: Date?) throws(TicketStoreError) -> [CallTicket]

    /// The ticket with this number, if it is committed.
    func ticket(id: TicketID) throws(TicketStoreError) -> CallTicket?

    /// Returns once every write submitted before the call is committed (or has failed).
    func flush() async

    /// Blocks until every write submitted before the call is committed (or has failed).
    /// For shutdown paths and tests; never call it on an event loop or in a commit callback.
    func flushAndWait()

    /// Stops accepting writes, commits everything queued, and releases the database.
    /// Blocks until done (except on the writer thread itself, where it returns at once and
    /// the writer closes after the current batch). Writes submitted later fail at once with
    /// ``TicketStoreError/closed``, their callback running on the submitting thread.
    func close()

    /// Counters of the writer, for Prometheus.
    var metrics: TicketStoreMetrics { get }

    /// False while the store cannot record a new call (a shared store unreachable with its
    /// in-memory queue full): the call engine then refuses new INVITEs with 503 rather than
    /// answer calls it could not record. A local file store always takes them.
    var acceptsNewCalls: Bool { get }
}

extension TicketStore {
    public var acceptsNewCalls: Bool { true }
}

extension TicketStore {
    /// ``finish(id:outcome:onCommit:)`` without a callback.
    public func finish(id: TicketID, outcome: CallOutcome) {
        finish(id: id, outcome: outcome, onCommit: nil)
    }

    /// ``list(limit:since:)`` from the newest ticket back, whatever its age.
    public func list(limit: Int) throws(TicketStoreError) -> [CallTicket] {
        try list(limit: limit, since: nil)
    }

    /// ``record(_:onCommit:)`` without a callback.
    public func record(_ ticket: CallTicket) {
        record(ticket, onCommit: nil)
    }
}

/// A snapshot of the group-commit writer's counters. Counters only grow while the store
/// is open; gauges (`pendingWrites`, `lastCommitWrites`) go up and down.
public struct TicketStoreMetrics: Sendable, Equatable {
    /// Writes accepted into the queue (open, finish, record).
    public var writesSubmitted: UInt64 = 0
    /// Writes that are durably committed.
    public var writesCommitted: UInt64 = 0
    /// Writes that failed (constraint violated, ticket not found, I/O error...).
    public var writesFailed: UInt64 = 0
    /// Transactions committed. Below `writesCommitted` whenever group commit has batched.
    public var commits: UInt64 = 0
    /// Transactions that failed as a whole (their writes are counted in `writesFailed`).
    public var failedTransactions: UInt64 = 0
    /// Writes committed by the last transaction.
    public var lastCommitWrites: Int = 0
    /// Most writes committed by one transaction since the store opened.
    public var maxCommitWrites: Int = 0
    /// Writes queued and not yet committed or failed.
    public var pendingWrites: Int = 0
    /// Work orders opened (by calls' intake or ``WorkOrderWriting/createWorkOrder(_:onCommit:)``).
    public var workOrdersOpened: UInt64 = 0
    /// Repeat calls linked to a work order the caller already had.
    public var repeatCallsLinked: UInt64 = 0
    /// Calls whose intake into a work order failed (their own row committed all the same).
    /// Should stay 0; anything else is a bug worth a look at the logs of the write.
    public var intakeFailures: UInt64 = 0

    public init() {}
}

/// The ticket writer's latency timers (swift-metrics), recorded on the writer thread.
public struct TicketWriterTimers: Sendable {
    /// How long each group commit took, BEGIN to COMMIT (fsync included).
    public var commitTime: CoreMetrics.Timer
    /// How long each batch waited in the queue before its transaction began (its first write).
    public var queueWait: CoreMetrics.Timer

    /// Timers that record nothing.
    public init() {
        self.init(commitTime: CoreMetrics.Timer(label: "ticket_commit", dimensions: [], handler: NOOPMetricsHandler.instance),
                  queueWait: CoreMetrics.Timer(label: "ticket_queue_wait", dimensions: [], handler: NOOPMetricsHandler.instance))
    }

    public init(commitTime: CoreMetrics.Timer, queueWait: CoreMetrics.Timer) {
        self.commitTime = commitTime
        self.queueWait = queueWait
    }
}
