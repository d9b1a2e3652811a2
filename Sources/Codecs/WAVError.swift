/// Why a WAV file could not be read or written; always names the file.
public struct WAVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the file.
    public enum Reason: Sendable, Equatable {
        /// The file could not be opened, read or written (`strerror` text).
        case io(String)
        /// No `RIFF....WAVE` header.
        case notRIFFWAVE
        /// A required chunk (`fmt ` or `data`) is missing.
        case missingChunk(String)
        /// The format tag is not PCM (1), e.g. 3 for float, 6 for A-law, 7 for µ-law.
        case notPCM(formatTag: UInt16)
        /// PCM, but not 16 bits per sample.
        case unsupportedBitDepth(Int)
        /// The `fmt ` chunk is inconsistent (no channels, zero rate, wrong block alignment).
        case invalidFormat(String)
        /// A chunk claims more bytes than the file has, or the sample data stops mid-sample.
        case truncated(expectedBytes: Int, availableBytes: Int)
    }

    /// The file name or path as given.
    public var path: String
    /// What is wrong.
    public var reason: Reason

    /// Creates an error.
    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    /// `path: explanation`.
    public var description: String {
        let text = switch reason {
        case .io(let message): message
        case .notRIFFWAVE: "not a RIFF/WAVE file"
        case .missingChunk(let id): "no '\(id)' chunk"
        case .notPCM(let tag): "not PCM audio (format tag \(tag)); convert with: sox in.wav -e signed-integer -b 16 out.wav"
        case .unsupportedBitDepth(let bits): "\(bits)-bit samples; only 16-bit PCM is supported"
        case .invalidFormat(let detail): "invalid format chunk: \(detail)"
        case .truncated(let expected, let available): "truncated: \(expected) bytes of audio declared, \(available) present"
        }
        return "\(path): \(text)"
    }
}
