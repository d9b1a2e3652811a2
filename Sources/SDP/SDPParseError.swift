/// Why an SDP body could not be parsed, and where (RFC 4566 §5 grammar).
public struct SDPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The body is empty or holds only whitespace.
        case empty
        /// The first line is not `v=` (RFC 4566 §5: "v=" comes first).
        case versionNotFirst
        /// `v=` is not 0.
        case unsupportedVersion
        /// A line is not `<letter>=<value>`.
        case malformedLine
        /// The `o=` line does not have its six fields.
        case malformedOrigin
        /// A `c=` line does not have its three fields.
        case malformedConnection
        /// A `b=` line is not `<type>:<number>`.
        case malformedBandwidth
        /// A `t=` line is not two numbers.
        case malformedTiming
        /// An `m=` line is not `<media> <port>[/<count>] <proto> <fmt>...`.
        case malformedMedia
        /// The `o=` line is missing.
        case missingOrigin
    }

    /// The 1-based line number of the offending line (for `.missingOrigin`,
    /// the line at which it was found missing; 0 for `.empty`).
    public var line: Int
    /// The category of the problem.
    public var kind: Kind
    /// A sentence for a log or a 400/488 reason phrase.
    public var message: String

    /// Creates an error.
    public init(line: Int, kind: Kind, message: String) {
        self.line = line
        self.kind = kind
        self.message = message
    }

    /// `line N: message`.
    public var description: String { "SDP line \(line): \(message)" }
}
