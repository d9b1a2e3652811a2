import COpus

/// A libopus failure: the call, the error code and libopus's own words for it.
public struct OpusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What we were doing (`opus_encoder_create`, `OPUS_SET_BITRATE`...).
    public var operation: String
    /// The negative `OPUS_*` error code.
    public var code: Int32
    /// `opus_strerror(code)`.
    public var message: String

    /// Creates an error, looking the message up with `opus_strerror`.
    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
        self.message = String(cString: opus_strerror(code))
    }

    /// Creates an error with a message of our own (no libopus code).
    init(operation: String, message: String) {
        self.operation = operation
        self.code = OPUS_UNIMPLEMENTED
        self.message = message
    }

    /// `operation: message (code)`.
    public var description: String { "\(operation): \(message) (\(code))" }
}
