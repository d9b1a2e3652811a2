// SIPAuth: SIP digest authentication. This file: the algorithms and HA1, the only form in
// which a password is ever stored.

/// A digest algorithm (RFC 7616 §3.4, RFC 8760 §2). An open set as the registry is; only the
/// ones ``DigestAlgorithm/supported`` lists can be verified.
public struct DigestAlgorithm: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// As written in `algorithm=` (compared case-insensitively, printed as registered).
    public let rawValue: String
    public init(rawValue: String) {
        let known = [Self.md5, Self.sha256].first { $0.rawValue.equalsIgnoringCase(rawValue) }
        self.rawValue = known?.rawValue ?? rawValue
    }
    private init(registered: String) { self.rawValue = registered }
    public var description: String { rawValue }

    public static let md5 = DigestAlgorithm(registered: "MD5")
    public static let sha256 = DigestAlgorithm(registered: "SHA-256")

    /// The algorithms this implementation computes, strongest first (RFC 8760 §2.4: a server
    /// offers its challenges in order of preference).
    public static let supported: [DigestAlgorithm] = [.sha256, .md5]

    /// H(data) as lower-case hex, or nil for an algorithm we cannot compute.
    public func hash(_ text: String) -> String? {
        switch self {
        case .md5: DigestHashing.hex(DigestHashing.md5(Array(text.utf8)))
        case .sha256: DigestHashing.hex(DigestHashing.sha256(Array(text.utf8)))
        default: nil
        }
    }

    /// Length of the hex digest.
    public var hexLength: Int? {
        switch self {
        case .md5: 32
        case .sha256: 64
        default: nil
        }
    }
}

/// What a server stores for one user instead of a password: HA1 = H(username ":" realm ":"
/// password) for each algorithm it offers (RFC 7616 §3.4.2). A stolen HA1 lets one register
/// in this realm but reveals no password reused elsewhere.
public struct DigestCredentials: Hashable, Sendable {
    public var username: String
    public var realm: String
    /// HA1 per algorithm, lower-case hex.
    public var ha1: [DigestAlgorithm: String]

    public init(username: String, realm: String, ha1: [DigestAlgorithm: String]) {
        self.username = username
        self.realm = realm
        self.ha1 = ha1.mapValues { $0.lowercased() }
    }

    /// Computes HA1 for every supported algorithm from a password, which is not kept. This is
    /// what `hotline agents passwd` prints for an admin to paste into `agents.yaml`.
    public init(username: String, realm: String, password: String) {
        var values: [DigestAlgorithm: String] = [:]
        for algorithm in DigestAlgorithm.supported {
            values[algorithm] = Self.ha1(algorithm: algorithm, username: username, realm: realm, password: password)
        }
        self.init(username: username, realm: realm, ha1: values)
    }

    /// HA1 = H(unq(username) ":" unq(realm) ":" passwd) (RFC 7616 §3.4.2), UTF-8.
    public static func ha1(algorithm: DigestAlgorithm, username: String, realm: String, password: String) -> String {
        algorithm.hash("\(username):\(realm):\(password)") ?? ""
    }
}

extension StringProtocol {
    /// ASCII case-insensitive comparison (digest parameter names, algorithm and qop tokens).
    func equalsIgnoringCase(_ other: some StringProtocol) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = (x >= 65 && x <= 90) ? x + 32 : x
            let ly = (y >= 65 && y <= 90) ? y + 32 : y
            if lx != ly { return false }
        }
        return true
    }
}
