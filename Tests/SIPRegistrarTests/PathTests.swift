import SIPAuth
import SIPCore
import SIPRegistrar
import Testing

/// REGISTERs through the cluster's SIP front (RFC 3327 Path).
@Suite("Registrar: Path through a trusted front")
struct PathTests {
    static let front = SIPSourceAddress(host: "10.0.0.5", port: 5060)
    static let pathValue = "<sip:10.0.0.5:5060;lr;received=sip:203.0.113.7:40123>"

    /// Registers through `source` with a Path (and Supported: path if `supported`).
    static func login(_ machine: inout RegistrarStateMachine, user: String = "1001", password: String = "pw1001",
                      source: SIPSourceAddress = front, path: String? = pathValue, supported: Bool = true,
                      now: UnixTime = RegistrarTests.t0) -> [RegistrarStateMachine.Action] {
        func withPath(_ request: SIPRequest) -> SIPRequest {
            var request = request
            if let path { request.headers.append(.path, path) }
            if supported { request.headers.append(.supported, "path, outbound") }
            return request
        }
        let first = machine.event(.receivedRegister(withPath(RegistrarTests.register(user: user, cseq: 1)), from: source), now: now)
        guard let challenge = RegistrarTests.challenges(first).first else { return first }
        let authorization = DigestAuthorization(responding: challenge, username: user, password: password, method: "REGISTER",
                                                uri: "sip:hotline.example", cnonce: "cn2")
        return machine.event(.receivedRegister(withPath(RegistrarTests.register(user: user, cseq: 2, authorization: authorization.description)),
                                               from: source), now: now)
    }

    func machine(trusting: Set<String> = ["10.0.0.5"], addressThreshold: Int = 20) -> RegistrarStateMachine {
        var configuration = RegistrarConfiguration(keepAlive: KeepAlivePolicy(interval: .seconds(30)))
        configuration.trustedProxies = trusting
        configuration.addressLockout = LockoutPolicy(threshold: addressThreshold)
        configuration.userLockout = LockoutPolicy(threshold: 100)
        return RegistrarStateMachine(configuration: configuration, secret: RegistrarTests.secret, credentials: RegistrarTests.credentials)
    }

    @Test func aBindingThroughTheFrontKeepsItsPathAndIsReachedThroughIt() throws {
        var m = machine()
        let actions = Self.login(&m)
        let ok = try #require(RegistrarTests.response(actions))
        #expect(ok.status == .ok)
        #expect(ok.headers.values(.path) == [Self.pathValue], "echoed to a UA that supports Path")
        let binding = try #require(m.preferredBinding(of: "1001"))
        #expect(binding.path.map(\.host) == ["10.0.0.5"])
        #expect(binding.source == SIPSourceAddress(host: "203.0.113.7", port: 40123), "the phone's own address, from received")
        #expect(binding.nextHop == SIPSourceAddress(host: "10.0.0.5", port: 5060), "requests go through the front")
        let probe = try #require(m.event(.tick, now: RegistrarTests.t0 + .seconds(30))
            .compactMap { if case .sendOptions(let p) = $0 { p } else { nil } }.first)
        #expect(probe.destination == Self.front)
        #expect(probe.route == binding.path)
        #expect(probe.requestURI.host == "192.168.1.20", "the Request-URI stays the phone's Contact")
    }

    @Test func withoutSupportedPathThePathIsKeptButNotEchoed() throws {
        var m = machine()
        let ok = try #require(RegistrarTests.response(Self.login(&m, supported: false)))
        #expect(ok.status == .ok)
        #expect(ok.headers.values(.path).isEmpty)
        #expect(m.preferredBinding(of: "1001")?.path.count == 1)
    }

    @Test func aPathFromAnUntrustedSourceIsIgnored() throws {
        var m = machine(trusting: [])
        let phone = SIPSourceAddress(host: "198.51.100.9", port: 5062)
        let ok = try #require(RegistrarTests.response(Self.login(&m, source: phone)))
        #expect(ok.status == .ok)
        #expect(ok.headers.values(.path).isEmpty)
        let binding = try #require(m.preferredBinding(of: "1001"))
        #expect(binding.path.isEmpty, "a phone cannot point our requests elsewhere")
        #expect(binding.nextHop == phone)
    }

    @Test func lockoutThroughTheFrontCountsThePhoneNotTheFront() throws {
        var m = machine(addressThreshold: 3)
        let guesser = "<sip:10.0.0.5:5060;lr;received=sip:192.0.2.66:5999>"
        var last: [RegistrarStateMachine.Action] = []
        for user in ["u1", "u2", "u3"] { last = Self.login(&m, user: user, password: "x", path: guesser) }
        #expect(last.contains(.security(.lockedOut(.address("192.0.2.66"), until: RegistrarTests.t0 + .seconds(900)))))
        #expect(m.lockout(of: .address("10.0.0.5"), now: RegistrarTests.t0) == nil, "the front itself is never locked out")
        // Another phone behind the same front still registers.
        #expect(RegistrarTests.response(Self.login(&m))?.status == .ok)
        // The guesser's own phone address stays locked, through the front too.
        #expect(RegistrarTests.response(Self.login(&m, user: "1002", password: "pw1002", path: guesser))?.status == .forbidden)
    }

    @Test func aMalformedPathIsA400() throws {
        var m = machine()
        let actions = Self.login(&m, path: "<not a uri")
        #expect(RegistrarTests.response(actions)?.status == .badRequest)
    }
}

