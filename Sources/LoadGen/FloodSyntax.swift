// LoadGen: `hotline flood` and `hotline console` — a SIP UAC with RTP and DTMF built on the
// project's own SIP, SDP, RTP and codec code, calls as sans-IO state machines on NIO event
// loops, HdrHistogram statistics, prompt identification from the received audio.

/// A command-line value that does not parse, with what was expected.
public struct FloodSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The offending text.
    public var value: String
    /// What was expected instead.
    public var expected: String

    public init(_ value: String, expected: String) {
        self.value = value
        self.expected = expected
    }

    public var description: String { "'\(value)': expected \(expected)" }
}

/// Durations as people type them: `1.5s`, `500ms`, `250us`, `2m`, `1h`, or bare seconds (`3`).
public enum DurationSyntax {
    /// The duration, or nil when `text` is not one. Negative durations are refused.
    public static func parse(_ text: String) -> Duration? {
        let s = text.trimmingWhitespace().lowercased()
        guard !s.isEmpty else { return nil }
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(s)
        var scale = 1.0
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            number = s.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let nanoseconds = value * scale * 1e9
        guard nanoseconds < 1e18 else { return nil }
        return .nanoseconds(Int64(nanoseconds.rounded()))
    }

    /// `1.5s`, `250ms`, `2m30s`-free compact text for reports.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.millisecondsDouble
        if ms >= 1000 { return trimmed(ms / 1000) + "s" }
        if ms >= 1 { return trimmed(ms) + "ms" }
        return trimmed(ms * 1000) + "us"
    }

    private static func trimmed(_ v: Double) -> String {
        let rounded = (v * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

extension Duration {
    /// Milliseconds as a `Double`.
    var millisecondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
    /// Seconds as a `Double`.
    var secondsDouble: Double { millisecondsDouble / 1000 }
    /// Whole nanoseconds (non-negative durations).
    var nanosecondsUInt64: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
