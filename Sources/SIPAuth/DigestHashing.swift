// SIPAuth: SIP digest authentication (RFC 7616 as used by SIP, RFC 8760 for SHA-256):
// challenges, stateless HMAC nonces, Authorization parsing and response verification against
// stored HA1 values. Pure: no sockets, no clock; randomness only for the nonce secret.
//
// This file: the byte-array forms digest authentication needs of MD5, SHA-256 and HMAC-SHA-256.
// The hashing itself is swift-crypto's (BoringSSL on Linux, CryptoKit on Apple platforms), which
// the TLS transport needs anyway; here only hex and constant-time comparison are our own.
import Crypto

/// The hash functions digest authentication needs, on byte arrays.
public enum DigestHashing {
    /// MD5 (RFC 1321). Broken for collision resistance, still what RFC 7616's `MD5` means.
    public static func md5(_ message: some Collection<UInt8>) -> [UInt8] {
        Array(Insecure.MD5.hash(data: Array(message)))
    }

    /// SHA-256 (FIPS 180-4).
    public static func sha256(_ message: some Collection<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(message)))
    }

    /// HMAC-SHA-256 (RFC 2104, RFC 4231): the MAC that makes nonces verifiable without state.
    public static func hmacSHA256(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message), using: SymmetricKey(data: Array(key))))
    }

    /// Lower-case hexadecimal, the form digest authentication exchanges hashes in.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of a hexadecimal string (either case), or nil if it is not one.
    public static func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = hexValue(utf8[i]), let low = hexValue(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// Compares without an early exit, so the time taken does not tell how many leading bytes
    /// of a guessed response were right. (Nonce MACs are truncated to 16 bytes and responses
    /// are hex text, so swift-crypto's digest `==` does not apply to them.)
    public static func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }
}
