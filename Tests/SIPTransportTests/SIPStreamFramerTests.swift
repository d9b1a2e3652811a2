import SIPCore
import SIPTransport
import Testing

/// Cutting a TCP/TLS byte stream into SIP messages: however the bytes are sliced, the same
/// messages come out; a peer cannot make us buffer without bound or wait forever.
@Suite struct SIPStreamFramerTests {
    static func message(body: String = "", extra: String = "", contentLength: String? = nil) -> String {
        let length = contentLength ?? String(body.utf8.count)
        return "OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\n"
            + "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1\r\n"
            + "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
            + extra + "Content-Length: \(length)\r\n\r\n" + body
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Feeds `stream` in slices of `size` bytes and collects what comes out.
    static func frame(_ stream: [UInt8], slices size: Int, limits: SIPStreamFramer.Limits = .init()) throws -> [SIPStreamFramer.Output] {
        var framer = SIPStreamFramer(limits: limits)
        var outputs: [SIPStreamFramer.Output] = []
        var index = 0
        while index < stream.count {
            let end = min(index + size, stream.count)
            outputs += try framer.receive(stream[index..<end], now: 0)
            index = end
        }
        #expect(framer.bufferedBytes == 0 && !framer.isInsideMessage, "nothing left over")
        return outputs
    }

    @Test(arguments: [1, 2, 3, 7, 64, 100_000])
    func theSameMessagesComeOutHoweverTheStreamIsSliced(slice: Int) throws {
        let first = Self.message(body: "v=0\r\n\r\nbody with a blank line\r\n")
        let second = Self.message(extra: "Subject: two\r\n")
        // A lone CRLF is told from the first half of a ping by the byte after it.
        let stream = Self.bytes("\r\n" + first + "\r\n\r\n" + second + "\r\n" + first)
        let outputs = try Self.frame(stream, slices: slice)
        #expect(outputs == [.pong, .message(Self.bytes(first)), .ping, .message(Self.bytes(second)), .pong, .message(Self.bytes(first))])
        // Each framed message is a whole SIP message for the parser.
        for case .message(let bytes) in outputs {
            _ = try SIPMessageParser.parse(datagram: bytes) // throws if the cut is not a message
        }
    }

    @Test func theCompactFormCountsAndABodyMayHoldAnything() throws {
        let body = "x\r\n\r\nContent-Length: 999\r\n"
        let text = "MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nl: \(body.utf8.count)\r\n\r\n" + body
        #expect(try Self.frame(Self.bytes(text + text), slices: 5) == [.message(Self.bytes(text)), .message(Self.bytes(text))])
    }

    @Test func aHundredKilobyteInviteIsFramedWhole() throws {
        let body = String(repeating: "a=x-filler:0123456789abcdef0123456789abcdef0123456789abcdef\r\n", count: 1_700)
        #expect(body.utf8.count > 100_000)
        let text = Self.message(body: body)
        let outputs = try Self.frame(Self.bytes(text), slices: 1_400)
        #expect(outputs == [.message(Self.bytes(text))])
    }

    @Test func aMessageWithoutContentLengthIsRefusedAndTheStreamStaysRefused() throws {
        var framer = SIPStreamFramer()
        let text = "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nCall-ID: x\r\n\r\n"
        #expect(throws: SIPStreamFramer.FramingError.missingContentLength) { try framer.receive(Self.bytes(text), now: 0) }
        #expect(throws: SIPStreamFramer.FramingError.missingContentLength) { try framer.receive(Self.bytes(Self.message()), now: 1) }
    }

    @Test(arguments: ["abc", "-1", "1e3", "99999999999", ""])
    func aBadContentLengthIsRefused(value: String) {
        var framer = SIPStreamFramer()
        #expect(throws: SIPStreamFramer.FramingError.self) {
            try framer.receive(Self.bytes(Self.message(contentLength: value)), now: 0)
        }
    }

    @Test func twoDifferentContentLengthsAreRefused() {
        var framer = SIPStreamFramer()
        #expect(throws: SIPStreamFramer.FramingError.invalidContentLength("0 and 5 in one message")) {
            try framer.receive(Self.bytes(Self.message(extra: "Content-Length: 0\r\n", contentLength: "5") + "hello"), now: 0)
        }
    }

    @Test func anEndlessHeaderIsCutOffAtTheLimitNotBuffered() throws {
        var framer = SIPStreamFramer(limits: .init(maxHeaderBytes: 4_096))
        _ = try framer.receive(Self.bytes("OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"), now: 0)
        var refused: SIPStreamFramer.FramingError?
        for index in 0..<1_000 where refused == nil {
            do {
                _ = try framer.receive(Self.bytes("X-Padding-\(index): 0123456789\r\n"), now: 0)
            } catch {
                refused = error
            }
        }
        #expect(refused == .headerTooLong(limit: 4_096))
        #expect(framer.bufferedBytes < 4_096 + 64, "held no more than the limit and one slice")
    }

    @Test func aBodyOverTheLimitIsRefusedAsSoonAsItsLengthIsRead() {
        var framer = SIPStreamFramer(limits: .init(maxBodyBytes: 1_000))
        #expect(throws: SIPStreamFramer.FramingError.bodyTooLong(declared: 1_000_000, limit: 1_000)) {
            try framer.receive(Self.bytes(Self.message(contentLength: "1000000")), now: 0)
        }
    }

    @Test func aSlowPeerIsCutOffWhenItsMessageTakesTooLong() throws {
        var framer = SIPStreamFramer(limits: .init(maxMessageMilliseconds: 30_000))
        let text = Self.bytes(Self.message())
        // Between messages a connection may idle: keep-alives are not a message in progress.
        #expect(try framer.receive(SIPStreamFramer.ping, now: 0) == [.ping])
        try framer.check(now: 120_000)
        // A header a byte every second: fine for 30 s, cut off after.
        var now: Int64 = 120_000
        for byte in text.prefix(30) {
            _ = try framer.receive([byte], now: now)
            now += 1_000
        }
        try framer.check(now: 150_000)
        #expect(throws: SIPStreamFramer.FramingError.tooSlow(limit: 30_000)) { try framer.check(now: 150_001) }
    }

    @Test func aWholeMessageInTimeResetsTheClock() throws {
        var framer = SIPStreamFramer(limits: .init(maxMessageMilliseconds: 1_000))
        let text = Self.bytes(Self.message())
        _ = try framer.receive(text.prefix(10), now: 0)
        #expect(try framer.receive(text.dropFirst(10), now: 900) == [.message(text)])
        try framer.check(now: 10_000)
        #expect(!framer.isInsideMessage)
    }
}
