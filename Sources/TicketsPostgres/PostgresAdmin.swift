// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: creating and dropping whole databases (tests give each test its own; `make
// cluster` may create the cluster's), through the server's `postgres` maintenance database.

import Foundation
import Tickets

public enum PostgresAdmin {
    /// Creates `name` on the server of `server` (any database of it), with the schema applied.
    public static func createDatabase(_ name: String, on server: PostgresURL) throws(TicketStoreError) -> PostgresURL {
        guard name.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil else {
            throw .invalidQuery("a database name is lowercase letters, digits and _: '\(name)'")
        }
        let admin = try PostgresSession.connect(server.with(database: "postgres"))
        defer { admin.close() }
        let url = server.with(database: name)
        do {
            try admin.script("CREATE DATABASE \(name)")
        } catch {
            throw TicketStoreError.postgres(error)
        }
        let session = try PostgresSession.connect(url)
        defer { session.close() }
        try PostgresMigrator.migrate(session, url: url)
        return url
    }

    /// Drops `name`, disconnecting whoever is still on it.
    public static func dropDatabase(_ name: String, on server: PostgresURL) throws(TicketStoreError) {
        guard name.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil else {
            throw .invalidQuery("a database name is lowercase letters, digits and _: '\(name)'")
        }
        let admin = try PostgresSession.connect(server.with(database: "postgres"), timeout: .seconds(2))
        defer { admin.close() }
        do {
            try admin.script("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        } catch {
            throw TicketStoreError.postgres(error)
        }
    }
}

extension PostgresAdmin {
    /// Runs one statement on a connection of its own, as `psql` would beside the server (tests
    /// probe the schema's own rules with it); throws what the server refuses.
    public static func execute(_ sql: String, on url: PostgresURL) throws(TicketStoreError) {
        let session = try PostgresSession.connect(url)
        defer { session.close() }
        do {
            try session.execute(sql)
        } catch {
            throw TicketStoreError.postgres(error)
        }
    }
}
