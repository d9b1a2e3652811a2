// Timers: one deadline-ordered queue per event loop, so thousands of calls share a single
// periodic tick instead of scheduling an event-loop task per timer ("timers batched").
// Pure: time is an input (`Instant`), nothing here reads a clock.

import HeapModule

/// A point on a monotonic clock, in nanoseconds (e.g. `NIODeadline.uptimeNanoseconds`).
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public static let zero = Instant(nanoseconds: 0)
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        let ns = rhs.nanosecondsClamped
        return Instant(nanoseconds: ns >= 0 ? lhs.nanoseconds &+ UInt64(ns) : lhs.nanoseconds &- UInt64(-ns))
    }
    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        .nanoseconds(Int64(bitPattern: lhs.nanoseconds &- rhs.nanoseconds))
    }
    public var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

extension Duration {
    /// Whole nanoseconds, clamped to `Int64`.
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return ns &+ attoseconds / 1_000_000_000
    }
    /// Milliseconds as a `Double`, for reports and logs.
    public var milliseconds: Double { Double(nanosecondsClamped) / 1e6 }
}

/// Identifies a scheduled timer so it can be cancelled.
public struct TimerID: Hashable, Sendable {
    public let rawValue: UInt64
}

/// A min-heap of deadlines with O(log n) schedule and O(1) cancellation whose storage stays
/// O(live timers).
///
/// Cancelling only forgets the id (the heap is not searched); the dead entry goes when it
/// reaches the top, or when dead entries outnumber live ones and the heap is rebuilt from the
/// live ones. Each rebuild follows at least half as many cancellations as it keeps entries, so
/// it costs O(1) amortised per cancel. Without it, a 4-hour call limit scheduled and cancelled
/// per call would keep every ended call's timer for 4 hours.
public struct TimerQueue<Payload> {
    private struct Entry: Comparable {
        var deadline: Instant
        /// Scheduling order: ties on the deadline fire in it.
        var id: UInt64
        var payload: Payload

        static func < (a: Entry, b: Entry) -> Bool { a.deadline == b.deadline ? a.id < b.id : a.deadline < b.deadline }
        static func == (a: Entry, b: Entry) -> Bool { a.deadline == b.deadline && a.id == b.id }
    }
    private var heap = Heap<Entry>()
    private var live: Set<UInt64> = []
    private var nextID: UInt64 = 1

    /// Below this many entries a queue is never rebuilt: a small heap costs little whatever it holds.
    static var compactionFloor: Int { 64 }

    public init() {}

    /// Number of timers that are scheduled and not cancelled.
    public var count: Int { live.count }
    public var isEmpty: Bool { live.isEmpty }
    /// Entries held, cancelled ones not yet removed included: at most `2 × count` plus a small
    /// constant (``compactionFloor``).
    public var storedCount: Int { heap.count }

    /// The earliest live deadline, if any.
    public mutating func nextDeadline() -> Instant? {
        dropCancelledTop()
        return heap.min?.deadline
    }

    @discardableResult
    public mutating func schedule(at deadline: Instant, _ payload: Payload) -> TimerID {
        let id = nextID
        nextID &+= 1
        live.insert(id)
        heap.insert(Entry(deadline: deadline, id: id, payload: payload))
        return TimerID(rawValue: id)
    }

    /// Cancels a timer; cancelling one that already fired or was cancelled is a no-op.
    /// - Returns: whether the timer was still pending.
    @discardableResult
    public mutating func cancel(_ id: TimerID) -> Bool {
        guard live.remove(id.rawValue) != nil else { return false }
        compactIfMostlyDead()
        return true
    }

    public func isScheduled(_ id: TimerID) -> Bool { live.contains(id.rawValue) }

    /// Removes and returns the earliest timer due at or before `now`, or nil.
    /// Ties fire in scheduling order.
    public mutating func popExpired(now: Instant) -> (TimerID, Payload)? {
        dropCancelledTop()
        guard let top = heap.min, top.deadline <= now else { return nil }
        heap.removeMin()
        live.remove(top.id)
        // Firing lowers the live count, so the dead may now be the majority.
        compactIfMostlyDead()
        return (TimerID(rawValue: top.id), top.payload)
    }

    private mutating func dropCancelledTop() {
        while let top = heap.min, !live.contains(top.id) { heap.removeMin() }
    }

    /// Rebuilds the heap from its live entries (O(n) heapify) once the dead outnumber them.
    private mutating func compactIfMostlyDead() {
        let dead = heap.count - live.count
        guard heap.count > Self.compactionFloor, dead > live.count else { return }
        let kept = heap.unordered.filter { live.contains($0.id) }
        heap = Heap(kept)
    }
}
