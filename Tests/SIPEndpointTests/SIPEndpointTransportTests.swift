import NIOCore
import Testing
import SIPCore
import SIPTransaction
import SIPTransport
import Timers
@testable import SIPEndpoint

/// An endpoint whose transmit closure records the transport named for each message, with
/// TCP and TLS ports configured and a connection table the test sets (issue 15).
final class TransportHarness {
    struct Sent {
        var bytes: [UInt8]
        var message: SIPMessage?
        var address: SocketAddress
        var kind: SIPTransportKind
        var text: String { String(decoding: bytes, as: UTF8.self) }
        var firstLine: String { String(text.prefix { $0 != "\r\n" }) } // CRLF is one Character
    }

    var now = Instant.zero
    var sent: [Sent] = []
    /// The open connections the endpoint's `connectionKind` reports.
    var connections: [SocketAddress: SIPTransportKind] = [:]
    let tu = RecordingTU()
    let endpoint: SIPEndpoint

    init(tcpPort: Int? = 5062, tlsPort: Int? = 5063) {
        let box = Box()
        endpoint = SIPEndpoint(configuration: .init(host: "127.0.0.1", port: 5060, tcpPort: tcpPort, tlsPort: tlsPort),
                               clock: { box.harness!.now }) { buffer, address, kind in
            let bytes = Array(buffer.readableBytesView)
            box.harness!.sent.append(Sent(bytes: bytes, message: try? SIPMessageParser.parse(datagram: bytes), address: address, kind: kind))
        }
        box.harness = self
        endpoint.delegate = tu
        endpoint.connectionKind = { box.harness!.connections[$0] }
    }

    private final class Box { weak var harness: TransportHarness? }

    func deliver(_ text: String, from source: SocketAddress, over kind: SIPTransportKind) {
        let bytes = Array(text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n").utf8)
        endpoint.receive(ByteBuffer(bytes: bytes), from: source, over: kind)
    }

    func advance(to ms: UInt64) {
        now = Instant(nanoseconds: ms * 1_000_000)
        endpoint.processTimers(now: now)
    }

    /// Advances in steps, so every timer due on the way fires.
    func run(until ms: UInt64, step: UInt64 = 100) {
        for t in stride(from: UInt64(0), through: ms, by: Int(step)) where t > now.nanoseconds / 1_000_000 { advance(to: t) }
    }

    func statuses() -> [Int] {
        sent.compactMap { s in s.firstLine.hasPrefix("SIP/2.0 ") ? Int(s.firstLine.dropFirst(8).prefix(3)) : nil }
    }

    /// A request of ours (as a call leg makes it) with a body padded to `bodyBytes`.
    func request(_ method: SIPMethod = .options, bodyBytes: Int = 0) throws -> SIPRequest {
        var request = SIPRequest(method: method, uri: try SIPURI.parse("sip:agent@127.0.0.1:5090"))
        request.headers.append(.via, endpoint.makeVia().description)
        request.headers.append(.from, "<sip:hotline@127.0.0.1>;tag=\(endpoint.makeTag())")
        request.headers.append(.to, "<sip:agent@127.0.0.1>")
        request.headers.append(.callID, "transport-\(endpoint.makeTag())@127.0.0.1")
        request.headers.append(.cseq, "1 \(method.rawValue)")
        request.headers.append(.maxForwards, "70")
        request.headers.append(.userAgent, "Hotline") // as the endpoint would add: the size is the one sent
        if bodyBytes > 0 {
            request.headers.append(.contentType, "text/plain")
            request.body = Array(repeating: UInt8(ascii: "a"), count: bodyBytes)
        }
        return request
    }
}

/// A request from a phone whose Via names `transport` and sent-by `via` (host:port, or a host).
func phoneRequest(_ method: String, via: String, transport: String, branch: String = "z9hG4bKtx1") -> String {
    """
    \(method) sip:12345@127.0.0.1:5060 SIP/2.0
    Via: SIP/2.0/\(transport) \(via);branch=\(branch)
    From: <sip:13800000000@127.0.0.1>;tag=caller1
    To: <sip:12345@127.0.0.1:5060>
    Call-ID: transport-test-1
    CSeq: 1 \(method)
    Contact: <sip:caller@\(via);transport=\(transport.lowercased())>
    Max-Forwards: 70
    Content-Length: 0


    """
}

@Suite struct SIPEndpointTransportTests {
    /// The phone's connection: an ephemeral source port, not its Via's sent-by port.
    static let connection = try! SocketAddress(ipAddress: "127.0.0.1", port: 50123)
    static let udpPeer = try! SocketAddress(ipAddress: "127.0.0.1", port: 5070)

