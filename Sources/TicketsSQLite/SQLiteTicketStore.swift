// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: the single-node store, an SQLite file in WAL mode that this process alone
// writes, that the CLI reads while the server runs, and that recovers after a crash.

import CSQLiteConfig
import Foundation
import Tickets
import GRDB

/// The ticket store of a single Hotline node: one SQLite database file in WAL mode.
///
/// Opening it creates the file and its directories, migrates the schema, marks tickets left
/// in progress by a crashed process as ``CallDisposition/interrupted`` (see
/// ``recoveredTicketCount``), copies the configured units into the database, seeds the ticket
/// numbering, takes an exclusive writer lock and starts the writer thread. Writes are
/// group-committed (see ``TicketStore``); reads use their own connections and WAL snapshots,
/// so they never wait for the writer.
///
/// Besides the calls the ``TicketStore`` protocol writes, the store keeps work orders: a
/// call's intake into a work order happens in the same transaction as the call's row (see
/// ``IntakePolicy``), and the work-order API — ``append(_:to:within:onCommit:)``,
/// ``createWorkOrder(_:onCommit:)``, ``linkCall(_:to:at:onCommit:)`` — goes through the same
/// writer. The reads are ``TicketReading``'s.
///
/// Commit callbacks run on the store's writer thread, `hotline-tickets`.
public final class SQLiteTicketStore: TicketStore, WorkOrderWriting, HandoffWriting, SQLiteTicketReads {
    /// How much a commit must survive before its callback runs.
    public enum Durability: Sendable {
        /// `PRAGMA synchronous = NORMAL`: each commit is written to the WAL file (handed to
        /// the OS) before its callback runs, without waiting for the disk. Survives the
        /// process dying (`kill -9`, a crash); a power cut or kernel panic may lose the last
        /// commits. For nodes whose disks cannot take an fsync per group commit.
        case normal
        /// `PRAGMA synchronous = FULL`: each commit is also fsync'ed before its callback
        /// runs, so it survives a power cut. Costs one fsync per commit, which group commit
        /// shares among all the writes of a batch. The default: a 12345 centre's work orders
        /// are records it must keep. A write nobody waits for (a finish, a refused call's
        /// record) that shares a batch with one somebody waits for is committed right after
        /// it without an fsync of its own: written at once (so safe from a crash), fsynced
        /// by the next commit that fsyncs or the checkpointer's, within half a second.
        case full

        fileprivate var pragma: String {
            switch self {
            case .normal: "PRAGMA synchronous = NORMAL"
            case .full: "PRAGMA synchronous = FULL"
            }
        }
    }

    /// How to open the store.
    public struct Options: Sendable {
        /// See ``Durability``. Default ``Durability/full``.
        public var durability: Durability
        /// The time zone whose calendar date starts each ticket number. Default: the
        /// process's time zone, `TimeZone.current` (set `TZ=Asia/Shanghai` on the server).
        public var timeZone: TimeZone
        /// How long a connection waits for a lock held by another connection (a checkpoint,
        /// the CLI) before failing with SQLITE_BUSY. Default 5 seconds.
        public var busyTimeout: TimeInterval
        /// SLA clocks and call intake (`Dialplans/tickets/sla.yaml`). nil: ``WorkOrderPolicy/standard(timeZone:)``
        /// in ``timeZone``.
        public var policy: WorkOrderPolicy?
        /// The units work orders can be dispatched to (`Dialplans/tickets/units.yaml`), copied into the
        /// database at open. nil leaves the database's units as they are.
        public var units: UnitDirectory?
        /// At most this many writes per transaction; nil (the default) commits everything
        /// queued at once (group commit). For benchmarks only: `1` is the "one commit per
        /// ticket" baseline that `Benchmarks/tickets-throughput.sh` compares group commit with.
        public var maxWritesPerCommit: Int?
        /// How long a write nobody waits for (a call's finish, a refused call's record) may wait
        /// to ride in another commit; zero commits every write as soon as the writer is free.
        public var deferral: Duration
        /// Runs first on the writer thread (the server sets its scheduling there).
        public var onWriterThreadStart: (@Sendable () -> Void)?
        /// Where the writer records its latencies; the server hands in its own registry's
        /// histograms (no global metrics system), the default records nothing.
        public var writerTimers = TicketWriterTimers()

        public init(durability: Durability = .full, timeZone: TimeZone = .current, busyTimeout: TimeInterval = 5,
                    policy: WorkOrderPolicy? = nil, units: UnitDirectory? = nil, maxWritesPerCommit: Int? = nil,
                    deferral: Duration = .milliseconds(20)) {
            self.deferral = deferral
            self.durability = durability
            self.timeZone = timeZone
            self.busyTimeout = busyTimeout
            self.policy = policy
            self.units = units
            self.maxWritesPerCommit = maxWritesPerCommit.map { max(1, $0) }
        }
    }

