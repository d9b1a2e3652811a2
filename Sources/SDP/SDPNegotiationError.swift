/// Why an offer or answer could not be negotiated.
public enum SDPNegotiationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The description has no usable `m=audio` line (none, or all disabled with port 0).
    case noAudioMedia
    /// Audio was offered but none of its formats is one we support; a UAS
    /// answers 488 Not Acceptable Here (RFC 3261 §13.3.1.4). Lists what was offered.
    case noCommonCodec(offered: [String])
    /// The answer's m-line count differs from the offer's (RFC 3264 §6 requires equality).
    case mediaLineCountMismatch(offer: Int, answer: Int)
    /// The audio m-line at `mediaIndex` has no `c=` line, neither its own nor a session-level one.
    case missingConnection(mediaIndex: Int)
    /// The party must use SRTP and the description offers or answers plain RTP only (488).
    case encryptionRequired

    /// A sentence for logs and reason phrases.
    public var description: String {
        switch self {
        case .noAudioMedia: "no audio stream in the session description"
        case .noCommonCodec(let offered): "no common audio codec (offered: \(offered.joined(separator: ", ")))"
        case .mediaLineCountMismatch(let offer, let answer): "answer has \(answer) m-lines, offer had \(offer)"
        case .missingConnection(let index): "m-line \(index) has no connection address"
        case .encryptionRequired: "SRTP is required and the description has no usable a=crypto (RFC 4568)"
        }
    }
}
