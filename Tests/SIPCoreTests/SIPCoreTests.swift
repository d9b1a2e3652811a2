import Foundation
import NIOCore
import Testing
@testable import SIPCore

func crlf(_ s: String) -> [UInt8] { Array(s.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

@Suite struct SIPParserTests {
    static let invite = """
    INVITE sip:12345@127.0.0.1:5060 SIP/2.0
    Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1-0;rport
    Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-proxy
    From: "13800000000" <sip:13800000000@127.0.0.1:5070>;tag=abc
    To: <sip:12345@127.0.0.1:5060>
    Call-ID: 1-2@127.0.0.1
    CSeq: 1 INVITE
    Contact: <sip:caller@127.0.0.1:5070>
    Max-Forwards: 70
    Content-Type: application/sdp
    Content-Length: 5

    v=0

    """

    @Test func parsesARequestAndItsTypedHeaders() throws {
        let message = try SIPMessageParser.parse(datagram: crlf(Self.invite))
        guard case .request(let r) = message else { Issue.record("not a request"); return }
        #expect(r.method == .invite)
        #expect(r.uri.user == "12345" && r.uri.host == "127.0.0.1" && r.uri.port == 5060)
        #expect(r.callID == "1-2@127.0.0.1")
        #expect(r.cseq == SIPCSeq(1, .invite))
        #expect(r.from?.tag == "abc")
        #expect(r.from?.displayName == "\"13800000000\"")
        #expect(r.to?.tag == nil)
        #expect(r.vias.count == 2)
        #expect(r.topVia?.branch == "z9hG4bK-1-0")
        #expect(r.topVia?.hasRport == true)
        #expect(r.contentType == "application/sdp")
        #expect(r.body == Array("v=0\r\n".utf8))
    }

    @Test func roundTripsByteForByte() throws {
        let bytes = crlf(Self.invite)
        let message = try SIPMessageParser.parse(datagram: bytes)
        #expect(message.serialized == Array(bytes))
        // and a reparse of the serialization is the same value
        #expect(try SIPMessageParser.parse(datagram: message.serialized) == message)
    }

    @Test func compactFormsCaseAndCommaListsAreUnderstood() throws {
        let text = """
        OPTIONS sip:12345@127.0.0.1 SIP/2.0
        v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa, SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb
        f: <sip:a@127.0.0.1>;tag=1
        t: <sip:12345@127.0.0.1>
        i: compact@127.0.0.1
        cSeQ: 7 OPTIONS
        l: 0

        """
        guard case .request(let r) = try SIPMessageParser.parse(datagram: crlf(text)) else { Issue.record("no request"); return }
        #expect(r.headers[SIPHeaderName("CALL-ID")] == "compact@127.0.0.1")
        #expect(r.vias.map(\.host) == ["127.0.0.1", "proxy.example.com"])
        #expect(r.vias[1].transport == "TCP")
        #expect(r.cseq?.sequence == 7)
        #expect(r.body.isEmpty)
    }

    @Test func listSplittingRespectsQuotesAndBrackets() {
        let parts = SIPGrammar.splitList(#""Doe, John" <sip:j@x.com;a=1,2>;q=0.5, <sip:b@y.com>"#)
        #expect(parts == [#""Doe, John" <sip:j@x.com;a=1,2>;q=0.5"#, "<sip:b@y.com>"])
    }

    @Test func streamFramingUsesContentLength() throws {
        var parser = SIPMessageParser()
        let one = crlf(Self.invite)
        let stream = Array(one) + Array(one)
        parser.append(stream[0..<100])
        let partial = try parser.next()
        #expect(partial == nil)
        parser.append(stream[100...])
        let first = try parser.next(), second = try parser.next(), third = try parser.next()
        #expect(first != nil && first == second)
        #expect(third == nil)
    }

    @Test func datagramBodyBeyondContentLengthIsDiscarded() throws {
        let bytes = crlf(Self.invite) + Array("garbage".utf8)
        guard case .request(let r) = try SIPMessageParser.parse(datagram: bytes) else { Issue.record(); return }
        #expect(r.body == Array("v=0\r\n".utf8))
    }

    @Test func keepAliveCRLFIsNotAMessage() {
        #expect(throws: SIPParseError.self) { try SIPMessageParser.parse(datagram: Array("\r\n\r\n".utf8)) }
    }

    @Test func parsesWhatTheCodeBuilds() throws {
        var r = SIPRequest(method: .bye, uri: try SIPURI.parse("sip:caller@127.0.0.1:5070"))
        r.headers.append(.via, SIPVia(host: "127.0.0.1", port: 5060, branch: "z9hG4bKx").description)
        r.headers.append(.from, "<sip:12345@127.0.0.1>;tag=s1")
        r.headers.append(.to, "<sip:13800000000@127.0.0.1>;tag=c1")
        r.headers.append(.callID, "c@h")
        r.headers.append(.cseq, SIPCSeq(2, .bye).description)
        let parsed = try SIPMessageParser.parse(datagram: r.serialized)
        #expect(parsed.serialized == r.serialized)
        guard case .request(let back) = parsed else { Issue.record(); return }
        #expect(back.headers.fields.dropLast() == r.headers.fields[...], "Content-Length added last")
    }
}

@Suite struct TortureTests {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("torture")
    static let cases: [String] = (try? FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sip") }.sorted()) ?? []

    @Test func fixturesArePresent() { #expect(Self.cases.count >= 25) }

    @Test(arguments: cases)
    func torture(_ file: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(file)))
        let outcome = Result { () throws(SIPParseError) -> SIPMessage in try SIPMessageParser.parse(datagram: bytes) }
        switch outcome {
        case .success(let message):
            #expect(file.hasPrefix("accept-"), "\(file) parsed but should have been rejected")
            // Every accepted message re-serializes into something that parses to the same value.
            #expect(try SIPMessageParser.parse(datagram: message.serialized) == message, "\(file) round trip")
        case .failure(let error):
            if file.hasPrefix("reject400-") {
                #expect(error.status == .badRequest, "\(file): \(error)")
                #expect(error.response()?.status == .badRequest, "\(file) must be answerable: \(error)")
            } else if file.hasPrefix("reject505-") {
                #expect(error.status == .versionNotSupported, "\(file): \(error)")
                #expect(error.response()?.status == .versionNotSupported)
            } else if file.hasPrefix("drop-") {
                #expect(error.response() == nil, "\(file) cannot be answered")
            } else {
                Issue.record("\(file) rejected: \(error)")
            }
        }
    }

    @Test func intmethKeepsItsUnusualMethod() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("accept-intmeth.sip")))
        guard case .request(let r) = try SIPMessageParser.parse(datagram: bytes) else { Issue.record(); return }
        #expect(r.method.rawValue == "!interesting-Method0123456789_*+`.%indeed'~")
        #expect(!SIPMethod.known.contains(r.method))
    }

    @Test func wsinvUnfoldsEverything() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("accept-wsinv.sip")))
        guard case .request(let r) = try SIPMessageParser.parse(datagram: bytes) else { Issue.record(); return }
        #expect(r.to?.tag == "1918181833n")
        #expect(r.from?.tag == "98asjd8")
        #expect(r.cseq == SIPCSeq(9, .invite))
        #expect(r.maxForwards == 68)
        #expect(r.vias.map(\.sentBy) == ["192.0.2.2", "spindle.example.com", "192.168.255.111"])
        #expect(r.vias[2].branch == "z9hG4bK30239")
        #expect(r.contacts.first?.parameters.value("q") == "0.33")
        #expect(r.headers[SIPHeaderName("NewFangledHeader")] == "newfangled value continued newfangled value")
    }

    @Test func escapedUserIsDecodedForRouting() throws {
        let uri = try SIPURI.parse("sip:%31%32345@example.com")
        #expect(uri.decodedUser == "12345")
    }

    @Test func unknownSchemeParsesOpaque() throws {
        let uri = try SIPURI.parse("nobodyknowsthisscheme:totallyopaquecontent")
        #expect(!uri.isSIP)
        #expect(uri.description == "nobodyknowsthisscheme:totallyopaquecontent")
    }
}

