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
