// Tickets: one durable row per SIP call (a "ticket"), written by one group-committing writer.
// This file: the single-node store, an SQLite file in WAL mode that this process alone
// writes, that the CLI reads while the server runs, and that recovers after a crash.

import Foundation
import GRDB

/// The ticket store of a single Hotline node: one SQLite database file in WAL mode.
///
/// Opening it creates the file and its directories, migrates the schema, marks tickets left
/// in progress by a crashed process as ``CallDisposition/interrupted`` (see
/// ``recoveredTicketCount``), seeds the ticket numbering, takes an exclusive writer lock and
/// starts the writer thread. Writes are group-committed (see ``TicketStore``); reads use
/// their own connections and WAL snapshots, so they never wait for the writer.
///
/// Commit callbacks run on the store's writer thread, `hotline-tickets-writer`.
public final class SQLiteTicketStore: TicketStore {
    /// How much a commit must survive before its callback runs.
    public enum Durability: Sendable {
        /// `PRAGMA synchronous = NORMAL`: each commit is written to the WAL file (handed to
        /// the OS) before its callback runs, without waiting for the disk. Survives the
        /// process dying (`kill -9`, a crash); a power cut or kernel panic may lose the last
        /// commits. The default: it keeps commits fast, and a 12345 node's hardware is
        /// usually on a UPS.
        case normal
        /// `PRAGMA synchronous = FULL`: each commit is also fsync'ed before its callback
        /// runs, so it survives a power cut. Costs one fsync per commit, which group commit
        /// shares among all the writes of a batch.
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
        /// See ``Durability``. Default ``Durability/normal``.
        public var durability: Durability
        /// The time zone whose calendar date starts each ticket number. Default: the
        /// process's time zone, `TimeZone.current` (set `TZ=Asia/Shanghai` on the server).
        public var timeZone: TimeZone
        /// How long a connection waits for a lock held by another connection (a checkpoint,
        /// the CLI) before failing with SQLITE_BUSY. Default 5 seconds.
        public var busyTimeout: TimeInterval

        public init(durability: Durability = .normal, timeZone: TimeZone = .current, busyTimeout: TimeInterval = 5) {
            self.durability = durability
            self.timeZone = timeZone
            self.busyTimeout = busyTimeout
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

    private let pool: DatabasePool
    private let allocator: TicketIDAllocator
    private let writer: GroupCommitWriter

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
            try pool.writeWithoutTransaction { db in try db.execute(sql: options.durability.pragma) }
            (recovered, lastSequences) = try pool.write { db in
                (try TicketSchema.markInterrupted(in: db), try TicketSchema.recentLastSequences(in: db))
            }
        } catch let error as TicketStoreError {
            lock.release()
            throw error
        } catch {
            lock.release()
            throw .cannotOpen(path: url.path, reason: TicketStoreError(error).description)
        }
        self.pool = pool
        self.recoveredTicketCount = recovered
        self.allocator = TicketIDAllocator(timeZone: options.timeZone, lastSequences: lastSequences)
        self.writer = GroupCommitWriter(pool: pool) {
            // Connections first, then the lock: the next writer must find the file closed.
            try? pool.close()
            lock.release()
        }
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

    public func list(limit: Int, since: Date?) throws(TicketStoreError) -> [CallTicket] {
        try read { db in try TicketSchema.list(limit: limit, since: since, in: db) }
    }

    public func ticket(id: TicketID) throws(TicketStoreError) -> CallTicket? {
        try read { db in try TicketSchema.ticket(id: id, in: db) }
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

    private func read<T>(_ body: (Database) throws -> T) throws(TicketStoreError) -> T {
        guard writer.isAccepting else { throw .closed }
        do {
            return try pool.read(body)
        } catch {
            throw TicketStoreError(error)
        }
    }

    /// The value of a PRAGMA on the writer's connection, e.g. `synchronous` (1 = NORMAL,
    /// 2 = FULL) or `journal_mode`. Internal: lets tests see the durability option applied.
    func writerPragma(_ name: String) throws -> String? {
        try pool.write { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }
}
