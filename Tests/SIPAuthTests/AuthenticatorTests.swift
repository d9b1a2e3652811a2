import SIPAuth
import Testing

@Suite("DigestAuthenticator: stateless nonces, expiry, replay, and real clients")
struct AuthenticatorTests {
    /// The secret and issue time the capture server used (see "headers captured from real clients").
    static let captureSecret = Array("hotline-test-secret".utf8)
    static let captureTime = UnixTime(milliseconds: 1_780_000_000_000)

    static func credentials(_ user: String, _ password: String) -> DigestCredentials {
        DigestCredentials(username: user, realm: "hotline", password: password)
    }

    @Test("challenges: one per algorithm, SHA-256 first, one shared nonce that verifies statelessly")
    func challenges() throws {
        var auth = DigestAuthenticator(secret: [1, 2, 3])
        let now = UnixTime(seconds: 1_800_000_000)
        let challenges = auth.challenges(now: now)
        #expect(challenges.map(\.algorithm) == [.sha256, .md5])
        #expect(challenges[0].nonce == challenges[1].nonce)
        #expect(auth.nonceStamp(challenges[0].nonce)?.issued == now)
        // Another authenticator with the same secret (a second worker) accepts it; another secret does not.
        #expect(DigestAuthenticator(secret: [1, 2, 3]).nonceStamp(challenges[0].nonce) != nil)
        #expect(DigestAuthenticator(secret: [9]).nonceStamp(challenges[0].nonce) == nil)
        // Nonces are unique even within one millisecond.
        #expect(auth.makeNonce(now: now) != auth.makeNonce(now: now))
        // A tampered nonce fails its MAC.
        var tampered = Array(challenges[0].nonce)
        tampered[3] = tampered[3] == "0" ? "1" : "0"
        #expect(auth.nonceStamp(String(tampered)) == nil)
    }

