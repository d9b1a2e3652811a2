import Codecs

/// Why prompts could not be loaded: every bad file or directory, each with its path.
public struct PromptCacheError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One problem with one file or directory.
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// What is wrong.
        public enum Reason: Sendable, Equatable {
            /// The directory could not be listed (missing, not a directory, no permission).
            case unreadableDirectory(String)
            /// The file is not a readable 16-bit PCM WAV file.
            case invalidWAV(WAVError.Reason)
            /// PCM, but not 8 kHz mono.
            case wrongFormat(sampleRate: Int, channels: Int)
            /// No samples at all.
            case empty
        }

        /// The file or directory.
        public var path: String
        /// What is wrong with it.
        public var reason: Reason

        /// Creates an issue.
        public init(path: String, reason: Reason) {
            self.path = path
            self.reason = reason
        }

        /// `path: explanation`, with the fix where there is an obvious one.
        public var description: String {
            switch reason {
            case .unreadableDirectory(let message):
                "\(path): cannot list directory: \(message)"
            case .invalidWAV(let reason):
                WAVError(path: path, reason: reason).description
            case .wrongFormat(let rate, let channels):
                "\(path): \(rate) Hz, \(channels) channel(s); prompts must be 8000 Hz mono (sox in.wav -r 8000 -c 1 -b 16 out.wav)"
            case .empty:
                "\(path): no audio samples"
            }
        }
    }

    /// A bare message as a `Result` failure (internal plumbing).
    struct Message: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }

    /// Every problem found, in path order.
    public var issues: [Issue]

    /// Creates an error.
    public init(issues: [Issue]) {
        self.issues = issues
    }

    /// One line per issue.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