@Suite struct ParserRobustnessTests {
    /// Mutated and random inputs never trap; every outcome is a message or a typed error.
    @Test func neverTrapsOnMutatedInput() throws {
        var rng = SystemRandomNumberGenerator()
        let seed = crlf(SIPParserTests.invite)
        var parsed = 0, rejected = 0
        for _ in 0..<3000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
            }
            do { _ = try SIPMessageParser.parse(datagram: bytes); parsed += 1 } catch { rejected += 1 }
        }
        #expect(parsed + rejected == 3000)
        #expect(rejected > 0)
    }
}

@Suite struct ResponseBuildingTests {
    @Test func responseCopiesTheRightHeadersAndAddsTheTag() throws {
        guard case .request(var r) = try SIPMessageParser.parse(datagram: crlf(SIPParserTests.invite)) else { Issue.record(); return }
        r.annotateTopVia(sourceIP: "127.0.0.1", sourcePort: 5071)
        #expect(r.topVia?.rport == 5071)
        #expect(r.topVia?.received == "127.0.0.1")
        let ok = SIPResponse(to: r, status: .ok, toTag: "srv1")
        #expect(ok.headers.values(.via).count == 2)
        #expect(ok.to?.tag == "srv1")
        #expect(ok.callID == r.callID && ok.cseq == r.cseq && ok.from == r.from)
        let trying = SIPResponse(to: r, status: .trying, toTag: "srv1")
        #expect(trying.to?.tag == nil, "100 Trying carries no To tag")
        #expect(trying.serialized.starts(with: Array("SIP/2.0 100 Trying\r\n".utf8)))
    }

