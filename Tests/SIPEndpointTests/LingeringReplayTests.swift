import NIOCore
import Testing
import SIPCore
import SIPTransaction
@testable import SIPEndpoint

/// A Completed non-INVITE keeps what it needs to answer retransmissions for Timer J, as
/// compactly as it can, and answers them byte for byte as it first did.
@Suite struct LingeringReplayTests {
    private func info(toTag: String = ";tag=srv", extra: String = "", branch: String = "z9hG4bKinfo1") -> String {
        """
        INFO sip:12345@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch);rport
        From: <sip:13800000000@127.0.0.1:5070>;tag=caller1
        To: <sip:12345@127.0.0.1:5060>\(toTag)
        Call-ID: replay-test-1
        CSeq: 2 INFO\(extra)
        Max-Forwards: 70
        Content-Length: 0


        """
    }

    private func replay(_ h: Harness, _ key: SIPTransactionKey) -> LingeringServerTransaction.Replay? {
        guard case .completed(let replay) = h.endpoint.lingering[key]?.state else { return nil }
        return replay
    }

    @Test("a plain 200 to an in-dialog INFO lingers as its status alone and is rebuilt byte for byte")
    func plainResponseIsRebuilt() throws {
        let h = Harness()
        h.deliver(info())
        let (request, key) = try #require(h.tu.requests.first)
        h.endpoint.respond(SIPResponse(to: request, status: .ok), to: key)
        guard case .rebuilt(let status, _, let toTag, let tail) = replay(h, key) else {
            Issue.record("expected a rebuilt replay, got \(String(describing: replay(h, key)))"); return
        }
        #expect(status == .ok && toTag == nil, "the request's To carries the tag; nothing else is kept")
        #expect(tail.fields.map(\.name) == [.server])
        h.deliver(info())
        h.deliver(info())
        #expect(h.raw.count == 3)
        #expect(h.raw[1] == h.raw[0] && h.raw[2] == h.raw[0], "retransmissions get the same bytes")
        #expect(h.tu.requests.count == 1)
        #expect(h.endpoint.metrics.retransmissionsAbsorbed == 2)
        h.advance(to: 32_000)
        #expect(h.endpoint.serverTransactionCount == 0, "Timer J ended it")
    }

    @Test("our To tag on an out-of-dialog request is kept and the rebuilt response carries it")
    func toTagIsKept() throws {
        let h = Harness()
        h.deliver(info(toTag: ""))
        let (request, key) = try #require(h.tu.requests.first)
        h.endpoint.respond(SIPResponse(to: request, status: .notFound, toTag: "ours"), to: key)
        guard case .rebuilt(let status, _, let toTag, let tail) = replay(h, key) else {
            Issue.record("expected a rebuilt replay"); return
        }
        #expect(status == .notFound && toTag == "ours" && tail.count == 1)
        h.deliver(info(toTag: ""))
        #expect(h.raw.count == 2 && h.raw[1] == h.raw[0])
        #expect(String(decoding: h.raw[1], as: UTF8.self).contains("tag=ours"))
    }

    @Test("headers a response adds after the copied ones are kept once, shared by every entry")
    func addedHeadersAreSharedTails() throws {
        let h = Harness()
        var keys: [SIPTransactionKey] = []
        for n in 1...3 {
            h.deliver(info(branch: "z9hG4bKinfo\(n)"))
            let (request, key) = h.tu.requests[n - 1]
            var response = SIPResponse(to: request, status: .ok)
            response.headers.append(.allow, "INVITE, ACK, BYE, INFO")
            h.endpoint.respond(response, to: key)
            keys.append(key)
        }
        var tails: [SIPHeaders] = []
        for key in keys {
            guard case .rebuilt(_, _, _, let tail) = replay(h, key) else { Issue.record("expected rebuilt"); return }
            tails.append(tail)
        }
        #expect(tails[0].fields.map(\.name) == [.allow, .server])
        tails[0].fields.withUnsafeBufferPointer { first in
            tails[2].fields.withUnsafeBufferPointer { third in
                #expect(first.baseAddress == third.baseAddress, "one array for every entry with the same tail")
            }
        }
        h.deliver(info(branch: "z9hG4bKinfo2"))
        #expect(h.raw.count == 4 && h.raw[3] == h.raw[1], "rebuilt with its Allow, byte for byte")
    }

    @Test("a response with a body lingers as its bytes")
    func richResponseIsKeptAsBytes() throws {
        let h = Harness()
        h.deliver(info())
        let (request, key) = try #require(h.tu.requests.first)
        var response = SIPResponse(to: request, status: .ok)
        response.headers.append(.contentType, "application/dtmf-relay")
        response.body = Array("Signal=3\r\nDuration=160\r\n".utf8)
        h.endpoint.respond(response, to: key)
        guard case .serialised(let bytes, let status, _) = replay(h, key) else {
            Issue.record("expected the bytes to be kept"); return
        }
        #expect(status == .ok && bytes.readableBytes == h.raw[0].count)
        h.deliver(info())
        #expect(h.raw.count == 2 && h.raw[1] == h.raw[0])
        #expect(String(decoding: h.raw[1], as: UTF8.self).hasSuffix("Signal=3\r\nDuration=160\r\n"))
    }

    @Test("a retransmission from behind NAT is answered at its source port, like the original")
    func rebuiltGoesWhereTheFirstWent() throws {
        let h = Harness()
        h.deliver(info())
        let (request, key) = try #require(h.tu.requests.first)
        h.endpoint.respond(SIPResponse(to: request, status: .ok), to: key)
        h.deliver(info())
        #expect(h.wire.count == 2 && h.wire[1].1 == h.wire[0].1 && h.wire[0].1 == h.peer)
    }

    @Test("fingerprints tell keys apart that differ in branch, sent-by or method only")
    func fingerprintsDiffer() {
        let base = SIPTransactionKey(branch: "z9hG4bK1", sentBy: "127.0.0.1:5070", method: .info)
        let others = [SIPTransactionKey(branch: "z9hG4bK2", sentBy: "127.0.0.1:5070", method: .info),
                      SIPTransactionKey(branch: "z9hG4bK1", sentBy: "127.0.0.1:5071", method: .info),
                      SIPTransactionKey(branch: "z9hG4bK1", sentBy: "127.0.0.1:5070", method: .bye)]
        let fingerprint = TransactionFingerprint(base)
        #expect(fingerprint == TransactionFingerprint(base))
        for other in others { #expect(TransactionFingerprint(other) != fingerprint) }
        #expect(fingerprint.high != fingerprint.low, "the two halves are different hashes")
    }
}
