// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: one connection used from a plain thread (the writer, a reader call, a test),
// blocking on postgres-nio's futures. Never used on an event loop.

import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Tickets

/// A bound value of a statement: the few types the schema uses.
enum PostgresValue: Sendable {
    case text(String?)
    case int(Int?)
    case bool(Bool)
    case textArray([String?])
    case intArray([Int?])
    case boolArray([Bool])
    case date(Date)
}

/// A blocking PostgreSQL connection. Not thread-safe: one owner thread at a time.
final class PostgresSession: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// The event loops every session of the process shares (one thread: the database work
    /// is the server's, the client only frames bytes).
    static let eventLoops: MultiThreadedEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// A round trip still unanswered after this closes the connection, which fails it: a
    /// connection whose server went away without a word it saw (seen in CI: a writer blocked
    /// for good across PostgreSQL's fast shutdown) must not hold its owner forever. nil: no
    /// limit (long reports).
    var roundTripLimit: TimeAmount?

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// `future`'s value, the connection closed if it takes longer than ``roundTripLimit``.
    private func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        guard let limit = roundTripLimit else { return try future.wait() }
        let connection = self.connection
        let watchdog = future.eventLoop.scheduleTask(in: limit) { connection.close().whenComplete { _ in } }
        defer { watchdog.cancel() }
        return try future.wait()
    }

    /// Connects, or throws ``TicketStoreError/cannotOpen(path:reason:)`` naming the server.
    static func connect(_ url: PostgresURL, timeout: Duration = .seconds(5)) throws(TicketStoreError) -> PostgresSession {
        let (configuration, logger) = Self.configuration(url, timeout: timeout)
        do {
            let connection = try PostgresConnection.connect(
                on: eventLoops.any(), configuration: configuration, id: Int.random(in: 1...Int(Int32.max)), logger: logger).wait()
            return PostgresSession(connection: connection, logger: logger)
        } catch {
            throw .cannotOpen(path: url.description, reason: PostgresSession.describe(error))
        }
    }

    /// How every connection of the store is made (also the async ones, e.g. LISTEN).
    static func configuration(_ url: PostgresURL, timeout: Duration) -> (PostgresConnection.Configuration, Logger) {
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable)
        configuration.options.connectTimeout = .milliseconds(Int64(timeout.components.seconds * 1000
            + timeout.components.attoseconds / 1_000_000_000_000_000))
        var logger = Logger(label: "hotline.tickets.postgres")
        logger.logLevel = .critical
        return (configuration, logger)
    }

    var isClosed: Bool { connection.isClosed }

    func close() {
        _ = try? connection.close().wait()
    }

    /// Runs one statement with `$1...` parameters; returns its rows.
    @discardableResult
    func query(_ sql: String, _ values: [PostgresValue] = []) throws -> [PostgresRow] {
        let binds = Self.bindings(values)
        let result = try wait(connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
        return result.rows
    }

    /// Runs one statement; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ values: [PostgresValue] = []) throws -> Int {
        let binds = Self.bindings(values)
        let result = try wait(connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
        return result.metadata.rows ?? 0
    }

    private static func bindings(_ values: [PostgresValue]) -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): binds.append(text)
            case .int(let int): binds.append(int)
            case .bool(let bool): binds.append(bool)
            case .textArray(let array): binds.append(array.map { $0 ?? "" })
            case .intArray(let array): binds.append(array.map { $0 ?? 0 })
            case .boolArray(let array): binds.append(array)
            case .date(let date): binds.append(date)
            }
        }
        return binds
    }

    /// Several statements, one after the other (postgres-nio speaks the extended protocol,
    /// one statement per message): migrations, BEGIN/COMMIT, savepoints.
    func script(_ sql: String) throws {
        for statement in Self.statements(sql) {
            _ = try wait(connection.query(PostgresQuery(unsafeSQL: statement), logger: logger))
        }
    }

    /// Splits SQL at the semicolons outside quotes, comments and `$$` bodies.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inQuote = false, inDollar = false, inComment = false
        var previous: Character = " "
        for character in sql {
            // `-- comments` to the end of the line, whose apostrophes are not quotes.
            if inComment {
                if character == "\n" { inComment = false }
                current.append(character)
                continue
            }
            if character == "-" && previous == "-" && !inQuote && !inDollar { inComment = true }
            if character == "'" && !inDollar { inQuote.toggle() }
            if character == "$" && previous == "$" && !inQuote { inDollar.toggle() }
            if character == ";" && !inQuote && !inDollar {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
            } else {
                current.append(character)
            }
            // "$$$" is not a thing in our SQL; reset so "$$$$" counts twice.
            previous = (character == "$" && previous == "$") ? " " : character
        }
        let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !statement.isEmpty { statements.append(statement) }
        return statements
    }

    /// A short, human description of a postgres-nio error (its server message if any).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let constraint = error.serverInfo?[.constraintName].map { " (\($0))" } ?? ""
                return message + constraint
            }
            return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
        return String(describing: error)
    }

    /// Whether an error means the connection is unusable (refused, lost, server shut down),
    /// as opposed to a statement the server refused.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now.
                return state.hasPrefix("08") || state.hasPrefix("57P")
            }
            return [.clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown,
                    .messageDecodingFailure, .unexpectedBackendMessage].contains(error.code)
        }
        if let error = error as? TicketStoreError, case .cannotOpen = error { return true }
        return error is ChannelError || error is IOError
    }
}

extension TicketStoreError {
    /// Maps a postgres-nio error to a store error: a constraint (CHECK, trigger, key) to
    /// ``TicketStoreError/constraintViolated(message:)``, the rest to ``TicketStoreError/database(code:message:)``.
    static func postgres(_ error: any Error) -> TicketStoreError {
        if let error = error as? TicketStoreError { return error }
        if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] {
            let message = PostgresSession.describe(error)
            // Class 23: integrity constraint violation (CHECK, unique, foreign key, our triggers).
            if state.hasPrefix("23") { return .constraintViolated(message: message) }
            return .database(code: -2, message: "\(state): \(message)")
        }
        return .database(code: -1, message: PostgresSession.describe(error))
    }
}
