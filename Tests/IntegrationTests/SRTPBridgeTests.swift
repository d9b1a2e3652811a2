import Codecs
import Foundation
import Media
import NIOCore
import NIOSSL
import SDP
import SIPAuth
import StreamTestSupport
import Testing
import Tickets
#if canImport(Glibc)
import Glibc
#endif

/// Issue 15's SRTP acceptance, by hand against the real `hotline serve`: an agent phone
/// written here registers over SIP/TLS (trusting a throwaway CA made with the openssl CLI),
/// is offered a queued UDP G.711 caller as RTP/SAVP with an SDES key (RFC 4568), answers with
/// its own key, and the two talk. The agent's RTP socket is the capture: every datagram on it
/// must authenticate with the server's key, its payloads must not be the caller's G.711 in
/// clear (no 700 Hz when decoded as A-law, no caller frame byte for byte), while the same
/// payloads decrypted with Media's SRTPContext carry the caller's 700 Hz; the agent's
/// SRTP-protected 1,300 Hz reaches the caller as plain PCMA. Forged, plain and replayed packets
/// are refused and counted. Then the refusals: a `required` agent on UDP is never sent an
/// INVITE, and a feature code without an SRTP offer over TLS gets 488 and is not carried out.
// Serialized with the cluster suites: its audio is paced in real time, and the cluster tests
// count on the cores (run beside them, both flaked in the fresh-clone runs).
extension LoopbackClusterSuites {
@Suite(.serialized)
struct SRTPBridgeTests {
    enum AgentCodec: String, CustomStringConvertible, CaseIterable {
        case pcma
        case opus
        var description: String { rawValue }
    }

    static let frames = BridgeAudioTests.frames
    static let callerTone = BridgeAudioTests.callerTone
    static let agentTone = BridgeAudioTests.agentTone
    /// AES_CM_128_HMAC_SHA1_80's authentication tag (RFC 3711 §4.2; no MKI).
    static let tagLength = 10
    static let rejectedMetric = "hotline_srtp_rejected_packets_total"

    // MARK: - tests A and B: the bridge

    @Test("an agent on SIP/TLS with media_encryption required answers a UDP PCMA caller with SRTP: the agent's capture holds no G.711 in clear, decrypted it is the caller's 700 Hz, the agent's 1,300 Hz reaches the caller; forged, plain and replayed SRTP is refused and counted",
          arguments: AgentCodec.allCases)
    func srtpAgentBridgedToUDPCaller(agentCodec: AgentCodec) async throws {
        let (server, pki) = try await Self.startServer(encryption: .required)
        do {
            try await withClientLoop { group in
                try await bridge(server: server, pki: pki, group: group, agentCodec: agentCodec)
            }
        } catch {
            print("server log:\n\(server.log.suffix(6000))")
            throw error
        }
    }

    private func bridge(server: ServerProcess, pki: TestPKI, group: EventLoopGroup, agentCodec: AgentCodec) async throws {
        let tlsPort = try #require(server.tlsPort, "the ready line names the TLS listener")
        let phone = try await TLSAgentPhone.connect(server: server, tlsPort: tlsPort, group: group,
                                                    tls: try pki.clientContext(presentingCertificate: false))
        let agentRTP = try LoopbackRTP(), callerRTP = try LoopbackRTP()

        // 1. The phone registers over TLS (digest, MD5 first) and the agent logs in.
        try await phone.register(username: "2001", password: "pw-2001")
        let registration = try await ContactCentreTests.agents(server)["a2001"]?["registrations"] as? [[String: Any]]
        #expect(registration?.first?["source"] as? String == "tls:127.0.0.1:\(phone.port)",
                "the binding is the phone's TLS connection: \(String(describing: registration))")
        let (loginStatus, loginBody) = try await server.http("POST", "/api/agents/a2001/login")
        try #require(loginStatus == 200, "login: \(loginBody)")
        #expect(try await Self.metric(server, Self.rejectedMetric) == 0)

        // 2. A caller on UDP offering PCMA only dials the queue.
        let caller = try QueueCaller.dial(server, rtp: callerRTP, label: "srtp-\(agentCodec)")
        #expect(!caller.ok.contains("a=crypto"), "the UDP caller's leg is plain RTP: \(caller.ok)")
        #expect(caller.media.formats.first == 8, "caller leg answered with PCMA")

