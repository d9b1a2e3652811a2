import SIPAuth
import Testing
@testable import SIPRegistrar

/// The lockout table as a bounded LRU: which key goes when it is full, and what a flood costs.
@Suite struct FailureTrackerTests {
    static let t0 = UnixTime(seconds: 1_800_000_000)
    static func at(_ seconds: Int64) -> UnixTime { t0 + .seconds(seconds) }

    @Test func capacityIsBoundedAndTheLeastRecentlyFailedKeyGoesFirst() {
        var tracker = FailureTracker(policy: LockoutPolicy(threshold: 5), capacity: 3)
        _ = tracker.recordFailure("a", now: Self.at(0))
        _ = tracker.recordFailure("b", now: Self.at(1))
        _ = tracker.recordFailure("c", now: Self.at(2))
        _ = tracker.recordFailure("a", now: Self.at(3)) // a is now the most recent
        #expect(tracker.keysInEvictionOrder == ["b", "c", "a"])
        _ = tracker.recordFailure("d", now: Self.at(4))
        #expect(tracker.count == 3)
        #expect(tracker.keysInEvictionOrder == ["c", "a", "d"])
        // a kept its two failures: three more lock it (threshold 5).
        for s in Int64(5)...6 { #expect(tracker.recordFailure("a", now: Self.at(s)) == nil) }
        #expect(tracker.recordFailure("a", now: Self.at(7)) == Self.at(7) + .seconds(900))
        // A reset forgets an unlocked key outright.
        tracker.reset("d")
        #expect(tracker.keysInEvictionOrder == ["c", "a"])
    }

    @Test func aFloodOfNewKeysDoesNotEndAnActiveLockout() {
        let policy = LockoutPolicy(threshold: 3, window: .seconds(300), duration: .seconds(900))
        var tracker = FailureTracker(policy: policy, capacity: 100)
        for s in Int64(0)..<3 { _ = tracker.recordFailure("victim-of-guessing", now: Self.at(s)) }
        #expect(tracker.lockedUntil("victim-of-guessing", now: Self.at(3)) == Self.at(2) + .seconds(900))
        // 10,000 usernames an attacker made up, one failure each, within the lockout.
        for i in 0..<10_000 { _ = tracker.recordFailure("made-up-\(i)", now: Self.at(10)) }
        #expect(tracker.count == 100)
        #expect(tracker.lockedUntil("victim-of-guessing", now: Self.at(11)) != nil)
        #expect(tracker.keysInEvictionOrder.last == "victim-of-guessing")
        // Once it has expired, the old lockout is the oldest thing to forget, by LRU order.
        _ = tracker.recordFailure("after", now: Self.at(2_000))
        #expect(!tracker.keysInEvictionOrder.contains("victim-of-guessing"))
        #expect(tracker.count == 100)
    }

    @Test func whenEveryEntryIsLockedTheSoonestEndingGoes() {
        var tracker = FailureTracker(policy: LockoutPolicy(threshold: 1, duration: .seconds(900)), capacity: 2)
        #expect(tracker.recordFailure("first", now: Self.at(0)) != nil)
        #expect(tracker.recordFailure("second", now: Self.at(1)) != nil)
        #expect(tracker.recordFailure("third", now: Self.at(2)) != nil)
        #expect(tracker.lockedUntil("first", now: Self.at(3)) == nil)
        #expect(tracker.lockedUntil("second", now: Self.at(3)) != nil)
        #expect(tracker.lockedUntil("third", now: Self.at(3)) != nil)
    }

    /// A spray of distinct usernames at capacity evicts one least-recent key per new key and
    /// keeps exactly `capacity` (the old tracker copied and filtered the whole table per key;
    /// cost is the RecencyList's O(1) links, not measured here: speed belongs in benchmarks).
    @Test func aFloodOfDistinctKeysEvictsOneLeastRecentKeyEach() {
        var tracker = FailureTracker(policy: LockoutPolicy(threshold: 5), capacity: 10_000)
        for i in 0..<60_000 {
            _ = tracker.recordFailure("sprayed-\(i)", now: Self.at(Int64(i / 1000)))
            if i >= 10_000, i % 5_000 == 0 {
                #expect(tracker.count == 10_000)
                #expect(tracker.keysInEvictionOrder.first == "sprayed-\(i - 9_999)")
            }
        }
        #expect(tracker.count == 10_000)
        #expect(tracker.keysInEvictionOrder.first == "sprayed-50000")
        #expect(tracker.keysInEvictionOrder.last == "sprayed-59999")
    }
}