    @Test("an INVITE over TCP is answered over TCP on its connection, and a failure response is not retransmitted (reliable)")
    func inviteOverTCPIsAnsweredOnItsConnectionWithoutRetransmission() throws {
        let h = TransportHarness()
        h.connections[Self.connection] = .tcp
        h.deliver(phoneRequest("INVITE", via: "127.0.0.1:5070", transport: "TCP"), from: Self.connection, over: .tcp)
        #expect(h.statuses() == [100])
        #expect(h.sent.map(\.kind) == [.tcp])
        #expect(h.sent.map(\.address) == [Self.connection], "on the connection, not to the Via's sent-by port")
        let (request, key) = try #require(h.tu.requests.first)
        h.endpoint.respond(SIPResponse(to: request, status: .busyHere, toTag: "srv"), to: key)
        h.run(until: 40_000)
        #expect(h.statuses() == [100, 486], "Timer G does not run over TCP: one 486, no retransmission")
        #expect(h.sent.allSatisfy { $0.kind == .tcp && $0.address == Self.connection })
        #expect(h.tu.ackTimeouts == [key], "Timer H still ends the wait for the ACK")
        #expect(h.endpoint.serverTransactionCount == 0)
    }

    @Test("a non-INVITE over TCP: one final response, and the transaction ends at once (Timer J is zero)")
    func nonInviteOverTCPEndsWithoutTimerJ() throws {
        let h = TransportHarness()
        h.connections[Self.connection] = .tcp
        h.deliver(phoneRequest("OPTIONS", via: "127.0.0.1:5070", transport: "TCP"), from: Self.connection, over: .tcp)
        let (request, key) = try #require(h.tu.requests.first)
        h.endpoint.respond(SIPResponse(to: request, status: .ok), to: key)
        #expect(h.statuses() == [200])
        #expect(h.sent.first?.kind == .tcp && h.sent.first?.address == Self.connection)
        #expect(h.endpoint.serverTransactionCount == 1)
        h.advance(to: 1)
        #expect(h.endpoint.serverTransactionCount == 0, "reliable: nothing to absorb, so no 32 s wait")
        #expect(h.sent.count == 1)
    }

    @Test("over UDP a non-INVITE's final response is replayed for a retransmission and its transaction kept for Timer J, as before")
    func nonInviteOverUDPKeepsAbsorbingRetransmissions() throws {
        let h = TransportHarness()
        h.deliver(phoneRequest("OPTIONS", via: "127.0.0.1:5070", transport: "UDP"), from: Self.udpPeer, over: .udp)
        let (request, key) = try #require(h.tu.requests.first)
        h.endpoint.respond(SIPResponse(to: request, status: .ok), to: key)
        h.advance(to: 1_000)
        h.deliver(phoneRequest("OPTIONS", via: "127.0.0.1:5070", transport: "UDP"), from: Self.udpPeer, over: .udp)
        #expect(h.statuses() == [200, 200], "the retransmission gets the same answer again")
        #expect(h.tu.requests.count == 1, "and does not reach the TU")
        #expect(h.sent.allSatisfy { $0.kind == .udp && $0.address == Self.udpPeer })
        #expect(h.endpoint.serverTransactionCount == 1, "Timer J (64*T1) keeps it")
        h.run(until: 33_000, step: 1_000)
        #expect(h.endpoint.serverTransactionCount == 0)
    }

    @Test("over UDP an INVITE's failure response is still retransmitted (Timer G)")
    func inviteFailureOverUDPIsRetransmitted() throws {
        let h = TransportHarness()
        h.deliver(phoneRequest("INVITE", via: "127.0.0.1:5070", transport: "UDP"), from: Self.udpPeer, over: .udp)
        let (request, key) = try #require(h.tu.requests.first)
        h.endpoint.respond(SIPResponse(to: request, status: .busyHere, toTag: "srv"), to: key)
        h.run(until: 5_000)
        #expect(h.statuses().filter { $0 == 486 }.count >= 3, "sent at 0, then at 0.5, 1.5, 3.5 s: \(h.statuses())")
        #expect(h.sent.allSatisfy { $0.kind == .udp })
    }

    @Test("a request toward an address with a TLS connection leaves over TLS with Via: SIP/2.0/TLS host:tlsPort, and is not retransmitted")
    func requestOnATLSConnectionStampsTheTLSVia() throws {
        let h = TransportHarness(tcpPort: 5062, tlsPort: 5063)
        h.connections[Self.connection] = .tls
        var events: [String] = []
        h.endpoint.send(request: try h.request(), to: Self.connection) { event in
            if case .response(let r) = event { events.append("\(r.status.rawValue)") } else { events.append("timeout") }
        }
        let sent = try #require(h.sent.first)
        #expect(sent.kind == .tls)
        #expect(sent.address == Self.connection)
        guard case .request(let request)? = sent.message else { Issue.record("not a request: \(sent.text)"); return }
        let via = try #require(request.topVia)
        #expect(via.transport == "TLS")
        #expect(via.host == "127.0.0.1" && via.port == 5063)
        #expect(sent.text.contains("\r\nVia: SIP/2.0/TLS 127.0.0.1:5063;branch="), "\(sent.firstLine)")
        h.run(until: 5_000)
        #expect(h.sent.count == 1, "Timer E does not run over TLS")
        h.run(until: 40_000, step: 1_000)
        #expect(events == ["timeout"], "Timer F still ends an unanswered request")
    }

