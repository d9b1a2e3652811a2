/// Names one `.startTimer` command so that a timer firing after it was cancelled (the race every
/// real timer wheel has) is recognised as stale and ignored. Unique within one execution.
public struct TimerID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// `t1`, `t2`, ...
    public var description: String { "t\(rawValue)" }
}