@Suite("Registrar: lockouts the cluster counted")
struct InstalledLockoutTests {
    @Test func anInstalledAddressLockoutRefusesThatAddressUntilItEnds() throws {
        var configuration = RegistrarConfiguration()
        configuration.trustedProxies = ["10.0.0.5"]
        var m = RegistrarStateMachine(configuration: configuration, secret: RegistrarTests.secret, credentials: RegistrarTests.credentials)
        let t0 = RegistrarTests.t0
        m.installLockout(.address("203.0.113.7"), until: t0 + .seconds(60), now: t0)
        m.installLockout(.address("10.0.0.5"), until: t0 + .seconds(60), now: t0) // the front: never locked
        #expect(m.lockout(of: .address("203.0.113.7"), now: t0) == t0 + .seconds(60))
        #expect(m.lockout(of: .address("10.0.0.5"), now: t0) == nil)
        #expect(RegistrarTests.response(RegistrarTests.login(&m, user: "1001", password: "pw1001", now: t0))?.status == .forbidden,
                "the right password from a locked address")
        // Through the front, the phone's own address is what is locked.
        #expect(RegistrarTests.response(PathTests.login(&m, now: t0 + .seconds(1)))?.status == .forbidden)
        #expect(RegistrarTests.response(RegistrarTests.login(&m, user: "1001", password: "pw1001", now: t0 + .seconds(61)))?.status == .ok,
                "after the lockout ends")
    }

    @Test func anInstalledUserLockoutRefusesTheUserEverywhereAndAShorterOneChangesNothing() {
        var m = RegistrarStateMachine(configuration: .init(), secret: RegistrarTests.secret, credentials: RegistrarTests.credentials)
        let t0 = RegistrarTests.t0
        m.installLockout(.user("1002"), until: t0 + .seconds(300), now: t0)
        m.installLockout(.user("1002"), until: t0 + .seconds(10), now: t0)
        #expect(m.lockout(of: .user("1002"), now: t0) == t0 + .seconds(300))
        #expect(RegistrarTests.response(RegistrarTests.login(&m, user: "1002", password: "pw1002", now: t0 + .seconds(20)))?.status == .forbidden)
        #expect(RegistrarTests.response(RegistrarTests.login(&m, user: "1001", password: "pw1001", now: t0 + .seconds(20)))?.status == .ok)
    }
}