    /// Where the server keeps its tickets unless configured otherwise, relative to its
    /// working directory.
    public static let defaultPath = "var/hotline.sqlite"

    /// The database file.
    public let path: String
    /// How many tickets a previous process left in progress, marked
    /// ``CallDisposition/interrupted`` when this store opened.
    public let recoveredTicketCount: Int

    /// SQLite in multi-thread mode, without memory statistics, for the whole process, applied
    /// once before the first store opens (a no-op if something opened SQLite before). GRDB
    /// serializes each connection's use, so the mutexes serialized mode takes in every call
    /// (bind, step, column, allocation) only cost: about a tenth of the writer's CPU.
    private static let sqliteSettings: Int32 = hotline_sqlite_configure()

    let pool: DatabasePool
    private let allocator: TicketIDAllocator
    let writer: GroupCommitQueue<SQLiteBatchCommitter>

    /// Opens (creating if needed) the ticket database at `path` for writing.
    ///
    /// - Throws: ``TicketStoreError/cannotOpen(path:reason:)`` if the file or its
    ///   directories cannot be created or opened, ``TicketStoreError/locked(path:)`` if
    ///   another store writes it, ``TicketStoreError/schemaTooNew(path:)`` if a newer
    ///   Hotline migrated it.
    public init(path: String = SQLiteTicketStore.defaultPath, options: Options = Options()) throws(TicketStoreError) {
        let url = URL(fileURLWithPath: path)
        self.path = url.path
        let directory = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: url.path, reason: "cannot create directory \(directory): \(error.localizedDescription)")
        }
        let lock = try WriterLock(path: url.path + ".writer-lock", databasePath: url.path)

        _ = Self.sqliteSettings
        var configuration = Configuration()
        configuration.label = "hotline.tickets"
        configuration.busyMode = .timeout(options.busyTimeout)
        let pool: DatabasePool
        let recovered: Int
        let lastSequences: [Int: Int]
        do {
            pool = try DatabasePool(path: url.path, configuration: configuration)
            let migrator = TicketSchema.migrator
            if try pool.read(migrator.hasBeenSuperseded) {
                throw TicketStoreError.schemaTooNew(path: url.path)
            }
            try migrator.migrate(pool)
            // Only the writer's connection commits, so only it needs the setting. Set after
            // opening because GRDB sets NORMAL itself when it turns WAL on.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: options.durability.pragma)
                // Checkpoints run on their own thread and connection (WALCheckpointer).
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            }
            (recovered, lastSequences) = try pool.write { db in
                if let units = options.units { try SQLiteWriteTransaction.syncUnits(units, in: db) }
                return (try TicketSchema.markInterrupted(in: db), try TicketSchema.recentLastSequences(in: db))
            }
        } catch let error as TicketStoreError {
            lock.release()
            throw error
        } catch {
            lock.release()
            throw .cannotOpen(path: url.path, reason: TicketStoreError(error).description)
        }
        let checkpointer: WALCheckpointer
        do {
            checkpointer = try WALCheckpointer(path: url.path)
        } catch {
            try? pool.close()
            lock.release()
            throw .cannotOpen(path: url.path, reason: TicketStoreError(error).description)
        }
        self.pool = pool
        self.recoveredTicketCount = recovered
        self.allocator = TicketIDAllocator(timeZone: options.timeZone, lastSequences: lastSequences)
        let committer = SQLiteBatchCommitter(pool: pool) {
            // Connections first, then the lock: the next writer must find the file closed.
            checkpointer.stop()
            try? pool.close()
            lock.release()
        }
        self.writer = GroupCommitQueue(
            committer: committer, policy: options.policy ?? .standard(timeZone: options.timeZone),
            configuration: .init(maxBatch: options.maxWritesPerCommit, deferral: options.deferral,
                                 relaxDeferredSync: options.durability == .full, timers: options.writerTimers,
                                 onStart: options.onWriterThreadStart))
    }

    /// Closes the store if ``close()`` was not called, which blocks until the queue is
    /// committed: close explicitly on shutdown rather than dropping the last reference on
    /// an event loop.
    deinit {
        writer.close()
    }

    public func allocateID(at date: Date) -> TicketID {
        allocator.allocate(at: date)
    }

    public func open(_ ticket: CallTicket, onCommit: @escaping TicketCommitCallback) {
        writer.submit(.open(ticket), completion: onCommit)
    }

    public func finish(id: TicketID, outcome: CallOutcome, onCommit: TicketCommitCallback?) {
        writer.submit(.finish(id, outcome), completion: onCommit)
    }

    public func record(_ ticket: CallTicket, onCommit: TicketCommitCallback?) {
        writer.submit(.record(ticket), completion: onCommit)
    }

    // MARK: - Work orders: writes

    /// Appends an event to a work order's log (`POST /api/tickets/{id}/events`). In the
    /// writer's transaction the log is replayed through ``TicketLifecycle``, the event is
    /// refused if illegal (``TicketStoreError/eventRefused(_:_:)``), a dispatch's unit must
    /// be active (``TicketStoreError/unknownUnit(_:)``) and gets its SLA deadlines, and with
    /// `unit` the work order must be with that unit or under it
    /// (``TicketStoreError/outsideUnit(_:unit:)``, for unit staff). `onCommit` gets the work
    /// order as it stands after the event.
    public func append(_ event: TicketEvent, to id: TicketID, within unit: UnitID?,
                       onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.appendEvent(event, to: id, scope: unit), completion: .workOrder(onCommit))
    }

    /// Opens a work order that did not come through the IVR (another channel, an agent), with
    /// a new number from the same numbering as calls, and its `accepted` event.
    public func createWorkOrder(_ intake: WorkOrderIntake, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.createWorkOrder(intake, allocateID(at: intake.acceptedAt)), completion: .workOrder(onCommit))
    }

    /// Links a call to a work order by hand (a repeat call the intake rule did not catch).
    public func linkCall(_ call: TicketID, to workOrder: TicketID, at: Date, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.linkCall(call, to: workOrder, at: TicketTimestamp.normalized(at)), completion: .workOrder(onCommit))
    }

    /// Files an agent's work-order form to its call's work order.
    public func fileForm(_ form: WorkOrderForm, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.fileForm(form), completion: .workOrder(onCommit))
    }

    // MARK: - Hand-offs: writes (HandoffWriting)

    public func handOff(_ request: OutboundHandoff, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.handOff(request), completion: .workOrder(onCommit))
    }

    public func acceptHandoff(_ inbound: InboundHandoff, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.acceptHandoff(inbound, allocateID(at: inbound.receivedAt)), completion: .workOrder(onCommit))
    }

    public func recordDelivery(_ delivery: HandoffDelivery, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.recordDelivery(delivery), completion: .workOrder(onCommit))
    }

    public func recordPartnerStatus(_ update: HandoffStatusUpdate, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.recordPartnerStatus(update), completion: .workOrder(onCommit))
    }

    /// Replaces the units (after `units.yaml` changed): see ``Options/units``.
    public func updateUnits(_ units: UnitDirectory, onCommit: TicketCommitCallback?) {
        writer.submit(.syncUnits(units), completion: onCommit)
    }

    /// The SLA and intake rules writes apply from now on.
    public var policy: WorkOrderPolicy {
        get { writer.policy }
        set { writer.policy = newValue }
    }

    /// Opens the database for writing once — migrating it, recovering it, copying the units —
    /// and closes it. For tools that find an older database (``TicketStoreError/schemaTooOld(path:)``)
    /// while no server is running; fails with ``TicketStoreError/locked(path:)`` while one is.
    /// Returns how many calls were marked interrupted.
    @discardableResult
    public static func upgrade(path: String, options: Options = Options()) throws(TicketStoreError) -> Int {
        let store = try SQLiteTicketStore(path: path, options: options)
        let recovered = store.recoveredTicketCount
        store.close()
        return recovered
    }

    public func flush() async {
        await writer.flush()
    }

    public func flushAndWait() {
        writer.flushAndWait()
    }

    public func close() {
        writer.close()
    }

    public var metrics: TicketStoreMetrics {
        writer.metrics
    }

    /// A snapshot from the pool's readers, beside the writer; ``TicketStoreError/closed`` once closed.
    public func readSnapshot<T>(_ body: (Database) throws -> T) throws(TicketStoreError) -> T {
        guard writer.isAccepting else { throw .closed }
        do {
            return try pool.read(body)
        } catch {
            throw TicketStoreError(error)
        }
    }

    /// A short transaction on the writer's connection, beside the group commits (GRDB
    /// serialises them): for the outbound schedule's rare writes, never on the call path.
    func writeOutside(_ body: (Database) throws -> Void) throws {
        guard writer.isAccepting else { throw TicketStoreError.closed }
        try pool.write { db in try body(db) }
    }

    /// Runs SQL on the writer's connection, outside the writer thread (tests only: what the
    /// schema refuses, query plans).
    func rawExecute(_ sql: String, arguments: [String] = []) throws {
        try pool.write { db in try db.execute(sql: sql, arguments: StatementArguments(arguments)) }
    }

    /// The rows of a query, each as its columns' text joined by `|` (tests only).
    func rawRows(_ sql: String, arguments: [String] = []) throws -> [String] {
        try pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                row.databaseValues.map { value in
                    switch value.storage {
                    case .null: "NULL"
                    case .int64(let number): String(number)
                    case .double(let number): String(number)
                    case .string(let text): text
                    case .blob(let data): "<\(data.count) bytes>"
                    }
                }.joined(separator: "|")
            }
        }
    }

    /// The value of a PRAGMA on the writer's connection, e.g. `synchronous` (1 = NORMAL,
    /// 2 = FULL) or `journal_mode`. Internal: lets tests see the durability option applied.
    func writerPragma(_ name: String) throws -> String? {
        try pool.write { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }
}
