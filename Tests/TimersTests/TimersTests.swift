import Randomness
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

    @Test("cancelled far timers leave the heap: storage stays O(live) over 100,000 calls")
    func cancelledTimersDoNotAccumulate() {
        // Each simulated call schedules a 4-hour limit and a short ring timer, then ends
        // (cancelling the limit) while a few hundred calls are in progress.
        var q = TimerQueue<Int>()
        var inProgress: [TimerID] = []
        var worst = 0
        let fourHours = UInt64(4 * 3600 * 1000)
        for call in 0..<100_000 {
            let now = UInt64(call) * 2 // 500 calls/s
            inProgress.append(q.schedule(at: at(now + fourHours), call))
            q.schedule(at: at(now + 30), -call)
            while let (_, p) = q.popExpired(now: at(now)) { #expect(p <= 0, "no call limit is due yet") }
            if inProgress.count > 300 {
                let wasPending = q.cancel(inProgress.removeFirst())
                #expect(wasPending)
            }
            worst = max(worst, q.storedCount - 2 * q.count)
        }
        #expect(q.count <= 300 + 16, "the calls in progress and the ring timers of the last 30 ms")
        #expect(worst <= TimerQueue<Int>.compactionFloor, "stored \(q.storedCount) for \(q.count) live")
        for id in inProgress { q.cancel(id) }
        while q.popExpired(now: at(.max / 2_000_000)) != nil {}
        #expect(q.isEmpty && q.storedCount <= TimerQueue<Int>.compactionFloor)
    }

    @Test("popping the live ones also lets the dead ones go")
    func firingCompactsToo() {
        var q = TimerQueue<Int>()
        let far = (0..<1000).map { q.schedule(at: at(1_000_000 + UInt64($0)), $0) }
        for i in 0..<1000 { q.schedule(at: at(UInt64(i)), i) }
        for id in far { q.cancel(id) }
        #expect(q.storedCount <= 2 * q.count + TimerQueue<Int>.compactionFloor)
        for _ in 0..<990 { _ = q.popExpired(now: at(2000)) }
        #expect(q.count == 10)
        #expect(q.storedCount <= 2 * q.count + TimerQueue<Int>.compactionFloor)
    }

    /// Random schedule/cancel/pop against a sorted-array model: same firing order (deadline,
    /// then scheduling order), same answers from cancel/isScheduled/nextDeadline, storage bound
    /// kept after every step. Seeded, so a failure replays.
    @Test(arguments: [1, 2, 3, 42, 12345] as [UInt64])
    func behavesLikeASortedListModel(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var q = TimerQueue<Int>()
        var model: [(deadline: UInt64, order: Int, id: TimerID)] = [] // live, sorted
        var everScheduled: [TimerID] = []
        var now: UInt64 = 0
        for step in 0..<20_000 {
            switch rng.next() % 10 {
            case 0...3:
                let deadline = now + rng.next() % (rng.next() % 4 == 0 ? 100_000 : 200)
                let id = q.schedule(at: at(deadline), step)
                let entry = (deadline: deadline, order: step, id: id)
                let index = model.firstIndex { ($0.deadline, $0.order) > (deadline, step) } ?? model.endIndex
                model.insert(entry, at: index)
                everScheduled.append(id)
            case 4...6:
                guard !everScheduled.isEmpty else { continue }
                let id = everScheduled[Int(rng.next() % UInt64(everScheduled.count))]
                let index = model.firstIndex { $0.id == id }
                #expect(q.isScheduled(id) == (index != nil))
                let wasPending = q.cancel(id)
                #expect(wasPending == (index != nil))
                if let index { model.remove(at: index) }
            default:
                now += rng.next() % 50
                while let (id, payload) = q.popExpired(now: at(now)) {
                    let expected = model.removeFirst()
                    #expect(expected.deadline <= now)
                    #expect((id, payload) == (expected.id, expected.order))
                }
                #expect(model.first.map { $0.deadline > now } ?? true, "a due timer was not popped")
            }
            #expect(q.count == model.count)
            let next = q.nextDeadline()
            #expect(next == model.first.map { at($0.deadline) })
            #expect(q.storedCount <= 2 * q.count + TimerQueue<Int>.compactionFloor)
        }
    }

    @Test func instantArithmetic() {
        let t = at(1000) + .milliseconds(500)
        #expect(t == at(1500))
        #expect(t - at(1000) == .milliseconds(500))
        #expect(Duration.seconds(2).nanosecondsClamped == 2_000_000_000)
    }
}
