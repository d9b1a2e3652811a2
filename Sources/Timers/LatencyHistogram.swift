// Latency histograms with fixed bucket bounds: how long something took, or how late it ran.
// Recording is an index search and an increment (no allocation), cheap enough for every call
// setup and every 20 ms media tick; snapshots merge across loops and render as Prometheus
// histograms, so operators see the server's own share of a latency beside the generator's.

/// Counts of observed durations in fixed buckets (upper bounds inclusive, plus +Inf).
public struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds in nanoseconds, ascending: fine below 10 ms where SIP and RTP targets
    /// live, coarse above.
    public static let boundsNanoseconds: [Int64] = [
        250_000, 500_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000,
        6_000_000, 8_000_000, 10_000_000, 12_000_000, 15_000_000, 20_000_000, 25_000_000,
        30_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 5_000_000_000,
    ]

    /// `counts[i]`: observations in bucket i (not cumulative); the last is +Inf.
    public private(set) var counts: [UInt64]
    public private(set) var count: UInt64 = 0
    public private(set) var sumNanoseconds: Int64 = 0
    public private(set) var maxNanoseconds: Int64 = 0

    public init() {
        counts = Array(repeating: 0, count: Self.boundsNanoseconds.count + 1)
    }

    /// Records one duration; a negative one (clock skew between readers) counts as zero.
    public mutating func record(_ duration: Duration) {
        record(nanoseconds: duration.nanosecondsClamped)
    }

    public mutating func record(nanoseconds value: Int64) {
        let ns = max(0, value)
        let bounds = Self.boundsNanoseconds
        var low = 0, high = bounds.count // first bound >= ns, or bounds.count for +Inf
        while low < high {
            let mid = (low + high) / 2
            if bounds[mid] < ns { low = mid + 1 } else { high = mid }
        }
        counts[low] += 1
        count += 1
        sumNanoseconds &+= ns
        if ns > maxNanoseconds { maxNanoseconds = ns }
    }

    /// The upper bound of the bucket holding the `q` quantile (nearest rank), in nanoseconds;
    /// the largest value seen for the +Inf bucket; nil when empty. An upper estimate, as
    /// coarse as the buckets.
    public func quantileUpperBound(_ q: Double) -> Int64? {
        guard count > 0 else { return nil }
        let rank = max(1, UInt64((Double(count) * q).rounded(.up)))
        var cumulative: UInt64 = 0
        for (index, n) in counts.enumerated() {
            cumulative += n
            if cumulative >= rank {
                return index < Self.boundsNanoseconds.count ? min(Self.boundsNanoseconds[index], maxNanoseconds) : maxNanoseconds
            }
        }
        return maxNanoseconds
    }

    public static func + (a: LatencyHistogram, b: LatencyHistogram) -> LatencyHistogram {
        var sum = a
        for index in sum.counts.indices { sum.counts[index] += b.counts[index] }
        sum.count += b.count
        sum.sumNanoseconds &+= b.sumNanoseconds
        sum.maxNanoseconds = max(a.maxNanoseconds, b.maxNanoseconds)
        return sum
    }
}
