import Codecs
import Foundation
import SIPAuth
import Testing
import Tickets
#if canImport(Glibc)
import Glibc
#endif

/// Issue 4's media acceptance: a caller queued at 12345 is bridged to an agent's phone, and
/// audio crosses the bridge both ways. Everything is hand-written SIP and RTP over loopback
/// against the real `hotline serve`: the agent registers with digest, is logged in through
/// the admin API, answers the server's INVITE with PCMA (G.711 passthrough) or Opus (the
/// server transcodes), and each side's received audio is decoded and measured with Goertzel
/// filters: the caller must hear the agent's 1,300 Hz tone, the agent the caller's 700 Hz.
@Suite(.serialized)
struct BridgeAudioTests {
    /// The codec the agent's phone picks from the server's offer.
    enum AgentCodec: String, CustomStringConvertible, CaseIterable {
        case pcma
        case opus
        var description: String { rawValue }
    }

    static let callerTone = 700.0
    static let agentTone = 1300.0
    /// 20 ms frames sent by each side: 2.4 s of audio.
    static let frames = 120

    @Test(arguments: AgentCodec.allCases)
    func audioCrossesTheBridgeBothWays(agentCodec: AgentCodec) async throws {
        let server = try await ServerProcess(dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", extra: [
            "--agents", "Tests/IntegrationTests/Dialplans/acd/agents.yaml",
            "--queues", "Tests/IntegrationTests/Dialplans/acd/queues.yaml",
        ])
        let agentSIP = try RawUDP(), callerSIP = try RawUDP()
        let agentRTP = try LoopbackRTP(), callerRTP = try LoopbackRTP()
        let phone = SIPPhone(server: server)

        // 1. The agent's phone registers (401 with MD5 first, then digest credentials).
        try phone.register(agentSIP, username: "2001", password: "pw-2001")

        // 2. The agent logs in.
        let (loginStatus, loginBody) = try await server.http("POST", "/api/agents/a2001/login")
        #expect(loginStatus == 200, "login: \(loginBody)")
        #expect(loginBody.contains("available"), "login: \(loginBody)")
        let metricsBefore = try await server.http("/metrics")
        let inBefore = Self.counter(metricsBefore, direction: "in"), outBefore = Self.counter(metricsBefore, direction: "out")

        // 3. A caller dials 12345 offering PCMA only; the queue answers and plays music.
        let callID = "bridge-\(agentCodec)-\(UUID().uuidString.prefix(8))@127.0.0.1"
        let callerSDP = Self.sdp(port: callerRTP.port, formats: [(8, "PCMA/8000")], telephoneEvent: 101)
        callerSIP.send("INVITE sip:12345@127.0.0.1:\(server.sipPort) SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:\(callerSIP.port);branch=z9hG4bKbridge1;rport\r\n"
            + "From: <sip:13800000001@127.0.0.1:\(callerSIP.port)>;tag=caller1\r\nTo: <sip:12345@127.0.0.1>\r\n"
            + "Call-ID: \(callID)\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:\(callerSIP.port)>\r\nMax-Forwards: 70\r\n"
            + "Content-Type: application/sdp\r\nContent-Length: \(callerSDP.utf8.count)\r\n\r\n" + callerSDP, to: server.sipPort)
        let callerOK = try #require(callerSIP.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5)), "caller answered")
        let callerToTag = try #require(callerOK.sipHeader("To")?.firstMatch(of: /tag=([^;>\s]+)/)).1
        let callerMedia = try #require(SDPSummary(message: callerOK), "SDP in the caller's 200: \(callerOK)")
        #expect(callerMedia.formats.first == 8, "caller leg answered with PCMA: \(callerOK)")
        let serverContact = callerOK.sipHeader("Contact")?.firstMatch(of: /<([^>]+)>/).map { String($0.1) }
            ?? "sip:12345@127.0.0.1:\(server.sipPort)"
        callerSIP.send("ACK \(serverContact) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(callerSIP.port);branch=z9hG4bKbridge2;rport\r\n"
            + "From: <sip:13800000001@127.0.0.1:\(callerSIP.port)>;tag=caller1\r\nTo: <sip:12345@127.0.0.1>;tag=\(callerToTag)\r\n"
            + "Call-ID: \(callID)\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", to: server.sipPort)

