/// Names one `.play` command so that a late `.playbackFinished` for an earlier playback can be
/// told apart from the current one and ignored. Unique within one execution.
public struct PlaybackID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// `p1`, `p2`, ...
    public var description: String { "p\(rawValue)" }
}
