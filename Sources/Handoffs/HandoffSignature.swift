// Handoffs: the signed webhook between 12345 and a partner centre (the police 110 linkage),
// sans-IO: signing and checking requests, replay refusal, retry timing, the partners file.
// This file: the HMAC-SHA256 signature of a hand-off request, made and checked.

import Crypto
import Foundation

/// One shared secret with a partner, named by an id both sides know, so a secret can be
/// replaced without a flag day: sign with the new one, accept the old one a while longer.
public struct HandoffKey: Sendable, Equatable {
    public var id: String
    public var secret: [UInt8]

    public init(id: String, secret: [UInt8]) {
        self.id = id
        self.secret = secret
    }
}

/// The signature headers of a hand-off request.
public enum HandoffHeader {
    /// Which key signed it.
    public static let keyID = "X-Hotline-Key-Id"
    /// Seconds since 1970 (UTC) when it was signed.
    public static let timestamp = "X-Hotline-Timestamp"
    /// A value never used twice with one key (a UUID), so a captured request cannot be replayed.
    public static let nonce = "X-Hotline-Nonce"
    /// `v1=` and the HMAC-SHA256 of the canonical string, in lower-case hex.
    public static let signature = "X-Hotline-Signature"
}

/// The signature headers' values.
public struct HandoffSignature: Sendable, Equatable {
    public var keyID: String
    public var timestamp: Int64
    public var nonce: String
    /// `v1=<64 hex digits>`.
    public var signature: String

    public init(keyID: String, timestamp: Int64, nonce: String, signature: String) {
        self.keyID = keyID
        self.timestamp = timestamp
        self.nonce = nonce
        self.signature = signature
    }

    /// The headers to send, by name.
    public var headers: [(String, String)] {
        [(HandoffHeader.keyID, keyID), (HandoffHeader.timestamp, String(timestamp)), (HandoffHeader.nonce, nonce),
         (HandoffHeader.signature, signature)]
    }

    /// Reads the headers (`lookup` takes a header name, any case); nil names the first missing
    /// or malformed one.
    public static func parse(_ lookup: (String) -> String?) -> Result<HandoffSignature, HandoffSignatureError> {
        func value(_ name: String) -> String? {
            lookup(name).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let keyID = value(HandoffHeader.keyID) else { return .failure(.missingHeader(HandoffHeader.keyID)) }
        guard let stamp = value(HandoffHeader.timestamp) else { return .failure(.missingHeader(HandoffHeader.timestamp)) }
        guard let timestamp = Int64(stamp) else { return .failure(.malformedHeader(HandoffHeader.timestamp)) }
        guard let nonce = value(HandoffHeader.nonce) else { return .failure(.missingHeader(HandoffHeader.nonce)) }
        guard nonce.count <= 100 else { return .failure(.malformedHeader(HandoffHeader.nonce)) }
        guard let signature = value(HandoffHeader.signature) else { return .failure(.missingHeader(HandoffHeader.signature)) }
        return .success(HandoffSignature(keyID: keyID, timestamp: timestamp, nonce: nonce, signature: signature))
    }
}

/// Why a request's signature was refused. Every case answers 401 except the malformed ones
/// (400); none stores anything.
public enum HandoffSignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingHeader(String)
    case malformedHeader(String)
    /// No partner has a key with this id (or it was retired).
    case unknownKey(String)
    /// The timestamp is further from our clock than the allowed skew.
    case stale(timestamp: Int64, now: Int64, skewSeconds: Int64)
    /// The signature does not match the request (wrong key, or the request was altered).
    case badSignature
    /// The nonce was already used within the skew window.
    case replayed(String)

    public var description: String {
        switch self {
        case .missingHeader(let name): "the request has no \(name) header"
        case .malformedHeader(let name): "the \(name) header is malformed"
        case .unknownKey(let id): "no partner key has the id '\(id)'"
        case .stale(let timestamp, let now, let skew):
            "the timestamp \(timestamp) is \(abs(now - timestamp)) s from our clock; at most \(skew) s are allowed"
        case .badSignature: "the signature does not match the request"
        case .replayed(let nonce): "the nonce '\(nonce)' was already used"
        }
    }

