/// When calls start: a call rate that is constant (`--rate 100`) or a piecewise-linear ramp
/// (`--ramp 0:50,30s:400,90s:400`: 50 calls/s at the start, rising evenly to 400 at 30 s,
/// held to 90 s, and the last rate after that).
///
/// Calls are spaced evenly, as SIPp does: call `n` (from 0) starts at the instant `t` where
/// the integral of the rate from 0 to `t` reaches `n`. Pure arithmetic, no clock.

import ConfigFiles
public struct RateSchedule: Sendable, Equatable, CustomStringConvertible {
    /// One corner of the ramp: from `at` on, the rate moves linearly to the next point's.
    public struct Point: Sendable, Equatable {
        public var at: Duration
        /// Calls per second.
        public var rate: Double
        public init(at: Duration, rate: Double) {
            self.at = at
            self.rate = rate
        }
    }

    /// The corners, the first at 0, strictly increasing in time.
    public let points: [Point]
    /// The highest rate we accept, calls per second.
    public static let maximumRate = 100_000.0

    /// A constant rate.
    public static func constant(_ rate: Double) -> RateSchedule {
        RateSchedule(uncheckedPoints: [Point(at: .zero, rate: rate)])
    }

    init(uncheckedPoints: [Point]) { points = uncheckedPoints }

    /// Checks and builds a schedule from corners.
    public init(points: [Point]) throws(FloodSyntaxError) {
        guard let first = points.first else { throw FloodSyntaxError("", expected: "at least one TIME:RATE point") }
        var pts = points
        if first.at != .zero { pts.insert(Point(at: .zero, rate: first.rate), at: 0) }
        for (i, p) in pts.enumerated() {
            guard p.rate >= 0, p.rate <= RateSchedule.maximumRate, p.rate.isFinite else {
                throw FloodSyntaxError(String(p.rate), expected: "a rate between 0 and \(Int(RateSchedule.maximumRate)) calls/s")
            }
            if i > 0, p.at <= pts[i - 1].at {
                throw FloodSyntaxError(DurationSyntax.format(p.at), expected: "ramp times in increasing order")
            }
        }
        self.points = pts
    }

    /// `--rate 100` (calls per second, fractions allowed).
    public static func parse(rate text: String) throws(FloodSyntaxError) -> RateSchedule {
        guard let rate = Double(text.trimmingWhitespace()), rate > 0, rate <= maximumRate else {
            throw FloodSyntaxError(text, expected: "a call rate in calls per second, above 0 and at most \(Int(maximumRate))")
        }
        return .constant(rate)
    }

    /// `--ramp 0:50,30s:400,90s:400`: comma-separated `TIME:RATE` corners.
    public static func parse(ramp text: String) throws(FloodSyntaxError) -> RateSchedule {
        var points: [Point] = []
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2, let at = DurationSyntax.parse(String(pieces[0]), .commandLine),
                  let rate = Double(pieces[1].trimmingWhitespace()) else {
                throw FloodSyntaxError(String(part), expected: "TIME:RATE, e.g. 30s:400")
            }
            points.append(Point(at: at, rate: rate))
        }
        guard !points.isEmpty else { throw FloodSyntaxError(text, expected: "TIME:RATE[,TIME:RATE...]") }
        guard points.contains(where: { $0.rate > 0 }) else { throw FloodSyntaxError(text, expected: "a ramp with a rate above 0") }
        return try RateSchedule(points: points)
    }

    /// The time of the last corner: a ramp's natural length.
    public var lastCorner: Duration { points.last?.at ?? .zero }

    /// The rate at `t` seconds.
    public func rate(at t: Double) -> Double {
        for i in 0..<points.count - 1 {
            let a = points[i], b = points[i + 1]
            let t0 = a.at.secondsDouble, t1 = b.at.secondsDouble
            if t < t1 { return a.rate + (b.rate - a.rate) * max(0, t - t0) / (t1 - t0) }
        }
        return points[points.count - 1].rate
    }

    /// Calls started by `t` seconds: the integral of the rate.
    public func calls(by t: Double) -> Double {
        var total = 0.0
        for i in 0..<points.count - 1 {
            let a = points[i], b = points[i + 1]
            let t0 = a.at.secondsDouble, t1 = b.at.secondsDouble
            let end = min(t, t1)
            if end <= t0 { return total }
            let tau = end - t0
            let slope = (b.rate - a.rate) / (t1 - t0)
            total += a.rate * tau + slope * tau * tau / 2
            if t <= t1 { return total }
        }
        let last = points[points.count - 1]
        return total + last.rate * max(0, t - last.at.secondsDouble)
    }

    /// When call `n` (from 0) starts, in seconds; nil if the rate falls to 0 for good before.
    public func startTime(ofCall n: Int) -> Double? {
        let target = Double(n)
        var before = 0.0
        for i in 0..<points.count - 1 {
            let a = points[i], b = points[i + 1]
            let t0 = a.at.secondsDouble, t1 = b.at.secondsDouble
            let slope = (b.rate - a.rate) / (t1 - t0)
            let segment = a.rate * (t1 - t0) + slope * (t1 - t0) * (t1 - t0) / 2
            if before + segment >= target {
                let need = target - before
                if need <= 0 { return t0 }
                // need = r·τ + slope/2·τ²; the stable root of the quadratic.
                let r = a.rate
                let disc = max(0, r * r + 2 * slope * need)
                let denominator = r + disc.squareRoot()
                return denominator > 0 ? t0 + 2 * need / denominator : t0
            }
            before += segment
        }
        let last = points[points.count - 1]
        guard last.rate > 0 else { return nil }
        return last.at.secondsDouble + (target - before) / last.rate
    }

    public var description: String {
        if points.count == 1 { return "\(Self.formatRate(points[0].rate))/s" }
        return points.map { "\(DurationSyntax.format($0.at)):\(Self.formatRate($0.rate))" }.joined(separator: ",")
    }

    static func formatRate(_ r: Double) -> String {
        r == r.rounded() ? String(Int(r)) : String((r * 100).rounded() / 100)
    }
}
