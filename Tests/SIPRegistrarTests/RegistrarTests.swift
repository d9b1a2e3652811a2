import SIPAuth
import SIPCore
import SIPRegistrar
import Testing

@Suite("Registrar: digest, lockout, bindings, NAT, keep-alive")
struct RegistrarTests {
    static let secret: [UInt8] = Array("registrar-test".utf8)
    static let credentials = ["1001": DigestCredentials(username: "1001", realm: "hotline", password: "pw1001"),
                              "1002": DigestCredentials(username: "1002", realm: "hotline", password: "pw1002")]
    static let t0 = UnixTime(seconds: 1_800_000_000) // 2027-01-15T08:00:00Z
    static let phone = SIPSourceAddress(host: "203.0.113.7", port: 40123)

    static func register(user: String, contact: String? = "<sip:\(1001)@192.168.1.20:5060>", expires: String? = "600",
                         callID: String = "reg-1", cseq: UInt32 = 1, authorization: String? = nil) -> SIPRequest {
        var headers: SIPHeaders = [
            (.via, "SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-\(cseq);received=203.0.113.7;rport=40123"),
            (.from, "<sip:\(user)@hotline.example>;tag=f1"), (.to, "<sip:\(user)@hotline.example>"),
            (.callID, callID), (.cseq, "\(cseq) REGISTER"), (.maxForwards, "70"),
        ]
        if let contact { headers.append(.contact, contact) }
        if let expires { headers.append(.expires, expires) }
        if let authorization { headers.append(.authorization, authorization) }
        return SIPRequest(method: .register, uri: try! SIPURI.parse("sip:hotline.example"), headers: headers)
    }

    /// The 401's challenges.
    static func challenges(_ actions: [RegistrarStateMachine.Action]) -> [DigestChallenge] {
        for case .respond(let r) in actions where r.status == .unauthorized {
            return r.headers.values(.wwwAuthenticate).compactMap { try? DigestChallenge.parse($0) }
        }
        return []
    }

    static func response(_ actions: [RegistrarStateMachine.Action]) -> SIPResponse? {
        for case .respond(let r) in actions { return r }
        return nil
    }

    /// Registers `user` with `password` through a challenge; returns the final actions.
    static func login(_ machine: inout RegistrarStateMachine, user: String, password: String, now: UnixTime,
                      source: SIPSourceAddress = phone, contact: String? = nil, expires: String? = "600", cseq: UInt32 = 1,
                      algorithm: DigestAlgorithm = .sha256, callID: String = "reg-1") -> [RegistrarStateMachine.Action] {
        let contactValue = contact ?? "<sip:\(user)@192.168.1.20:5060>"
        let first = machine.event(.receivedRegister(register(user: user, contact: contactValue, expires: expires, callID: callID, cseq: cseq),
                                                    from: source), now: now)
        guard let challenge = challenges(first).first(where: { $0.algorithm == algorithm }) else { return first }
        let authorization = DigestAuthorization(responding: challenge, username: user, password: password, method: "REGISTER",
                                                uri: "sip:hotline.example", cnonce: "cn\(cseq)")
        return machine.event(.receivedRegister(register(user: user, contact: contactValue, expires: expires, callID: callID,
                                                        cseq: cseq + 1, authorization: authorization.description), from: source),
                             now: now)
    }

    func machine(_ configuration: RegistrarConfiguration = .init()) -> RegistrarStateMachine {
        RegistrarStateMachine(configuration: configuration, secret: Self.secret, credentials: Self.credentials)
    }

    @Test("first REGISTER: 401 with SHA-256 then MD5 challenges, To tag, Date")
    func challenge() throws {
        var m = machine()
        let actions = m.event(.receivedRegister(Self.register(user: "1001"), from: Self.phone), now: Self.t0)
        let r = try #require(Self.response(actions))
        #expect(r.status == .unauthorized)
        #expect(r.headers.values(.wwwAuthenticate).count == 2)
        #expect(Self.challenges(actions).map(\.algorithm) == [.sha256, .md5])
        #expect(Self.challenges(actions).allSatisfy { $0.qop == ["auth"] && $0.realm == "hotline" && !$0.stale })
        #expect(r.headers[.date] == "Fri, 15 Jan 2027 08:00:00 GMT")
        #expect(r.to?.tag != nil)
        #expect(r.headers[.via]?.contains("received=203.0.113.7") == true)
    }

