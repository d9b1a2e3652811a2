/// Names one `.startRecording` command, so `.stopRecording` and `.recordingFinished` refer to it
/// and a late report for an earlier recording is recognised and ignored. Unique within one execution.
public struct RecordingID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// `r1`, `r2`, ...
    public var description: String { "r\(rawValue)" }
}