        // 4. The server rings the agent, offering Opus first; the phone rings, then answers.
        let invite = try #require(phone.nextRequest(agentSIP, "INVITE", timeout: .seconds(5)), "INVITE to the agent's phone")
        let offer = try #require(SDPSummary(message: invite), "SDP offer to the agent: \(invite)")
        let opusPT = try #require(offer.payloadType(named: "opus"), "opus offered: \(invite)")
        #expect(offer.formats.first == opusPT, "Opus is the server's first choice for agent legs: \(offer.formats)")
        #expect(offer.rtpmaps[opusPT]?.lowercased() == "opus/48000/2", "RFC 7587 rtpmap: \(offer.rtpmaps)")
        #expect(offer.formats.contains(8), "PCMA offered too: \(offer.formats)")
        let agentPT: UInt8 = agentCodec == .opus ? opusPT : 8
        let agentEncoding = agentCodec == .opus ? "opus/48000/2" : "PCMA/8000"
        let answerSDP = Self.sdp(port: agentRTP.port, formats: [(agentPT, agentEncoding)],
                                 telephoneEvent: offer.payloadType(named: "telephone-event"))
        agentSIP.send(SIPPhone.response(to: invite, "180 Ringing", toTag: "agent1"), to: server.sipPort)
        // While the agent's phone rings, the queued caller hears the queue's music.
        var music: [ReceivedRTP] = []
        LoopbackRTP.pump([callerRTP], until: ContinuousClock.now + .seconds(3), stopWhen: { !music.isEmpty }) { _, packet in
            music.append(packet)
        }
        #expect(music.first?.payloadType == 8, "the queued caller hears music (PCMA) while the agent is rung")
        agentSIP.send(SIPPhone.response(to: invite, "200 OK", toTag: "agent1",
                                        extra: "Contact: <sip:2001@127.0.0.1:\(agentSIP.port)>\r\nContent-Type: application/sdp\r\n",
                                        body: answerSDP), to: server.sipPort)
        #expect(phone.nextRequest(agentSIP, "ACK", timeout: .seconds(5)) != nil, "the server ACKs the agent's 200")
        // The server bridges as it ACKs: what reached us before is music (or nothing).
        callerRTP.drain { music.append($0) }
        agentRTP.drain { _ in }

        // 5. Both talk for 2.4 s, each to the RTP address the server's SDP gave it.
        let callerSends = Self.g711Frames(frequency: Self.callerTone)
        let agentSends: [[UInt8]]
        // The caller's sequence number and timestamp wrap around during the call (RFC 3550 §5.1).
        var agentStream = RTPStream(payloadType: agentPT, ssrc: 0x2001_0001, sequence: 40000, timestamp: 123_456)
        var callerStream = RTPStream(payloadType: 8, ssrc: 0x1380_0001, sequence: 65500, timestamp: 0xFFFF_F000)
        if agentCodec == .opus {
            let encoder = try OpusEncoder(sampleRate: 48000, channels: 1, application: .voip, bitrate: 32000)
            agentSends = try (0..<Self.frames).map { k in try encoder.encode(Self.tone(Self.agentTone, rate: 48000, frame: k)) }
        } else {
            agentSends = Self.g711Frames(frequency: Self.agentTone)
        }
        let agentTicks: UInt32 = agentCodec == .opus ? 960 : 160
        let clock = ContinuousClock()
        let start = clock.now
        var callerGot: [ReceivedRTP] = [], agentGot: [ReceivedRTP] = []
        for k in 0..<Self.frames {
            let due = start + .milliseconds(20 * k)
            LoopbackRTP.pump([callerRTP, agentRTP], until: due) { socket, packet in
                if socket === callerRTP { callerGot.append(packet) } else { agentGot.append(packet) }
            }
            callerRTP.send(callerStream.packet(callerSends[k], ticks: 160), to: callerMedia.port)
            agentRTP.send(agentStream.packet(agentSends[k], ticks: agentTicks), to: offer.port)
        }
        // What is still in flight (the transcoder holds up to a frame).
        LoopbackRTP.pump([callerRTP, agentRTP], until: clock.now + .milliseconds(200)) { socket, packet in
            if socket === callerRTP { callerGot.append(packet) } else { agentGot.append(packet) }
        }
        #expect(clock.now - start < .seconds(5), "the media phase is bounded")

