// SIPAuth: SIP digest authentication. This file: the challenge a server sends in
// WWW-Authenticate (RFC 7616 §3.3, RFC 3261 §22.4).

/// One `WWW-Authenticate: Digest ...` value.
public struct DigestChallenge: Hashable, Sendable, CustomStringConvertible {
    public var realm: String
    public var nonce: String
    public var algorithm: DigestAlgorithm
    /// Quality of protection offered; we offer `auth` only (`auth-int` protects bodies,
    /// which REGISTER does not carry).
    public var qop: [String]
    /// The previous request was refused only because its nonce had expired or been used: the
    /// client may retry with the same credentials without asking its user (RFC 7616 §3.3).
    public var stale: Bool
    public var opaque: String?

    public init(realm: String, nonce: String, algorithm: DigestAlgorithm, qop: [String] = ["auth"], stale: Bool = false,
                opaque: String? = nil) {
        self.realm = realm
        self.nonce = nonce
        self.algorithm = algorithm
        self.qop = qop
        self.stale = stale
        self.opaque = opaque
    }

    /// `Digest realm="hotline", nonce="...", algorithm=SHA-256, qop="auth"` (algorithm a token,
    /// qop a quoted list, as RFC 7616 §3.3 writes them; `stale=true` only when set).
    public var description: String {
        var parts = ["realm=\(DigestParameters.quote(realm))", "nonce=\(DigestParameters.quote(nonce))",
                     "algorithm=\(algorithm.rawValue)"]
        if !qop.isEmpty { parts.append("qop=\(DigestParameters.quote(qop.joined(separator: ",")))") }
        if stale { parts.append("stale=true") }
        if let opaque { parts.append("opaque=\(DigestParameters.quote(opaque))") }
        return "Digest " + parts.joined(separator: ", ")
    }

    /// Reads a challenge (the client side: tests and agent simulators). A missing algorithm
    /// means MD5 (RFC 7616 §3.3).
    public static func parse(_ text: String) throws(DigestParseError) -> DigestChallenge {
        let p = try DigestParameters.parse(text)
        let qop = (p["qop"] ?? "").split(separator: ",").map { String($0).trimmingASCIIWhitespace().lowercased() }
            .filter { !$0.isEmpty }
        return DigestChallenge(
            realm: try p.required("realm"), nonce: try p.required("nonce"),
            algorithm: p["algorithm"].map(DigestAlgorithm.init(rawValue:)) ?? .md5, qop: qop,
            stale: p["stale"]?.equalsIgnoringCase("true") ?? false, opaque: p["opaque"])
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
