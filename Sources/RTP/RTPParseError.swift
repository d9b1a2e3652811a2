/// Why bytes are not a valid RTP packet or RFC 4733 payload (RFC 3550 §5.1, A.1).
public enum RTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Fewer bytes than the fixed header, the CSRC list, the header extension
    /// or the payload format needs.
    case truncated(needed: Int, available: Int)
    /// The version field is not 2 (RFC 3550 §5.1).
    case unsupportedVersion(UInt8)
    /// The padding count (last octet) is 0 or larger than what follows the header (RFC 3550 §5.1, A.1).
    case invalidPadding(count: Int, available: Int)

    /// A sentence for logs.
    public var description: String {
        switch self {
        case .truncated(let needed, let available): "RTP packet truncated: \(available) bytes, needed \(needed)"
        case .unsupportedVersion(let version): "RTP version \(version), expected 2"
        case .invalidPadding(let count, let available): "RTP padding count \(count) with \(available) bytes after the header"
        }
    }
}