        // 6. Decode and measure. The first 10 packets each side receives are skipped: the
        //    caller's may be the tail of the queue music, the Opus decoder needs a few frames.
        #expect(callerGot.count >= Self.frames * 8 / 10, "caller received \(callerGot.count) packets")
        #expect(agentGot.count >= Self.frames * 8 / 10, "agent received \(agentGot.count) packets")
        #expect(callerGot.allSatisfy { $0.payloadType == 8 }, "caller leg stays PCMA: \(Set(callerGot.map(\.payloadType)))")
        #expect(agentGot.allSatisfy { $0.payloadType == agentPT },
                "agent leg carries the negotiated payload type \(agentPT): \(Set(agentGot.map(\.payloadType)))")

        let callerHeard = callerGot.dropFirst(10).flatMap { G711.decode($0.payload, law: .aLaw) }
        let callerAgentShare = Self.toneShare(callerHeard, frequency: Self.agentTone, rate: 8000)
        let callerOwnShare = Self.toneShare(callerHeard, frequency: Self.callerTone, rate: 8000)
        #expect(callerAgentShare > 0.6, "the caller hears the agent's 1,300 Hz (share \(callerAgentShare))")
        #expect(callerOwnShare < 0.05, "and not their own 700 Hz nor music there (share \(callerOwnShare))")

        let agentHeard: [Int16]
        let agentRate: Double
        if agentCodec == .opus {
            let decoder = try OpusDecoder(sampleRate: 48000, channels: 1)
            agentHeard = try agentGot.dropFirst(10).flatMap { try decoder.decode($0.payload) }
            agentRate = 48000
        } else {
            agentHeard = agentGot.dropFirst(10).flatMap { G711.decode($0.payload, law: .aLaw) }
            agentRate = 8000
        }
        let agentCallerShare = Self.toneShare(agentHeard, frequency: Self.callerTone, rate: agentRate)
        let agentOwnShare = Self.toneShare(agentHeard, frequency: Self.agentTone, rate: agentRate)
        #expect(agentCallerShare > 0.6, "the agent hears the caller's 700 Hz (share \(agentCallerShare))")
        #expect(agentOwnShare < 0.05, "and not their own 1,300 Hz (share \(agentOwnShare))")

        if agentCodec == .pcma {
            // G.711 on both legs: relayed untouched, in order (each frame has its own level,
            // so a frame's bytes tell which one it was).
            let callerIndex = Dictionary(callerSends.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let agentIndex = Dictionary(agentSends.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let atAgent = agentGot.map { callerIndex[$0.payload] }
            let atCaller = callerGot.dropFirst(10).map { agentIndex[$0.payload] }
            #expect(atAgent.allSatisfy { $0 != nil }, "every payload the agent got is one the caller sent, byte for byte")
            #expect(atCaller.allSatisfy { $0 != nil }, "every payload the caller got (after the music) is one the agent sent")
            #expect(Self.isInSendingOrder(atAgent.compactMap { $0 }), "caller → agent in order: \(atAgent.compactMap { $0 })")
            #expect(Self.isInSendingOrder(atCaller.compactMap { $0 }), "agent → caller in order")
        }

        // 7. The caller hangs up; the server hangs the agent up.
        callerSIP.send("BYE \(serverContact) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(callerSIP.port);branch=z9hG4bKbridge3;rport\r\n"
            + "From: <sip:13800000001@127.0.0.1:\(callerSIP.port)>;tag=caller1\r\nTo: <sip:12345@127.0.0.1>;tag=\(callerToTag)\r\n"
            + "Call-ID: \(callID)\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", to: server.sipPort)
        #expect(callerSIP.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5))?.sipHeader("CSeq") == "2 BYE")
        let bye = try #require(phone.nextRequest(agentSIP, "BYE", timeout: .seconds(5)), "BYE to the agent")
        #expect(bye.sipHeader("Call-ID") == invite.sipHeader("Call-ID"))
        agentSIP.send(SIPPhone.response(to: bye, "200 OK"), to: server.sipPort)

        let metricsAfter = try await server.http("/metrics")
        let inAfter = Self.counter(metricsAfter, direction: "in"), outAfter = Self.counter(metricsAfter, direction: "out")
        #expect(inBefore == 0 && outBefore == 0, "no agent-leg RTP before the call: in \(inBefore), out \(outBefore)")
        #expect(inAfter - inBefore >= Self.frames * 8 / 10, "agent-leg RTP in (the agent sent \(Self.frames)): \(inBefore) → \(inAfter)")
        #expect(outAfter - outBefore >= agentGot.count, "agent-leg RTP out (the agent got \(agentGot.count)): \(outBefore) → \(outAfter)")

        #expect(await server.stop() == 0, "clean shutdown")
        let ticket = try #require(try server.tickets().first { $0.callID == callID }, "the call's ticket")
        #expect(ticket.disposition == .callerHangup)
        #expect(ticket.queue?.queue == "operator")
        #expect(ticket.queue?.agent == "a2001")
        #expect((ticket.queue?.talkMilliseconds ?? 0) > 0, "talk time: \(String(describing: ticket.queue))")
        #expect(ticket.queue?.agentAnsweredAt != nil)
    }

    // MARK: - audio

    /// 20 ms of a tone whose level changes every frame (16 levels), so each G.711 frame is
    /// distinct and relayed bytes can be traced to the frame they came from. 700 and 1,300 Hz
    /// make whole cycles in 20 ms, so the phase runs on smoothly from frame to frame.
    static func tone(_ frequency: Double, rate: Double, frame k: Int) -> [Int16] {
        let n = Int(rate / 50)
        let level = 4000.0 + 400.0 * Double(k % 16)
        return (0..<n).map { i in
            let t = Double(k * n + i) / rate
            return Int16(level * sin(2 * .pi * frequency * t))
        }
    }

    static func g711Frames(frequency: Double) -> [[UInt8]] {
        (0..<frames).map { G711.encode(tone(frequency, rate: 8000, frame: $0), law: .aLaw) }
    }

    /// The share of the signal's energy at `frequency`, from Goertzel filters over 20 ms
    /// windows (both test tones make whole cycles in one): 1 for a pure tone, 0 without it.
    static func toneShare(_ samples: [Int16], frequency: Double, rate: Double) -> Double {
        let n = Int(rate / 50)
        let coefficient = 2 * cos(2 * .pi * frequency / rate)
        var toneEnergy = 0.0, totalEnergy = 0.0
        var start = 0
        while start + n <= samples.count {
            var s1 = 0.0, s2 = 0.0, sum = 0.0
            for i in start..<(start + n) {
                let x = Double(samples[i])
                sum += x * x
                let s0 = x + coefficient * s1 - s2
                s2 = s1
                s1 = s0
            }
            let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2 // |X(f)|²
            toneEnergy += 2 * power / Double(n) // a sine of amplitude A: A²·N/2, as its Σx²
            totalEnergy += sum
            start += n
        }
        return totalEnergy > 0 ? toneEnergy / totalEnergy : 0
    }

    /// Indices in the 16-level pattern, each one frame after the one before.
    static func isInSendingOrder(_ indices: [Int]) -> Bool {
        zip(indices, indices.dropFirst()).allSatisfy { ($1 - $0 + 16) % 16 == 1 }
    }

    static func counter(_ metrics: String, direction: String) -> Int {
        prometheusValue(metrics, "hotline_agent_rtp_packets_total{direction=\"\(direction)\"}").map { Int($0) } ?? -1
    }

    static func sdp(port: Int, formats: [(UInt8, String)], telephoneEvent: UInt8?) -> String {
        let list = (formats.map(\.0) + (telephoneEvent.map { [$0] } ?? [])).map(String.init).joined(separator: " ")
        var text = "v=0\r\no=test 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio \(port) RTP/AVP \(list)\r\n"
        for (pt, name) in formats { text += "a=rtpmap:\(pt) \(name)\r\n" }
        if let telephoneEvent { text += "a=rtpmap:\(telephoneEvent) telephone-event/8000\r\na=fmtp:\(telephoneEvent) 0-16\r\n" }
        return text + "a=ptime:20\r\na=sendrecv\r\n"
    }
}