        // 3. The server rings the agent on the phone's own TLS connection, offering RTP/SAVP
        //    with its SDES key.
        let invite = try await phone.nextRequest("INVITE", within: .seconds(10))
        #expect(invite.hasPrefix("INVITE sip:2001@127.0.0.1:\(phone.port);transport=tls SIP/2.0\r\n"),
                "the INVITE is for the registered TLS contact: \(invite.prefix(120))")
        #expect(invite.sipHeader("Via")?.hasPrefix("SIP/2.0/TLS 127.0.0.1:\(tlsPort);") == true,
                "the INVITE came over TLS from the TLS listener: \(invite.sipHeader("Via") ?? "")")
        let offerText = try #require(Self.body(of: invite))
        let offerSDP = try SessionDescription.parse(offerText)
        let offered = try #require(offerSDP.media.first, "an audio stream: \(offerText)")
        #expect(offered.proto == "RTP/SAVP", "required: SRTP or nothing: \(offered.proto)")
        #expect(offerText.contains("\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"), "the SDES line: \(offerText)")
        let serverCrypto = try #require(offered.cryptos.first, "a usable a=crypto in the offer: \(offerText)")
        #expect(serverCrypto.suite == .aesCM128HMACSHA1_80)
        #expect(serverCrypto.keyMaterial.count == SRTPCryptoSuite.keyMaterialLength)
        let offer = try #require(SDPSummary(message: invite), "SDP offer: \(invite)")
        let opusPT = try #require(offer.payloadType(named: "opus"), "opus offered: \(offer.rtpmaps)")
        #expect(offer.formats.contains(8), "PCMA offered too: \(offer.formats)")

        // 4. The phone rings, then answers in RTP/SAVP with the offer's tag and its own key.
        var random = SystemRandomNumberGenerator()
        let agentKey = SDPCrypto.randomKeyMaterial(using: &random)
        #expect(agentKey != serverCrypto.keyMaterial)
        let agentPT: UInt8 = agentCodec == .opus ? opusPT : 8
        let agentEncoding = agentCodec == .opus ? "opus/48000/2" : "PCMA/8000"
        let answer = Self.sdp(port: agentRTP.port, formats: [(agentPT, agentEncoding)],
                              telephoneEvent: offer.payloadType(named: "telephone-event"), proto: "RTP/SAVP",
                              crypto: SDPCrypto(tag: serverCrypto.tag, suite: serverCrypto.suite, keyMaterial: agentKey))
        try await phone.send(SIPPhone.response(to: invite, "180 Ringing", toTag: "tlsagent1"))
        try await phone.send(SIPPhone.response(to: invite, "200 OK", toTag: "tlsagent1",
                                               extra: "Contact: \(phone.contact)\r\nContent-Type: application/sdp\r\n", body: answer))
        let ack = try await phone.nextRequest("ACK", within: .seconds(5))
        #expect(ack.sipHeader("Call-ID") == invite.sipHeader("Call-ID"))
        #expect(ack.sipHeader("Via")?.hasPrefix("SIP/2.0/TLS ") == true, "the ACK on the TLS connection too")

        // 5. Both talk for 2.4 s. The agent's socket keeps every datagram as it arrived
        //    (the capture); the agent protects what it sends with its own key.
        let fromServer = try SRTPContext(suite: serverCrypto.suite, keyMaterial: serverCrypto.keyMaterial, direction: .inbound)
        let toServer = try SRTPContext(suite: serverCrypto.suite, keyMaterial: agentKey, direction: .outbound)
        var capture: [[UInt8]] = []
        callerRTP.drain { _ in } // queue music while the agent rang
        capture += RawDatagrams.drain(agentRTP)

        let callerSends = BridgeAudioTests.g711Frames(frequency: Self.callerTone)
        let agentSends: [[UInt8]]
        if agentCodec == .opus {
            let encoder = try OpusEncoder(sampleRate: 48000, channels: 1, application: .voip, bitrate: 32000)
            agentSends = try (0..<Self.frames).map { k in try encoder.encode(BridgeAudioTests.tone(Self.agentTone, rate: 48000, frame: k)) }
        } else {
            agentSends = BridgeAudioTests.g711Frames(frequency: Self.agentTone)
        }
        let agentTicks: UInt32 = agentCodec == .opus ? 960 : 160
        var agentStream = RTPStream(payloadType: agentPT, ssrc: 0x2001_5151, sequence: 40000, timestamp: 123_456)
        var callerStream = RTPStream(payloadType: 8, ssrc: 0x1380_5151, sequence: 65500, timestamp: 0xFFFF_F000)
        var lastProtected: [UInt8] = []
        var protectFailures = 0
        var callerGot: [ReceivedRTP] = []
        let clock = ContinuousClock()
        let start = clock.now
        for k in 0..<Self.frames {
            RawDatagrams.pump(caller: callerRTP, agent: agentRTP, until: start + .milliseconds(20 * k),
                              callerGot: &callerGot, capture: &capture)
            callerRTP.send(callerStream.packet(callerSends[k], ticks: 160), to: caller.media.port)
            guard let protected = SRTP.protect(agentStream.packet(agentSends[k], ticks: agentTicks), with: toServer) else {
                protectFailures += 1
                continue
            }
            agentRTP.send(protected, to: offer.port)
            lastProtected = protected
        }
        RawDatagrams.pump(caller: callerRTP, agent: agentRTP, until: clock.now + .milliseconds(200),
                          callerGot: &callerGot, capture: &capture)
        #expect(protectFailures == 0, "libsrtp protected every packet the agent sent")
        #expect(clock.now - start < .seconds(5), "the media phase is bounded")

        // 6. The capture: every datagram is SRTP under the server's key, and its payload is
        //    not the caller's audio in clear.
        #expect(capture.count >= Self.frames * 8 / 10, "the agent's socket got \(capture.count) datagrams")
        var decrypted: [PlainRTP] = []
        var unauthenticated = 0
        for datagram in capture {
            if let plain = SRTP.unprotect(datagram, with: fromServer), let packet = PlainRTP(plain) {
                decrypted.append(packet)
            } else {
                unauthenticated += 1
            }
        }
        #expect(unauthenticated == 0, "every datagram at the agent authenticates with the server's key (\(unauthenticated) of \(capture.count) did not)")
        #expect(capture.allSatisfy { $0.count >= 12 + Self.tagLength && $0[0] == 0x80 }, "RTP version 2, no CSRC, no extension, no padding")
        #expect(zip(capture, decrypted).allSatisfy { $0.count == 12 + $1.payload.count + Self.tagLength },
                "each datagram is its RTP packet plus the 80-bit tag")
        // What an eavesdropper on the agent's link reads: the bytes after the RTP header,
        // without the tag.
        let rawPayloads = capture.map { Array($0[12..<($0.count - Self.tagLength)]) }
        #expect(zip(rawPayloads, decrypted).allSatisfy { $0 != $1.payload }, "no payload crosses in clear")
        #expect(decrypted.allSatisfy { $0.payloadType == agentPT }, "the negotiated payload type inside: \(Set(decrypted.map(\.payloadType)))")

        let rawShare = BridgeAudioTests.toneShare(rawPayloads.dropFirst(10).flatMap { G711.decode($0, law: .aLaw) },
                                                  frequency: Self.callerTone, rate: 8000)
        #expect(rawShare < 0.05, "the captured payloads decoded as A-law have no 700 Hz (share \(rawShare))")
        let agentHeard: [Int16]
        let agentRate: Double
        if agentCodec == .opus {
            let decoder = try OpusDecoder(sampleRate: 48000, channels: 1)
            agentHeard = try decrypted.dropFirst(10).flatMap { try decoder.decode($0.payload) }
            agentRate = 48000
        } else {
            agentHeard = decrypted.dropFirst(10).flatMap { G711.decode($0.payload, law: .aLaw) }
            agentRate = 8000
            let callerFrames = Set(callerSends)
            #expect(rawPayloads.allSatisfy { !callerFrames.contains($0) }, "no caller frame appears in the capture byte for byte")
            // Decrypted, it is the caller's G.711 relayed untouched and in order.
            let callerIndex = Dictionary(callerSends.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let atAgent = decrypted.map { callerIndex[$0.payload] }
            #expect(atAgent.allSatisfy { $0 != nil }, "every decrypted payload is a frame the caller sent, byte for byte")
            #expect(BridgeAudioTests.isInSendingOrder(atAgent.compactMap { $0 }), "caller → agent in order")
        }
        let agentCallerShare = BridgeAudioTests.toneShare(agentHeard, frequency: Self.callerTone, rate: agentRate)
        let agentOwnShare = BridgeAudioTests.toneShare(agentHeard, frequency: Self.agentTone, rate: agentRate)
        #expect(agentCallerShare > 0.6, "decrypted, the agent hears the caller's 700 Hz (share \(agentCallerShare))")
        #expect(agentOwnShare < 0.05, "and not their own 1,300 Hz (share \(agentOwnShare))")

        // 7. The caller, on plain RTP, hears the agent's SRTP-protected 1,300 Hz.
        #expect(callerGot.count >= Self.frames * 8 / 10, "caller received \(callerGot.count) packets")
        #expect(callerGot.allSatisfy { $0.payloadType == 8 }, "caller leg stays PCMA: \(Set(callerGot.map(\.payloadType)))")
        let callerHeard = callerGot.dropFirst(10).flatMap { G711.decode($0.payload, law: .aLaw) }
        let callerAgentShare = BridgeAudioTests.toneShare(callerHeard, frequency: Self.agentTone, rate: 8000)
        let callerOwnShare = BridgeAudioTests.toneShare(callerHeard, frequency: Self.callerTone, rate: 8000)
        #expect(callerAgentShare > 0.6, "the caller hears the agent's 1,300 Hz (share \(callerAgentShare))")
        #expect(callerOwnShare < 0.05, "and not their own 700 Hz (share \(callerOwnShare))")
        if agentCodec == .pcma {
            let agentIndex = Dictionary(agentSends.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let atCaller = callerGot.dropFirst(10).map { agentIndex[$0.payload] }
            #expect(atCaller.allSatisfy { $0 != nil }, "the server decrypted the agent's frames and relayed them byte for byte")
        }

        // 8. No packet was refused; then a tampered, a plain and a replayed one are.
        #expect(try await Self.metric(server, Self.rejectedMetric) == 0, "no SRTP packet refused during the call")
        let tampered = try #require(SRTP.protect(agentStream.packet(agentSends[0], ticks: agentTicks), with: toServer))
        var forged = tampered
        forged[20] ^= 0x01 // one payload bit: the tag no longer matches
        agentRTP.send(forged, to: offer.port)
        agentRTP.send(agentStream.packet(agentSends[1], ticks: agentTicks), to: offer.port) // plain RTP
        agentRTP.send(lastProtected, to: offer.port) // a replay
        try await waitUntil("three refused SRTP packets", timeout: .seconds(5)) {
            try await Self.metric(server, Self.rejectedMetric) >= 3
        }
        #expect(try await Self.metric(server, Self.rejectedMetric) == 3, "forged, plain and replayed: each refused once")

        // 9. The caller hangs up; the server hangs the agent up on its TLS connection.
        try caller.hangUp()
        let bye = try await phone.nextRequest("BYE", within: .seconds(5))
        #expect(bye.sipHeader("Call-ID") == invite.sipHeader("Call-ID"))
        #expect(bye.sipHeader("Via")?.hasPrefix("SIP/2.0/TLS ") == true)
        try await phone.send(SIPPhone.response(to: bye, "200 OK"))
        await phone.close()

        #expect(await server.stop() == 0, "clean shutdown")
        let log = server.log
        #expect(log.contains("agent answered"), "the debug log covers the call")
        for key in [serverCrypto.keyMaterial, agentKey] {
            #expect(!log.contains(Data(key).base64EncodedString()), "no SDES key in the server's log")
        }
        let ticket = try #require(try server.tickets().first { $0.callID == caller.callID }, "the call's ticket")
        #expect(ticket.disposition == .callerHangup)
        #expect(ticket.queue?.agent == "a2001")
        #expect(ticket.queue?.agentAnsweredAt != nil)
        #expect((ticket.queue?.talkMilliseconds ?? 0) > 0, "talk time: \(String(describing: ticket.queue))")
    }

    // MARK: - the offer under each policy and transport

    enum AgentLink: String, CustomStringConvertible, Sendable {
        case udp, tls
        var description: String { rawValue }
    }

    @Test("SDES keys are offered only over TLS: optional on TLS offers RTP/AVP with a=crypto, optional on UDP and none on TLS offer no key; an agent answering plain RTP/AVP gets the caller's G.711 in clear",
          arguments: [(MediaEncryption.optional, AgentLink.tls), (.optional, .udp), (.none, .tls)])
    func offerFollowsPolicyAndTransport(encryption: MediaEncryption, link: AgentLink) async throws {
        let (server, pki) = try await Self.startServer(encryption: encryption)
        do {
            try await withClientLoop { group in
                let udp = try RawUDP()
                let udpPhone = SIPPhone(server: server)
                var tlsPhone: TLSAgentPhone?
                switch link {
                case .udp:
                    try udpPhone.register(udp, username: "2001", password: "pw-2001")
                case .tls:
                    let tlsPort = try #require(server.tlsPort, "the ready line names the TLS listener")
                    tlsPhone = try await TLSAgentPhone.connect(server: server, tlsPort: tlsPort, group: group,
                                                               tls: try pki.clientContext(presentingCertificate: false))
                    try await tlsPhone!.register(username: "2001", password: "pw-2001")
                }
                func send(_ text: String) async throws {
                    if let tlsPhone { try await tlsPhone.send(text) } else { udp.send(text, to: server.sipPort) }
                }
                func request(_ method: String) async throws -> String {
                    if let tlsPhone { return try await tlsPhone.nextRequest(method, within: .seconds(10)) }
                    return try #require(udpPhone.nextRequest(udp, method, timeout: .seconds(10)), "\(method) to the UDP phone")
                }
                let (loginStatus, loginBody) = try await server.http("POST", "/api/agents/a2001/login")
                try #require(loginStatus == 200, "login: \(loginBody)")

                let agentRTP = try LoopbackRTP(), callerRTP = try LoopbackRTP()
                let caller = try QueueCaller.dial(server, rtp: callerRTP, label: "srtp-\(encryption.rawValue)-\(link)")
                let invite = try await request("INVITE")
                let offerText = try #require(Self.body(of: invite))
                let offered = try #require(try SessionDescription.parse(offerText).media.first, "an audio stream: \(offerText)")
                #expect(offered.proto == "RTP/AVP", "not RTP/SAVP unless required: \(offered.proto)")
                let keyOffered = encryption == .optional && link == .tls
                #expect(offerText.contains("a=crypto") == keyOffered,
                        "a=crypto \(keyOffered ? "offered (best effort)" : "never offered") for \(encryption) over \(link): \(offerText)")
                if keyOffered {
                    #expect(offered.cryptos.first?.suite == .aesCM128HMACSHA1_80 && offered.cryptos.first?.tag == 1, "\(offered.cryptos)")
                }
                let offer = try #require(SDPSummary(message: invite))

                // The phone takes plain RTP: PCMA, no key.
                let contact = tlsPhone?.contact ?? "<sip:2001@127.0.0.1:\(udp.port)>"
                let answer = Self.sdp(port: agentRTP.port, formats: [(8, "PCMA/8000")], telephoneEvent: offer.payloadType(named: "telephone-event"))
                try await send(SIPPhone.response(to: invite, "200 OK", toTag: "plainagent",
                                                 extra: "Contact: \(contact)\r\nContent-Type: application/sdp\r\n", body: answer))
                _ = try await request("ACK")
                callerRTP.drain { _ in }
                var capture = RawDatagrams.drain(agentRTP)

                // 0.8 s of the caller's tone; the agent's socket gets it as plain RTP.
                let callerSends = BridgeAudioTests.g711Frames(frequency: Self.callerTone)
                var callerStream = RTPStream(payloadType: 8, ssrc: 0x1380_7070, sequence: 100, timestamp: 1000)
                var agentStream = RTPStream(payloadType: 8, ssrc: 0x2001_7070, sequence: 200, timestamp: 2000)
                let agentSends = BridgeAudioTests.g711Frames(frequency: Self.agentTone)
                var callerGot: [ReceivedRTP] = []
                let start = ContinuousClock.now
                for k in 0..<40 {
                    RawDatagrams.pump(caller: callerRTP, agent: agentRTP, until: start + .milliseconds(20 * k),
                                      callerGot: &callerGot, capture: &capture)
                    callerRTP.send(callerStream.packet(callerSends[k], ticks: 160), to: caller.media.port)
                    agentRTP.send(agentStream.packet(agentSends[k], ticks: 160), to: offer.port)
                }
                RawDatagrams.pump(caller: callerRTP, agent: agentRTP, until: ContinuousClock.now + .milliseconds(200),
                                  callerGot: &callerGot, capture: &capture)
                let callerFrames = Set(callerSends)
                let plain = capture.compactMap(PlainRTP.init)
                #expect(capture.count >= 30, "the agent got \(capture.count) datagrams")
                #expect(plain.count == capture.count && plain.allSatisfy { $0.payloadType == 8 && callerFrames.contains($0.payload) },
                        "plain RTP: every payload is a caller frame in clear")
                #expect(callerGot.count >= 30 && callerGot.dropFirst(5).allSatisfy { Set(agentSends).contains($0.payload) },
                        "the caller gets the agent's frames: \(callerGot.count)")
                #expect(try await Self.metric(server, Self.rejectedMetric) == 0)

                try caller.hangUp()
                let bye = try await request("BYE")
                try await send(SIPPhone.response(to: bye, "200 OK"))
                await tlsPhone?.close()
            }
        } catch {
            print("server log:\n\(server.log.suffix(6000))")
            throw error
        }
        #expect(await server.stop() == 0, "clean shutdown")
    }

    // MARK: - test C: refusals

    @Test("media_encryption required: the agent's phone may register only over TLS (403 over UDP once authenticated, so never reachable there and never sent an INVITE; no agent on the caller's ticket)")
    func requiredAgentOnUDPIsRefusedRegistration() async throws {
        let (server, _) = try await Self.startServer(encryption: .required)
        let agentSIP = try RawUDP(), callerRTP = try LoopbackRTP()
        // 401 first (no hint before authentication), then the answer to the credentials.
        let refused = try SIPPhone(server: server).registerAnswer(agentSIP, username: "2001", password: "pw-2001")
        #expect(refused.hasPrefix("SIP/2.0 403 Forbidden - SIP/TLS required"), "\(refused)")
        let agent = try await ContactCentreTests.agents(server)["a2001"]
        #expect(agent?["reachable"] as? Bool == false, "not reachable: \(String(describing: agent))")

        let (loginStatus, loginBody) = try await server.http("POST", "/api/agents/a2001/login")
        try #require(loginStatus == 200, "login: \(loginBody)")
        let caller = try QueueCaller.dial(server, rtp: callerRTP, label: "srtp-udp-agent")
        #expect(agentSIP.receive(startingWith: "INVITE", timeout: .seconds(2)) == nil, "no INVITE reaches the UDP phone")
        #expect(try await Self.metric(server, "hotline_agent_legs_total{outcome=\"invited\"}") == 0, "no INVITE left the server")

        try caller.hangUp()
        #expect(await server.stop() == 0, "clean shutdown")
        let ticket = try #require(try server.tickets().first { $0.callID == caller.callID }, "the call's ticket")
        #expect(ticket.queue?.queue == "operator")
        #expect(ticket.queue?.agent == nil, "no agent took the call: \(String(describing: ticket.queue))")
    }

    @Test("media_encryption required: a feature code (*21) over TLS with a plain RTP/AVP offer, or over UDP with an RTP/SAVP one, gets 488 after digest and is not carried out; over TLS with RTP/SAVP and a=crypto it gets 200, SRTP answered with the offer's tag, and logs the agent in")
    func featureCodeNeedsSRTPOverTLS() async throws {
        let (server, pki) = try await Self.startServer(encryption: .required)
        let tlsPort = try #require(server.tlsPort, "the ready line names the TLS listener")
        func agentState() async throws -> String? { try await ContactCentreTests.agents(server)["a2001"]?["state"] as? String }
        #expect(try await agentState() == "logged_out")
        do {
            try await withClientLoop { group in
                let phone = try await TLSAgentPhone.connect(server: server, tlsPort: tlsPort, group: group,
                                                            tls: try pki.clientContext(presentingCertificate: false))
                let rtp = try LoopbackRTP()
                let uri = "sip:*21@127.0.0.1:\(tlsPort);transport=tls"
                let tls = FeatureCodeChannel(transport: "TLS", port: phone.port, contact: phone.contact,
                                             send: { try await phone.send($0) },
                                             next: { cseq, within in try await phone.nextResponse(cseq: cseq, within: within) })

                // Plain RTP/AVP over TLS: challenged, then 488 with its reason; still logged out.
                let plainOffer = Self.sdp(port: rtp.port, formats: [(8, "PCMA/8000")], telephoneEvent: 101)
                let plain = try await tls.invite(uri: uri, sdp: plainOffer, label: "fc-tls-plain")
                #expect(plain.hasPrefix("SIP/2.0 488"), "plain RTP/AVP over TLS: \(plain)")
                #expect(plain.sipHeader("Warning")?.contains("SRTP required") == true, "the 488 says why: \(plain)")
                #expect(try await agentState() == "logged_out", "the code was not carried out")

                // RTP/SAVP with a key over plain UDP: keys never travel in clear; 488 too.
                var random = SystemRandomNumberGenerator()
                let udp = try RawUDP()
                let udpChannel = FeatureCodeChannel(transport: "UDP", port: udp.port, contact: "<sip:2001@127.0.0.1:\(udp.port)>",
                                                    send: { udp.send($0, to: server.sipPort) },
                                                    next: { cseq, within in try udp.finalResponse(cseq: cseq, within: within) })
                let udpOffer = Self.sdp(port: rtp.port, formats: [(8, "PCMA/8000")], telephoneEvent: 101, proto: "RTP/SAVP",
                                        crypto: SDPCrypto(tag: 1, suite: .aesCM128HMACSHA1_80,
                                                          keyMaterial: SDPCrypto.randomKeyMaterial(using: &random)))
                let overUDP = try await udpChannel.invite(uri: "sip:*21@127.0.0.1:\(server.sipPort)", sdp: udpOffer, label: "fc-udp-savp")
                #expect(overUDP.hasPrefix("SIP/2.0 488"), "RTP/SAVP over UDP: \(overUDP)")
                #expect(try await agentState() == "logged_out", "the code was not carried out")

                // RTP/SAVP with a key over TLS: 200, SRTP both ways, and the agent is logged in.
                let agentKey = SDPCrypto.randomKeyMaterial(using: &random)
                let secureOffer = Self.sdp(port: rtp.port, formats: [(8, "PCMA/8000")], telephoneEvent: 101, proto: "RTP/SAVP",
                                           crypto: SDPCrypto(tag: 7, suite: .aesCM128HMACSHA1_80, keyMaterial: agentKey))
                let ok = try await tls.invite(uri: uri, sdp: secureOffer, label: "fc-tls-savp")
                try #require(ok.hasPrefix("SIP/2.0 200"), "RTP/SAVP with a=crypto over TLS: \(ok)")
                let answerText = try #require(Self.body(of: ok))
                let answered = try #require(try SessionDescription.parse(answerText).media.first, "an audio answer: \(answerText)")
                #expect(answered.proto == "RTP/SAVP", "answered in RTP/SAVP: \(answerText)")
                let serverCrypto = try #require(answered.cryptos.first, "a usable a=crypto in the answer: \(answerText)")
                #expect(serverCrypto.tag == 7 && serverCrypto.suite == .aesCM128HMACSHA1_80, "the offer's tag and suite (RFC 4568 §7.1.1): \(serverCrypto)")
                #expect(serverCrypto.keyMaterial != agentKey, "the server's own key")
                try await tls.ack(ok, label: "fc-tls-savp")
                // The confirmation prompt, then the server hangs up on the TLS connection.
                let bye = try await phone.nextRequest("BYE", within: .seconds(15))
                #expect(bye.sipHeader("Call-ID") == ok.sipHeader("Call-ID"))
                try await phone.send(SIPPhone.response(to: bye, "200 OK"))
                let prompt = RawDatagrams.drain(rtp)
                let fromServer = try SRTPContext(suite: serverCrypto.suite, keyMaterial: serverCrypto.keyMaterial, direction: .inbound)
                let decrypted = prompt.compactMap { SRTP.unprotect($0, with: fromServer).flatMap(PlainRTP.init) }
                #expect(prompt.count >= 10, "the confirmation prompt reached the phone: \(prompt.count) datagrams")
                #expect(decrypted.count == prompt.count, "every prompt packet is SRTP under the answer's key (\(decrypted.count) of \(prompt.count))")
                #expect(decrypted.allSatisfy { $0.payloadType == 8 }, "PCMA inside")
                #expect(try await agentState() == "available", "*21 carried out: logged in")
                await phone.close()
            }
        } catch {
            print("server log:\n\(server.log.suffix(6000))")
            throw error
        }
        #expect(try await Self.metric(server, Self.rejectedMetric) == 0)
        #expect(await server.stop() == 0, "clean shutdown")
    }

    // MARK: - setup

    /// A server with SIP/TLS (certificate from a throwaway CA) and the integration agents,
    /// a2001 under `encryption`. Its directory (certificates, keys, agents file) goes with it.
    static func startServer(encryption: MediaEncryption) async throws -> (ServerProcess, TestPKI) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-srtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = try await TestPKI.make(in: directory)
        let server = try await ServerProcess(directory: directory, dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", extra: [
            "--agents", try agentsFile(in: directory, encryption: encryption),
            "--queues", "Tests/IntegrationTests/Dialplans/acd/queues.yaml",
            "--sip-tls", "127.0.0.1:0", "--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey,
        ])
        return (server, pki)
    }

    /// The integration agents with a2001's `media_encryption` set.
    static func agentsFile(in directory: URL, encryption: MediaEncryption) throws -> String {
        let source = Repo.root.appendingPathComponent("Tests/IntegrationTests/Dialplans/acd/agents.yaml")
        let line = "    sip_username: \"2001\"\n"
        let text = try String(contentsOf: source, encoding: .utf8)
            .replacingOccurrences(of: line, with: line + "    media_encryption: \(encryption.rawValue)\n")
        try #require(text.contains("media_encryption: \(encryption.rawValue)\n"), "a2001's entry: \(text)")
        let file = directory.appendingPathComponent("agents-srtp.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func metric(_ server: ServerProcess, _ sample: String) async throws -> Double {
        try #require(prometheusValue(try await server.http("/metrics"), sample), "\(sample) in /metrics")
    }

    static func body(of message: String) -> String? {
        message.range(of: "\r\n\r\n").map { String(message[$0.upperBound...]) }
    }

    /// BridgeAudioTests' SDP with a profile and an optional SDES line.
    static func sdp(port: Int, formats: [(UInt8, String)], telephoneEvent: UInt8?, proto: String = "RTP/AVP",
                    crypto: SDPCrypto? = nil) -> String {
        var text = BridgeAudioTests.sdp(port: port, formats: formats, telephoneEvent: telephoneEvent)
            .replacingOccurrences(of: " RTP/AVP ", with: " \(proto) ")
        if let crypto { text += "a=crypto:\(crypto.attributeValue)\r\n" }
        return text
    }
}
}

