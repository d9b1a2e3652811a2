import Testing
@testable import SIPCore

/// `SIPRequest.serializedCount` decides whether a request is too large for UDP (RFC 3261
/// §18.1.1) without writing it: it must agree with what `write(into:)` really produces, byte
/// for byte, whatever the Content-Length header says or whether there is one.
@Suite struct SerializedCountTests {
    static func request(headers extra: [(SIPHeaderName, String)], body: String = "", uri: String = "sip:12345@127.0.0.1:5060") throws -> SIPRequest {
        var request = SIPRequest(method: .invite, uri: try SIPURI.parse(uri))
        request.headers.append(.via, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-count;rport")
        request.headers.append(.from, "\"Zoë\" <sip:13800000000@127.0.0.1>;tag=a") // UTF-8: bytes, not characters
        request.headers.append(.to, "<sip:12345@127.0.0.1>")
        request.headers.append(.callID, "count-1@127.0.0.1")
        request.headers.append(.cseq, "1 INVITE")
        for (name, value) in extra { request.headers.append(name, value) }
        request.body = Array(body.utf8)
        return request
    }

    static let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

    @Test("serializedCount equals the bytes written", arguments: [
        ("no Content-Length, no body", [], ""),
        ("no Content-Length, a body", [], sdp),
        ("a right Content-Length", [(SIPHeaderName.contentType, "application/sdp"), (.contentLength, String(sdp.utf8.count))], sdp),
        ("a wrong Content-Length (written as the real size)", [(SIPHeaderName.contentLength, "99999")], sdp),
        ("Content-Length 0 with a body", [(SIPHeaderName.contentLength, "0")], "x"),
        ("two Content-Lengths (one written)", [(SIPHeaderName.contentLength, "3"), (.contentLength, "4")], "abc"),
        ("Content-Length before other headers", [(SIPHeaderName.contentLength, "1"), (.maxForwards, "70"), (SIPHeaderName("X-Unknown-Header"), "")], "é"),
        ("a body of 10 000 bytes (five-digit length)", [(SIPHeaderName.contentLength, "1")], String(repeating: "a", count: 10_000)),
    ] as [(String, [(SIPHeaderName, String)], String)])
    func countMatchesSerialization(_ label: String, _ headers: [(SIPHeaderName, String)], _ body: String) throws {
        let request = try Self.request(headers: headers, body: body)
        #expect(request.serializedCount == request.serialized.count, "\(label)")
    }

    @Test func aParsedRequestWithCompactHeadersCountsAsItIsWritten() throws {
        // Compact forms are written in their long form: the count must follow the writer.
        let text = "OPTIONS sips:12345@127.0.0.1;transport=tcp SIP/2.0\r\nv: SIP/2.0/TLS 127.0.0.1:5071;branch=z9hG4bK-c\r\n"
            + "f: <sip:a@127.0.0.1>;tag=1\r\nt: <sip:12345@127.0.0.1>\r\ni: compact@127.0.0.1\r\nCSeq: 7 OPTIONS\r\n"
            + "c: text/plain\r\nl: 5\r\n\r\nhello"
        guard case .request(let request) = try SIPMessageParser.parse(datagram: Array(text.utf8)) else {
            Issue.record("not parsed as a request")
            return
        }
        #expect(request.serializedCount == request.serialized.count)
        #expect(request.serialized.count > text.utf8.count, "the long forms are longer: the count is not the received size")
    }
}
