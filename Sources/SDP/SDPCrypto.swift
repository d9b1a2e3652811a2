// SDES (RFC 4568): SRTP master keys carried in `a=crypto` lines. Only meaningful when the
// signalling itself is encrypted (TLS, RFC 4568 §8.3); the call controller decides that.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The SRTP crypto suites we run (RFC 4568 §6.2), both AES-128 counter mode with a 30-byte
/// master key and salt; they differ in the length of the authentication tag.
public enum SRTPCryptoSuite: String, Sendable, CaseIterable {
    case aesCM128HMACSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
    case aesCM128HMACSHA1_32 = "AES_CM_128_HMAC_SHA1_32"

    /// Master key (16 bytes) then master salt (14 bytes).
    public static let keyMaterialLength = 30
}

/// What a party requires of a call's media (agents.yaml `media_encryption`).
public enum MediaEncryption: String, Sendable, CaseIterable {
    /// Plain RTP only: SRTP offers are declined.
    case none
    /// SRTP when the other side takes it (offered as RTP/AVP with `a=crypto`, the
    /// best-effort convention), plain RTP otherwise.
    case optional
    /// SRTP or no call: offered as RTP/SAVP; plain RTP is refused (488).
    case required
}

/// One `a=crypto:<tag> <suite> inline:<key||salt>[|lifetime]` line. The key material is
/// never printed: `description` redacts it, so a logged description leaks nothing.
public struct SDPCrypto: Sendable, Equatable, CustomStringConvertible {
    public var tag: Int
    public var suite: SRTPCryptoSuite
    /// Master key and salt, 30 bytes.
    public var keyMaterial: [UInt8]

    public init(tag: Int, suite: SRTPCryptoSuite, keyMaterial: [UInt8]) {
        self.tag = tag
        self.suite = suite
        self.keyMaterial = keyMaterial
    }

    /// Fresh key material from `generator` (the system's secure source in production).
    public static func randomKeyMaterial(using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<SRTPCryptoSuite.keyMaterialLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Parses an attribute value; nil for a line we cannot use: an unknown suite, a key of
    /// the wrong length, several keys, an MKI, or session parameters (RFC 4568 §7.1.1: an
    /// answerer declines a line it does not fully understand and tries the next).
    public static func parse(_ value: String) -> SDPCrypto? {
        let fields = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 3, let tag = Int(fields[0]), (0...999_999_999).contains(tag),
              let suite = SRTPCryptoSuite(rawValue: String(fields[1])) else { return nil }
        let keyParameters = fields[2]
        guard keyParameters.hasPrefix("inline:"), !keyParameters.contains(";") else { return nil }
        let parts = keyParameters.dropFirst("inline:".count).split(separator: "|", omittingEmptySubsequences: false)
        // key||salt, then an optional lifetime; a third part is an MKI, which we do not run.
        guard (1...2).contains(parts.count), let key = Data(base64Encoded: String(parts[0])),
              key.count == SRTPCryptoSuite.keyMaterialLength else { return nil }
        if parts.count == 2, !Self.isLifetime(parts[1]) { return nil }
        return SDPCrypto(tag: tag, suite: suite, keyMaterial: Array(key))
    }

    /// `2^31` or a decimal count of packets.
    private static func isLifetime(_ text: Substring) -> Bool {
        if text.hasPrefix("2^") { return Int(text.dropFirst(2)).map { (1...48).contains($0) } ?? false }
        return !text.isEmpty && text.allSatisfy(\.isNumber)
    }

    /// The attribute value: `1 AES_CM_128_HMAC_SHA1_80 inline:<base64>`.
    public var attributeValue: String {
        "\(tag) \(suite.rawValue) inline:\(Data(keyMaterial).base64EncodedString())"
    }

    public var attribute: SDPAttribute { SDPAttribute(name: "crypto", value: attributeValue) }

    public var description: String { "crypto \(tag) \(suite.rawValue) (key withheld)" }
}

/// The SRTP keys a call's RTP session runs with: ours for what we send, the peer's for
/// what we receive. Not printable, like ``SDPCrypto``.
public struct SRTPKeys: Sendable, Equatable, CustomStringConvertible {
    public var suite: SRTPCryptoSuite
    public var local: [UInt8]
    public var remote: [UInt8]

    public init(suite: SRTPCryptoSuite, local: [UInt8], remote: [UInt8]) {
        self.suite = suite
        self.local = local
        self.remote = remote
    }

    public var description: String { "SRTP \(suite.rawValue) (keys withheld)" }
}

extension MediaDescription {
    /// The usable `a=crypto` lines, in the sender's order of preference.
    public var cryptos: [SDPCrypto] {
        attributes.compactMap { $0.name.lowercased() == "crypto" ? $0.value.flatMap(SDPCrypto.parse) : nil }
    }

    /// RTP/SAVP or RTP/SAVPF: SRTP or nothing (RFC 3711 §7; RFC 5124).
    public var isSecureProfile: Bool {
        let upper = proto.uppercased()
        return upper == "RTP/SAVP" || upper == "RTP/SAVPF"
    }
}