// MARK: - the agent's phone on SIP/TLS

/// An agent's phone on one TLS connection to the server (StreamPeer): REGISTER with digest,
/// then requests from the server read in order, OPTIONS keep-alives answered on the way.
fileprivate final class TLSAgentPhone {
    let peer: StreamPeer
    let server: ServerProcess
    let tlsPort: Int
    /// Messages read from the connection so far and already handed out or skipped.
    private var consumed = 0

    private init(peer: StreamPeer, server: ServerProcess, tlsPort: Int) {
        self.peer = peer
        self.server = server
        self.tlsPort = tlsPort
    }

    static func connect(server: ServerProcess, tlsPort: Int, group: EventLoopGroup, tls: NIOSSLContext) async throws -> TLSAgentPhone {
        TLSAgentPhone(peer: try await StreamPeer.connect(port: tlsPort, group: group, tls: tls), server: server, tlsPort: tlsPort)
    }

    var port: Int { peer.localPort }
    var contact: String { "<sip:2001@127.0.0.1:\(port);transport=tls>" }

    func send(_ text: String) async throws { try await peer.write(text) }

    func close() async { await peer.close() }

    /// The next message read that `accept` takes; fails after `limit` or if the connection ends.
    func next(within limit: Duration, _ what: String, where accept: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while true {
            let index = consumed
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw StreamTimedOut(what: what) }
            let milliseconds = max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            let bytes = try await peer.read(until: { sipMessages(in: $0).count > index }, within: .milliseconds(milliseconds))
            let message = sipMessages(in: bytes)[index]
            consumed += 1
            if accept(message) { return message }
            if message.hasPrefix("OPTIONS ") { try await send(SIPPhone.response(to: message, "200 OK")) }
        }
    }

    func nextRequest(_ method: String, within limit: Duration) async throws -> String {
        try await next(within: limit, "\(method) on the TLS connection") { $0.hasPrefix(method + " ") }
    }

    /// The next final response whose CSeq is `cseq` ("2 INVITE").
    func nextResponse(cseq: String, within limit: Duration) async throws -> String {
        try await next(within: limit, "a final response to \(cseq)") {
            $0.hasPrefix("SIP/2.0 ") && !$0.hasPrefix("SIP/2.0 1") && $0.sipHeader("CSeq") == cseq
        }
    }

    /// REGISTER, 401 (MD5 first), REGISTER with credentials, 200: all on this connection.
    func register(username: String, password: String) async throws {
        let uri = "sip:127.0.0.1:\(tlsPort);transport=tls"
        func request(cseq: Int, authorization: String?) -> String {
            "REGISTER \(uri) SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:\(port);branch=z9hG4bKtlsreg\(cseq)x\(port);rport\r\n"
                + "From: <sip:\(username)@127.0.0.1>;tag=tlsreg\(port)\r\nTo: <sip:\(username)@127.0.0.1>\r\n"
                + "Call-ID: tlsreg-\(port)@127.0.0.1\r\nCSeq: \(cseq) REGISTER\r\nContact: \(contact)\r\nExpires: 600\r\nMax-Forwards: 70\r\n"
                + (authorization.map { "Authorization: \($0)\r\n" } ?? "") + "Content-Length: 0\r\n\r\n"
        }
        try await send(request(cseq: 1, authorization: nil))
        let challenged = try await nextResponse(cseq: "1 REGISTER", within: .seconds(5))
        try #require(challenged.hasPrefix("SIP/2.0 401"), "401 to the first REGISTER: \(challenged)")
        #expect(challenged.sipHeader("Via")?.hasPrefix("SIP/2.0/TLS 127.0.0.1:\(port);") == true, "answered on the TLS connection")
        let challenge = try DigestChallenge.parse(try #require(challenged.sipHeader("WWW-Authenticate")))
        #expect(challenge.algorithm == .md5, "MD5 is challenged first")
        let credentials = DigestAuthorization(responding: challenge, username: username, password: password,
                                              method: "REGISTER", uri: uri, cnonce: "tls\(port)")
        try await send(request(cseq: 2, authorization: credentials.description))
        let ok = try await nextResponse(cseq: "2 REGISTER", within: .seconds(5))
        try #require(ok.hasPrefix("SIP/2.0 200"), "registered over TLS: \(ok)")
    }
}

