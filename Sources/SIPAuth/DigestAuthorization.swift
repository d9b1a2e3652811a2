// SIPAuth: SIP digest authentication. This file: the credentials a client sends in
// Authorization (RFC 7616 §3.4, RFC 3261 §22.4) and the response computation both sides share.

/// One `Authorization: Digest ...` value, parsed.
public struct DigestAuthorization: Hashable, Sendable, CustomStringConvertible {
    public var username: String
    public var realm: String
    public var nonce: String
    /// The `uri` parameter: the Request-URI as the client saw it.
    public var uri: String
    /// The client's response, lower-cased hex.
    public var response: String
    /// `MD5` when absent (RFC 7616 §3.4).
    public var algorithm: DigestAlgorithm
    public var cnonce: String?
    public var opaque: String?
    /// `auth` (required by RFC 7616); nil for RFC 2069-style clients.
    public var qop: String?
    /// The nonce count, eight hex digits as sent (`00000001`).
    public var nonceCount: String?
    /// RFC 7616 §3.4.4 `userhash=true`: the username is hashed. We never offer it.
    public var userhash: Bool

    public init(username: String, realm: String, nonce: String, uri: String, response: String,
                algorithm: DigestAlgorithm = .md5, cnonce: String? = nil, opaque: String? = nil, qop: String? = nil,
                nonceCount: String? = nil, userhash: Bool = false) {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response.lowercased()
        self.algorithm = algorithm
        self.cnonce = cnonce
        self.opaque = opaque
        self.qop = qop
        self.nonceCount = nonceCount
        self.userhash = userhash
    }

    /// Parses an Authorization (or Proxy-Authorization) value. Parameter names are
    /// case-insensitive, values may be quoted or not, and order does not matter.
    public static func parse(_ text: String) throws(DigestParseError) -> DigestAuthorization {
        let p = try DigestParameters.parse(text)
        var authorization = DigestAuthorization(
            username: try p.required("username"), realm: try p.required("realm"), nonce: try p.required("nonce"),
            uri: try p.required("uri"), response: try p.required("response"),
            algorithm: p["algorithm"].map(DigestAlgorithm.init(rawValue:)) ?? .md5,
            cnonce: p["cnonce"], opaque: p["opaque"], qop: p["qop"]?.lowercased(), nonceCount: p["nc"],
            userhash: p["userhash"]?.equalsIgnoringCase("true") ?? false)
        if let nc = authorization.nonceCount {
            guard nc.utf8.count == 8, DigestHashing.bytes(fromHex: nc) != nil else {
                throw .invalidValue(parameter: "nc", value: nc)
            }
            authorization.nonceCount = nc.lowercased()
        }
        if authorization.qop != nil, authorization.cnonce == nil { throw .missingParameter("cnonce") }
        if authorization.qop != nil, authorization.nonceCount == nil { throw .missingParameter("nc") }
        return authorization
    }

    /// The nonce count as a number.
    public var nonceCountValue: UInt32? { nonceCount.flatMap { UInt32($0, radix: 16) } }

    /// A client's answer to `challenge` (for tests and simulated agents): computes the
    /// response from the password with `qop=auth` when the challenge offers it.
    public init(responding challenge: DigestChallenge, username: String, password: String, method: String, uri: String,
                cnonce: String, nonceCount: UInt32 = 1) {
        let ha1 = DigestCredentials.ha1(algorithm: challenge.algorithm, username: username, realm: challenge.realm,
                                        password: password)
        self.init(responding: challenge, username: username, ha1: ha1, method: method, uri: uri, cnonce: cnonce,
                  nonceCount: nonceCount)
    }

    /// As ``init(responding:username:password:method:uri:cnonce:nonceCount:)`` from HA1.
    public init(responding challenge: DigestChallenge, username: String, ha1: String, method: String, uri: String,
                cnonce: String, nonceCount: UInt32 = 1) {
        let useQop = challenge.qop.contains("auth")
        let hex = String(nonceCount, radix: 16)
        let nc = String(repeating: "0", count: max(0, 8 - hex.count)) + hex
        let response = Self.response(
            algorithm: challenge.algorithm, ha1: ha1, nonce: challenge.nonce, nonceCount: useQop ? nc : nil,
            cnonce: useQop ? cnonce : nil, qop: useQop ? "auth" : nil, method: method, uri: uri) ?? ""
        self.init(username: username, realm: challenge.realm, nonce: challenge.nonce, uri: uri, response: response,
                  algorithm: challenge.algorithm, cnonce: useQop ? cnonce : nil, opaque: challenge.opaque,
                  qop: useQop ? "auth" : nil, nonceCount: useQop ? nc : nil)
    }

    /// The request-digest (RFC 7616 §3.4.1): with qop, H(HA1:nonce:nc:cnonce:qop:HA2),
    /// without, H(HA1:nonce:HA2) (RFC 2069); HA2 = H(method:digest-uri) for `auth`
    /// (§3.4.3). Nil for an algorithm we cannot compute.
    public static func response(algorithm: DigestAlgorithm, ha1: String, nonce: String, nonceCount: String?,
                                cnonce: String?, qop: String?, method: String, uri: String) -> String? {
        guard let ha2 = algorithm.hash("\(method):\(uri)") else { return nil }
        if let qop, let nonceCount, let cnonce {
            return algorithm.hash("\(ha1):\(nonce):\(nonceCount):\(cnonce):\(qop):\(ha2)")
        }
        return algorithm.hash("\(ha1):\(nonce):\(ha2)")
    }

    /// The header value, as a client sends it.
    public var description: String {
        var parts = ["username=\(DigestParameters.quote(username))", "realm=\(DigestParameters.quote(realm))",
                     "nonce=\(DigestParameters.quote(nonce))", "uri=\(DigestParameters.quote(uri))",
                     "response=\(DigestParameters.quote(response))", "algorithm=\(algorithm.rawValue)"]
        if let cnonce { parts.append("cnonce=\(DigestParameters.quote(cnonce))") }
        if let opaque { parts.append("opaque=\(DigestParameters.quote(opaque))") }
        if let qop { parts.append("qop=\(qop)") }
        if let nonceCount { parts.append("nc=\(nonceCount)") }
        if userhash { parts.append("userhash=true") }
        return "Digest " + parts.joined(separator: ", ")
    }
}
