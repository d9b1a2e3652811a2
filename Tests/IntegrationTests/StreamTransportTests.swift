import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import StreamTestSupport
import Testing
import Tickets

// SIP over TCP and TLS (issue 15) against a real `hotline serve`: the conformance flows over
// SIPp's TCP mode, a 100 KB INVITE, a slow-loris peer cut off while calls go on, and TLS with
// and without client certificates. Loopback only; openssl and SIPp must be installed (a
// missing tool fails, never skips).

/// Hand-written requests over a stream: Via names the transport and the connection's port.
enum StreamSIP {
    static func request(_ method: String, uri: String = "sip:12345@127.0.0.1", transport: String, port: Int, callID: String,
                        branch: String, toTag: String? = nil, cseq: Int = 1, extraHeaders: String = "",
                        contentType: String? = nil, body: String = "") -> String {
        "\(method) \(uri) SIP/2.0\r\nVia: SIP/2.0/\(transport) 127.0.0.1:\(port);branch=\(branch);rport\r\n"
            + "From: <sip:13800000000@127.0.0.1>;tag=stream1\r\nTo: <sip:12345@127.0.0.1>\(toTag.map { ";tag=" + $0 } ?? "")\r\n"
            + "Call-ID: \(callID)\r\nCSeq: \(cseq) \(method)\r\n"
            + "Contact: <sip:caller@127.0.0.1:\(port);transport=\(transport.lowercased())>\r\nMax-Forwards: 70\r\n" + extraHeaders
            + (contentType.map { "Content-Type: \($0)\r\n" } ?? "") + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    static func sdp(port: Int = 49170, padding: Int = 0) -> String {
        var sdp = "v=0\r\no=stream 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=audio \(port) RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        // Attribute lines nobody knows (RFC 4566 §5.13: ignored), 100 bytes each.
        for i in 0..<(padding / 100) {
            sdp += "a=x-pad-\(String(format: "%05d", i)):" + String(repeating: "p", count: 100 - 17) + "\r\n"
        }
        return sdp
    }

    /// The To tag of a response.
    static func toTag(_ response: String) -> String? {
        response.sipHeader("To")?.firstMatch(of: /tag=([^;>\s]+)/).map { String($0.1) }
    }

    /// A 200 OK to a request the server sent (its BYE).
    static func ok(to request: String) -> String {
        var lines = ["SIP/2.0 200 OK"]
        for line in request.split(separator: "\r\n") {
            let name = line.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if ["via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"].contains(name) { lines.append(String(line)) }
        }
        return lines.joined(separator: "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
    }
}

/// A throwaway PKI made with the openssl CLI in the test's directory: a CA, a server
/// certificate for 127.0.0.1 (CN and IP subjectAltName) and a client certificate.
struct TestPKI {
    let caCertificate: String, caKey: String
    let serverCertificate: String, serverKey: String
    let clientCertificate: String, clientKey: String

    static func make(in directory: URL) async throws -> TestPKI {
        let tool = try #require(Repo.which("openssl") ?? (FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") ? "/usr/bin/openssl" : nil),
                                   "openssl not found (Debian package openssl)")
        let dir = directory.appendingPathComponent("pki")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func openssl(_ arguments: [String]) async throws {
            let result = try await run(tool, arguments, timeout: .seconds(30))
            try #require(result.status == 0, "openssl \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await openssl(["req", "-x509"] + ec + ["-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
                          "-subj", "/CN=Hotline test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        for (name, subject, usage, san) in [("server", "/CN=127.0.0.1", "serverAuth", "subjectAltName=IP:127.0.0.1\n"),
                                            ("client", "/CN=agent-1001", "clientAuth", "")] {
            try await openssl(["req"] + ec + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
            try (san + "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=\(usage)\n")
                .write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
            try await openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                               "-CAcreateserial", "-days", "2", "-out", path("\(name).pem"), "-extfile", path("\(name).ext")])
        }
        return TestPKI(caCertificate: path("ca.pem"), caKey: path("ca.key"), serverCertificate: path("server.pem"),
                       serverKey: path("server.key"), clientCertificate: path("client.pem"), clientKey: path("client.key"))
    }