/// A feature-code INVITE from agent 2001 on one transport: INVITE, 401, ACK, INVITE with
/// digest credentials, the final response (ACKed when it is not a 2xx).
fileprivate struct FeatureCodeChannel {
    var transport: String
    var port: Int
    var contact: String
    var send: (String) async throws -> Void
    var next: (_ cseq: String, _ within: Duration) async throws -> String

    private func request(_ method: String, uri: String, label: String, cseq: Int, branch: String, toTag: String? = nil,
                         authorization: String? = nil, sdp: String? = nil) -> String {
        "\(method) \(uri) SIP/2.0\r\nVia: SIP/2.0/\(transport) 127.0.0.1:\(port);branch=\(branch);rport\r\n"
            + "From: <sip:2001@127.0.0.1>;tag=\(label)\r\nTo: <\(uri)>\(toTag.map { ";tag=" + $0 } ?? "")\r\n"
            + "Call-ID: \(label)@127.0.0.1\r\nCSeq: \(cseq) \(method)\r\nContact: \(contact)\r\nMax-Forwards: 70\r\n"
            + (authorization.map { "Authorization: \($0)\r\n" } ?? "")
            + (sdp.map { "Content-Type: application/sdp\r\nContent-Length: \($0.utf8.count)\r\n\r\n" + $0 } ?? "Content-Length: 0\r\n\r\n")
    }

    /// The final response to the authenticated INVITE (a non-2xx already ACKed).
    func invite(uri: String, sdp: String, label: String) async throws -> String {
        try await send(request("INVITE", uri: uri, label: label, cseq: 1, branch: "z9hG4bK\(label)-1", sdp: sdp))
        let challenged = try await next("1 INVITE", .seconds(5))
        try #require(challenged.hasPrefix("SIP/2.0 401"), "a feature code is challenged first: \(challenged)")
        try await send(request("ACK", uri: uri, label: label, cseq: 1, branch: "z9hG4bK\(label)-1", toTag: StreamSIP.toTag(challenged)))
        let challenge = try DigestChallenge.parse(try #require(challenged.sipHeader("WWW-Authenticate")))
        let credentials = DigestAuthorization(responding: challenge, username: "2001", password: "pw-2001",
                                              method: "INVITE", uri: uri, cnonce: "c\(label)")
        try await send(request("INVITE", uri: uri, label: label, cseq: 2, branch: "z9hG4bK\(label)-2",
                               authorization: credentials.description, sdp: sdp))
        let final = try await next("2 INVITE", .seconds(10))
        if !final.hasPrefix("SIP/2.0 2") {
            try await send(request("ACK", uri: uri, label: label, cseq: 2, branch: "z9hG4bK\(label)-2", toTag: StreamSIP.toTag(final)))
        }
        return final
    }

    /// The ACK of a 2xx: a new transaction to the server's Contact.
    func ack(_ ok: String, label: String) async throws {
        let target = try #require(ok.sipHeader("Contact")?.firstMatch(of: /<([^>]+)>/).map { String($0.1) }, "Contact in the 200: \(ok)")
        let to = try #require(ok.sipHeader("To"))
        try await send("ACK \(target) SIP/2.0\r\nVia: SIP/2.0/\(transport) 127.0.0.1:\(port);branch=z9hG4bK\(label)-ack;rport\r\n"
            + "From: <sip:2001@127.0.0.1>;tag=\(label)\r\nTo: \(to)\r\nCall-ID: \(label)@127.0.0.1\r\nCSeq: 2 ACK\r\n"
            + "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    }
}

fileprivate extension RawUDP {
    /// The next final response with this CSeq, or a timeout error.
    func finalResponse(cseq: String, within limit: Duration) throws -> String {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            guard let message = receive(timeout: deadline - ContinuousClock.now) else { break }
            if message.hasPrefix("SIP/2.0 "), !message.hasPrefix("SIP/2.0 1"), message.sipHeader("CSeq") == cseq { return message }
        }
        throw StreamTimedOut(what: "a final response to \(cseq) over UDP")
    }
}

// MARK: - the caller

/// A caller on plain UDP offering PCMA who has dialled the queue (12345), been answered and
/// ACKed.
fileprivate struct QueueCaller {
    let server: ServerProcess
    let sip: RawUDP
    let callID: String
    let ok: String
    let media: SDPSummary
    let fromTag: String
    let toTag: String
    let serverContact: String

    static func dial(_ server: ServerProcess, rtp: LoopbackRTP, label: String) throws -> QueueCaller {
        let sip = try RawUDP()
        let callID = "\(label)-\(UUID().uuidString.prefix(8))@127.0.0.1"
        let sdp = BridgeAudioTests.sdp(port: rtp.port, formats: [(8, "PCMA/8000")], telephoneEvent: 101)
        sip.send("INVITE sip:12345@127.0.0.1:\(server.sipPort) SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:\(sip.port);branch=z9hG4bK\(label)-1;rport\r\n"
            + "From: <sip:13800000015@127.0.0.1:\(sip.port)>;tag=\(label)\r\nTo: <sip:12345@127.0.0.1>\r\n"
            + "Call-ID: \(callID)\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:\(sip.port)>\r\nMax-Forwards: 70\r\n"
            + "Content-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n" + sdp, to: server.sipPort)
        let ok = try #require(sip.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5)), "the queue answered the caller")
        let toTag = try #require(StreamSIP.toTag(ok), "To tag: \(ok)")
        let media = try #require(SDPSummary(message: ok), "SDP in the caller's 200: \(ok)")
        let contact = ok.sipHeader("Contact")?.firstMatch(of: /<([^>]+)>/).map { String($0.1) } ?? "sip:12345@127.0.0.1:\(server.sipPort)"
        let caller = QueueCaller(server: server, sip: sip, callID: callID, ok: ok, media: media, fromTag: label, toTag: toTag,
                                 serverContact: contact)
        sip.send(caller.inDialog("ACK", cseq: 1, branch: "z9hG4bK\(label)-2"), to: server.sipPort)
        return caller
    }

    func inDialog(_ method: String, cseq: Int, branch: String) -> String {
        "\(method) \(serverContact) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(sip.port);branch=\(branch);rport\r\n"
            + "From: <sip:13800000015@127.0.0.1:\(sip.port)>;tag=\(fromTag)\r\nTo: <sip:12345@127.0.0.1>;tag=\(toTag)\r\n"
            + "Call-ID: \(callID)\r\nCSeq: \(cseq) \(method)\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    }

    /// BYE, and its 200.
    func hangUp() throws {
        sip.send(inDialog("BYE", cseq: 2, branch: "z9hG4bKbye\(sip.port)"), to: server.sipPort)
        let ok = try sip.finalResponse(cseq: "2 BYE", within: .seconds(5))
        #expect(ok.hasPrefix("SIP/2.0 200"), "the caller's BYE: \(ok)")
    }
}

// MARK: - RTP and SRTP by hand

/// A plain RTP packet's payload type and payload (after SRTP is removed).
fileprivate struct PlainRTP {
    var payloadType: UInt8
    var payload: [UInt8]

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 12, bytes[0] >> 6 == 2 else { return nil }
        var start = 12 + 4 * Int(bytes[0] & 0x0f)
        if bytes[0] & 0x10 != 0, bytes.count >= start + 4 { start += 4 + 4 * (Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])) }
        var end = bytes.count
        if bytes[0] & 0x20 != 0 { end -= Int(bytes[end - 1]) }
        guard start <= end else { return nil }
        payloadType = bytes[1] & 0x7f
        payload = Array(bytes[start..<end])
    }
}