    @Test("a request over 1300 bytes to a UDP destination leaves over TCP with a TCP Via when a TCP port is configured")
    func largeRequestMovesToTCP() throws {
        let h = TransportHarness(tcpPort: 5062, tlsPort: nil)
        let request = try h.request(bodyBytes: 2_000)
        #expect(request.serializedCount > SIPTransportKind.largeRequestThreshold)
        var events: [String] = []
        h.endpoint.send(request: request, to: Self.udpPeer) { if case .response(let r) = $0 { events.append("\(r.status.rawValue)") } }
        let sent = try #require(h.sent.first)
        #expect(sent.kind == .tcp)
        #expect(sent.address == Self.udpPeer, "the same address, over TCP")
        guard case .request(let out)? = sent.message else { Issue.record("not a request"); return }
        #expect(out.topVia?.transport == "TCP")
        #expect(out.topVia?.port == 5062)
        #expect(h.endpoint.metrics.largeRequestsOverTCP == 1)
        h.run(until: 5_000)
        #expect(h.sent.count == 1, "its transaction runs the reliable timers")
        // The 200 (on the connection) matches the transaction keyed by the TCP Via.
        let via = try #require(out.topVia)
        h.deliver("SIP/2.0 200 OK\nVia: \(via.description)\nFrom: \(out.headers[.from]!)\nTo: <sip:agent@127.0.0.1>;tag=a\nCall-ID: \(out.callID!)\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n",
                  from: Self.udpPeer, over: .tcp)
        #expect(events == ["200"])
    }

    @Test("without a TCP port a large request stays on UDP, with its UDP Via")
    func largeRequestStaysOnUDPWithoutTCP() throws {
        let h = TransportHarness(tcpPort: nil, tlsPort: nil)
        h.endpoint.send(request: try h.request(bodyBytes: 2_000), to: Self.udpPeer) { _ in }
        let sent = try #require(h.sent.first)
        #expect(sent.kind == .udp)
        guard case .request(let out)? = sent.message else { Issue.record("not a request"); return }
        #expect(out.topVia?.transport == "UDP" && out.topVia?.port == 5060)
        #expect(h.endpoint.metrics.largeRequestsOverTCP == 0)
        h.run(until: 1_600)
        #expect(h.sent.count == 3, "UDP timers: Timer E at 0.5 and 1.5 s")
    }

    @Test("the threshold: 1300 bytes stay on UDP, 1301 go over TCP")
    func thresholdIsExact() throws {
        for (extra, expected) in [(0, SIPTransportKind.udp), (1, .tcp)] {
            let h = TransportHarness(tcpPort: 5062, tlsPort: nil)
            var request = try h.request()
            request.headers.append(SIPHeaderName("X-Pad"), "")
            let padding = SIPTransportKind.largeRequestThreshold - request.serializedCount + extra
            try #require(padding > 0)
            request.headers.replaceFirstValue(SIPHeaderName("X-Pad"), with: String(repeating: "p", count: padding))
            h.endpoint.send(request: request, to: Self.udpPeer) { _ in }
            let sent = try #require(h.sent.first)
            #expect(sent.kind == expected, "\(1300 + extra) bytes")
            if expected == .udp { #expect(sent.bytes.count == 1300, "the count is the size on the wire") }
        }
    }

    @Test("after the connection is gone, a response goes to the Via's received address and sent-by port, over the stream kind")
    func responseAfterTheConnectionClosedGoesToSentBy() throws {
        let h = TransportHarness()
        h.connections[Self.connection] = .tcp
        // The phone says 127.0.0.2:5070 but its connection comes from 127.0.0.1: `received`.
        h.deliver(phoneRequest("INVITE", via: "127.0.0.2:5070", transport: "TCP"), from: Self.connection, over: .tcp)
        #expect(h.sent.first?.address == Self.connection)
        let (request, key) = try #require(h.tu.requests.first)
        #expect(request.topVia?.received == "127.0.0.1")
        h.connections[Self.connection] = nil // the phone closed it
        h.endpoint.respond(SIPResponse(to: request, status: .busyHere, toTag: "srv"), to: key)
        let answer = try #require(h.sent.last)
        #expect(answer.firstLine == "SIP/2.0 486 Busy Here")
        #expect(answer.kind == .tcp, "still TCP: the transport opens a new connection")
        #expect(answer.address == (try SocketAddress(ipAddress: "127.0.0.1", port: 5070)), "received + sent-by port (§18.2.2)")
    }

    @Test("over TLS without a port in Via the closed connection's response goes to the default port 5061")
    func responseAfterTheTLSConnectionClosedUsesTheDefaultPort() throws {
        let h = TransportHarness()
        h.connections[Self.connection] = .tls
        h.deliver(phoneRequest("OPTIONS", via: "127.0.0.1", transport: "TLS"), from: Self.connection, over: .tls)
        let (request, key) = try #require(h.tu.requests.first)
        h.connections[Self.connection] = nil
        h.endpoint.respond(SIPResponse(to: request, status: .ok), to: key)
        let answer = try #require(h.sent.last)
        #expect(answer.kind == .tls)
        #expect(answer.address == (try SocketAddress(ipAddress: "127.0.0.1", port: 5061)))
    }
}