    /// A client context that verifies the server against our CA (and its 127.0.0.1 SAN), with
    /// the client certificate or without one.
    func clientContext(presentingCertificate: Bool) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caCertificate))
        configuration.certificateVerification = .fullVerification
        if presentingCertificate {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientKey, format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// One event loop for a test's clients, shut down at the end.
func withClientLoop<T>(_ body: (EventLoopGroup) async throws -> T) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    do {
        let value = try await body(group)
        try await group.shutdownGracefully()
        return value
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}

extension LoopbackClusterSuites {
/// The conformance flows (the shared kit's scenarios, Tests/IntegrationTests/Scenarios' copies)
/// by SIPp over TCP: `-t t1` (one connection for all of a run's calls) and `-t tn` (one per call).
@Suite(.serialized)
struct StreamTransportConformanceTests {
    static let scenarios: [(name: String, service: String)] = [
        ("options", "12345"), ("ivr-key3-info", "12345"), ("ivr-key3-rfc2833", "12345"),
        ("caller-hangup", "12345"), ("cancel-ringing", "12346"), ("unknown-number", "99999"),
    ]

    @Test("every conformance scenario passes over SIPp -t t1, and 100-call floods at 20/s on one connection and on one per call; each call has its ticket")
    func conformanceOverTCP() async throws {
        let server = try await ServerProcess(extra: ["--sip-tcp", "127.0.0.1:0"])
        let tcpPort = try #require(server.tcpPort, "the ready line names the TCP listener")
        #expect(server.tlsPort == nil, "no TLS listener unless asked")
        for (name, service) in Self.scenarios {
            let result = try await server.sipp(name, service: service, transport: .tcp)
            #expect(result.status == 0, "\(name) over TCP: \(result.stderr.suffix(2000))")
        }
        let flood = try await server.sipp("ivr-key3-info", calls: 100, rate: 20, transport: .tcp, timeout: .seconds(120))
        #expect(flood.status == 0, "flood on one TCP connection: \(flood.stderr.suffix(2000))")
        let perCall = try await server.sipp("ivr-key3-info", calls: 100, rate: 20, transport: .tcpPerCall, timeout: .seconds(120))
        #expect(perCall.status == 0, "flood with a TCP connection per call: \(perCall.stderr.suffix(2000))")

        let metrics = try await server.http("/metrics")
        // t1: one connection per SIPp run (6 scenarios, a flood); tn: one per call (100).
        let accepted = prometheusValue(metrics, "hotline_sip_connections_total{origin=\"accepted\"}") ?? -1
        #expect(accepted == 107, "every call came over TCP: \(accepted) connections")
        #expect(prometheusValue(metrics, "hotline_sip_connections_total{origin=\"opened\"}") == 0,
                "the server's BYEs went back on the callers' connections, none opened")
        for reason in ["over_limit", "framing", "slow", "tls", "connect_failed"] {
            #expect(prometheusValue(metrics, "hotline_sip_connections_closed_total{reason=\"\(reason)\"}") == 0, "\(reason)")
        }
        // The server's own requests (its BYE after key 3) name TCP and the TCP port in Via.
        let traces = server.messagesLog("ivr-key3-info").joined()
        let bye = try #require(traces.components(separatedBy: "BYE sip:").dropFirst().first, "the server's BYE in SIPp's trace")
        #expect(bye.contains("Via: SIP/2.0/TCP 127.0.0.1:\(tcpPort);"), "\(bye.prefix(400))")

        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        // options: none; unknown-number: 1 rejected; cancel-ringing: 1; the IVR calls: 1 + 1 + 100 + 100; caller-hangup: 1.
        #expect(tickets.count == 205, "one ticket per call: \(tickets.count)")
        #expect(Set(tickets.map(\.callID)).count == tickets.count)
        #expect(tickets.filter { $0.disposition == .completedInIVR }.count == 202)
        #expect(tickets.filter { $0.disposition == .callerHangup }.count == 1)
        #expect(tickets.filter { $0.disposition == .cancelled }.count == 1)
        #expect(tickets.filter { $0.sipStatus == 404 }.count == 1)
    }
}

/// What SIPp cannot show over a stream: a 100 KB INVITE, a slow-loris peer, TLS.
@Suite(.serialized)
struct StreamTransportTests {
    @Test("a 100 KB INVITE over TCP is parsed: 100 Trying and 200 OK on its connection; the call and the server go on")
    func largeInviteOverTCP() async throws {
        let server = try await ServerProcess(extra: ["--sip-tcp", "127.0.0.1:0"])
        let tcpPort = try #require(server.tcpPort)
        try await withClientLoop { group in
            let peer = try await StreamPeer.connect(port: tcpPort, group: group)
            let port = peer.localPort
            // 40 KB of header (the header limit is 64 KiB) and a 62 KB SDP body (the body limit is 1 MiB).
            let invite = StreamSIP.request("INVITE", transport: "TCP", port: port, callID: "big-1@127.0.0.1", branch: "z9hG4bKbig1",
                                           extraHeaders: "X-Padding: " + String(repeating: "h", count: 40_000) + "\r\n",
                                           contentType: "application/sdp", body: StreamSIP.sdp(padding: 62_000))
            #expect(invite.utf8.count >= 100_000, "\(invite.utf8.count) bytes")
            try await peer.write(invite)
            let trying = try await peer.message(startingWith: "SIP/2.0 100")
            #expect(trying.sipHeader("Call-ID") == "big-1@127.0.0.1")
            let ok = try await peer.message(startingWith: "SIP/2.0 200")
            #expect(ok.sipHeader("CSeq") == "1 INVITE")
            #expect(ok.sipHeader("Via")?.hasPrefix("SIP/2.0/TCP 127.0.0.1:\(port);branch=z9hG4bKbig1") == true, "\(ok.sipHeader("Via") ?? "")")
            #expect(ok.contains("\r\nm=audio "), "an SDP answer")
            #expect(ok.sipHeader("Contact")?.contains(";transport=tcp") == true, "our Contact names TCP: \(ok.sipHeader("Contact") ?? "")")
            let toTag = try #require(StreamSIP.toTag(ok))
            try await peer.write(StreamSIP.request("ACK", transport: "TCP", port: port, callID: "big-1@127.0.0.1", branch: "z9hG4bKbigack", toTag: toTag))
            try await peer.write(StreamSIP.request("BYE", transport: "TCP", port: port, callID: "big-1@127.0.0.1", branch: "z9hG4bKbigbye", toTag: toTag, cseq: 2))
            let byeOK = try await peer.message(startingWith: "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:\(port);branch=z9hG4bKbigbye")
            #expect(byeOK.sipHeader("CSeq") == "2 BYE")
            // The same connection still serves.
            try await peer.write(StreamSIP.request("OPTIONS", transport: "TCP", port: port, callID: "big-2@127.0.0.1", branch: "z9hG4bKbigopt"))
            _ = try await peer.message(startingWith: "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:\(port);branch=z9hG4bKbigopt")
            await peer.close()
        }
        // And so does the server, over UDP and TCP.
        let udpCall = try await server.sipp("ivr-key3-info")
        #expect(udpCall.status == 0, "\(udpCall.stderr.suffix(2000))")
        let tcpCall = try await server.sipp("ivr-key3-info", transport: .tcp)
        #expect(tcpCall.status == 0, "\(tcpCall.stderr.suffix(2000))")
        let metrics = try await server.http("/metrics")
        #expect(prometheusValue(metrics, "hotline_sip_connections_closed_total{reason=\"framing\"}") == 0)
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        #expect(tickets.first { $0.callID == "big-1@127.0.0.1" }?.disposition == .callerHangup, "the big INVITE's call has its ticket")
        #expect(tickets.count == 3)
    }

    @Test("a slow-loris TCP peer is disconnected after --sip-message-timeout, while UDP and TCP calls made meanwhile succeed")
    func slowLorisIsCutOff() async throws {
        let server = try await ServerProcess(extra: ["--sip-tcp", "127.0.0.1:0", "--sip-message-timeout", "2s"])
        let tcpPort = try #require(server.tcpPort)
        try await withClientLoop { group in
            let peer = try await StreamPeer.connect(port: tcpPort, group: group)
            let header = Array(("INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:\(peer.localPort);branch=z9hG4bKslow\r\n"
                                + "X-Slow: " + String(repeating: "s", count: 400)).utf8)
            let began = ContinuousClock.now
            // Three bytes every 250 ms (the whole header would take 35 s), at most 60 times.
            let dribble = Task {
                var sent = 0
                for start in stride(from: 0, to: header.count, by: 3).prefix(60) {
                    guard (try? await peer.write(Array(header[start..<min(start + 3, header.count)]))) != nil else { break }
                    sent += 1
                    guard (try? await Task.sleep(for: .milliseconds(250))) != nil else { break }
                }
                return sent
            }
            // Calls over UDP and TCP while the slow peer holds its connection.
            async let udpCall = server.sipp("ivr-key3-info")
            async let tcpCall = server.sipp("ivr-key3-info", transport: .tcp)
            try await peer.awaitClosed(within: .seconds(10))
            let took = ContinuousClock.now - began
            dribble.cancel()
            let dribbled = await dribble.value
            #expect(took >= .seconds(2), "not before the limit: \(took)")
            #expect(took < .seconds(8), "cut off soon after the 2 s limit: \(took)")
            #expect(dribbled >= 4, "the peer kept sending (\(dribbled) writes): it was slow, not idle")
            #expect(try await peer.messages().isEmpty, "nothing was answered to the incomplete INVITE")
            let (udp, tcp) = try await (udpCall, tcpCall)
            #expect(udp.status == 0, "the UDP call: \(udp.stderr.suffix(2000))")
            #expect(tcp.status == 0, "the TCP call: \(tcp.stderr.suffix(2000))")
        }
        let metrics = try await server.http("/metrics")
        #expect(prometheusValue(metrics, "hotline_sip_connections_closed_total{reason=\"slow\"}") == 1, "\(metrics.split(separator: "\n").filter { $0.contains("closed_total") })")
        #expect(prometheusValue(metrics, "hotline_sip_connections_closed_total{reason=\"framing\"}") == 0)
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        #expect(tickets.count == 2, "the two calls, nothing for the incomplete INVITE: \(tickets.map(\.callID))")
        #expect(tickets.allSatisfy { $0.disposition == .completedInIVR })
    }

    @Test("over TLS: OPTIONS gets 200, and a call's INVITE, key 3 by INFO and the server's BYE all travel on the TLS connection, its Via naming TLS")
    func tlsCall() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = try await TestPKI.make(in: directory)
        let server = try await ServerProcess(directory: directory, extra: [
            "--sip-tls", "127.0.0.1:0", "--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey])
        let tlsPort = try #require(server.tlsPort, "the ready line names the TLS listener")
        #expect(server.tcpPort == nil)
        try await withClientLoop { group in
            let peer = try await StreamPeer.connect(port: tlsPort, group: group, tls: try pki.clientContext(presentingCertificate: false))
            let port = peer.localPort
            try await peer.write(StreamSIP.request("OPTIONS", transport: "TLS", port: port, callID: "tls-opt@127.0.0.1", branch: "z9hG4bKtlsopt"))
            let options = try await peer.message(startingWith: "SIP/2.0 200")
            #expect(options.sipHeader("Via")?.hasPrefix("SIP/2.0/TLS 127.0.0.1:\(port);branch=z9hG4bKtlsopt") == true, "\(options)")

            let callID = "tls-call@127.0.0.1"
            try await peer.write(StreamSIP.request("INVITE", transport: "TLS", port: port, callID: callID, branch: "z9hG4bKtlsinv",
                                                   contentType: "application/sdp", body: StreamSIP.sdp()))
            let ok = try await peer.message(startingWith: "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:\(port);branch=z9hG4bKtlsinv")
            #expect(ok.sipHeader("Contact")?.contains("sips:") == true, "our Contact over TLS is sips: \(ok.sipHeader("Contact") ?? "")")
            let toTag = try #require(StreamSIP.toTag(ok))
            try await peer.write(StreamSIP.request("ACK", transport: "TLS", port: port, callID: callID, branch: "z9hG4bKtlsack", toTag: toTag))
            try await peer.write(StreamSIP.request("INFO", transport: "TLS", port: port, callID: callID, branch: "z9hG4bKtlsinfo", toTag: toTag, cseq: 2,
                                                   contentType: "application/dtmf-relay", body: "Signal=3\r\nDuration=160\r\n"))
            // Key 3: a 1.5 s prompt, then the server hangs up, on this connection.
            let bye = try await peer.message(startingWith: "BYE ", within: .seconds(15))
            #expect(bye.sipHeader("Via")?.hasPrefix("SIP/2.0/TLS 127.0.0.1:\(tlsPort);") == true, "the server's BYE names TLS and its TLS port: \(bye)")
            #expect(bye.sipHeader("Call-ID") == callID)
            try await peer.write(StreamSIP.ok(to: bye))
            await peer.close()
        }
        let metrics = try await server.http("/metrics")
        #expect(prometheusValue(metrics, "hotline_sip_connections_closed_total{reason=\"tls\"}") == 0)
        #expect(prometheusValue(metrics, "hotline_sip_connections_total{origin=\"opened\"}") == 0, "the BYE used the caller's connection")
        #expect(await server.stop() == 0, "clean shutdown")
        let ticket = try server.tickets().first { $0.callID == "tls-call@127.0.0.1" }
        #expect(ticket?.disposition == .completedInIVR, "\(String(describing: ticket))")
        #expect(ticket?.keys == "3")
    }

    @Test("with --tls-client-ca a client without a certificate is refused (counted as tls), one with a certificate the CA signed gets its 200")
    func mutualTLS() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = try await TestPKI.make(in: directory)
        let server = try await ServerProcess(directory: directory, extra: [
            "--sip-tls", "127.0.0.1:0", "--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey, "--tls-client-ca", pki.caCertificate])
        let tlsPort = try #require(server.tlsPort)
        try await withClientLoop { group in
            let anonymous = try await StreamPeer.connect(port: tlsPort, group: group, tls: try pki.clientContext(presentingCertificate: false))
            // TLS 1.3: the client may think the handshake done and write before the server's
            // verdict; the write may then fail, and the connection must end.
            try? await anonymous.write(StreamSIP.request("OPTIONS", transport: "TLS", port: anonymous.localPort, callID: "mtls-anon@127.0.0.1", branch: "z9hG4bKanon"))
            let ended = try await anonymous.awaitClosed(within: .seconds(10))
            #expect(try await anonymous.messages().isEmpty, "no answer without a certificate")
            #expect(ended != nil, "the handshake failed with an error on our side too")

            let agent = try await StreamPeer.connect(port: tlsPort, group: group, tls: try pki.clientContext(presentingCertificate: true))
            try await agent.write(StreamSIP.request("OPTIONS", transport: "TLS", port: agent.localPort, callID: "mtls-agent@127.0.0.1", branch: "z9hG4bKagent"))
            let ok = try await agent.message(startingWith: "SIP/2.0 200")
            #expect(ok.sipHeader("Call-ID") == "mtls-agent@127.0.0.1")
            await agent.close()
        }
        let metrics = try await server.http("/metrics")
        let refused = prometheusValue(metrics, "hotline_sip_connections_closed_total{reason=\"tls\"}") ?? -1
        #expect(refused >= 1, "the refused handshake is counted: \(refused)")
        #expect(await server.stop() == 0, "clean shutdown")
    }
}
}