    @Test("authenticated REGISTER binds the contact, remembers the source for NAT, answers with expires", arguments: [DigestAlgorithm.sha256, .md5])
    func register(algorithm: DigestAlgorithm) throws {
        var m = machine()
        let actions = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0, algorithm: algorithm)
        let r = try #require(Self.response(actions))
        #expect(r.status == .ok)
        #expect(r.headers.values(.contact) == ["<sip:1001@192.168.1.20:5060>;expires=600"])
        #expect(actions.contains(.reachabilityChanged(user: "1001", reachable: true)))
        let binding = try #require(m.preferredBinding(of: "1001"))
        #expect(binding.source == Self.phone)
        #expect(binding.contact.host == "192.168.1.20")
        #expect(m.isReachable(user: "1001"))
        #expect(actions.contains(.scheduleTick(at: Self.t0 + .seconds(30)))) // first keep-alive
    }

    @Test("unknown user and wrong password get the same 401; then the same 403 once locked out")
    func noEnumeration() throws {
        var config = RegistrarConfiguration()
        config.userLockout = LockoutPolicy(threshold: 3, window: .seconds(300), duration: .seconds(900))
        var m = machine(config)
        func attempt(_ user: String, _ password: String, at t: UnixTime) -> [RegistrarStateMachine.Action] {
            Self.login(&m, user: user, password: password, now: t, source: SIPSourceAddress(host: "198.51.100.\(user.count)", port: 5060))
        }
        let wrong = try #require(Self.response(attempt("1001", "guess", at: Self.t0)))
        let unknown = try #require(Self.response(attempt("9999", "guess", at: Self.t0)))
        #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
        #expect(wrong.headers.values(.wwwAuthenticate).count == unknown.headers.values(.wwwAuthenticate).count)
        #expect(wrong.reasonPhrase == unknown.reasonPhrase)
        _ = attempt("1001", "guess", at: Self.t0 + .seconds(1))
        let third = attempt("1001", "guess", at: Self.t0 + .seconds(2))
        #expect(Self.response(third)?.status == .forbidden)
        #expect(third.contains(.security(.lockedOut(.user("1001"), until: Self.t0 + .seconds(902)))))
        // Locked: even the right password gets 403 — and an unknown user locked the same way answers alike.
        #expect(Self.response(attempt("1001", "pw1001", at: Self.t0 + .seconds(10)))?.status == .forbidden)
        _ = attempt("9999", "guess", at: Self.t0 + .seconds(3))
        #expect(Self.response(attempt("9999", "guess", at: Self.t0 + .seconds(4)))?.status == .forbidden)
        // After the lockout the right password works.
        #expect(Self.response(attempt("1001", "pw1001", at: Self.t0 + .seconds(903)))?.status == .ok)
        #expect(m.statistics.rejectedWhileLockedOut >= 1)
    }

    @Test("failures from one address lock the address out for every user; exempt addresses are never locked")
    func addressLockout() {
        var config = RegistrarConfiguration()
        config.addressLockout = LockoutPolicy(threshold: 4)
        config.userLockout = LockoutPolicy(threshold: 100)
        config.lockoutExemptAddresses = ["10.0.0.1"]
        var m = machine(config)
        let attacker = SIPSourceAddress(host: "192.0.2.66", port: 5999)
        var last: [RegistrarStateMachine.Action] = []
        for i in 0..<4 { last = Self.login(&m, user: "u\(i)", password: "x", now: Self.t0, source: attacker) }
        #expect(last.contains(.security(.lockedOut(.address("192.0.2.66"), until: Self.t0 + .seconds(900)))))
        let legit = Self.login(&m, user: "1002", password: "pw1002", now: Self.t0, source: SIPSourceAddress(host: "192.0.2.66", port: 6000))
        #expect(Self.response(legit)?.status == .forbidden)
        let office = SIPSourceAddress(host: "10.0.0.1", port: 5060)
        for i in 0..<10 { _ = Self.login(&m, user: "u\(i)", password: "x", now: Self.t0, source: office) }
        #expect(Self.response(Self.login(&m, user: "1002", password: "pw1002", now: Self.t0, source: office))?.status == .ok)
    }

    @Test("an expired nonce with the right password gets stale=true and is not a failure")
    func staleNonce() throws {
        var m = machine()
        let first = m.event(.receivedRegister(Self.register(user: "1001"), from: Self.phone), now: Self.t0)
        let challenge = try #require(Self.challenges(first).first)
        let answer = DigestAuthorization(responding: challenge, username: "1001", password: "pw1001", method: "REGISTER",
                                         uri: "sip:hotline.example", cnonce: "c")
        let late = m.event(.receivedRegister(Self.register(user: "1001", cseq: 2, authorization: answer.description), from: Self.phone),
                           now: Self.t0 + .seconds(301))
        #expect(Self.challenges(late).allSatisfy { $0.stale })
        #expect(m.statistics.authenticationFailures == 0)
        #expect(m.statistics.staleNonces == 1)
    }

    @Test("a user may only register their own address-of-record")
    func aorMismatch() throws {
        var m = machine()
        let first = m.event(.receivedRegister(Self.register(user: "1002"), from: Self.phone), now: Self.t0)
        let answer = DigestAuthorization(responding: Self.challenges(first)[0], username: "1001", password: "pw1001",
                                         method: "REGISTER", uri: "sip:hotline.example", cnonce: "c")
        let actions = m.event(.receivedRegister(Self.register(user: "1002", cseq: 2, authorization: answer.description), from: Self.phone),
                              now: Self.t0)
        #expect(Self.response(actions)?.status == .forbidden)
        #expect(actions.contains(.security(.addressOfRecordMismatch(username: "1001", addressOfRecord: "1002", source: Self.phone))))
    }

    @Test("Expires: 423 below the minimum with Min-Expires, clamped above the maximum, contact parameter wins")
    func expiresRules() throws {
        var m = machine()
        let brief = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0, expires: "30")
        let r = try #require(Self.response(brief))
        #expect(r.status.rawValue == 423)
        #expect(r.headers[SIPHeaderName("Min-Expires")] == "60")
        let long = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0, expires: "86400", cseq: 10)
        #expect(Self.response(long)?.headers.values(.contact) == ["<sip:1001@192.168.1.20:5060>;expires=3600"])
        let param = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0, contact: "<sip:1001@192.168.1.20:5060>;expires=120",
                               expires: "3600", cseq: 20)
        #expect(Self.response(param)?.headers.values(.contact) == ["<sip:1001@192.168.1.20:5060>;expires=120"])
    }

    @Test("refresh keeps the binding and updates the NAT source; un-REGISTER with Expires 0 and with '*'")
    func refreshAndUnregister() throws {
        var m = machine()
        _ = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0)
        let moved = SIPSourceAddress(host: "203.0.113.7", port: 40999)
        let refresh = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0 + .seconds(300), source: moved, cseq: 3)
        #expect(refresh.contains { if case .refreshed(let b) = $0 { b.source == moved } else { false } })
        #expect(m.bindings(of: "1001").count == 1)
        let off = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0 + .seconds(301), expires: "0", cseq: 5)
        #expect(off.contains(.reachabilityChanged(user: "1001", reachable: false)))
        #expect(Self.response(off)?.headers.values(.contact) == [])
        #expect(m.bindings(of: "1001").isEmpty)
        // '*' removes every binding of the user.
        _ = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0 + .seconds(400), cseq: 7)
        _ = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0 + .seconds(400), contact: "<sip:1001@10.9.9.9:5062>", cseq: 9)
        #expect(m.bindings(of: "1001").count == 2)
        let star = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0 + .seconds(401), contact: "*", expires: "0", cseq: 11)
        #expect(Self.response(star)?.status == .ok)
        #expect(m.bindings(of: "1001").isEmpty)
        let badStar = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0 + .seconds(402), contact: "*", expires: "60", cseq: 13)
        #expect(Self.response(badStar)?.status == .badRequest)
    }

    @Test("bindings expire; a third contact replaces the oldest")
    func expiryAndReplacement() {
        var m = machine(RegistrarConfiguration(keepAlive: nil))
        _ = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0, contact: "<sip:1001@10.0.0.1>", expires: "60")
        _ = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0 + .seconds(1), contact: "<sip:1001@10.0.0.2>", expires: "120", cseq: 3)
        let third = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0 + .seconds(2), contact: "<sip:1001@10.0.0.3>",
                               expires: "120", cseq: 5)
        #expect(third.contains { if case .unregistered(let b, .replaced) = $0 { b.contact.host == "10.0.0.1" } else { false } })
        #expect(m.nextDeadline == Self.t0 + .seconds(121))
        let expired = m.event(.tick, now: Self.t0 + .seconds(122))
        #expect(expired.filter { if case .unregistered(_, .expired) = $0 { true } else { false } }.count == 2)
        #expect(expired.contains(.reachabilityChanged(user: "1001", reachable: false)))
        #expect(expired.contains(.cancelTick))
    }

    @Test("OPTIONS keep-alive: probes go to the source address; silence marks unreachable, an answer restores")
    func keepAlive() throws {
        var m = machine(RegistrarConfiguration(keepAlive: KeepAlivePolicy(interval: .seconds(30), failuresBeforeUnreachable: 2)))
        _ = Self.login(&m, user: "1001", password: "pw1001", now: Self.t0)
        var actions = m.event(.tick, now: Self.t0 + .seconds(30))
        let probe = try #require(actions.compactMap { if case .sendOptions(let p) = $0 { p } else { nil } }.first)
        #expect(probe.destination == Self.phone)
        #expect(probe.requestURI.host == "192.168.1.20")
        #expect(m.event(.optionsFailed(probe.binding), now: Self.t0 + .seconds(62)).allSatisfy { !$0.isReachabilityChange })
        actions = m.event(.tick, now: Self.t0 + .seconds(92))
        #expect(actions.contains { if case .sendOptions = $0 { true } else { false } })
        actions = m.event(.optionsAnswered(probe.binding, status: SIPStatus(408)), now: Self.t0 + .seconds(124))
        #expect(actions.contains(.reachabilityChanged(user: "1001", reachable: false)))
        #expect(m.preferredBinding(of: "1001") == nil)
        actions = m.event(.optionsAnswered(probe.binding, status: .methodNotAllowed), now: Self.t0 + .seconds(125))
        #expect(actions.contains(.reachabilityChanged(user: "1001", reachable: true)))
    }

    @Test("malformed Authorization gets 400 and a security event; credentials reload removes users' bindings")
    func malformedAndReload() {
        var m = machine()
        let actions = m.event(.receivedRegister(Self.register(user: "1001", authorization: "Digest username=\"x"), from: Self.phone),
                              now: Self.t0)
        #expect(Self.response(actions)?.status == .badRequest)
        #expect(actions.contains { if case .security(.malformedCredentials) = $0 { true } else { false } })
        _ = Self.login(&m, user: "1002", password: "pw1002", now: Self.t0, contact: "<sip:1002@10.0.0.2>")
        let reload = m.updateCredentials(["1001": Self.credentials["1001"]!], now: Self.t0)
        #expect(reload.contains(.reachabilityChanged(user: "1002", reachable: false)))
        #expect(m.bindings(of: "1002").isEmpty)
    }

    @Test("Date header formatting", arguments: [
        (Int64(0), "Thu, 01 Jan 1970 00:00:00 GMT"), (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_289_690_940, "Sat, 13 Nov 2010 23:29:00 GMT"), (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
    ])
    func dates(seconds: Int64, text: String) {
        #expect(SIPDate.format(UnixTime(seconds: seconds)) == text)
    }
}

extension RegistrarStateMachine.Action {
    var isReachabilityChange: Bool {
        if case .reachabilityChanged = self { true } else { false }
    }
}
