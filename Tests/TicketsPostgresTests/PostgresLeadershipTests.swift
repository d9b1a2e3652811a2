// Ownership of a cluster-wide decision on a real PostgreSQL: one leader at a time, a standby
// taking over when the leader's session ends (a crash) or is cut, and a higher epoch each time.

import Cluster
import Foundation
import Synchronization
import Testing
@testable import TicketsPostgres

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
                configuration: .init(retryInterval: .milliseconds(200), checkInterval: .milliseconds(200), stepDownAfter: .seconds(1)),
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
        a.leadership.start()
        #expect(eventually(timeout: .seconds(5)) { a.isLeader }, "the first contender leads")
        b.leadership.start()
        // b keeps trying (every 200 ms) and is refused while a leads.
        let until = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < until {
            #expect(!(a.isLeader && b.isLeader), "never two leaders")
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(a.isLeader && !b.isLeader)
        let first = try #require(a.epoch)
        #expect(try PostgresLeadership.current(url: database.url)?.leader == "node-a")

        let resigned = ContinuousClock.now
        a.leadership.resign()
        #expect(eventually(timeout: .seconds(5)) { b.isLeader }, "the standby takes over")
        #expect(ContinuousClock.now - resigned < .seconds(2), "within a retry interval or so")
        #expect(!a.isLeader)
        #expect(try #require(b.epoch) == first + 1, "a newer epoch")
        #expect(try PostgresLeadership.current(url: database.url)?.leader == "node-b")
        #expect(a.changes == [.becameLeader(epoch: first), .steppedDown(.resigned)])
        b.leadership.resign()
    }

    @Test func aLeaderWhoseSessionIsKilledStepsDownAndTheStandbyLeads() async throws {
        let database = try PostgresTestDatabase()
        let a = try Contender(database.url, node: "node-a")
        a.leadership.start()
        #expect(eventually(timeout: .seconds(5)) { a.isLeader })
        let b = try Contender(database.url, node: "node-b")
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
        let cut = ContinuousClock.now
        #expect(eventually(timeout: .seconds(5)) { b.isLeader }, "the standby takes over")
        #expect(eventually(timeout: .seconds(5)) { !a.isLeader }, "the old leader stepped down")
        #expect(ContinuousClock.now - cut < .seconds(5), "takeover within 5 s")
        #expect(a.changes.contains(.steppedDown(.sessionFailed)))
        #expect(eventually(timeout: .seconds(2)) { !(a.isLeader && b.isLeader) })
        a.leadership.resign()
        b.leadership.resign()
    }
}
