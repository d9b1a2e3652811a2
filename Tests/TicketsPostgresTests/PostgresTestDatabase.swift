// A fresh PostgreSQL database per test on the server named by HOTLINE_TEST_DB_URL (make test
// starts deploy/postgres/pgctl.sh and sets it), dropped when the test ends, so parallel
// tests never see each other's rows.

import Foundation
import Testing
import Tickets
@testable import TicketsPostgres

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

/// The test server's URL, or a failure saying how to get one (never a silent skip).
func testServerURL() throws -> PostgresURL {
    guard let text = ProcessInfo.processInfo.environment["HOTLINE_TEST_DB_URL"], !text.isEmpty else {
        throw TestSetupError(description: """
            HOTLINE_TEST_DB_URL is not set: these tests need a real PostgreSQL. Run them through `make test`, \
            or `deploy/postgres/pgctl.sh start && HOTLINE_TEST_DB_URL=$(deploy/postgres/pgctl.sh url) swift test ...`
            """)
    }
    return try PostgresURL(parsing: text)
}

final class PostgresTestDatabase: Sendable {
    let server: PostgresURL
    let url: PostgresURL

    /// Creates `hotline_test_<random>` on `server` (default: HOTLINE_TEST_DB_URL's server).
    init(server: PostgresURL? = nil) throws {
        let server = try server ?? testServerURL()
        self.server = server
        let name = "hotline_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        url = server.with(database: String(name))
        let admin: PostgresSession
        do {
            admin = try PostgresSession.connect(server.with(database: "postgres"))
        } catch {
            throw TestSetupError(description: "no PostgreSQL answers at \(server) (HOTLINE_TEST_DB_URL): \(error)")
        }
        defer { admin.close() }
        try admin.script("CREATE DATABASE \(name)")
    }

    deinit {
        if let admin = try? PostgresSession.connect(server.with(database: "postgres"), timeout: .seconds(2)) {
            _ = try? admin.script("DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)")
            admin.close()
        }
    }

    /// A session on the test database, for assertions in SQL.
    func session() throws -> PostgresSession {
        try PostgresSession.connect(url)
    }

    func count(_ sql: String) throws -> Int {
        let session = try session()
        defer { session.close() }
        return try session.query(sql).first!.decode(Int.self)
    }

    func open(node: String = "node-a", configure: (inout PostgresTicketStore.Options) -> Void = { _ in }) throws
        -> PostgresTicketStore {
        var options = PostgresTicketStore.Options(node: node, timeZone: TimeZone(identifier: "Asia/Shanghai")!,
                                                  heartbeatInterval: nil)
        configure(&options)
        return try PostgresTicketStore(url: url, options: options)
    }
}

/// Polls `condition` until it holds or `timeout` passes (for external processes and the writer thread).
func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try condition()
}
