// Timers: one deadline-ordered queue per event loop, so thousands of calls share a single
// periodic tick instead of scheduling an event-loop task per timer ("timers batched").
// Pure: time is an input (`Instant`), nothing here reads a clock.

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

/// A min-heap of deadlines with O(log n) schedule and lazy O(1) cancellation.
///
/// Cancelled entries stay in the heap until they reach the top; a generation set keeps the
/// live ones, so cancelling never searches the heap.
public struct TimerQueue<Payload> {
    private struct Entry {
        var deadline: Instant
        var id: UInt64
        var payload: Payload
    }
    private var heap: [Entry] = []
    private var live: Set<UInt64> = []
    private var nextID: UInt64 = 1

    public init() {}

    /// Number of timers that are scheduled and not cancelled.
    public var count: Int { live.count }
    public var isEmpty: Bool { live.isEmpty }

    /// The earliest live deadline, if any.
    public mutating func nextDeadline() -> Instant? {
        dropCancelledTop()
        return heap.first?.deadline
    }

    @discardableResult
    public mutating func schedule(at deadline: Instant, _ payload: Payload) -> TimerID {
        let id = nextID
        nextID &+= 1
        live.insert(id)
        heap.append(Entry(deadline: deadline, id: id, payload: payload))
        siftUp(heap.count - 1)
        return TimerID(rawValue: id)
    }

    /// Cancels a timer; cancelling one that already fired or was cancelled is a no-op.
    /// - Returns: whether the timer was still pending.
    @discardableResult
    public mutating func cancel(_ id: TimerID) -> Bool {
        live.remove(id.rawValue) != nil
    }

    public func isScheduled(_ id: TimerID) -> Bool { live.contains(id.rawValue) }

    /// Removes and returns the earliest timer due at or before `now`, or nil.
    /// Ties fire in scheduling order.
    public mutating func popExpired(now: Instant) -> (TimerID, Payload)? {
        dropCancelledTop()
        guard let top = heap.first, top.deadline <= now else { return nil }
        removeTop()
        live.remove(top.id)
        return (TimerID(rawValue: top.id), top.payload)
    }

    private mutating func dropCancelledTop() {
        while let top = heap.first, !live.contains(top.id) { removeTop() }
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }

    private func less(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline == b.deadline ? a.id < b.id : a.deadline < b.deadline
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        let n = heap.count
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < n, less(heap[left], heap[smallest]) { smallest = left }
            if right < n, less(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