/// Media's SRTPContext on byte arrays.
fileprivate enum SRTP {
    static func protect(_ packet: [UInt8], with context: SRTPContext) -> [UInt8]? {
        var buffer = ByteBuffer(bytes: packet)
        return context.protect(&buffer) ? Array(buffer.readableBytesView) : nil
    }

    static func unprotect(_ datagram: [UInt8], with context: SRTPContext) -> [UInt8]? {
        var buffer = ByteBuffer(bytes: datagram)
        return context.unprotect(&buffer) ? Array(buffer.readableBytesView) : nil
    }
}

/// Whole datagrams as they arrive (LoopbackRTP parses them as RTP; SRTP needs every byte).
fileprivate enum RawDatagrams {
    /// Every datagram waiting now, without blocking.
    static func drain(_ socket: LoopbackRTP) -> [[UInt8]] {
        var all: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = recv(socket.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard n > 0 else { return all }
            all.append(Array(buffer[0..<n]))
        }
    }

    /// The caller's packets (parsed) and the agent's datagrams (whole) until `deadline`,
    /// waiting in poll(2) between them.
    static func pump(caller: LoopbackRTP, agent: LoopbackRTP, until deadline: ContinuousClock.Instant,
                     callerGot: inout [ReceivedRTP], capture: inout [[UInt8]]) {
        var fds = [pollfd(fd: caller.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: agent.fd, events: Int16(POLLIN), revents: 0)]
        while true {
            caller.drain { callerGot.append($0) }
            capture += drain(agent)
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return }
            let milliseconds = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            _ = poll(&fds, nfds_t(fds.count), milliseconds)
        }
    }
}
