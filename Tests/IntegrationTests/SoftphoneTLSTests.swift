import Codecs
import Foundation
import Testing
import Tickets
#if canImport(Glibc)
import Glibc
#endif

/// Issue 15's home seat, with a real softphone: baresip (Debian 12's 1.0.0) registers over
/// SIP/TLS, verifying the server's certificate against a throwaway CA, as agent a2001 whose
/// agents.yaml entry says `media_encryption: required`; with `mediaenc=srtp-mand` it answers a
/// queued caller on plain UDP G.711. The caller hears baresip's 1,300 Hz (its microphone is
/// baresip's sine source), and baresip decodes the caller's 700 Hz (its `sndfile` dump): SRTP
/// on the agent leg, Opus there, G.711 on the caller's. docs/softphones.md has the same setup.
extension LoopbackClusterSuites {
// Serialized with the cluster suites: baresip encodes Opus in real time beside the server.
@Suite(.serialized)
struct SoftphoneTLSTests {
    typealias Baresip = LoopbackClusterSuites.ClusterSoftphoneTests.Baresip

    /// The integration agents with a2001 on required SRTP and MD5 challenges only (baresip 1.0
    /// gives up at a SHA-256 one).
    static func agentsFile(in directory: URL) throws -> String {
        let source = Repo.root.appendingPathComponent("Tests/IntegrationTests/Dialplans/acd/agents.yaml")
        var text = try String(contentsOf: source, encoding: .utf8)
        text = text.replacing(/(?m)^digest_algorithms: .*$/, with: "digest_algorithms: [md5]")
        text = text.replacingOccurrences(of: "    sip_username: \"2001\"\n", with: "    sip_username: \"2001\"\n    media_encryption: required\n")
        try #require(text.contains("media_encryption: required\n") && text.contains("digest_algorithms: [md5]\n"), "\(text)")
        let file = directory.appendingPathComponent("agents.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("baresip registers over TLS with mediaenc=srtp-mand and talks to a UDP caller: tones both ways")
    func baresipOverTLSWithMandatorySRTP() async throws {
        let executable = try #require(Baresip.locate(), "baresip not found: make test installs it (Debian package baresip)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-tls-phone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pki = try await TestPKI.make(in: directory)
        let server = try await ServerProcess(dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", extra: [
            "--agents", try Self.agentsFile(in: directory), "--queues", "Tests/IntegrationTests/Dialplans/acd/queues.yaml",
            "--sip-tls", "127.0.0.1:0", "--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey,
        ])
        let tlsPort = try #require(server.tlsPort, "the ready line names the TLS listener")
        let account = "<sip:2001@127.0.0.1:\(tlsPort);transport=tls>;auth_pass=pw-2001;regint=60;answermode=auto"
            + ";mediaenc=srtp-mand;audio_codecs=opus/48000/2"
        let phone = try Baresip(executable, account: account, audioSource: "ausine,1300", extraConfig: """
            sip_cafile       \(pki.caCertificate)
            module           opus.so
            module           srtp.so
            module           ausine.so
            """)
        do {
            try await exercise(server: server, phone: phone)
        } catch {
            print("baresip output:\n\(phone.output.suffix(4000))\nserver log:\n\(server.log.suffix(4000))")
            await phone.stop()
            throw error
        }
        await phone.stop()
        #expect(await server.stop() == 0, "clean shutdown")
    }

    private func exercise(server: ServerProcess, phone: Baresip) async throws {
        // 1. Registered over TLS (the binding's source says so), then logged in.
        var seen = ""
        let registered = try await ClusterACDTests.eventually(.seconds(20)) {
            try #require(phone.isRunning, "baresip exited:\n\(phone.output.suffix(3000))")
            let agent = try await ContactCentreTests.agents(server)["a2001"]
            seen = "\(agent ?? [:])"
            return agent?["reachable"] as? Bool == true
        }
        try #require(registered, "baresip registered a2001: \(seen)\n\(phone.output.suffix(3000))")
        #expect(seen.contains("tls:127.0.0.1:"), "the binding is a TLS flow: \(seen)")
        #expect(phone.output.contains("{0/TLS/v4} 200 OK"), "baresip saw its REGISTER accepted over TLS")
        let (status, body) = try await server.http("POST", "/api/agents/a2001/login")
        try #require(status == 200, "login: \(body)")

        // 2. A caller on UDP, PCMA, sends 700 Hz for 5 s from the ACK on.
        let callerSIP = try RawUDP(), callerRTP = try LoopbackRTP()
        let callID = "tls-phone-\(UUID().uuidString.prefix(8))@127.0.0.1"
        let sdp = BridgeAudioTests.sdp(port: callerRTP.port, formats: [(8, "PCMA/8000")], telephoneEvent: 101)
        callerSIP.send("INVITE sip:12345@127.0.0.1:\(server.sipPort) SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:\(callerSIP.port);branch=z9hG4bKtlsphone1;rport\r\n"
            + "From: <sip:13800000002@127.0.0.1:\(callerSIP.port)>;tag=caller2\r\nTo: <sip:12345@127.0.0.1>\r\n"
            + "Call-ID: \(callID)\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:\(callerSIP.port)>\r\nMax-Forwards: 70\r\n"
            + "Content-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n" + sdp, to: server.sipPort)
        let ok = try #require(callerSIP.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5)), "caller answered")
        let toTag = try #require(ok.sipHeader("To")?.firstMatch(of: /tag=([^;>\s]+)/)).1
        let media = try #require(SDPSummary(message: ok), "SDP in the caller's 200")
        #expect(!ok.contains("a=crypto"), "the UDP caller's leg is plain RTP")
        let contact = ok.sipHeader("Contact")?.firstMatch(of: /<([^>]+)>/).map { String($0.1) } ?? "sip:12345@127.0.0.1:\(server.sipPort)"
        func inDialog(_ method: String, cseq: Int, branch: String) -> String {
            "\(method) \(contact) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(callerSIP.port);branch=\(branch);rport\r\n"
                + "From: <sip:13800000002@127.0.0.1:\(callerSIP.port)>;tag=caller2\r\nTo: <sip:12345@127.0.0.1>;tag=\(toTag)\r\n"
                + "Call-ID: \(callID)\r\nCSeq: \(cseq) \(method)\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        }
        callerSIP.send(inDialog("ACK", cseq: 1, branch: "z9hG4bKtlsphone2"), to: server.sipPort)

        let frames = 250
        var stream = RTPStream(payloadType: 8, ssrc: 0x1380_0002, sequence: 1, timestamp: 0)
        var heard: [ReceivedRTP] = []
        let clock = ContinuousClock()
        let start = clock.now
        for k in 0..<frames {
            LoopbackRTP.pump([callerRTP], until: start + .milliseconds(20 * k)) { _, packet in heard.append(packet) }
            callerRTP.send(stream.packet(G711.encode(BridgeAudioTests.tone(BridgeAudioTests.callerTone, rate: 8000, frame: k), law: .aLaw),
                                         ticks: 160), to: media.port)
        }
        LoopbackRTP.pump([callerRTP], until: clock.now + .milliseconds(200)) { _, packet in heard.append(packet) }

        // 3. The agent leg ran SRTP, and nothing arrived that failed authentication.
        let log = server.log
        #expect(log.contains("srtp=AES_CM_128_HMAC_SHA1_80"), "the agent leg negotiated SDES SRTP:\n\(log.suffix(3000))")
        #expect(phone.output.contains("SRTP is Enabled"), "baresip ran SRTP")
        #expect(!log.contains("inline:"), "no SDES key in the server's debug log")
        let metrics = try await server.http("/metrics")
        #expect(prometheusValue(metrics, "hotline_srtp_rejected_packets_total") == 0, "no SRTP packet refused")
        #expect(BridgeAudioTests.counter(metrics, direction: "in") > 100, "SRTP from baresip reached the bridge")

        // 4. The caller heard baresip's 1,300 Hz (its last 3 s: the bridge is up by then).
        let tail = heard.suffix(150).filter { $0.payloadType == 8 }
        #expect(tail.count >= 120, "the caller received \(tail.count) PCMA packets in the last 3 s")
        let callerHeard = tail.flatMap { G711.decode($0.payload, law: .aLaw) }
        let agentShare = BridgeAudioTests.toneShare(callerHeard, frequency: BridgeAudioTests.agentTone, rate: 8000)
        #expect(agentShare > 0.5, "the caller hears baresip's 1,300 Hz through Opus SRTP (share \(agentShare))")

        // 5. The caller hangs up; baresip's dump of what it decoded holds the caller's 700 Hz.
        callerSIP.send(inDialog("BYE", cseq: 2, branch: "z9hG4bKtlsphone3"), to: server.sipPort)
        #expect(callerSIP.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5))?.sipHeader("CSeq") == "2 BYE")
        let ended = try await ClusterACDTests.eventually(.seconds(10)) { phone.output.contains("terminated") }
        #expect(ended, "baresip saw the call end")
        let decoded = try #require(try Self.decodedDump(phone.directory), "baresip's decoded-audio dump")
        let rate = Double(decoded.rate)
        let lastSeconds = Array(decoded.samples.suffix(decoded.rate * 3))
        let callerShare = BridgeAudioTests.toneShare(lastSeconds, frequency: BridgeAudioTests.callerTone, rate: rate)
        #expect(callerShare > 0.5, "baresip decoded the caller's 700 Hz from SRTP (share \(callerShare), \(decoded.samples.count) samples at \(decoded.rate) Hz)")
    }

    /// The first channel of baresip's newest `dump-*-dec.wav` (sndfile: 16-bit PCM).
    static func decodedDump(_ directory: URL) throws -> (rate: Int, samples: [Int16])? {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix("-dec.wav") }.sorted()
        guard let name = names.last else { return nil }
        let data = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
        func le32(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 | Int(data[at + 2]) << 16 | Int(data[at + 3]) << 24 }
        func le16(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 }
        guard data.count > 12, data[0..<4].elementsEqual("RIFF".utf8), data[8..<12].elementsEqual("WAVE".utf8) else { return nil }
        var offset = 12, channels = 1, rate = 0, bits = 0
        while offset + 8 <= data.count {
            let id = String(decoding: data[offset..<offset + 4], as: UTF8.self), size = le32(offset + 4)
            let body = offset + 8
            if id == "fmt " {
                channels = le16(body + 2); rate = le32(body + 4); bits = le16(body + 14)
            } else if id == "data" {
                guard bits == 16, channels >= 1 else { return nil }
                let end = min(data.count, body + size), step = 2 * channels
                let samples = stride(from: body, to: end - 1, by: step).map { Int16(bitPattern: UInt16(le16($0))) }
                return (rate, samples)
            }
            offset = body + size + (size & 1)
        }
        return nil
    }
}
}
