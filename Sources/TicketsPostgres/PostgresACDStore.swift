// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the tables of the cluster ACD (issue 13, migration 5). Events, commands and state
// are opaque JSON text here: what they mean is the server's business (ClusterACD).
//
// - Nodes append events to `acd_inbox` and NOTIFY `hotline_acd_inbox` in the same statement,
//   so the leader wakes only for an event that is there.
// - The leader commits what it applied in one transaction: it first locks its
//   `cluster_leadership` row and checks its epoch (a deposed leader commits nothing), deletes
//   the inbox rows it applied (by id: a row committed late by a slow node is read next time,
//   never skipped), writes the state rows that changed, and appends the nodes' commands with a
//   NOTIFY `hotline_acd_outbox` naming each node (and `*` when state rows changed: the other
//   nodes' read-only copies follow).
// - A node takes its commands with one DELETE … RETURNING: each is carried out once.
//
// The ACD's sessions commit without waiting for the WAL flush (`synchronous_commit = off`):
// a distribution decision must not wait behind the disk of unrelated load; a PostgreSQL crash
// may forget the last fraction of a second of queue state, never a ticket (tickets are written
// by the ticket writer, durably).

import Foundation
import Tickets

public final class PostgresACDStore: Sendable {
    public struct InboxRow: Sendable, Equatable {
        public var id: Int64
        public var node: String
        public var event: String
    }

    public struct StateKey: Hashable, Sendable {
        public var kind: String
        public var key: String
        public init(kind: String, key: String) {
            self.kind = kind
            self.key = key
        }
    }

    /// What one leader transaction writes.
    public struct Commit: Sendable {
        public var epoch: Int64
        /// Inbox rows applied.
        public var applied: [Int64] = []
        public var upserts: [StateKey: String] = [:]
        public var deletes: Set<StateKey> = []
        /// (node, command), in order.
        public var commands: [(node: String, command: String)] = []

        public init(epoch: Int64) { self.epoch = epoch }
        public var isEmpty: Bool { applied.isEmpty && upserts.isEmpty && deletes.isEmpty && commands.isEmpty }
    }

    public static let inboxChannel = "hotline_acd_inbox"
    public static let outboxChannel = "hotline_acd_outbox"
    /// The leadership whose epoch fences the ACD's writes.
    public static let leadershipName = "acd"

    public let url: PostgresURL
    private let submitter: PostgresSessionSlot
    private let leader: PostgresSessionSlot
    private let taker: PostgresSessionSlot
    private static let setup = "SET synchronous_commit = off"

    /// Brings the database to this build's schema.
    public init(url: PostgresURL) throws(TicketStoreError) {
        try PostgresMigrator.migrate(url: url)
        self.url = url
        submitter = PostgresSessionSlot(url: url, setup: Self.setup)
        leader = PostgresSessionSlot(url: url, setup: Self.setup)
        taker = PostgresSessionSlot(url: url, setup: Self.setup)
    }

    // MARK: - nodes

    /// Appends events for the leader (one statement: the rows and the wake-up commit together).
    public func submit(node: String, events: [String]) throws(TicketStoreError) {
        guard !events.isEmpty else { return }
        _ = try submitter.withSession { session in
            try session.query("""
                WITH appended AS (INSERT INTO acd_inbox (node, event) SELECT $1, e FROM unnest($2::text[]) AS e RETURNING id)
                SELECT pg_notify($3, $1) FROM (SELECT 1 FROM appended LIMIT 1) AS one
                """, [.text(node), .textArray(events), .text(Self.inboxChannel)])
        }
    }

    /// Whether the inbox's connection works (a node that refused queue callers looks again).
    public func ping() throws(TicketStoreError) {
        _ = try submitter.withSession { session in try session.query("SELECT 1") }
    }

    /// This node's commands, oldest first; each is returned once.
    public func takeCommands(node: String) throws(TicketStoreError) -> [String] {
        try taker.withSession { session in
            try session.query("DELETE FROM acd_outbox WHERE node = $1 RETURNING id, command", [.text(node)])
                .map { try $0.decode((Int, String).self) }
                .sorted { $0.0 < $1.0 }
                .map(\.1)
        }
    }

    // MARK: - the leader

