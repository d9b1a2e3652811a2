import NIOCore
import Testing
import SIPCore
import SIPTransaction
import Timers
@testable import SIPEndpoint

/// Records what the endpoint hands to its transaction user.
final class RecordingTU: SIPEndpointDelegate {
    var requests: [(SIPRequest, SIPTransactionKey)] = []
    var acks: [SIPRequest] = []
    var cancelled: [SIPTransactionKey] = []
    var ackTimeouts: [SIPTransactionKey] = []
    func endpoint(_ endpoint: SIPEndpoint, received request: SIPRequest, transaction: SIPTransactionKey, from source: SocketAddress) {
        requests.append((request, transaction))
    }
    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPRequest, from source: SocketAddress) { acks.append(ack) }
    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: SIPTransactionKey) { cancelled.append(invite) }
    func endpoint(_ endpoint: SIPEndpoint, ackTimedOut invite: SIPTransactionKey) { ackTimeouts.append(invite) }
}

/// An endpoint wired to an in-memory "wire" and a manual clock.
final class Harness {
    var now = Instant.zero
    var wire: [(SIPMessage, SocketAddress)] = []
    /// Status codes of every response sent, read from the status line (a 400 to a request
    /// without Call-ID is itself incomplete, so not every response parses).
    var statuses: [Int] = []
    /// Every datagram sent, as bytes.
    var raw: [[UInt8]] = []
    let tu = RecordingTU()
    let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 5070)
    lazy var endpoint: SIPEndpoint = {
        let e = SIPEndpoint(configuration: .init(host: "127.0.0.1", port: 5060), clock: { [unowned self] in self.now }) { [unowned self] buffer, address in
            let bytes = Array(buffer.readableBytesView)
            self.raw.append(bytes)
            if bytes.starts(with: Array("SIP/2.0 ".utf8)) { self.statuses.append(Int(String(decoding: bytes[8..<11], as: UTF8.self))!) }
            if let message = try? SIPMessageParser.parse(datagram: bytes) { self.wire.append((message, address)) }
        }
        e.delegate = tu
        return e
    }()

    func deliver(_ text: String) {
        let bytes = Array(text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n").utf8)
        endpoint.receive(ByteBuffer(bytes: bytes), from: peer)
    }
    func advance(to ms: UInt64) {
        now = Instant(nanoseconds: ms * 1_000_000)
        endpoint.processTimers(now: now)
    }
}

func invite(branch: String = "z9hG4bKinv1", method: String = "INVITE", cseq: String = "1 INVITE", toTag: String = "") -> String {
    """
    \(method) sip:12345@127.0.0.1:5060 SIP/2.0
    Via: SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch);rport
    From: <sip:13800000000@127.0.0.1:5070>;tag=caller1
    To: <sip:12345@127.0.0.1:5060>\(toTag)
    Call-ID: endpoint-test-1
    CSeq: \(cseq)
    Contact: <sip:caller@127.0.0.1:5070>
    Max-Forwards: 70
    Content-Length: 0


    """
}

@Suite struct SIPEndpointTests {
    @Test func inviteGetsTryingAtOnceAndRetransmissionsAreAbsorbed() {
        let h = Harness()
        h.deliver(invite())
        #expect(h.statuses == [100])
        #expect(h.tu.requests.count == 1)
        h.deliver(invite())
        #expect(h.tu.requests.count == 1, "the retransmission does not reach the TU")
        #expect(h.statuses == [100, 100], "it gets the last provisional again")
        #expect(h.endpoint.metrics.retransmissionsAbsorbed == 1)
    }

    @Test func responsesGoBackToTheSourcePortWithRport() throws {
        let h = Harness()
        h.deliver(invite())
        let (message, destination) = try #require(h.wire.first)
        #expect(destination == h.peer)
        guard case .response(let r) = message else { Issue.record(); return }
        #expect(r.topVia?.rport == 5070)
        #expect(r.headers[.server] == "Hotline")
    }

