// SIPAuth: SIP digest authentication. This file: the wall-clock instant authentication and
// registration take as input (they never read a clock).

/// An instant as milliseconds since 1970-01-01T00:00:00Z. Wall-clock, because nonces carry
/// their issue time and a registrar's `Date` header needs it; the server passes `now` in.
public struct UnixTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Int64) { self.milliseconds = seconds * 1000 }

    /// Whole seconds since the epoch, rounded down.
    public var seconds: Int64 { milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000 }

    public static func < (a: UnixTime, b: UnixTime) -> Bool { a.milliseconds < b.milliseconds }

    public static func + (t: UnixTime, d: Duration) -> UnixTime { UnixTime(milliseconds: t.milliseconds + d.wholeMilliseconds) }
    public static func - (t: UnixTime, d: Duration) -> UnixTime { UnixTime(milliseconds: t.milliseconds - d.wholeMilliseconds) }
    public static func - (a: UnixTime, b: UnixTime) -> Duration { .milliseconds(a.milliseconds - b.milliseconds) }

    public var description: String { "\(seconds).\(String(1000 + (milliseconds - seconds * 1000)).dropFirst())" }
}

extension Duration {
    /// Whole milliseconds, rounded toward zero.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
