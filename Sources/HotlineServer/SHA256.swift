import SIPAuth

/// SHA-256 for admin tokens, kept only as digests. The one implementation is SIPAuth's (it
/// also serves digest authentication, RFC 7616); this names the uses the admin API needs.
enum SHA256 {
    static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] { DigestHashing.sha256(bytes) }

    /// The digest as 64 lower-case hex digits, as `sha256sum` prints it.
    static func hex(_ text: String) -> String { DigestHashing.hex(hash(Array(text.utf8))) }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool { DigestHashing.constantTimeEquals(a, b) }
}
