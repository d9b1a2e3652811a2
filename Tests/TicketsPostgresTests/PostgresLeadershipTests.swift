// Ownership of a cluster-wide decision on a real PostgreSQL: one leader at a time, a standby
// taking over when the leader's session ends (a crash) or is cut, and a higher epoch each time.

import Cluster
import Foundation
import Synchronization
import Testing
@testable import TicketsPostgres

/// Polls `condition` every 20 ms for up to `timeout`, without holding a thread of the
/// cooperative pool (other tests' tasks run meanwhile).
private func within(_ timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// These check who leads, not how fast: on a loaded CI machine (parallel tests, fsync-bound
/// commits of other tests' databases) the epoch's commit alone has taken seconds. The takeover
/// bound (5 s) is proven on the clock by LeaderElectionTests; docs/contact-centre-cluster.md
/// gives the times measured on an idle machine.
@Suite struct PostgresLeadershipTests {
    /// A contender and what it was told.
    final class Contender: Sendable {
        final class Log: Sendable {
            let changes = Mutex<[PostgresLeadership.Change]>([])
        }
        let leadership: PostgresLeadership
        let log = Log()
        var changes: [PostgresLeadership.Change] { log.changes.withLock { $0 } }

        init(_ url: PostgresURL, node: String) throws {
            let log = self.log
            leadership = try PostgresLeadership(
                url: url, node: node,
                // stepDownAfter is generous: with 1 s, a check slowed by a loaded machine made the
                // leader step down `.unconfirmed` (and drop its lock) before the kill under test.
                configuration: .init(retryInterval: .milliseconds(200), checkInterval: .milliseconds(200), stepDownAfter: .seconds(8)),
                onChange: { change in log.changes.withLock { $0.append(change) } })
        }

        var isLeader: Bool { leadership.role.isLeader }
        var epoch: Int64? {
            if case .leader(let epoch) = leadership.role { return epoch }
            return nil
        }
    }

    @Test func oneLeaderAtATimeAndAStandbyTakesOverWhenTheLeaderResigns() async throws {
        let database = try PostgresTestDatabase()
        let a = try Contender(database.url, node: "node-a")
        let b = try Contender(database.url, node: "node-b")
        defer { a.leadership.resign(); b.leadership.resign() }
        a.leadership.start()
        #expect(await within(.seconds(15)) { a.isLeader }, "the first contender leads")
        b.leadership.start()
        // b keeps trying (every 200 ms) and is refused while a leads.
        let until = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < until { // b is refused meanwhile
            #expect(!(a.isLeader && b.isLeader), "never two leaders")
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(a.isLeader && !b.isLeader)
        let first = try #require(a.epoch)
        #expect(try PostgresLeadership.current(url: database.url)?.leader == "node-a")

        a.leadership.resign()
        #expect(await within(.seconds(30)) { b.isLeader }, "the standby takes over")
        #expect(!a.isLeader)
        #expect(try #require(b.epoch) == first + 1, "a newer epoch")
        #expect(try PostgresLeadership.current(url: database.url)?.leader == "node-b")
        #expect(a.changes == [.becameLeader(epoch: first), .steppedDown(.resigned)])
    }

    @Test func aLeaderWhoseSessionIsKilledStepsDownAndTheStandbyLeads() async throws {
        let database = try PostgresTestDatabase()
        let a = try Contender(database.url, node: "node-a")
        let b = try Contender(database.url, node: "node-b")
        defer { a.leadership.resign(); b.leadership.resign() }
        a.leadership.start()
        #expect(await within(.seconds(15)) { a.isLeader })
        b.leadership.start()
        // The leader's backend is terminated, as when PostgreSQL restarts or an operator
        // kills it: the lock is free at once, and the leader's next check fails.
        let admin = try database.session()
        defer { admin.close() }
        let killed = try admin.query("""
            SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """)
        #expect(killed.count == 1, "one session holds the lock")
        #expect(await within(.seconds(30)) { b.isLeader }, "the standby takes over")
        #expect(await within(.seconds(30)) { !a.isLeader }, "the old leader stepped down")
        #expect(a.changes.contains(.steppedDown(.sessionFailed)))
        #expect(!(a.isLeader && b.isLeader))
    }
}