// MARK: - SIP by hand

/// The agent's phone's SIP: REGISTER with digest, requests from the server, responses.
struct SIPPhone {
    let server: ServerProcess

    /// REGISTER, 401 (the first challenge: MD5), REGISTER with credentials, 200.
    func register(_ udp: RawUDP, username: String, password: String) throws {
        let ok = try registerAnswer(udp, username: username, password: password)
        #expect(ok.hasPrefix("SIP/2.0 200"), "registered: \(ok)")
    }

    /// REGISTER, 401 (the first challenge: MD5), REGISTER with credentials: the final answer.
    func registerAnswer(_ udp: RawUDP, username: String, password: String) throws -> String {
        let uri = "sip:127.0.0.1:\(server.sipPort)"
        func request(cseq: Int, authorization: String?) -> String {
            "REGISTER \(uri) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(udp.port);branch=z9hG4bKreg\(cseq)\(udp.port);rport\r\n"
                + "From: <sip:\(username)@127.0.0.1:\(server.sipPort)>;tag=reg\(udp.port)\r\n"
                + "To: <sip:\(username)@127.0.0.1:\(server.sipPort)>\r\nCall-ID: reg-\(udp.port)@127.0.0.1\r\n"
                + "CSeq: \(cseq) REGISTER\r\nContact: <sip:\(username)@127.0.0.1:\(udp.port)>\r\nExpires: 600\r\nMax-Forwards: 70\r\n"
                + (authorization.map { "Authorization: \($0)\r\n" } ?? "") + "Content-Length: 0\r\n\r\n"
        }
        udp.send(request(cseq: 1, authorization: nil), to: server.sipPort)
        let challenged = try #require(udp.receive(startingWith: "SIP/2.0 401", timeout: .seconds(5)), "401 to the first REGISTER")
        let challenge = try DigestChallenge.parse(try #require(challenged.sipHeader("WWW-Authenticate")))
        #expect(challenge.algorithm == .md5, "MD5 is challenged first")
        #expect(challenge.realm == "hotline")
        let credentials = DigestAuthorization(responding: challenge, username: username, password: password,
                                              method: "REGISTER", uri: uri, cnonce: "c\(udp.port)")
        #expect(credentials.qop == "auth")
        udp.send(request(cseq: 2, authorization: credentials.description), to: server.sipPort)
        return try #require(udp.receive(startingWith: "SIP/2.0", timeout: .seconds(5)), "answer to the REGISTER with credentials")
    }

    /// The next request with this method; OPTIONS keep-alives on the way are answered.
    func nextRequest(_ udp: RawUDP, _ method: String, timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let message = udp.receive(timeout: deadline - ContinuousClock.now) else { return nil }
            if message.hasPrefix(method + " ") { return message }
            if message.hasPrefix("OPTIONS ") { udp.send(Self.response(to: message, "200 OK"), to: server.sipPort) }
        }
        return nil
    }

