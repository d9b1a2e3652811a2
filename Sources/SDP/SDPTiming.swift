/// A `t=<start> <stop>` line with the `r=` lines that follow it (RFC 4566 §5.9, §5.10).
public struct SDPTiming: Sendable, Equatable {
    /// NTP start time, 0 for an unbounded session.
    public var start: UInt64
    /// NTP stop time, 0 for an unbounded session.
    public var stop: UInt64
    /// `r=` lines, kept verbatim.
    public var repeats: [String]

    /// Creates a timing line; the default `t=0 0` is what every VoIP agent sends.
    public init(start: UInt64 = 0, stop: UInt64 = 0, repeats: [String] = []) {
        self.start = start
        self.stop = stop
        self.repeats = repeats
    }
}
