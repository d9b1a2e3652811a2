import Synchronization

/// Calls in progress across every call loop, so `--max-calls` is one limit for the server
/// however the calls spread over the loops.
final class SharedCallCount: Sendable {
    private let count = Atomic<Int>(0)

    var current: Int { count.load(ordering: .relaxed) }

    /// Takes a slot if fewer than `limit` are taken; two loops racing for the last slot
    /// cannot both win.
    func reserve(limit: Int) -> Bool {
        var seen = count.load(ordering: .relaxed)
        while seen < limit {
            let (exchanged, original) = count.compareExchange(expected: seen, desired: seen + 1, ordering: .relaxed)
            if exchanged { return true }
            seen = original
        }
        return false
    }

    func release() {
        count.subtract(1, ordering: .relaxed)
    }
}
