// Failed authentications counted across nodes on a real PostgreSQL.

import Foundation
import Testing
@testable import TicketsPostgres

@Suite struct PostgresLockoutLedgerTests {
    @Test func failuresSpreadOverNodesLockAtTheSameThresholdAsOnOne() throws {
        let database = try PostgresTestDatabase()
        let a = try PostgresLockoutLedger(url: database.url, node: "node-a")
        let b = try PostgresLockoutLedger(url: database.url, node: "node-b")
        defer { a.close(); b.close() }
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func fail(_ ledger: PostgresLockoutLedger, at seconds: Double) throws -> PostgresLockoutLedger.Lockout? {
            try ledger.recordFailure(kind: "address", key: "192.0.2.66", at: t0.addingTimeInterval(seconds), threshold: 4,
                                     window: .seconds(300), duration: .seconds(900))
        }
        #expect(try fail(a, at: 0) == nil)
        #expect(try fail(b, at: 1) == nil)
        #expect(try fail(a, at: 2) == nil)
        let lockout = try #require(try fail(b, at: 3), "the fourth failure, whichever node saw it, locks")
        #expect(lockout == .init(kind: "address", key: "192.0.2.66", until: t0.addingTimeInterval(903)))
        #expect(try fail(a, at: 4) == nil, "already locked: no second lockout")
        #expect(try a.activeLockouts(at: t0.addingTimeInterval(10)) == [lockout])
        #expect(try b.activeLockouts(at: t0.addingTimeInterval(904)).isEmpty, "ended")
        // After it ends, counting starts afresh.
        for s in 905...907 { #expect(try fail(a, at: Double(s)) == nil) }
        #expect(try fail(b, at: 908) != nil)
        // Another subject is counted on its own.
        #expect(try a.recordFailure(kind: "user", key: "1001", at: t0, threshold: 4, window: .seconds(300), duration: .seconds(900)) == nil)
    }

    @Test func failuresOutsideTheWindowDoNotCount() throws {
        let database = try PostgresTestDatabase()
        let a = try PostgresLockoutLedger(url: database.url, node: "node-a")
        defer { a.close() }
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        for minute in 0..<6 {
            let lockout = try a.recordFailure(kind: "user", key: "1001", at: t0.addingTimeInterval(Double(minute) * 180), threshold: 3,
                                              window: .seconds(300), duration: .seconds(900))
            #expect(lockout == nil, "three minutes apart: never three within five minutes (minute \(minute * 3))")
        }
    }

    @Test func theBusMessageRoundTrips() {
        let lockout = PostgresLockoutLedger.Lockout(kind: "user", key: "agent one", until: Date(timeIntervalSince1970: 1_800_000_000.5))
        #expect(PostgresLockoutLedger.parse(PostgresLockoutLedger.message(lockout)) == lockout)
        #expect(PostgresLockoutLedger.parse("lockout nobody 1 x") == nil)
    }
}