    @Test func malformedRequestGets400AndTheEndpointKeepsServing() {
        let h = Harness()
        h.deliver("""
        INVITE sip:12345@127.0.0.1 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKbad
        From: <sip:a@127.0.0.1>;tag=1
        To: <sip:12345@127.0.0.1>
        CSeq: 1 INVITE
        Content-Length: 0


        """)
        #expect(h.statuses == [400])
        #expect(h.endpoint.metrics.parseErrors == 1)
        h.endpoint.receive(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0xff, 0x00]), from: h.peer)
        #expect(h.endpoint.metrics.dropped == 1)
        #expect(h.statuses.count == 1, "garbage is dropped silently")
        h.deliver(invite())
        #expect(h.tu.requests.count == 1, "still serving")
    }

    @Test func cancelOfARingingInviteIs200AndTheTUIsTold() {
        let h = Harness()
        h.deliver(invite())
        let key = h.tu.requests[0].1
        h.endpoint.respond(SIPResponse(to: h.tu.requests[0].0, status: .ringing, toTag: "srv"), to: key)
        h.deliver(invite(method: "CANCEL", cseq: "1 CANCEL"))
        #expect(h.statuses == [100, 180, 200])
        #expect(h.tu.cancelled == [key])
        guard case .response(let ok) = h.wire.last!.0 else { Issue.record(); return }
        #expect(ok.to?.tag == "srv", "CANCEL's 200 carries the INVITE's To tag")
        #expect(ok.cseq?.method == .cancel)
    }

    /// A CANCEL that crosses our 200 OK (RFC 3261 §9.2): 200 to the CANCEL, and the TU is not
    /// told, so the answered call goes on.
    @Test func cancelCrossingOurTwoHundredIs200AndTheCallGoesOn() {
        let h = Harness()
        h.deliver(invite())
        let key = h.tu.requests[0].1
        h.endpoint.respond(SIPResponse(to: h.tu.requests[0].0, status: .ok, toTag: "srv"), to: key)
        h.deliver(invite(method: "CANCEL", cseq: "1 CANCEL"))
        #expect(h.statuses == [100, 200, 200])
        #expect(h.tu.cancelled.isEmpty, "nothing to cancel once answered")
        guard case .response(let ok) = h.wire.last!.0 else { Issue.record(); return }
        #expect(ok.cseq?.method == .cancel)
        #expect(ok.to?.tag == "srv", "the To tag of our 2xx, kept by the lingering transaction")
    }

    /// RFC 6026 §7.1: after its 2xx the INVITE transaction lingers in Accepted for Timer L,
    /// holding neither the request nor the response (memory follows calls, not the call rate).
    @Test func anAnsweredInviteLingersUntilTimerLHoldingOnlyWhatItNeeds() {
        let h = Harness()
        h.deliver(invite())
        let (req, key) = h.tu.requests[0]
        let ok = SIPResponse(to: req, status: .ok, toTag: "srv")
        h.endpoint.respond(ok, to: key)
        #expect(h.statuses == [100, 200])
        #expect(h.endpoint.request(for: key) == nil, "the request is not kept past the final response")
        #expect(h.endpoint.isAccepted(key))
        #expect(h.endpoint.serverTransactionCount == 1 && h.endpoint.timerCount == 1)
        h.deliver(invite())
        #expect(h.statuses == [100, 200], "a retransmitted INVITE is absorbed: the core resends the 2xx")
        #expect(h.tu.requests.count == 1)
        h.endpoint.retransmit(ok, to: key, fallback: h.peer)
        #expect(h.statuses == [100, 200, 200], "the core's 2xx retransmission goes out through it")
        #expect(h.wire.last!.1 == h.peer)
        h.deliver(invite(method: "ACK", cseq: "1 ACK", toTag: ";tag=srv"))
        #expect(h.tu.acks.count == 1, "an ACK on the INVITE's branch goes to the TU")
        h.advance(to: 31_900)
        #expect(h.endpoint.serverTransactionCount == 1)
        h.advance(to: 32_000)
        #expect(h.endpoint.serverTransactionCount == 0, "Timer L (64·T1) ended it")
        #expect(h.endpoint.timerCount == 0 && h.endpoint.timerStoredCount == 0)
        h.endpoint.retransmit(ok, to: key, fallback: h.peer)
        #expect(h.statuses.last == 200 && h.statuses.count == 4, "after Timer L the core's 2xx goes straight to the peer")
        h.deliver(invite())
        #expect(h.tu.requests.count == 2, "after Timer L the same branch is a new transaction")
    }

    @Test func cancelWithoutItsInviteIs481() {
        let h = Harness()
        h.deliver(invite(branch: "z9hG4bKother", method: "CANCEL", cseq: "1 CANCEL"))
        #expect(h.statuses == [481])
        #expect(h.tu.cancelled.isEmpty)
    }

    @Test func ackOfAFailureIsAbsorbedAndAckOf2xxGoesToTheTU() {
        let h = Harness()
        h.deliver(invite())
        let (req, key) = h.tu.requests[0]
        h.endpoint.respond(SIPResponse(to: req, status: .notFound, toTag: "t"), to: key)
        h.deliver(invite(method: "ACK", cseq: "1 ACK", toTag: ";tag=t"))
        #expect(h.tu.acks.isEmpty, "ACK for 404 belongs to the transaction")
        h.advance(to: 10_000)
        #expect(h.statuses == [100, 404], "no retransmission after the ACK")

        h.deliver(invite(branch: "z9hG4bKinv2"))
        let (req2, key2) = h.tu.requests[1]
        h.endpoint.respond(SIPResponse(to: req2, status: .ok, toTag: "t2"), to: key2)
        h.deliver(invite(branch: "z9hG4bKack2", method: "ACK", cseq: "1 ACK", toTag: ";tag=t2"))
        #expect(h.tu.acks.count == 1)
    }

    @Test func failureWithoutACKIsRetransmittedThenReported() {
        let h = Harness()
        h.deliver(invite())
        let (req, key) = h.tu.requests[0]
        h.endpoint.respond(SIPResponse(to: req, status: .busyHere, toTag: "t"), to: key)
        for ms in stride(from: UInt64(0), through: 33_000, by: 100) { h.advance(to: ms) }
        #expect(h.statuses.filter { $0 == 486 }.count > 5)
        #expect(h.tu.ackTimeouts == [key])
        #expect(h.endpoint.serverTransactionCount == 0)
    }

    @Test func nonInviteResponseIsReplayedForRetransmissions() {
        let h = Harness()
        h.deliver(invite(method: "OPTIONS", cseq: "1 OPTIONS"))
        let (req, key) = h.tu.requests[0]
        h.endpoint.respond(SIPResponse(to: req, status: .ok), to: key)
        h.deliver(invite(method: "OPTIONS", cseq: "1 OPTIONS"))
        #expect(h.statuses == [200, 200])
        #expect(h.tu.requests.count == 1)
        #expect(h.endpoint.metrics.retransmissionsAbsorbed == 1)
        #expect(h.endpoint.request(for: key) == nil)
        guard case .response(let first) = h.wire[0].0, case .response(let replayed) = h.wire[1].0 else { Issue.record(); return }
        #expect(first == replayed, "the same response, byte for byte as parsed")
        #expect(h.wire[1].1 == h.peer)
        h.advance(to: 33_000)
        #expect(h.endpoint.serverTransactionCount == 0, "Timer J ended it")
    }

    @Test("the endpoint reports its timers for /metrics: Timer J pending, then gone")
    func timerCountsForMetrics() {
        let h = Harness()
        #expect(h.endpoint.timerCount == 0 && h.endpoint.timerStoredCount == 0)
        h.deliver(invite(method: "OPTIONS", cseq: "1 OPTIONS"))
        let (req, key) = h.tu.requests[0]
        h.endpoint.respond(SIPResponse(to: req, status: .ok), to: key)
        #expect(h.endpoint.timerCount == 1, "Timer J keeps the completed transaction")
        #expect(h.endpoint.timerStoredCount >= h.endpoint.timerCount)
        h.advance(to: 33_000)
        #expect(h.endpoint.timerCount == 0)
        #expect(h.endpoint.timerStoredCount == 0)
    }

    @Test func clientRequestIsRetransmittedUntilAnswered() throws {
        let h = Harness()
        var request = SIPRequest(method: .bye, uri: try SIPURI.parse("sip:caller@127.0.0.1:5070"))
        let via = h.endpoint.makeVia()
        request.headers.append(.via, via.description)
        request.headers.append(.from, "<sip:12345@127.0.0.1>;tag=s")
        request.headers.append(.to, "<sip:a@127.0.0.1>;tag=c")
        request.headers.append(.callID, "c1")
        request.headers.append(.cseq, "2 BYE")
        var events: [String] = []
        h.endpoint.send(request: request, to: h.peer) { event in
            switch event {
            case .response(let r): events.append("\(r.status.rawValue)")
            case .timeout: events.append("timeout")
            }
        }
        h.advance(to: 500)
        h.advance(to: 1500)
        #expect(h.wire.count == 3, "sent, then Timer E at 500 and 1500 ms")
        let ok = "SIP/2.0 200 OK\nVia: \(via.description)\nFrom: <sip:12345@127.0.0.1>;tag=s\nTo: <sip:a@127.0.0.1>;tag=c\nCall-ID: c1\nCSeq: 2 BYE\nContent-Length: 0\n\n"
        h.deliver(ok)
        #expect(h.endpoint.clientTransactionCount == 1, "Completed until Timer K")
        #expect(h.endpoint.timerCount == 1, "Timer K alone")
        h.deliver(ok)
        #expect(events == ["200"], "delivered once")
        #expect(h.endpoint.metrics.strayResponses == 0, "a retransmitted 200 in Completed is absorbed, not stray")
        h.advance(to: 6_400)
        #expect(h.endpoint.clientTransactionCount == 1, "T4 (5 s) after the 200 at 1.5 s is 6.5 s")
        h.advance(to: 6_500)
        #expect(h.endpoint.clientTransactionCount == 0 && h.endpoint.timerCount == 0 && h.endpoint.timerStoredCount == 0)
        h.deliver(ok)
        #expect(events == ["200"] && h.endpoint.metrics.strayResponses == 1, "after Timer K the 200 is stray")
        #expect(h.wire.count == 3)
    }

    @Test func unansweredClientRequestTimesOut() throws {
        let h = Harness()
        var request = SIPRequest(method: .bye, uri: try SIPURI.parse("sip:caller@127.0.0.1:5070"))
        request.headers.append(.via, h.endpoint.makeVia().description)
        request.headers.append(.from, "<sip:12345@127.0.0.1>;tag=s")
        request.headers.append(.to, "<sip:a@127.0.0.1>;tag=c")
        request.headers.append(.callID, "c1")
        request.headers.append(.cseq, "2 BYE")
        var timedOut = false
        h.endpoint.send(request: request, to: h.peer) { if case .timeout = $0 { timedOut = true } }
        for ms in stride(from: UInt64(0), through: 33_000, by: 250) { h.advance(to: ms) }
        #expect(timedOut)
        #expect(h.wire.count == 11, "initial send and 10 retransmissions within 64*T1")
    }

    @Test func branchesAndTagsAreUnique() {
        let h = Harness()
        let branches = (0..<1000).map { _ in h.endpoint.makeBranch() }
        #expect(Set(branches).count == 1000)
        #expect(branches.allSatisfy { $0.hasPrefix("z9hG4bK") })
    }
}