    @Test("a right answer authenticates with either algorithm; the same nc again is a replay (stale)",
          arguments: [DigestAlgorithm.sha256, .md5])
    func verifyAndReplay(algorithm: DigestAlgorithm) {
        var auth = DigestAuthenticator(secret: [7])
        let now = UnixTime(seconds: 1_800_000_000)
        let challenge = auth.challenges(now: now).first { $0.algorithm == algorithm }!
        let stored = Self.credentials("1001", "pw")
        let answer = DigestAuthorization(responding: challenge, username: "1001", password: "pw", method: "REGISTER",
                                         uri: "sip:hotline.example", cnonce: "c1")
        #expect(auth.verify(answer, method: "REGISTER", requestURI: "sip:hotline.example", credentials: stored, now: now + .seconds(1))
            == .authenticated(username: "1001", algorithm: algorithm))
        #expect(auth.verify(answer, method: "REGISTER", requestURI: "sip:hotline.example", credentials: stored, now: now + .seconds(2))
            == .stale(.replayed))
        let next = DigestAuthorization(responding: challenge, username: "1001", password: "pw", method: "REGISTER",
                                       uri: "sip:hotline.example", cnonce: "c2", nonceCount: 2)
        #expect(auth.verify(next, method: "REGISTER", requestURI: "sip:hotline.example", credentials: stored, now: now + .seconds(3))
            == .authenticated(username: "1001", algorithm: algorithm))
    }

    @Test("wrong password and unknown user are rejected alike; expired and foreign nonces are stale only with a right answer")
    func rejections() {
        var auth = DigestAuthenticator(secret: [7], configuration: .init(nonceLifetime: .seconds(60)))
        let now = UnixTime(seconds: 1_800_000_000)
        let challenge = auth.challenges(now: now)[0]
        let stored = Self.credentials("1001", "pw")
        func answer(_ password: String, user: String = "1001", nc: UInt32 = 1) -> DigestAuthorization {
            DigestAuthorization(responding: challenge, username: user, password: password, method: "REGISTER", uri: "sip:h",
                                cnonce: "c", nonceCount: nc)
        }
        #expect(auth.verify(answer("bad"), method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now) == .rejected(.wrongResponse))
        #expect(auth.verify(answer("pw", user: "nobody"), method: "REGISTER", requestURI: "sip:h", credentials: nil, now: now)
            == .rejected(.unknownUser))
        #expect(auth.verify(answer("pw"), method: "INVITE", requestURI: "sip:h", credentials: stored, now: now) == .rejected(.wrongResponse))
        #expect(auth.verify(answer("pw"), method: "REGISTER", requestURI: "sip:other", credentials: stored, now: now) == .rejected(.uriMismatch))
        // Right answer, nonce too old: stale, and a wrong answer on an old nonce is still a plain failure.
        #expect(auth.verify(answer("pw"), method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now + .seconds(61))
            == .stale(.expired))
        #expect(auth.verify(answer("bad"), method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now + .seconds(61))
            == .rejected(.wrongResponse))
        // A nonce from before a restart (another secret): stale, the phone retries silently.
        var restarted = DigestAuthenticator(secret: [8])
        #expect(restarted.verify(answer("pw", nc: 2), method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now)
            == .stale(.notIssuedHere))
        // RFC 2069-style answers without qop are refused by default.
        var old = answer("pw", nc: 3)
        old.qop = nil
        old.nonceCount = nil
        old.cnonce = nil
        #expect(auth.verify(old, method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now) == .rejected(.qopRequired))
        var wrongRealm = answer("pw", nc: 4)
        wrongRealm.realm = "other"
        #expect(auth.verify(wrongRealm, method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now) == .rejected(.wrongRealm))
    }

    @Test("URI comparison tolerates parameters and case, not another host")
    func uriComparison() {
        var auth = DigestAuthenticator(secret: [7])
        let now = UnixTime(seconds: 1_800_000_000)
        let challenge = auth.challenges(now: now)[1]
        let answer = DigestAuthorization(responding: challenge, username: "1001", password: "pw", method: "REGISTER",
                                         uri: "sip:Hotline.Example;transport=udp", cnonce: "c")
        #expect(auth.verify(answer, method: "REGISTER", requestURI: "sip:hotline.example", credentials: Self.credentials("1001", "pw"),
                            now: now) == .authenticated(username: "1001", algorithm: .md5))
    }

    @Test("bounded replay memory: a forgotten nonce is refused, never accepted again")
    func boundedReplayMemory() {
        var auth = DigestAuthenticator(secret: [7], configuration: .init(nonceCountCapacity: 2))
        let now = UnixTime(seconds: 1_800_000_000)
        let stored = Self.credentials("1001", "pw")
        let nonces = (0..<3).map { i in auth.challenges(now: now + .milliseconds(i))[0] }
        func answer(_ i: Int, nc: UInt32) -> DigestAuthorization {
            DigestAuthorization(responding: nonces[i], username: "1001", password: "pw", method: "REGISTER", uri: "sip:h",
                                cnonce: "c", nonceCount: nc)
        }
        for i in 0..<3 {
            #expect(auth.verify(answer(i, nc: 1), method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now)
                == .authenticated(username: "1001", algorithm: .sha256))
        }
        #expect(auth.nonceCounts.count == 2)
        // Nonce 0 was evicted: even a higher count is refused (stale), so nothing old replays.
        #expect(auth.verify(answer(0, nc: 2), method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now) == .stale(.replayed))
        #expect(auth.verify(answer(2, nc: 2), method: "REGISTER", requestURI: "sip:h", credentials: stored, now: now)
            == .authenticated(username: "1001", algorithm: .sha256))
    }

    // MARK: - headers captured from real clients
    //
    // A UDP responder challenged each client with a nonce minted like ours (secret
    // "hotline-test-secret", issued 1780000000000 ms, serial 1); the Authorization each sent
    // back is pasted verbatim. SIPp 3.6.1 and baresip 1.0.0 (libre 1.1) speak MD5 only:
    // baresip gives up ("Function not implemented") when any challenge is SHA-256, and SIPp
    // answers only the first challenge. See the registrar configuration's `algorithms`.

    static let capturedNonce = "0000019e7044880000000001a363020666f5a9b5775dff1ee7ca156f"

    @Test("our nonce format is the one the capture server minted")
    func captureNonce() {
        var auth = DigestAuthenticator(secret: Self.captureSecret)
        #expect(auth.makeNonce(now: Self.captureTime) == Self.capturedNonce)
    }

    @Test("real clients' Authorization headers verify", arguments: [
        ("baresip 1.0.0", "agent1001", "secret1001", "sip:127.0.0.1:15084",
         #"Digest username="agent1001", realm="hotline", nonce="0000019e7044880000000001a363020666f5a9b5775dff1ee7ca156f", uri="sip:127.0.0.1:15084", response="84950db1e8a9ccc286046ba78b52e992", cnonce="a453ebb65d263cd6", qop=auth, nc=00000001"#),
        ("SIPp 3.6.1", "agent1002", "secret1002", "sip:127.0.0.1:15096",
         #"Digest username="agent1002",realm="hotline",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:15096",nonce="0000019e7044880000000001a363020666f5a9b5775dff1ee7ca156f",response="7959989e5414da3681082769122bb67e",algorithm=MD5"#),
    ])
    func realClients(client: String, user: String, password: String, requestURI: String, header: String) throws {
        let authorization = try DigestAuthorization.parse(header)
        var auth = DigestAuthenticator(secret: Self.captureSecret)
        let verdict = auth.verify(authorization, method: "REGISTER", requestURI: requestURI,
                                  credentials: Self.credentials(user, password), now: Self.captureTime + .seconds(1))
        #expect(verdict == .authenticated(username: user, algorithm: .md5), "\(client)")
        var wrong = DigestAuthenticator(secret: Self.captureSecret)
        #expect(wrong.verify(authorization, method: "REGISTER", requestURI: requestURI,
                             credentials: Self.credentials(user, "not-it"), now: Self.captureTime) == .rejected(.wrongResponse))
    }

    @Test("a linphone-style SHA-256 answer (spaces, algorithm before cnonce) verifies")
    func linphoneStyle() throws {
        var auth = DigestAuthenticator(secret: [5])
        let now = UnixTime(seconds: 1_800_000_000)
        let challenge = auth.challenges(now: now)[0]
        let ha1 = DigestCredentials.ha1(algorithm: .sha256, username: "1003", realm: "hotline", password: "pw")
        let response = DigestAuthorization.response(algorithm: .sha256, ha1: ha1, nonce: challenge.nonce, nonceCount: "00000001",
                                                    cnonce: "0d1a7c3b", qop: "auth", method: "REGISTER", uri: "sip:10.0.0.5")!
        let header = "Digest realm=\"hotline\", nonce=\"\(challenge.nonce)\", algorithm=SHA-256, cnonce=\"0d1a7c3b\", username=\"1003\", uri=\"sip:10.0.0.5\", response=\"\(response)\", qop=auth, nc=00000001"
        let verdict = auth.verify(try DigestAuthorization.parse(header), method: "REGISTER", requestURI: "sip:10.0.0.5",
                                  credentials: Self.credentials("1003", "pw"), now: now)
        #expect(verdict == .authenticated(username: "1003", algorithm: .sha256))
    }
}
