import SIPCore
import SIPRegistrar
import Testing

/// RFC 5626 §5.2: a phone registered over TCP or TLS is reached only over that connection, so
/// its bindings go when the connection closes.
@Suite("Registrar: bindings over a connection end with it")
struct FlowTests {
    static let tlsPhone = SIPSourceAddress(host: "203.0.113.7", port: 40123, transport: "TLS")

    func machine() -> RegistrarStateMachine {
        RegistrarStateMachine(configuration: RegistrarConfiguration(), secret: RegistrarTests.secret, credentials: RegistrarTests.credentials)
    }

    @Test func closingTheFlowUnregistersItsBindingsAndTheUserBecomesUnreachable() throws {
        var m = machine()
        #expect(RegistrarTests.response(RegistrarTests.login(&m, user: "1001", password: "pw1001", now: RegistrarTests.t0,
                                                             source: Self.tlsPhone))?.status == .ok)
        #expect(m.preferredBinding(of: "1001")?.source == Self.tlsPhone)
        // Another connection (another port), UDP at the same address: not this flow.
        for other in [SIPSourceAddress(host: "203.0.113.7", port: 40124, transport: "TLS"),
                      SIPSourceAddress(host: "203.0.113.7", port: 40123, transport: "UDP"),
                      SIPSourceAddress(host: "203.0.113.7", port: 40123, transport: "TCP")] {
            #expect(m.event(.flowClosed(other), now: RegistrarTests.t0).filter { if case .unregistered = $0 { true } else { false } }.isEmpty,
                    "\(other)")
        }
        let actions = m.event(.flowClosed(Self.tlsPhone), now: RegistrarTests.t0)
        #expect(actions.contains { if case .unregistered(let b, .flowFailed) = $0 { b.user == "1001" } else { false } }, "\(actions)")
        #expect(actions.contains(.reachabilityChanged(user: "1001", reachable: false)), "\(actions)")
        #expect(m.preferredBinding(of: "1001") == nil)
    }

    @Test func aBindingThroughAFrontOutlivesTheFrontsConnection() throws {
        var m = PathTests().machine()
        let front = SIPSourceAddress(host: "10.0.0.5", port: 5060, transport: "TCP")
        #expect(RegistrarTests.response(PathTests.login(&m, source: front))?.status == .ok)
        _ = m.event(.flowClosed(front), now: RegistrarTests.t0)
        _ = m.event(.flowClosed(SIPSourceAddress(host: "203.0.113.7", port: 40123, transport: "TCP")), now: RegistrarTests.t0)
        #expect(m.preferredBinding(of: "1001") != nil, "a Path binding is the front's to keep")
    }

    @Test func aTLSOnlyUserIsRefusedOverOtherTransportsOnceAuthenticatedAndLosesThoseBindings() throws {
        var m = machine()
        let udpPhone = SIPSourceAddress(host: "203.0.113.7", port: 40123, transport: "UDP")
        #expect(RegistrarTests.response(RegistrarTests.login(&m, user: "1001", password: "pw1001", now: RegistrarTests.t0,
                                                             source: udpPhone))?.status == .ok)
        // The policy arrives (agents.yaml reloaded): the UDP binding goes.
        let actions = m.requireTLS(for: ["1001"], now: RegistrarTests.t0)
        #expect(actions.contains { if case .unregistered(let b, .tlsRequired) = $0 { b.source == udpPhone } else { false } }, "\(actions)")
        #expect(actions.contains(.reachabilityChanged(user: "1001", reachable: false)))
        // Over UDP or TCP: challenged like anyone, then 403 with the reason; a wrong password
        // gets the same 401 as before (nothing learnt without the password).
        for transport in ["UDP", "TCP"] {
            let source = SIPSourceAddress(host: "203.0.113.7", port: 40200, transport: transport)
            let refused = try #require(RegistrarTests.response(RegistrarTests.login(&m, user: "1001", password: "pw1001", now: RegistrarTests.t0,
                                                                                   source: source, callID: "reg-\(transport)")))
            #expect(refused.status == .forbidden && refused.reasonPhrase == "Forbidden - SIP/TLS required", "\(transport): \(refused.status)")
        }
        let guess = try #require(RegistrarTests.response(RegistrarTests.login(&m, user: "1001", password: "nope", now: RegistrarTests.t0,
                                                                             source: udpPhone, callID: "reg-guess")))
        #expect(guess.status == .unauthorized)
        #expect(m.preferredBinding(of: "1001") == nil)
        // Over TLS it registers; another user is not concerned.
        #expect(RegistrarTests.response(RegistrarTests.login(&m, user: "1001", password: "pw1001", now: RegistrarTests.t0,
                                                             source: Self.tlsPhone, callID: "reg-tls"))?.status == .ok)
        #expect(RegistrarTests.response(RegistrarTests.login(&m, user: "1002", password: "pw1002", now: RegistrarTests.t0,
                                                             source: udpPhone, callID: "reg-1002"))?.status == .ok)
    }
}
