import SIPAuth
import Testing

@Suite("Digest: RFC 7616 §3.9.1 examples, header parsing, real clients' headers")
struct DigestTests {
    // RFC 7616 §3.9.1: Mufasa / "Circle of Life", GET /dir/index.html.
    static let rfcNonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
    static let rfcCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    static let rfcRealm = "http-auth@example.org"

    @Test("RFC 7616 §3.9.1: the MD5 and SHA-256 responses", arguments: [
        (DigestAlgorithm.md5, "8ca523f5e9506fed4657c9700eebdbec"),
        (DigestAlgorithm.sha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ])
    func rfcExample(algorithm: DigestAlgorithm, expected: String) throws {
        let ha1 = DigestCredentials.ha1(algorithm: algorithm, username: "Mufasa", realm: Self.rfcRealm, password: "Circle of Life")
        let response = DigestAuthorization.response(
            algorithm: algorithm, ha1: ha1, nonce: Self.rfcNonce, nonceCount: "00000001", cnonce: Self.rfcCnonce, qop: "auth",
            method: "GET", uri: "/dir/index.html")
        #expect(response == expected)

        // The same through the client-side helper and a parsed challenge.
        let challenge = try DigestChallenge.parse(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=\(algorithm.rawValue), nonce=\"\(Self.rfcNonce)\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"")
        #expect(challenge.qop == ["auth", "auth-int"])
        let authorization = DigestAuthorization(
            responding: challenge, username: "Mufasa", password: "Circle of Life", method: "GET", uri: "/dir/index.html",
            cnonce: Self.rfcCnonce)
        #expect(authorization.response == expected)
        #expect(authorization.nonceCount == "00000001")
        #expect(authorization.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    }

    @Test("RFC 7616 §3.9.1: the SHA-256 Authorization header as printed in the RFC parses")
    func parseRFCHeader() throws {
        let header = """
            Digest username="Mufasa",
                   realm="http-auth@example.org",
                   uri="/dir/index.html",
                   algorithm=SHA-256,
                   nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                   nc=00000001,
                   cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                   qop=auth,
                   response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
                   opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
            """
        let a = try DigestAuthorization.parse(header)
        #expect(a.username == "Mufasa")
        #expect(a.algorithm == .sha256)
        #expect(a.nonceCountValue == 1)
        #expect(a.qop == "auth")
        #expect(a.uri == "/dir/index.html")
    }

    @Test("parsing: case-insensitive names and scheme, quoted commas and escapes, empty elements, unquoted qop")
    func parsingDetails() throws {
        let a = try DigestAuthorization.parse(
            #"digest USERNAME="a\"b,c" ,, Realm="hotline",nonce="n",URI="sip:hotline",response="ABCDEF",QOP="auth",NC=0000000A,cnonce="x", algorithm=sha-256"#)
        #expect(a.username == #"a"b,c"#)
        #expect(a.realm == "hotline")
        #expect(a.response == "abcdef")
        #expect(a.qop == "auth")
        #expect(a.nonceCountValue == 10)
        #expect(a.algorithm == .sha256)
        let defaultAlgorithm = try DigestAuthorization.parse(#"Digest username="u", realm="r", nonce="n", uri="sip:x", response="0""#)
        #expect(defaultAlgorithm.algorithm == .md5)
        #expect(defaultAlgorithm.qop == nil)
    }

    @Test("parsing refuses what is not a digest answer", arguments: [
        (#"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="#, DigestParseError.notDigest(scheme: "Basic")),
        (#"Digest username="u", realm="r", nonce="n", uri="sip:x""#, DigestParseError.missingParameter("response")),
        (#"Digest username="u", username="v", realm="r", nonce="n", uri="x", response="0""#,
         DigestParseError.duplicateParameter("username", offset: 21)),
        (#"Digest username="u"#, DigestParseError.malformed(reason: "unterminated quoted string in 'username'", offset: 18)),
        (#"Digest username="u" realm="r""#, DigestParseError.malformed(reason: "expected ',' after the value of 'username'", offset: 20)),
        (#"Digest username="u", realm="r", nonce="n", uri="x", response="0", qop=auth, cnonce="c", nc=1"#,
         DigestParseError.invalidValue(parameter: "nc", value: "1")),
        (#"Digest username="u", realm="r", nonce="n", uri="x", response="0", qop=auth, nc=00000001"#,
         DigestParseError.missingParameter("cnonce")),
    ])
    func parseErrors(header: String, expected: DigestParseError) {
        #expect(throws: expected) { try DigestAuthorization.parse(header) }
    }

    @Test("challenge rendering: realm, nonce, token algorithm, quoted qop, stale only when set")
    func challengeRendering() throws {
        let c = DigestChallenge(realm: "hotline", nonce: "abc", algorithm: .sha256)
        #expect(c.description == #"Digest realm="hotline", nonce="abc", algorithm=SHA-256, qop="auth""#)
        var stale = c
        stale.stale = true
        stale.algorithm = .md5
        #expect(stale.description == #"Digest realm="hotline", nonce="abc", algorithm=MD5, qop="auth", stale=true"#)
        #expect(try DigestChallenge.parse(stale.description) == stale)
    }

    @Test("HA1 helper: both algorithms, and the RFC's HA1 for Mufasa")
    func ha1Helper() {
        let credentials = DigestCredentials(username: "Mufasa", realm: Self.rfcRealm, password: "Circle of Life")
        #expect(credentials.ha1[.md5] == "3d78807defe7de2157e2b0b6573a855f")
        #expect(credentials.ha1[.sha256] == "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232")
    }
}
