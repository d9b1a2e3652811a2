// SIPAuth: SIP digest authentication. This file: the server side — challenges, stateless
// nonces, and verification of Authorization against stored HA1.

import Crypto
import SIPCore

/// Issues digest challenges and verifies the answers (RFC 7616 §3.3–3.5, RFC 8760).
///
/// **Nonces carry their own proof.** A nonce is `issue time (ms) · serial · HMAC-SHA-256(secret,
/// realm · time · serial)[0..<16]` in hex, so verifying one needs no memory of having issued it:
/// the MAC shows it is ours, the time whether it has expired (then `stale=true`). A nonce from a
/// previous secret (a restart) fails the MAC and is treated as stale too, so phones re-register
/// without prompting their user.
///
/// **Replays** are caught with the nonce count (RFC 7616 §3.4: `nc` must grow for a given nonce):
/// ``NonceCountTracker`` remembers the highest `nc` per nonce in bounded memory.
///
/// The password is never seen: verification recomputes the response from HA1. Unknown users go
/// through the same computation with a dummy HA1, so the answer and its timing do not tell a
/// caller which usernames exist.
public struct DigestAuthenticator: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// The protection space (RFC 7616 §3.3); HA1 values are computed for it.
        public var realm: String
        /// Offered in this order, one challenge each (RFC 8760 §2.4: preferred first).
        public var algorithms: [DigestAlgorithm]
        /// How long a nonce is accepted; after that the answer is `stale=true`.
        public var nonceLifetime: Duration
        /// Nonces whose counts are remembered at once; see ``NonceCountTracker``.
        public var nonceCountCapacity: Int
        /// Refuse RFC 2069-style answers without `qop` (they carry no nonce count, so a captured
        /// request could be replayed for the nonce's lifetime).
        public var requireQop: Bool
        /// Whether the `uri` parameter must name the request's Request-URI (RFC 7616 §3.4.6).
        public var checkURI: Bool

        public init(realm: String = "hotline", algorithms: [DigestAlgorithm] = DigestAlgorithm.supported,
                    nonceLifetime: Duration = .seconds(300), nonceCountCapacity: Int = 4096, requireQop: Bool = true,
                    checkURI: Bool = true) {
            self.realm = realm
            self.algorithms = algorithms.filter { DigestAlgorithm.supported.contains($0) }
            self.nonceLifetime = nonceLifetime
            self.nonceCountCapacity = max(1, nonceCountCapacity)
            self.requireQop = requireQop
            self.checkURI = checkURI
        }
    }

    public let configuration: Configuration
    private let secret: [UInt8]
    private var serial: UInt32 = 0
    public private(set) var nonceCounts: NonceCountTracker

    /// - Parameter secret: The HMAC key for nonces: from a file shared by the servers behind one
    ///   address, or ``randomSecret()`` at start. Anyone holding it can mint nonces, so it is not logged.
    public init(secret: [UInt8], configuration: Configuration = Configuration()) {
        precondition(!secret.isEmpty, "a nonce secret is required")
        self.secret = secret
        self.configuration = configuration
        self.nonceCounts = NonceCountTracker(capacity: configuration.nonceCountCapacity)
    }

    /// 32 bytes from the system's cryptographically secure source (swift-crypto's
    /// `SymmetricKey(size:)`), never from a seedable or time-derived generator: whoever could
    /// predict the secret could mint nonces.
    public static func randomSecret() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    // MARK: - challenges

    /// A fresh nonce and one challenge per configured algorithm (SHA-256 first), for the
    /// `WWW-Authenticate` headers of a 401 (RFC 3261 §22.4, RFC 8760 §2.4).
    public mutating func challenges(now: UnixTime, stale: Bool = false) -> [DigestChallenge] {
        let nonce = makeNonce(now: now)
        return configuration.algorithms.map {
            DigestChallenge(realm: configuration.realm, nonce: nonce, algorithm: $0, qop: ["auth"], stale: stale)
        }
    }

    /// A new nonce stamped with `now`.
    public mutating func makeNonce(now: UnixTime) -> String {
        serial &+= 1
        var body: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { body.append(UInt8(truncatingIfNeeded: now.milliseconds >> Int64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { body.append(UInt8(truncatingIfNeeded: serial >> UInt32(shift))) }
        return DigestHashing.hex(body + mac(body))
    }

    /// When a nonce was issued and its serial, if it is one of ours (MAC valid under the
    /// current secret); nil for anything else.
    public func nonceStamp(_ nonce: String) -> NonceStamp? {
        guard nonce.utf8.count == 56, let bytes = DigestHashing.bytes(fromHex: nonce) else { return nil }
        let body = Array(bytes[0..<12])
        guard DigestHashing.constantTimeEquals(mac(body), bytes[12..<28]) else { return nil }
        var milliseconds: Int64 = 0
        for b in body[0..<8] { milliseconds = milliseconds << 8 | Int64(b) }
        var serial: UInt32 = 0
        for b in body[8..<12] { serial = serial << 8 | UInt32(b) }
        return NonceStamp(issued: UnixTime(milliseconds: milliseconds), serial: serial)
    }

    private func mac(_ body: [UInt8]) -> [UInt8] {
        Array(DigestHashing.hmacSHA256(key: secret, message: Array(configuration.realm.utf8) + [0] + body).prefix(16))
    }

    // MARK: - verification

    /// Checks an Authorization against the stored credentials of its username.
    ///
    /// - Parameters:
    ///   - method: The request's method (`REGISTER`), part of HA2.
    ///   - requestURI: The request's Request-URI, which `uri` must name (when ``Configuration/checkURI``).
    ///   - credentials: The user's stored HA1 values, or nil when there is no such user.
    /// - Returns: `.authenticated` only when the response is right **and** the nonce is ours,
    ///   fresh and not replayed; `.stale` when the response is right but the nonce is not
    ///   (the client may retry at once); `.rejected` otherwise.
    public mutating func verify(_ authorization: DigestAuthorization, method: String, requestURI: String,
                                credentials: DigestCredentials?, now: UnixTime) -> DigestVerdict {
        guard authorization.realm == configuration.realm else { return .rejected(.wrongRealm) }
        guard configuration.algorithms.contains(authorization.algorithm) else {
            return .rejected(.unsupportedAlgorithm(authorization.algorithm.rawValue))
        }
        guard !authorization.userhash else { return .rejected(.userhashNotOffered) }
        if let qop = authorization.qop {
            guard qop == "auth" else { return .rejected(.unsupportedQop(qop)) }
        } else if configuration.requireQop {
            return .rejected(.qopRequired)
        }
        if configuration.checkURI, !Self.sameURI(authorization.uri, requestURI) { return .rejected(.uriMismatch) }

        // Always compute, even for an unknown user, so the work done does not depend on it.
        let storedHA1 = credentials.flatMap { $0.realm == configuration.realm ? $0.ha1[authorization.algorithm] : nil }
        let ha1 = storedHA1 ?? String(repeating: "0", count: authorization.algorithm.hexLength ?? 32)
        let expected = DigestAuthorization.response(
            algorithm: authorization.algorithm, ha1: ha1, nonce: authorization.nonce, nonceCount: authorization.nonceCount,
            cnonce: authorization.cnonce, qop: authorization.qop, method: method, uri: authorization.uri) ?? ""
        let matches = DigestHashing.constantTimeEquals(Array(expected.utf8), Array(authorization.response.utf8))
        guard storedHA1 != nil else { return .rejected(.unknownUser) }
        guard matches else { return .rejected(.wrongResponse) }

        // The client knows the password; now is the nonce acceptable?
        guard let stamp = nonceStamp(authorization.nonce) else { return .stale(.notIssuedHere) }
        guard stamp.issued <= now + .seconds(5), now - stamp.issued <= configuration.nonceLifetime else {
            return .stale(.expired)
        }
        if let nc = authorization.nonceCountValue {
            guard nonceCounts.accept(nonce: authorization.nonce, username: authorization.username, count: nc, stamp: stamp,
                                     now: now, lifetime: configuration.nonceLifetime)
            else { return .stale(.replayed) }
        }
        return .authenticated(username: authorization.username, algorithm: authorization.algorithm)
    }

    /// The `uri` parameter names the Request-URI: the same text, or the same SIP URI up to
    /// case of scheme and host and the order or presence of parameters (phones differ there).
    static func sameURI(_ digestURI: String, _ requestURI: String) -> Bool {
        if digestURI == requestURI { return true }
        guard let a = try? SIPURI.parse(digestURI), let b = try? SIPURI.parse(requestURI) else { return false }
        return a.scheme == b.scheme && a.user == b.user && a.host.lowercased() == b.host.lowercased()
            && (a.port ?? 5060) == (b.port ?? 5060)
    }
}

/// When and in what order a nonce was issued.
public struct NonceStamp: Hashable, Sendable, Comparable {
    public var issued: UnixTime
    public var serial: UInt32
    public static func < (a: NonceStamp, b: NonceStamp) -> Bool { (a.issued, a.serial) < (b.issued, b.serial) }
}

/// The outcome of ``DigestAuthenticator/verify(_:method:requestURI:credentials:now:)``.
public enum DigestVerdict: Hashable, Sendable {
    case authenticated(username: String, algorithm: DigestAlgorithm)
    /// Right credentials, unusable nonce: challenge again with `stale=true`.
    case stale(StaleReason)
    case rejected(DigestRejection)

    public enum StaleReason: String, Hashable, Sendable {
        /// Older than the nonce lifetime.
        case expired
        /// Its nonce count was not above the highest seen, or it is no longer tracked.
        case replayed
        /// Not minted under the current secret (e.g. before a restart).
        case notIssuedHere = "not_issued_here"
    }
}

/// Why an Authorization was refused. For the log and security events only: the client gets
/// the same 401 whatever the reason, so it cannot tell a wrong password from an unknown user.
public enum DigestRejection: Hashable, Sendable, CustomStringConvertible {
    case wrongRealm
    case unsupportedAlgorithm(String)
    case unsupportedQop(String)
    case qopRequired
    case userhashNotOffered
    case uriMismatch
    case unknownUser
    case wrongResponse

    public var description: String {
        switch self {
        case .wrongRealm: "wrong_realm"
        case .unsupportedAlgorithm(let a): "unsupported_algorithm(\(a))"
        case .unsupportedQop(let q): "unsupported_qop(\(q))"
        case .qopRequired: "qop_required"
        case .userhashNotOffered: "userhash_not_offered"
        case .uriMismatch: "uri_mismatch"
        case .unknownUser: "unknown_user"
        case .wrongResponse: "wrong_response"
        }
    }

    /// Whether the client evidently tried a password (counts towards lockout), as opposed
    /// to speaking a dialect we do not accept.
    public var isCredentialFailure: Bool {
        switch self {
        case .unknownUser, .wrongResponse: true
        default: false
        }
    }
}
