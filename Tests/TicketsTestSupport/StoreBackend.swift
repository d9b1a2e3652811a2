// The backends every store test runs against (`@Test(arguments: StoreBackend.allCases)`), so
// the backends share every rule and every test and cannot drift. A backend added to the
// package adds its case here and its branches below.

import Foundation
import Tickets
import TicketsSQLite
import TicketsPostgres
import GRDB

/// A ticket store backend under test.
public enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    /// SQLiteTicketStore on a file in a temporary directory.
    case sqlite
    /// PostgresTicketStore on a fresh database `hotline_test_<random>` of the server named by
    /// HOTLINE_TEST_DB_URL (`make test` starts one), dropped when the test ends.
    case postgres

    public var description: String { rawValue }
}

/// What a test asks of a store, whatever the backend.
public struct TestStoreOptions: Sendable {
    /// Numbering and the standard policy's time zone.
    public var timeZone: TimeZone
    /// nil: the standard policy in ``timeZone``.
    public var policy: WorkOrderPolicy?
    /// Copied into the database at open; nil leaves its units as they are.
    public var units: UnitDirectory?
    /// How long deferred writes (finish, record) may wait for a ride.
    public var deferral: Duration
    /// At most this many writes per transaction; nil: no cap.
    public var maxWritesPerCommit: Int?
    /// Whether commits wait for the disk (SQLite `synchronous = FULL`); off by default, for
    /// speed: what a test checks does not depend on it.
    public var waitsForDisk: Bool

    public init(timeZone: TimeZone = shanghai, policy: WorkOrderPolicy? = nil, units: UnitDirectory? = nil,
                deferral: Duration = .milliseconds(20), maxWritesPerCommit: Int? = nil, waitsForDisk: Bool = false) {
        self.timeZone = timeZone
        self.policy = policy
        self.units = units
        self.deferral = deferral
        self.maxWritesPerCommit = maxWritesPerCommit
        self.waitsForDisk = waitsForDisk
    }

    /// The work-order tests' store: ``testPolicy`` and ``testUnits``.
    public static func workOrders(policy: WorkOrderPolicy = testPolicy, units: UnitDirectory? = testUnits) -> TestStoreOptions {
        TestStoreOptions(policy: policy, units: units)
    }
}

/// One empty database of a backend for one test: `let database = try await TestDatabase(backend)`,
/// then `let store = try database.open(...)`. Stores opened on it one after the other see what
/// the previous ones committed (reopening after close). Removed when released: keep it alive
/// while a store is open on it.
public final class TestDatabase: Sendable {
    public let backend: StoreBackend
    /// SQLite: the directory holding the file.
    private let directory: TemporaryDirectory
    /// PostgreSQL: the test's own database.
    public let postgresURL: PostgresURL?

    public init(_ backend: StoreBackend) async throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            directory = try TemporaryDirectory()
            postgresURL = nil
        case .postgres:
            directory = try TemporaryDirectory()
            let name = "hotline_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
            postgresURL = try PostgresAdmin.createDatabase(String(name), on: try Self.testServer())
        }
    }

    deinit {
        if let postgresURL {
            try? PostgresAdmin.dropDatabase(postgresURL.database, on: postgresURL)
        }
    }

    /// The PostgreSQL server of the tests; a missing one is a failure that says what to do,
    /// never a skip.
    public static func testServer() throws -> PostgresURL {
        guard let text = ProcessInfo.processInfo.environment["HOTLINE_TEST_DB_URL"], !text.isEmpty else {
            throw TestDatabaseError(description: """
                HOTLINE_TEST_DB_URL is not set: the PostgreSQL store tests need a real server. Run `make test`, or \
                `deploy/postgres/pgctl.sh start` and HOTLINE_TEST_DB_URL=$(deploy/postgres/pgctl.sh url) swift test ...
                """)
        }
        return try PostgresURL(parsing: text)
    }

    /// SQLite: the database file.
    public var sqlitePath: String { directory.path("hotline.sqlite") }

    /// Opens a store on the database (the server's store: it writes, recovers and numbers).
    public func open(_ options: TestStoreOptions = TestStoreOptions()) throws -> any HotlineStore {
        switch backend {
        case .sqlite:
            try SQLiteTicketStore(path: sqlitePath, options: .init(
                durability: options.waitsForDisk ? .full : .normal, timeZone: options.timeZone, policy: options.policy,
                units: options.units, maxWritesPerCommit: options.maxWritesPerCommit, deferral: options.deferral))
        case .postgres:
            // waitsForDisk: PostgreSQL's commits of opens always wait (synchronous_commit = on).
            try PostgresTicketStore(url: postgresURL!, options: .init(
                node: "test-node", timeZone: options.timeZone, policy: options.policy, units: options.units,
                deferral: options.deferral, maxWritesPerCommit: options.maxWritesPerCommit, heartbeatInterval: nil))
        }
    }

    /// A reader beside the store, as another process (the CLI) reads: it sees what is committed.
    public func reader() throws -> any TicketReading {
        switch backend {
        case .sqlite:
            try SQLiteTicketReader(path: sqlitePath)
        case .postgres:
            PostgresTicketReader(url: postgresURL!)
        }
    }
}

/// The test environment lacks what a backend needs (said plainly, never skipped).
public struct TestDatabaseError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// Raw SQL past the store's API, as an administrator with the database's own client would run
/// it: for the invariants each backend's schema must enforce by itself (the event log is
/// append-only, statuses are known). Statements use literals only, no parameters, so the
/// same text runs on every backend.
public protocol StoreProbe: Sendable {
    /// Runs one statement in its own transaction; throws what the database refuses.
    func execute(_ sql: String) throws
}

extension TestDatabase {
    /// A probe on this database, beside any store open on it.
    public func probe() -> any StoreProbe {
        switch backend {
        case .sqlite: SQLiteProbe(path: sqlitePath)
        case .postgres: PostgresProbe(url: postgresURL!)
        }
    }
}

/// A connection of its own per statement, like `sqlite3` beside the server.
private struct SQLiteProbe: StoreProbe {
    let path: String

    func execute(_ sql: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.write { db in try db.execute(sql: sql) }
    }
}

/// A connection of its own per statement, like `psql` beside the server.
private struct PostgresProbe: StoreProbe {
    let url: PostgresURL

    func execute(_ sql: String) throws {
        try PostgresAdmin.execute(sql, on: url)
    }
}
