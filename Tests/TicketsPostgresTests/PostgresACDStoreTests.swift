// The cluster ACD's tables on a real PostgreSQL: the inbox in order, commits fenced by the
// leader's epoch, commands delivered once to their node, departed nodes.

import Foundation
import Testing
@testable import TicketsPostgres

@Suite struct PostgresACDStoreTests {
    /// Makes `epoch` the current one of the ACD's leadership, as a takeover does.
    static func setEpoch(_ epoch: Int, _ url: PostgresURL) throws {
        let session = try PostgresSession.connect(url)
        defer { session.close() }
        try session.execute("""
            INSERT INTO cluster_leadership (name, epoch, leader, acquired_at) VALUES ('acd', $1, 'test', now())
            ON CONFLICT (name) DO UPDATE SET epoch = $1
            """, [.int(epoch)])
    }

    static func execute(_ sql: String, _ url: PostgresURL) throws {
        let session = try PostgresSession.connect(url)
        defer { session.close() }
        try session.execute(sql)
    }

    /// What PostgreSQL holds, for a failure message: each advisory lock with its session's state.
    static func advisoryLocks(_ url: PostgresURL) throws -> [String] {
        let session = try PostgresSession.connect(url)
        defer { session.close() }
        return try session.query("""
            SELECT format('%s/%s/%s pid %s db %s: %s', l.classid, l.objid, l.objsubid, l.pid, l.database,
                          coalesce(a.state, 'no session') || ' ' || coalesce(a.query, ''))
            FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'
            """).map { try $0.decode(String.self) }
    }

    @Test func eventsAreReadInOrderAndAppliedOnesAreGoneOnceCommitted() throws {
        let database = try PostgresTestDatabase()
        let store = try PostgresACDStore(url: database.url)
        defer { store.close() }
        try Self.setEpoch(3, database.url)
        try store.submit(node: "node-a", events: ["a1", "a2"])
        try store.submit(node: "node-b", events: ["b1"])
        let inbox = try store.inbox()
        #expect(inbox.map(\.event) == ["a1", "a2", "b1"])
        #expect(inbox.map(\.node) == ["node-a", "node-a", "node-b"])
        var commit = PostgresACDStore.Commit(epoch: 3)
        commit.applied = inbox.prefix(2).map(\.id)
        commit.upserts[.init(kind: "agent", key: "a1")] = #"{"state":"available"}"#
        commit.commands = [("node-b", "ring"), ("node-a", "music"), ("node-b", "cancel")]
        #expect(try store.commit(commit))
        #expect(try store.inbox().map(\.event) == ["b1"], "only the applied rows are deleted")
        #expect(try store.state() == [.init(kind: "agent", key: "a1"): #"{"state":"available"}"#])
        #expect(try store.takeCommands(node: "node-b") == ["ring", "cancel"], "in order")
        #expect(try store.takeCommands(node: "node-b").isEmpty, "each command once")
        #expect(try store.takeCommands(node: "node-a") == ["music"])
        // A later commit replaces and deletes state rows.
        var next = PostgresACDStore.Commit(epoch: 3)
        next.upserts[.init(kind: "waiter", key: "0-1@node-a#x")] = "{}"
        next.deletes = [.init(kind: "agent", key: "a1")]
        #expect(try store.commit(next))
        #expect(try store.state() == [.init(kind: "waiter", key: "0-1@node-a#x"): "{}"])
    }

    @Test func aDeposedLeaderCommitsNothing() throws {
        let database = try PostgresTestDatabase()
        let store = try PostgresACDStore(url: database.url)
        defer { store.close() }
        try Self.setEpoch(7, database.url)
        try store.submit(node: "node-a", events: ["e"])
        var stale = PostgresACDStore.Commit(epoch: 6)
        stale.applied = try store.inbox().map(\.id)
        stale.upserts[.init(kind: "agent", key: "a1")] = "{}"
        stale.commands = [("node-a", "ring")]
        #expect(try store.commit(stale) == false, "epoch 6 is not the current 7")
        #expect(try store.inbox().map(\.event) == ["e"])
        #expect(try store.state().isEmpty)
        #expect(try store.takeCommands(node: "node-a").isEmpty)
    }

    @Test func nodesWithoutTheirLivenessLockAreAbsentAndGoneNodesLoseTheirCommands() async throws {
        let database = try PostgresTestDatabase()
        let store = try PostgresACDStore(url: database.url)
        defer { store.close() }
        try Self.setEpoch(1, database.url)
        try Self.execute("""
            INSERT INTO nodes (name, state, started_at, heartbeat_at) VALUES
                ('node-a', 'active', now(), now()), ('node-b', 'active', now(), now()), ('node-c', 'gone', now(), now())
            """, database.url)
        var commit = PostgresACDStore.Commit(epoch: 1)
        commit.commands = [("node-c", "ring")]
        #expect(try store.commit(commit))
        let liveness = PostgresNodeLiveness(url: database.url, node: "node-a")
        liveness.start(interval: .milliseconds(50))
        var departed = try store.departedNodes()
        let deadline = ContinuousClock.now + .seconds(10)
        while departed.absent.contains("node-a"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            departed = try store.departedNodes()
        }
        #expect(departed.gone == ["node-c"])
        #expect(departed.absent == ["node-b"], "node-a holds its lock, node-b does not")
        #expect(try store.takeCommands(node: "node-c").isEmpty, "a gone node's commands are dropped")
        // A node that stops lets its lock go: as soon as PostgreSQL has ended its session.
        liveness.close()
        let stopped = ContinuousClock.now + .seconds(30)
        departed = try store.departedNodes()
        while departed.absent != ["node-a", "node-b"], ContinuousClock.now < stopped {
            try await Task.sleep(for: .milliseconds(50))
            departed = try store.departedNodes()
        }
        let locks = departed.absent == ["node-a", "node-b"] ? [] : try Self.advisoryLocks(database.url)
        #expect(departed.absent == ["node-a", "node-b"], "still held: \(locks)")
    }
}
