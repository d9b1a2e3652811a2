// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the store a node opens with `--db postgres://...`: the same protocols as the
// SQLite store (TicketStore, WorkOrderWriting, TicketReading), one writer per node, block-
// leased ticket numbers, and a bounded in-memory queue that keeps the node answering calls
// while PostgreSQL is away.

import Foundation
import Synchronization
import Tickets

/// Whether the call engine may take new calls, by what the store can still record.
public enum StoreAdmission: Sendable, Equatable {
    /// PostgreSQL is there: calls are answered once their ticket is committed.
    case accepting
    /// PostgreSQL is away: calls are answered once their ticket is queued in memory
    /// (`queued` writes waiting); they are written when it is back.
    case degraded(queued: Int)
    /// The in-memory queue is full: refuse new calls (503) rather than answer calls we cannot record.
    case refusing
}

/// What /health and /metrics show of the PostgreSQL store.
public struct PostgresStoreHealth: Sendable, Equatable {
    public var connected: Bool
    public var queuedWrites: Int
    public var reconnects: UInt64
    public var lastError: String?
    public var admission: StoreAdmission
}

public final class PostgresTicketStore: TicketStore, WorkOrderWriting, @unchecked Sendable {
    public struct Options: Sendable {
        /// This node's name: stamped on its calls, its row in `nodes`, its /metrics label.
        public var node: String
        /// The zone whose calendar date starts each ticket number.
        public var timeZone: TimeZone
        public var policy: WorkOrderPolicy?
        public var units: UnitDirectory?
        /// Writes the queue may hold while PostgreSQL is away before new calls are refused.
        public var maxQueuedWrites: Int
        /// Retry delays while PostgreSQL is away: doubling from `initial`, capped at `maximum`.
        public var retryInitial: Duration
        public var retryMaximum: Duration
        /// Ticket numbers leased per block (see PostgresTicketNumbering).
        public var numberBlock: Int
        /// How long a deferrable write (finish, record) may wait for a ride (see GroupCommitQueue).
        public var deferral: Duration
        /// At most this many writes per transaction (benchmarks' baseline); nil: everything queued.
        public var maxWritesPerCommit: Int?
        /// Heartbeat and expiry sweep period; nil: none (tests drive ``heartbeat(now:)`` and
        /// ``expireNodes(now:lease:)`` themselves).
        public var heartbeatInterval: Duration?
        /// A node whose heartbeat is older than this is gone; its calls in progress are interrupted.
        public var lease: Duration
        public var writerTimers = TicketWriterTimers()
        public var onWriterThreadStart: (@Sendable () -> Void)?
        /// The clock of node bookkeeping (registration, heartbeats, the sweep).
        public var now: @Sendable () -> Date

        public init(node: String, timeZone: TimeZone = .current, policy: WorkOrderPolicy? = nil, units: UnitDirectory? = nil,
                    maxQueuedWrites: Int = 50_000, retryInitial: Duration = .milliseconds(100),
                    retryMaximum: Duration = .seconds(5), numberBlock: Int = 10_000, deferral: Duration = .milliseconds(20),
                    maxWritesPerCommit: Int? = nil, heartbeatInterval: Duration? = .seconds(2),
                    lease: Duration = .seconds(15), now: @escaping @Sendable () -> Date = { Date() }) {
            self.node = node
            self.timeZone = timeZone
            self.policy = policy
            self.units = units
            self.maxQueuedWrites = max(1, maxQueuedWrites)
            self.retryInitial = retryInitial
            self.retryMaximum = retryMaximum
            self.numberBlock = numberBlock
            self.deferral = deferral
            self.maxWritesPerCommit = maxWritesPerCommit
            self.heartbeatInterval = heartbeatInterval
            self.lease = lease
            self.now = now
        }
    }

    public let url: PostgresURL
    public let node: String
    /// This node's calls found in progress at start (left by its previous process) and closed as interrupted.
    public let recoveredTicketCount: Int

    private let options: Options
    let writer: GroupCommitQueue<PostgresBatchCommitter>
    let writerState: PostgresWriterState
    private let numbering: PostgresTicketNumbering
    private let reader: PostgresTicketReader
    /// The node-bookkeeping connection (its own, so heartbeats never wait behind the writer).
    private let nodeSession: PostgresSessionSlot
    /// Opens whose caller waits for the commit; answered early (queued) if PostgreSQL goes away.
    private let waiting = Mutex<(next: Int, callbacks: [Int: TicketCommitCallback])>((0, [:]))
    private let heartbeatStop = Mutex(false)

