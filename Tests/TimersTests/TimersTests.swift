import Testing
@testable import Timers

@Suite struct TimerQueueTests {
    func at(_ ms: UInt64) -> Instant { Instant(nanoseconds: ms * 1_000_000) }

    @Test func firesInDeadlineOrderAndOnlyWhenDue() {
        var q = TimerQueue<String>()
        q.schedule(at: at(30), "c")
        q.schedule(at: at(10), "a")
        q.schedule(at: at(20), "b")
        #expect(q.popExpired(now: at(5)) == nil)
        #expect(q.popExpired(now: at(25))?.1 == "a")
        #expect(q.popExpired(now: at(25))?.1 == "b")
        #expect(q.popExpired(now: at(25)) == nil)
        #expect(q.popExpired(now: at(30))?.1 == "c")
        #expect(q.isEmpty)
    }

    @Test func tiesFireInSchedulingOrder() {
        var q = TimerQueue<Int>()
        for i in 0..<100 { q.schedule(at: at(7), i) }
        var fired: [Int] = []
        while let (_, p) = q.popExpired(now: at(7)) { fired.append(p) }
        #expect(fired == Array(0..<100))
    }

    @Test func cancelledTimersNeverFire() {
        var q = TimerQueue<Int>()
        let ids = (0..<10).map { q.schedule(at: at(UInt64($0)), $0) }
        let first = q.cancel(ids[0]), fifth = q.cancel(ids[5]), again = q.cancel(ids[5])
        #expect(first && fifth)
        #expect(!again, "second cancel is a no-op")
        #expect(q.count == 8)
        #expect(q.nextDeadline() == at(1))
        var fired: [Int] = []
        while let (_, p) = q.popExpired(now: at(100)) { fired.append(p) }
        #expect(fired == [1, 2, 3, 4, 6, 7, 8, 9])
    }

    @Test func randomisedAgainstSortedReference() {
        var rng = SystemRandomNumberGenerator()
        var q = TimerQueue<Int>()
        var reference: [(UInt64, Int)] = []
        var ids: [TimerID] = []
        for i in 0..<2000 {
            let d = UInt64.random(in: 0..<500, using: &rng)
            ids.append(q.schedule(at: at(d), i))
            reference.append((d, i))
        }
        var cancelled = Set<Int>()
        for i in stride(from: 0, to: 2000, by: 3) { q.cancel(ids[i]); cancelled.insert(i) }
        let expected = reference.filter { !cancelled.contains($0.1) }.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.1)
        var fired: [Int] = []
        while let (_, p) = q.popExpired(now: at(1000)) { fired.append(p) }
        #expect(fired == expected)
    }

    @Test func instantArithmetic() {
        let t = at(1000) + .milliseconds(500)
        #expect(t == at(1500))
        #expect(t - at(1000) == .milliseconds(500))
        #expect(Duration.seconds(2).nanosecondsClamped == 2_000_000_000)
    }
}
