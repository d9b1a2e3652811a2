// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the `--db postgres://...` / `HOTLINE_DB_URL` address, parsed with typed errors.

import Foundation

/// Where a PostgreSQL ticket store lives: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
/// (or `postgresql://`). Percent-escapes in the user, password and database are decoded.
/// No query parameters: TLS and the like are not supported yet, and a silently ignored
/// `?sslmode=require` would be worse than a refusal.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    public init(user: String, password: String? = nil, host: String, port: Int = 5432, database: String) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
    }

    /// Whether `text` is meant as a PostgreSQL URL (as opposed to a SQLite path), whether or
    /// not it is a valid one: `--db` picks the backend by this.
    public static func looksLikePostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(parsing text: String) throws(PostgresURLError) {
        func fail(_ reason: PostgresURLError.Reason) -> PostgresURLError { PostgresURLError(input: text, reason: reason) }
        let rest: Substring
        if text.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else if text.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else {
            throw fail(.scheme)
        }
        guard !rest.contains("?"), !rest.contains("#") else { throw fail(.parameters) }
        // The user part ends at the last '@' (a password may not contain a raw one, but be lenient).
        guard let at = rest.lastIndex(of: "@") else { throw fail(.missingUser) }
        let userInfo = rest[..<at]
        let location = rest[rest.index(after: at)...]
        let rawUser: Substring, rawPassword: Substring?
        if let colon = userInfo.firstIndex(of: ":") {
            rawUser = userInfo[..<colon]
            rawPassword = userInfo[userInfo.index(after: colon)...]
        } else {
            rawUser = userInfo
            rawPassword = nil
        }
        guard let user = rawUser.removingPercentEncoding, !user.isEmpty else { throw fail(.missingUser) }
        guard let slash = location.firstIndex(of: "/") else { throw fail(.missingDatabase) }
        let hostPort = location[..<slash]
        guard let database = location[location.index(after: slash)...].removingPercentEncoding, !database.isEmpty,
              !database.contains("/")
        else { throw fail(.missingDatabase) }
        var host = hostPort
        var port = 5432
        if hostPort.hasPrefix("[") {
            // [IPv6]:port
            guard let close = hostPort.firstIndex(of: "]") else { throw fail(.host) }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { throw fail(.port) }
                port = value
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            guard let value = Int(hostPort[hostPort.index(after: colon)...]) else { throw fail(.port) }
            port = value
        }
        guard (1...65535).contains(port) else { throw fail(.port) }
        guard !host.isEmpty else { throw fail(.host) }
        self.init(user: user, password: rawPassword.map { $0.removingPercentEncoding ?? String($0) }, host: String(host),
                  port: port, database: database)
    }

    /// The URL with the password left out, for logs and /health.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// The same server, another database (tests: the `postgres` maintenance database).
    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }
}

/// Why a PostgreSQL URL was refused.
public struct PostgresURLError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case scheme = "it must start with postgres:// or postgresql://"
        case missingUser = "a user is required (postgres://USER@HOST/DATABASE)"
        case host = "the host is missing or malformed"
        case port = "the port must be a number from 1 to 65535"
        case missingDatabase = "a database name is required after the host (postgres://USER@HOST:PORT/DATABASE)"
        case parameters = "query parameters (?...) are not supported"
    }

    public var input: String
    public var reason: Reason

    public init(input: String, reason: Reason) {
        self.input = input
        self.reason = reason
    }

    public var description: String {
        // Never echo a password back into logs.
        let shown = (try? PostgresURL(parsing: input))?.description ?? input.replacingOccurrences(
            of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression)
        return "invalid PostgreSQL URL '\(shown)': \(reason.rawValue)"
    }
}