    @Test func viaWithoutRportFromTheSentByAddressIsLeftAlone() throws {
        var r = SIPRequest(method: .options, uri: try SIPURI.parse("sip:x@127.0.0.1"))
        r.headers.append(.via, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKq")
        r.annotateTopVia(sourceIP: "127.0.0.1", sourcePort: 5070)
        #expect(r.headers[.via] == "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKq")
        r.annotateTopVia(sourceIP: "192.0.2.9", sourcePort: 40000)
        #expect(r.topVia?.received == "192.0.2.9")
        #expect(r.topVia?.rport == nil)
    }
}

@Suite struct DTMFInfoTests {
    @Test func dtmfRelayAndBareDTMFBodies() {
        #expect(SIPDTMFInfo.parse(contentType: "application/dtmf-relay", body: Array("Signal=3\r\nDuration=160\r\n".utf8)) == .key("3"), "CRLF is one Character in Swift")
        #expect(SIPDTMFInfo.parse(contentType: "application/dtmf-relay", body: Array("signal= #\nDuration=100".utf8)) == .key("#"))
        #expect(SIPDTMFInfo.parse(contentType: "application/dtmf-relay", body: Array("Signal=10\r\n".utf8)) == .key("*"))
        #expect(SIPDTMFInfo.parse(contentType: "application/dtmf", body: Array("3".utf8)) == .key("3"))
        #expect(SIPDTMFInfo.parse(contentType: "application/dtmf", body: Array("b\r\n".utf8)) == .key("B"))
        #expect(SIPDTMFInfo.parse(contentType: "application/dtmf", body: []) == .noKey)
        #expect(SIPDTMFInfo.parse(contentType: "application/dtmf", body: Array("12".utf8)) == .malformed("invalid key '12'"))
        #expect(SIPDTMFInfo.parse(contentType: "application/dtmf-relay", body: Array("Duration=160".utf8)) == .malformed("no Signal= line"))
        #expect(SIPDTMFInfo.parse(contentType: "text/plain", body: Array("3".utf8)) == .malformed("unsupported content type text/plain"))
    }
}

@Suite struct CallIDPeekTests {
    @Test func findsTheCallIDInAnyFormWithoutParsing() {
        func peek(_ s: String) -> String? {
            let bytes = Array(s.utf8)
            return bytes.withUnsafeBytes { raw in
                SIPMessageParser.peekCallID(in: raw).map { String(decoding: bytes[$0], as: UTF8.self) }
            }
        }
        #expect(peek("INVITE sip:a@b SIP/2.0\r\nVia: x\r\nCall-ID: abc@h\r\n\r\n") == "abc@h")
        #expect(peek("BYE sip:a@b SIP/2.0\r\ni:  compact-1 \r\n\r\nCall-ID: body") == "compact-1")
        #expect(peek("SIP/2.0 200 OK\nCALL-id :x1\n\n") == "x1")
        #expect(peek("OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\nCall-ID: in-body\r\n") == nil, "the body is not looked at")
        #expect(peek("garbage") == nil)
    }