    /// A response copying the request's Via, From, To (tagged if need be), Call-ID and CSeq.
    static func response(to request: String, _ status: String, toTag: String? = nil, extra: String = "", body: String = "") -> String {
        var headers = ""
        for line in request.components(separatedBy: "\r\n") {
            if line.isEmpty { break }
            let name = line.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            switch name {
            case "via", "v", "from", "f", "call-id", "i", "cseq":
                headers += line + "\r\n"
            case "to", "t":
                if let toTag, !line.contains("tag=") { headers += line + ";tag=\(toTag)\r\n" } else { headers += line + "\r\n" }
            default:
                break
            }
        }
        return "SIP/2.0 \(status)\r\n" + headers + extra + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }
}

/// What the tests need of an SDP body: the audio port, formats in order, rtpmaps.
struct SDPSummary {
    var port: Int
    var formats: [UInt8]
    var rtpmaps: [UInt8: String]

    init?(message: String) {
        guard let range = message.range(of: "\r\n\r\n") else { return nil }
        var port: Int?, formats: [UInt8] = [], maps: [UInt8: String] = [:]
        for line in message[range.upperBound...].components(separatedBy: "\r\n") {
            if line.hasPrefix("m=audio ") {
                let parts = line.split(separator: " ")
                port = parts.count > 1 ? Int(parts[1]) : nil
                formats = parts.dropFirst(3).compactMap { UInt8($0) }
            } else if line.hasPrefix("a=rtpmap:") {
                let parts = line.dropFirst("a=rtpmap:".count).split(separator: " ", maxSplits: 1)
                if parts.count == 2, let pt = UInt8(parts[0]) { maps[pt] = String(parts[1]) }
            }
        }
        guard let port else { return nil }
        self.port = port
        self.formats = formats
        self.rtpmaps = maps
    }