    /// Connects, migrates, registers the node and closes its own calls left in progress.
    public init(url: PostgresURL, options: Options) throws(TicketStoreError) {
        self.url = url
        self.node = options.node
        self.options = options
        self.reader = PostgresTicketReader(url: url)
        self.nodeSession = PostgresSessionSlot(url: url)
        let session = try PostgresSession.connect(url)
        do {
            try PostgresMigrator.migrate(session, url: url)
            let transaction = PostgresWriteTransaction(session: session, node: options.node)
            if let units = options.units {
                try session.script("BEGIN")
                try transaction.syncUnits(units)
                try session.script("COMMIT")
            }
            recoveredTicketCount = try PostgresNodes.register(options.node, now: options.now(), session: session)
        } catch {
            session.close()
            throw TicketStoreError.postgres(error)
        }
        let state = PostgresWriterState()
        writerState = state
        numbering = PostgresTicketNumbering(url: url, node: options.node, blockSize: options.numberBlock,
                                            timeZone: options.timeZone)
        numbering.prepare(at: options.now())
        let committer = PostgresBatchCommitter(
            url: url, node: options.node, session: session, state: state,
            backoff: .init(initial: options.retryInitial, maximum: options.retryMaximum))
        writer = GroupCommitQueue(
            committer: committer, policy: options.policy ?? .standard(timeZone: options.timeZone),
            configuration: .init(maxBatch: options.maxWritesPerCommit, deferral: options.deferral,
                                 relaxDeferredSync: true, timers: options.writerTimers,
                                 onStart: options.onWriterThreadStart))
        state.onDown.withLock { $0 = { [weak self] in self?.answerWaitingOpens() } }
        if let interval = options.heartbeatInterval {
            let thread = Thread { [weak self] in self?.heartbeatLoop(interval: interval) }
            thread.name = "hotline-heartbeat"
            thread.start()
        }
    }

    deinit {
        close()
    }

    // MARK: - Calls

    public func allocateID(at date: Date) -> TicketID {
        numbering.allocate(at: date)
    }

    /// While PostgreSQL is reachable, `onCommit` runs once the row is committed
    /// (`synchronous_commit = on`). While it is away, `onCommit` runs once the write is queued
    /// in memory: the call is answered and its ticket written when PostgreSQL is back. The
    /// trade-off: a node that crashes during an outage loses the tickets it queued; refusing
    /// every call for the length of the outage would lose the calls themselves. Past
    /// `maxQueuedWrites`, new opens fail at once (``admission`` is `.refusing`).
    public func open(_ ticket: CallTicket, onCommit: @escaping TicketCommitCallback) {
        if admission == .refusing {
            onCommit(.failure(Self.saturated))
            return
        }
        let key = waiting.withLock { waiting in
            let key = waiting.next
            waiting.next += 1
            waiting.callbacks[key] = onCommit
            return key
        }
        writer.submit(.open(ticket)) { [weak self] result in
            // Already answered as queued if PostgreSQL went away meanwhile.
            guard let callback = self?.waiting.withLock({ $0.callbacks.removeValue(forKey: key) }) else { return }
            callback(result)
        }
        // Submitted while PostgreSQL is known away: answered now, as queued.
        if !writerState.snapshot.withLock(\.connected) { answerWaitingOpens() }
    }

    private func answerWaitingOpens() {
        let callbacks = waiting.withLock { waiting in
            let callbacks = waiting.callbacks.sorted { $0.key < $1.key }.map(\.value)
            waiting.callbacks.removeAll()
            return callbacks
        }
        for callback in callbacks { callback(.success(())) }
    }

    /// What `open()` fails with once ``admission`` is `.refusing`.
    public static let saturated = TicketStoreError.database(
        code: -3, message: "PostgreSQL is unreachable and the write queue is full: new calls are refused")

    public func finish(id: TicketID, outcome: CallOutcome, onCommit: TicketCommitCallback?) {
        // Never refused: the call was answered, its end must reach the ticket.
        writer.submit(.finish(id, outcome), completion: onCommit)
    }

    public func record(_ ticket: CallTicket, onCommit: TicketCommitCallback?) {
        writer.submit(.record(ticket), completion: onCommit)
    }

    public func flush() async {
        await writer.flush()
    }

    public func flushAndWait() {
        writer.flushAndWait()
    }

