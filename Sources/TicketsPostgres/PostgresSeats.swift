// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the licensed seat count of the whole cluster (`hotline seats set N` on any node
// applies on every node at once): one row, written by the node that took the request, which
// then announces it on the event bus; a node starting reads it.

import Foundation
import Tickets

public final class PostgresSeats: Sendable {
    public struct Setting: Sendable, Equatable {
        public var licensed: Int
        /// agents.yaml's `licensed_seats` when it was set: once agents.yaml says otherwise, it rules.
        public var agentsYAMLLicensedSeats: Int
        public var setAt: Date
        public var setBy: String

        public init(licensed: Int, agentsYAMLLicensedSeats: Int, setAt: Date, setBy: String) {
            self.licensed = licensed
            self.agentsYAMLLicensedSeats = agentsYAMLLicensedSeats
            self.setAt = setAt
            self.setBy = setBy
        }
    }

    public let url: PostgresURL
    private let connection: PostgresSessionSlot

    /// Brings the database to this build's schema.
    public init(url: PostgresURL) throws(TicketStoreError) {
        try PostgresMigrator.migrate(url: url)
        self.url = url
        connection = PostgresSessionSlot(url: url)
    }

    public func current() throws(TicketStoreError) -> Setting? {
        try connection.withSession { session in
            try session.query("SELECT licensed, agents_yaml_licensed_seats, set_at, set_by FROM licensed_seats").first.map { row in
                let (licensed, yaml, at, by) = try row.decode((Int, Int, Date, String).self)
                return Setting(licensed: licensed, agentsYAMLLicensedSeats: yaml, setAt: at, setBy: by)
            }
        }
    }

    public func set(_ setting: Setting) throws(TicketStoreError) {
        _ = try connection.withSession { session in
            try session.execute("""
                INSERT INTO licensed_seats (id, licensed, agents_yaml_licensed_seats, set_at, set_by) VALUES (true, $1, $2, $3, $4)
                ON CONFLICT (id) DO UPDATE SET licensed = $1, agents_yaml_licensed_seats = $2, set_at = $3, set_by = $4
                """, [.int(setting.licensed), .int(setting.agentsYAMLLicensedSeats), .date(setting.setAt), .text(setting.setBy)])
        }
    }

    /// agents.yaml's value changed: the runtime count is retired on every node.
    public func clear() throws(TicketStoreError) {
        try connection.withSession { session in _ = try session.execute("DELETE FROM licensed_seats") }
    }

    public func close() {
        connection.close()
    }

    /// The bus message: `seats <licensed> <agents.yaml value>`.
    public static func message(_ setting: Setting) -> String { "seats \(setting.licensed) \(setting.agentsYAMLLicensedSeats)" }

    public static func parse(_ message: String) -> (licensed: Int, agentsYAMLLicensedSeats: Int)? {
        let parts = message.split(separator: " ")
        guard parts.count == 3, parts[0] == "seats", let licensed = Int(parts[1]), let yaml = Int(parts[2]) else { return nil }
        return (licensed, yaml)
    }
}