    func payloadType(named name: String) -> UInt8? {
        formats.first { rtpmaps[$0]?.lowercased().hasPrefix(name.lowercased() + "/") == true }
    }
}

// MARK: - RTP by hand

/// One RTP packet as received: payload type and payload bytes.
struct ReceivedRTP {
    var payloadType: UInt8
    var payload: [UInt8]
}

/// An RTP sender's state (RFC 3550 §5.1): SSRC, sequence number and timestamp.
struct RTPStream {
    let payloadType: UInt8
    let ssrc: UInt32
    var sequence: UInt16
    var timestamp: UInt32
    var first = true

    init(payloadType: UInt8, ssrc: UInt32, sequence: UInt16, timestamp: UInt32) {
        self.payloadType = payloadType
        self.ssrc = ssrc
        self.sequence = sequence
        self.timestamp = timestamp
    }

    /// The next packet; `ticks` is the frame's duration in clock units.
    mutating func packet(_ payload: [UInt8], ticks: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0x80, (first ? 0x80 : 0) | payloadType & 0x7f,
                              UInt8(sequence >> 8), UInt8(sequence & 0xff)]
        for word in [timestamp, ssrc] {
            bytes += [UInt8(word >> 24), UInt8(word >> 16 & 0xff), UInt8(word >> 8 & 0xff), UInt8(word & 0xff)]
        }
        first = false
        sequence &+= 1
        timestamp &+= ticks
        return bytes + payload
    }
}

/// A bare UDP socket on 127.0.0.1 for RTP: binary datagrams, and a poll loop over several.
final class LoopbackRTP {
    /// Bound to 127.0.0.1:0, and closed, by RawUDP; here only its descriptor is used.
    private let udp: RawUDP
    var fd: Int32 { udp.fd }
    var port: Int { udp.port }

    init() throws { udp = try RawUDP() }

    func send(_ bytes: [UInt8], to port: Int) { udp.send(bytes: bytes, to: port) }

    /// Every datagram waiting now, without blocking; RTP version 2 packets only.
    func drain(_ handle: (ReceivedRTP) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard n > 0 else { return }
            guard n >= 12, buffer[0] >> 6 == 2 else { continue }
            let csrcs = Int(buffer[0] & 0x0f)
            var start = 12 + 4 * csrcs
            if buffer[0] & 0x10 != 0, n >= start + 4 { start += 4 + 4 * (Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])) }
            var end = n
            if buffer[0] & 0x20 != 0 { end -= Int(buffer[n - 1]) }
            guard start <= end else { continue }
            handle(ReceivedRTP(payloadType: buffer[1] & 0x7f, payload: Array(buffer[start..<end])))
        }
    }

    /// Receives on all `sockets` until `deadline` (or `stopWhen` holds), waiting in poll(2)
    /// between datagrams.
    static func pump(_ sockets: [LoopbackRTP], until deadline: ContinuousClock.Instant, stopWhen: () -> Bool = { false },
                     _ handle: (LoopbackRTP, ReceivedRTP) -> Void) {
        var fds = sockets.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        while true {
            for socket in sockets { socket.drain { handle(socket, $0) } }
            if stopWhen() { return }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return }
            let milliseconds = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            _ = poll(&fds, nfds_t(fds.count), milliseconds)
        }
    }
}