    /// Commits what is queued and closes. If PostgreSQL is away at that moment, the writer
    /// makes one more attempt per batch and then fails what is left (counted in
    /// ``TicketStoreMetrics/writesFailed``) instead of blocking the shutdown: drain a node
    /// while PostgreSQL is up.
    public func close() {
        let first = heartbeatStop.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return } // close() then deinit
        writerState.snapshot.withLock { $0.closing = true }
        writer.close()
        numbering.giveBack()
        numbering.close()
        reader.close()
        // Gone at once rather than after the lease, so /api/cluster shows the truth.
        let node = self.node, now = options.now()
        try? withNodeSession { session in try PostgresNodes.leave(node, now: now, session: session) }
        nodeSession.close()
    }

    public var metrics: TicketStoreMetrics {
        writer.metrics
    }

    // MARK: - Admission and health

    public var admission: StoreAdmission {
        let connected = writerState.snapshot.withLock(\.connected)
        let queued = writer.metrics.pendingWrites
        if connected { return .accepting }
        return queued >= options.maxQueuedWrites ? .refusing : .degraded(queued: queued)
    }

    public var acceptsNewCalls: Bool {
        admission != .refusing
    }

    public var health: PostgresStoreHealth {
        let snapshot = writerState.snapshot.withLock { $0 }
        return PostgresStoreHealth(connected: snapshot.connected, queuedWrites: writer.metrics.pendingWrites,
                                   reconnects: snapshot.reconnects, lastError: snapshot.lastError, admission: admission)
    }

    // MARK: - Work orders: writes

    public func append(_ event: TicketEvent, to id: TicketID, within unit: UnitID?,
                       onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.appendEvent(event, to: id, scope: unit), completion: .workOrder(onCommit))
    }

    public func createWorkOrder(_ intake: WorkOrderIntake, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.createWorkOrder(intake, allocateID(at: intake.acceptedAt)), completion: .workOrder(onCommit))
    }

    public func fileForm(_ form: WorkOrderForm, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.fileForm(form), completion: .workOrder(onCommit))
    }

    public func linkCall(_ call: TicketID, to workOrder: TicketID, at: Date, onCommit: @escaping WorkOrderCommitCallback) {
        let at = Date(timeIntervalSince1970: Double(PostgresTime.milliseconds(of: at)) / 1000)
        writer.submit(.linkCall(call, to: workOrder, at: at), completion: .workOrder(onCommit))
    }

    public func updateUnits(_ units: UnitDirectory, onCommit: TicketCommitCallback?) {
        writer.submit(.syncUnits(units), completion: onCommit)
    }

    public var policy: WorkOrderPolicy {
        get { writer.policy }
        set { writer.policy = newValue }
    }

    // MARK: - Reads

    /// The store's reads, on their own connection (PostgresTicketReads.swift).
    var reads: PostgresTicketReader { reader }

    // MARK: - Nodes

    /// Runs `body` on the node-bookkeeping connection.
    func withNodeSession<T>(_ body: (PostgresSession) throws -> T) throws(TicketStoreError) -> T {
        try nodeSession.withSession(body)
    }

    /// Records that this node is alive at `now`, with its calls in progress.
    public func heartbeat(now: Date) throws(TicketStoreError) {
        let node = self.node
        try withNodeSession { session in try PostgresNodes.heartbeat(node, now: now, session: session) }
    }

    /// Marks nodes whose heartbeat is older than `lease` at `now` as gone and closes their
    /// calls in progress as interrupted (keeping answered_at). Any node may run it; it never
    /// touches this node. Returns the calls closed.
    @discardableResult
    public func expireNodes(now: Date, lease: Duration) throws(TicketStoreError) -> Int {
        let node = self.node
        return try withNodeSession { session in try PostgresNodes.expire(now: now, lease: lease, except: node, session: session) }
    }

    /// Marks this node draining (it stops taking calls; the front sees its 503s).
    public func markDraining() throws(TicketStoreError) {
        let node = self.node
        try withNodeSession { session in
            _ = try session.execute("UPDATE nodes SET state = 'draining' WHERE name = $1", [.text(node)])
        }
    }

    /// The cluster's nodes, for `GET /api/cluster`.
    public func nodes() throws(TicketStoreError) -> [ClusterNode] {
        try withNodeSession { session in try PostgresNodes.list(session: session) }
    }

    private func heartbeatLoop(interval: Duration) {
        let seconds = interval.timeInterval
        let lease = options.lease.timeInterval
        // Since when this node's heartbeats have gone through without a break. After an
        // outage every node's last heartbeat looks old: sweeping before the others have had a
        // lease to beat again would interrupt the calls of healthy nodes.
        var connectedSince: Date?
        while !heartbeatStop.withLock({ $0 }) {
            let now = options.now()
            do {
                try heartbeat(now: now)
                numbering.prepare(at: now)
                if connectedSince == nil { connectedSince = now }
                if let since = connectedSince, now.timeIntervalSince(since) >= lease {
                    _ = try expireNodes(now: now, lease: options.lease)
                }
            } catch {
                connectedSince = nil
            }
            Thread.sleep(forTimeInterval: seconds)
        }
    }
}