    /// Every state row (takeover, and the read-only view of the other nodes).
    public func state() throws(TicketStoreError) -> [StateKey: String] {
        try leader.withSession { session in
            var rows: [StateKey: String] = [:]
            for row in try session.query("SELECT kind, key, doc FROM acd_state") {
                let (kind, key, doc) = try row.decode((String, String, String).self)
                rows[StateKey(kind: kind, key: key)] = doc
            }
            return rows
        }
    }

    /// The inbox in arrival order (by id).
    public func inbox(limit: Int = 1000) throws(TicketStoreError) -> [InboxRow] {
        try leader.withSession { session in
            try session.query("SELECT id, node, event FROM acd_inbox ORDER BY id LIMIT $1", [.int(limit)]).map { row in
                let (id, node, event) = try row.decode((Int, String, String).self)
                return InboxRow(id: Int64(id), node: node, event: event)
            }
        }
    }

    /// Writes `commit` if `commit.epoch` is still the current one; false (nothing written) if
    /// another leader has taken over since.
    public func commit(_ commit: Commit) throws(TicketStoreError) -> Bool {
        try leader.withSession { session in
            try session.script("BEGIN")
            do {
                let current = try session.query("SELECT epoch FROM cluster_leadership WHERE name = $1 FOR UPDATE",
                                                [.text(Self.leadershipName)]).first?.decode(Int.self)
                guard current.map(Int64.init) == commit.epoch else {
                    try session.script("ROLLBACK")
                    return false
                }
                if !commit.applied.isEmpty {
                    try session.execute("DELETE FROM acd_inbox WHERE id = ANY($1::bigint[])", [.intArray(commit.applied.map { Int($0) })])
                }
                if !commit.deletes.isEmpty {
                    let keys = Array(commit.deletes)
                    try session.execute("""
                        DELETE FROM acd_state WHERE (kind, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                        """, [.textArray(keys.map(\.kind)), .textArray(keys.map(\.key))])
                }
                if !commit.upserts.isEmpty {
                    let rows = Array(commit.upserts)
                    try session.execute("""
                        INSERT INTO acd_state (kind, key, doc) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
                        ON CONFLICT (kind, key) DO UPDATE SET doc = EXCLUDED.doc
                        """, [.textArray(rows.map(\.key.kind)), .textArray(rows.map(\.key.key)), .textArray(rows.map(\.value))])
                }
                if !commit.commands.isEmpty {
                    try session.execute("""
                        INSERT INTO acd_outbox (node, command, epoch)
                        SELECT n, c, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(n, c, i) ORDER BY i
                        """, [.textArray(commit.commands.map(\.node)), .textArray(commit.commands.map(\.command)), .int(Int(commit.epoch))])
                    let nodes = Array(Set(commit.commands.map(\.node))).sorted()
                    try session.query("SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n",
                                      [.text(Self.outboxChannel), .textArray(nodes)])
                }
                if !commit.upserts.isEmpty || !commit.deletes.isEmpty {
                    // The other nodes' read-only copies of the machine follow the state rows.
                    try session.query("SELECT pg_notify($1, '*')", [.text(Self.outboxChannel)])
                }
                try session.script("COMMIT")
                return true
            } catch {
                try? session.script("ROLLBACK")
                throw error
            }
        }
    }

    /// The nodes that hold no calls any more: `gone` are marked so by the cluster (their lease
    /// ran out, or they stopped); `absent` are not marked yet but hold no liveness lock
    /// (PostgresNodeLiveness: the process died, or it is cut off). Gone nodes' leftover commands
    /// are dropped.
    public func departedNodes() throws(TicketStoreError) -> (gone: Set<String>, absent: Set<String>) {
        try leader.withSession { session in
            var gone = Set<String>(), absent = Set<String>()
            for row in try session.query("SELECT name, state = 'gone', \(PostgresNodeLiveness.holds("name")) FROM nodes") {
                let (name, isGone, alive) = try row.decode((String, Bool, Bool).self)
                if isGone { gone.insert(name) } else if !alive { absent.insert(name) }
            }
            if !gone.isEmpty {
                try session.execute("DELETE FROM acd_outbox WHERE node = ANY($1::text[])", [.textArray(Array(gone))])
            }
            return (gone, absent)
        }
    }

    /// A node starting drops the commands left for its previous run (those calls are gone).
    public func clearCommands(node: String) throws(TicketStoreError) {
        _ = try taker.withSession { session in try session.execute("DELETE FROM acd_outbox WHERE node = $1", [.text(node)]) }
    }

    public func close() {
        submitter.close()
        leader.close()
        taker.close()
    }
}