    /// The error's code in the JSON answer.
    public var code: String {
        switch self {
        case .missingHeader, .malformedHeader: "signature_missing"
        case .unknownKey: "unknown_key"
        case .stale: "stale_timestamp"
        case .badSignature: "bad_signature"
        case .replayed: "replayed"
        }
    }
}

/// Signs and checks hand-off requests: HMAC-SHA256 (swift-crypto) of the canonical string
///
///     v1 \n METHOD \n PATH \n TIMESTAMP \n NONCE \n BODY
///
/// The method and path are signed so a hand-off cannot be replayed as a status report; the
/// timestamp bounds how long a captured request is worth anything; the nonce, remembered for
/// that long (``HandoffReplayGuard``), makes it worth nothing twice. Pure: time comes in.
public enum HandoffSigner {
    /// The bytes the HMAC covers.
    public static func canonical(method: String, path: String, timestamp: Int64, nonce: String, body: [UInt8]) -> [UInt8] {
        Array("v1\n\(method.uppercased())\n\(path)\n\(timestamp)\n\(nonce)\n".utf8) + body
    }

    /// The signature headers for a request, signed with `key` at `now`.
    public static func sign(method: String, path: String, body: [UInt8], key: HandoffKey, now: Date,
                            nonce: String = UUID().uuidString.lowercased()) -> HandoffSignature {
        let timestamp = Int64(now.timeIntervalSince1970.rounded(.down))
        let mac = HMAC<SHA256>.authenticationCode(
            for: canonical(method: method, path: path, timestamp: timestamp, nonce: nonce, body: body),
            using: SymmetricKey(data: key.secret))
        return HandoffSignature(keyID: key.id, timestamp: timestamp, nonce: nonce,
                                signature: "v1=" + mac.map { String(format: "%02x", $0) }.joined())
    }

    /// Checks a request's signature against `keys` (any of them, by id) and the clock. The
    /// nonce is not checked here: the caller asks its ``HandoffReplayGuard`` once the
    /// signature holds (so forged requests cannot fill it).
    public static func verify(_ signature: HandoffSignature, method: String, path: String, body: [UInt8],
                              keys: [HandoffKey], now: Date, skew: Duration) -> Result<HandoffKey, HandoffSignatureError> {
        guard let key = keys.first(where: { $0.id == signature.keyID }) else { return .failure(.unknownKey(signature.keyID)) }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let skewSeconds = skew.components.seconds
        guard abs(nowSeconds - signature.timestamp) <= skewSeconds else {
            return .failure(.stale(timestamp: signature.timestamp, now: nowSeconds, skewSeconds: skewSeconds))
        }
        guard signature.signature.hasPrefix("v1="), let mac = hexBytes(signature.signature.dropFirst(3)), mac.count == 32 else {
            return .failure(.badSignature)
        }
        // swift-crypto compares in constant time.
        let valid = HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: canonical(method: method, path: path, timestamp: signature.timestamp, nonce: signature.nonce,
                                           body: body),
            using: SymmetricKey(data: key.secret))
        return valid ? .success(key) : .failure(.badSignature)
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// The nonces of accepted requests, each kept until its timestamp leaves the skew window (a
/// request older than that is refused as stale anyway). A value type: time comes in.
public struct HandoffReplayGuard: Sendable {
    public let skew: Duration
    /// Beyond this many live nonces the oldest are forgotten first (only signed requests get
    /// here, so only a partner could fill it).
    public let capacity: Int
    private var expiries: [String: Int64] = [:]

    public init(skew: Duration, capacity: Int = 100_000) {
        self.skew = skew
        self.capacity = capacity
    }

    /// True, and remembered, if `nonce` (of key `keyID`) was not seen within the window.
    public mutating func admit(keyID: String, nonce: String, timestamp: Int64, now: Date) -> Bool {
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let skewSeconds = skew.components.seconds
        expiries = expiries.filter { $0.value >= nowSeconds }
        let key = keyID + "\u{0}" + nonce
        if expiries[key] != nil { return false }
        if expiries.count >= capacity, let oldest = expiries.min(by: { $0.value < $1.value })?.key {
            expiries[oldest] = nil
        }
        expiries[key] = timestamp + skewSeconds
        return true
    }

    /// How many nonces are remembered.
    public var count: Int { expiries.count }
}