    @Test func shardIsStablePerCallAndSpreadsCalls() throws {
        func shard(_ bytes: [UInt8], _ n: Int) -> Int { bytes.withUnsafeBytes { SIPMessageParser.shard(of: $0, among: n) } }
        let a = Array(crlf(SIPParserTests.invite))
        #expect(shard(a, 4) == shard(a, 4))
        // The same Call-ID in another message (a compact-form ACK) goes to the same loop.
        let ack = Array("ACK sip:x SIP/2.0\r\ni: 1-2@127.0.0.1\r\n\r\n".utf8)
        #expect(shard(ack, 4) == shard(a, 4))
        var counts = [0, 0]
        for i in 0..<1000 {
            let message = Array("ACK sip:x SIP/2.0\r\nCall-ID: \(i)-4242@127.0.0.1\r\n\r\n".utf8)
            counts[shard(message, 2)] += 1
        }
        #expect(counts.allSatisfy { (400...600).contains($0) }, "\(counts)")
        #expect(shard(a, 1) == 0)
        // A Call-ID on its own hashes as in a message, so a request we send can be given one
        // whose responses reach the sending loop.
        for i in 0..<50 {
            let id = "\(i)-4242@127.0.0.1"
            let message = Array("SIP/2.0 200 OK\r\nCall-ID:  \(id) \r\n\r\n".utf8)
            #expect(SIPMessageParser.shard(ofCallID: id, among: 3) == shard(message, 3))
        }
    }

    @Test func startLineMethodIsPeekedWithoutParsing() {
        func starts(_ text: String, _ method: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { SIPMessageParser.startsWithMethod(method, in: $0) }
        }
        #expect(starts("REGISTER sip:hotline SIP/2.0\r\n", "REGISTER"))
        #expect(!starts("REGISTERX sip:hotline SIP/2.0\r\n", "REGISTER"))
        #expect(!starts("INVITE sip:1@h SIP/2.0\r\n", "REGISTER"))
        #expect(!starts("SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\n", "REGISTER"))
        #expect(!starts("REGISTER", "REGISTER"))
    }
}

@Suite struct ParsedHeaderCacheTests {
    @Test func theParsersReadingIsKeptAndDroppedWhenHeadersChange() throws {
        guard case .request(var r) = try SIPMessageParser.parse(datagram: crlf(SIPParserTests.invite)) else { Issue.record(); return }
        #expect(r.parsed?.from.tag == "abc")
        #expect(r.parsed?.cseq == SIPCSeq(1, .invite))
        r.annotateTopVia(sourceIP: "192.0.2.4", sourcePort: 7000)
        #expect(r.parsed != nil, "annotating the Via keeps the rest")
        #expect(r.topVia?.received == "192.0.2.4" && r.topVia?.rport == 7000)
        #expect(r.headers.values(.via).first?.contains("received=192.0.2.4") == true)
        r.headers.set(.from, "<sip:other@127.0.0.1>;tag=zzz")
        #expect(r.parsed == nil)
        #expect(r.from?.tag == "zzz", "accessors read the new header")
        // Equality ignores the cache.
        guard case .request(let fresh) = try SIPMessageParser.parse(datagram: crlf(SIPParserTests.invite)) else { Issue.record(); return }
        var stripped = fresh
        stripped.headers = fresh.headers
        #expect(stripped.parsed == nil && stripped == fresh)
    }
}
