/// Reads SIP messages from datagrams (one message each, RFC 3261 §18.3: Content-Length
/// bounds the body, extra bytes are discarded) or from a byte stream (Content-Length frames
/// consecutive messages). Generous where RFC 3261 allows (compact forms, any case, LWS and
/// folding, bare LF line ends), strict where a wrong guess would misroute a call
/// (mandatory headers, CSeq/method agreement, Content-Length, URI syntax: RFC 4475).
public struct SIPMessageParser: Sendable {
    /// Messages larger than this are refused rather than buffered (RFC 3261 §18.1.1 says
    /// UDP messages should stay under the path MTU; 64 KiB bounds a stream peer).
    public var maximumMessageSize: Int

    private var buffer: [UInt8] = []
    private var consumedOffset = 0

    public init(maximumMessageSize: Int = 65_535) {
        self.maximumMessageSize = maximumMessageSize
    }

    /// Parses exactly one message from one datagram.
    public static func parse<Bytes: Collection<UInt8>>(datagram: Bytes) throws(SIPParseError) -> SIPMessage {
        let bytes = Array(datagram)
        switch try parseMessage(bytes, from: 0, datagram: true) {
        case .message(let message, _): return message
        case .needMoreData: throw SIPParseError(offset: bytes.count, reason: "incomplete message")
        case .keepAlive: throw SIPParseError(offset: 0, reason: "empty datagram (keep-alive)")
        }
    }

    // MARK: stream use

    /// Appends bytes received on a stream transport.
    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil when more bytes are needed. After an error the
    /// stream cannot be re-synchronised and the connection should be closed.
    public mutating func next() throws(SIPParseError) -> SIPMessage? {
        while true {
            guard consumedOffset < buffer.count else { compact(); return nil }
            let result = try SIPMessageParser.parseMessage(buffer, from: consumedOffset, datagram: false, limit: maximumMessageSize)
            switch result {
            case .message(let message, let end):
                consumedOffset = end
                if consumedOffset > 4096 { compact() }
                return message
            case .keepAlive(let end):
                consumedOffset = end
            case .needMoreData:
                if buffer.count - consumedOffset > maximumMessageSize {
                    throw SIPParseError(offset: consumedOffset, reason: "message larger than \(maximumMessageSize) bytes", status: .messageTooLarge)
                }
                compact()
                return nil
            }
        }
    }

    private mutating func compact() {
        if consumedOffset > 0 {
            buffer.removeFirst(consumedOffset)
            consumedOffset = 0
        }
    }

    // MARK: core

    enum Outcome {
        case message(SIPMessage, end: Int)
        case needMoreData
        /// Only CRLFs (RFC 5626 §3.5.1 keep-alive, or §7.5 leading empty lines).
        case keepAlive(end: Int)
    }

    static func parseMessage(_ bytes: [UInt8], from start: Int, datagram: Bool, limit: Int = .max) throws(SIPParseError) -> Outcome {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var i = start
        // RFC 3261 §7.5: implementations should ignore CRLF before the start line.
        while i < bytes.count, bytes[i] == cr || bytes[i] == lf { i += 1 }
        if i == bytes.count {
            return datagram || i > start ? .keepAlive(end: i) : .needMoreData
        }
        let messageStart = i

        // Find the empty line that ends the header section.
        var headerEnd = -1, bodyStart = -1
        var j = i
        while j < bytes.count {
            if bytes[j] == lf {
                if j + 1 < bytes.count, bytes[j + 1] == lf { headerEnd = j; bodyStart = j + 2; break }
                if j + 2 < bytes.count, bytes[j + 1] == cr, bytes[j + 2] == lf { headerEnd = j; bodyStart = j + 3; break }
            }
            j += 1
        }
        if headerEnd < 0 {
            if datagram {
                // A datagram that ends right after the last header line is still complete.
                if let last = bytes.last, last == lf { headerEnd = bytes.count - 1; bodyStart = bytes.count }
                else { throw SIPParseError(offset: bytes.count, reason: "header section not terminated by an empty line") }
            } else {
                return .needMoreData
            }
        }

        // Split into lines (CRLF or LF), unfolding continuation lines (§7.3.1).
        var lines: [(offset: Int, text: ArraySlice<UInt8>)] = []
        var lineStart = messageStart
        var k = messageStart
        while k <= headerEnd {
            if bytes[k] == lf || k == headerEnd {
                var lineEnd = k
                if lineEnd > lineStart, bytes[lineEnd - 1] == cr { lineEnd -= 1 }
                if k == headerEnd, bytes[k] != lf { lineEnd = k + 1 }
                lines.append((lineStart, bytes[lineStart..<lineEnd]))
                lineStart = k + 1
            }
            k += 1
        }
        guard let startLine = lines.first else {
            throw SIPParseError(offset: messageStart, reason: "missing start line")
        }
        // Controls are refused in the start line; in header values they may appear escaped
        // inside quoted strings (RFC 3261 §25.1 quoted-pair, RFC 4475 §3.1.1.2).
        if let bad = startLine.text.firstIndex(where: { ($0 < 0x20 && $0 != UInt8(ascii: "\t")) || $0 == 0x7F }) {
            throw SIPParseError(offset: bad, reason: "control character in the start line")
        }

        // Headers.
        var headers = SIPHeaders()
        var headerError: SIPParseError?
        // The value's bytes on its line; `folded` only once a continuation line appends to it.
        var current: (name: SIPHeaderName, value: ArraySlice<UInt8>, folded: [UInt8]?, offset: Int)?
        func flush() {
            guard let c = current else { return }
            // Trimmed as bytes, then one String: no copy of the line, no second String.
            let value: String? = if let folded = c.folded {
                String(validating: SIPGrammar.trimBytes(folded[...]), as: UTF8.self)
            } else {
                String(validating: SIPGrammar.trimBytes(c.value), as: UTF8.self)
            }
            guard let value else {
                if headerError == nil { headerError = SIPParseError(offset: c.offset, reason: "header \(c.name) is not valid UTF-8") }
                return
            }
            headers.append(c.name, value)
        }
        for (offset, text) in lines.dropFirst() {
            if let first = text.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                guard current != nil else {
                    if headerError == nil { headerError = SIPParseError(offset: offset, reason: "continuation line before any header") }
                    continue
                }
                if current!.folded == nil { current!.folded = Array(current!.value) }
                current!.folded!.append(UInt8(ascii: " "))
                current!.folded!.append(contentsOf: text.drop(while: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }))
                continue
            }
            flush()
            current = nil
            guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else {
                if headerError == nil { headerError = SIPParseError(offset: offset, reason: "header line without ':'") }
                continue
            }
            var nameBytes = text[text.startIndex..<colon]
            while let last = nameBytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { nameBytes = nameBytes.dropLast() }
            guard !nameBytes.isEmpty, nameBytes.allSatisfy(SIPGrammar.isTokenByte) else {
                if headerError == nil { headerError = SIPParseError(offset: offset, reason: "invalid header name") }
                continue
            }
            let name = SIPHeaderName(String(decoding: nameBytes, as: UTF8.self))
            current = (name, text[(colon + 1)...], nil, offset)
        }
        flush()

        // Body framing (§18.3, §20.14).
        let contentLengthValues = headers.values(.contentLength)
        var contentLength: Int?
        if !contentLengthValues.isEmpty {
            let distinct = Set(contentLengthValues)
            guard distinct.count == 1, let text = distinct.first, !text.isEmpty, text.count <= 9,
                  text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(text) else {
                throw SIPParseError(offset: headerEnd, reason: "invalid Content-Length",
                                    answerable: answerableRequest(startLine.text, headers))
            }
            contentLength = n
        }
        let available = bytes.count - bodyStart
        let bodyLength: Int
        if datagram {
            if let contentLength {
                guard contentLength <= available else {
                    throw SIPParseError(offset: bytes.count, reason: "Content-Length \(contentLength) exceeds the \(available) body bytes received",
                                        answerable: answerableRequest(startLine.text, headers))
                }
                bodyLength = contentLength
            } else {
                bodyLength = available
            }
        } else {
            bodyLength = contentLength ?? 0
            guard bodyLength <= limit else {
                throw SIPParseError(offset: headerEnd, reason: "body larger than \(limit) bytes", status: .messageTooLarge)
            }
            if available < bodyLength { return .needMoreData }
        }
        let body = Array(bytes[bodyStart..<(bodyStart + bodyLength)])
        let end = bodyStart + bodyLength

        let message = try buildMessage(startLine: startLine.text, startOffset: startLine.offset, headers: headers, body: body, headerError: headerError)
        return .message(message, end: end)
    }

    private static func answerableRequest(_ startLine: ArraySlice<UInt8>, _ headers: SIPHeaders) -> SIPParseError.AnswerableRequest? {
        guard let space = startLine.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let method = startLine[startLine.startIndex..<space]
        guard !method.isEmpty, method.allSatisfy(SIPGrammar.isTokenByte), !startLine.starts(with: Array("SIP/".utf8)) else { return nil }
        return .init(method: SIPMethod(String(decoding: method, as: UTF8.self)), headers: headers)
    }

    private static func buildMessage(startLine: ArraySlice<UInt8>, startOffset: Int, headers: SIPHeaders, body: [UInt8], headerError: SIPParseError?) throws(SIPParseError) -> SIPMessage {
        guard let line = String(validating: startLine, as: UTF8.self) else {
            throw SIPParseError(offset: startOffset, reason: "start line is not valid UTF-8")
        }
        if line.hasPrefix("SIP/") {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0] == "SIP/2.0", parts[1].count == 3,
                  let code = Int(parts[1]), (100...699).contains(code) else {
                throw SIPParseError(offset: startOffset, reason: "invalid status line")
            }
            if let headerError { throw headerError }
            var response = SIPResponse(status: SIPStatus(code), reasonPhrase: parts.count > 2 ? String(parts[2]) : "", headers: headers, body: body)
            response.parsed = try validateCommon(headers, offset: startOffset, answerable: nil)
            return .response(response)
        }
        // Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1). Extra spaces
        // between elements are tolerated; whitespace inside the URI is not (RFC 4475 §3.1.2.10).
        // Split as bytes (SP and HTAB are ASCII), not Characters.
        let parts = line.utf8.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }).map { Substring($0) }
        let answerable = answerableRequest(startLine, headers)
        guard parts.count == 3 else {
            throw SIPParseError(offset: startOffset, reason: "request line must be 'METHOD URI SIP/2.0'", answerable: answerable)
        }
        guard SIPGrammar.isToken(parts[0]) else {
            throw SIPParseError(offset: startOffset, reason: "invalid method", answerable: nil)
        }
        let method = SIPMethod(String(parts[0]))
        let version = parts[2]
        guard version.uppercased() == "SIP/2.0" else {
            if version.uppercased().hasPrefix("SIP/") {
                throw SIPParseError(offset: startOffset, reason: "SIP version \(version) not supported", status: .versionNotSupported, answerable: answerable)
            }
            throw SIPParseError(offset: startOffset, reason: "invalid SIP version", answerable: answerable)
        }
        if let headerError { var e = headerError; e.answerable = answerable; throw e }
        let uriText = parts[1]
        guard uriText.first != "<" else {
            throw SIPParseError(offset: startOffset, reason: "Request-URI must not be enclosed in <>", answerable: answerable)
        }
        let uri: SIPURI
        do { uri = try SIPURI.parse(uriText) } catch {
            throw SIPParseError(offset: startOffset, reason: "invalid Request-URI (\(error))", answerable: answerable)
        }
        let parsed = try validateCommon(headers, offset: startOffset, answerable: answerable)
        let cseq = parsed.cseq
        guard cseq.method == method else {
            throw SIPParseError(offset: startOffset, reason: "CSeq method \(cseq.method) does not match request method \(method)", answerable: answerable)
        }
        if let mf = headers[.maxForwards] {
            guard mf.count <= 10, mf.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), !mf.isEmpty else {
                throw SIPParseError(offset: startOffset, reason: "invalid Max-Forwards", answerable: answerable)
            }
        }
        var request = SIPRequest(method: method, uri: uri, headers: headers, body: body)
        request.parsed = parsed
        return .request(request)
    }

    /// Checks the headers every request and response must carry (§8.1.1, §20) and returns them
    /// parsed, for the message to keep.
    private static func validateCommon(_ headers: SIPHeaders, offset: Int, answerable: SIPParseError.AnswerableRequest?) throws(SIPParseError) -> SIPParsedHeaders {
        func fail(_ reason: String) -> SIPParseError { SIPParseError(offset: offset, reason: reason, answerable: answerable) }
        var firsts: [SIPHeaderName: String] = [:]
        for name in [SIPHeaderName.callID, .cseq, .from, .to] {
            var first: String?
            for field in headers.fields where field.name == name {
                if let first, first != field.value { throw fail("\(name) appears more than once with different values") }
                first = field.value
            }
            guard let first else { throw fail("missing \(name) header") }
            firsts[name] = first
        }
        let vias = headers.values(.via)
        guard !vias.isEmpty else { throw fail("missing Via header") }
        var topVia: SIPVia?
        for via in vias {
            do {
                let parsed = try SIPVia.parse(via)
                if topVia == nil { topVia = parsed }
            } catch { throw fail("invalid Via header (\(error))") }
        }
        let callID = firsts[.callID]!
        guard !callID.isEmpty, !callID.contains(where: { $0 == " " || $0 == "\t" }) else { throw fail("invalid Call-ID") }
        guard let cseq = SIPCSeq.parse(firsts[.cseq]![...]) else { throw fail("invalid CSeq") }
        let from: SIPNameAddress, to: SIPNameAddress
        do { from = try SIPNameAddress.parse(firsts[.from]!) } catch { throw fail("invalid From header (\(error))") }
        do { to = try SIPNameAddress.parse(firsts[.to]!) } catch { throw fail("invalid To header (\(error))") }
        for contact in headers.values(.contact) {
            do { _ = try SIPNameAddress.parse(contact) } catch { throw fail("invalid Contact header (\(error))") }
        }
        return SIPParsedHeaders(callID: SIPGrammar.trim(callID), cseq: cseq, from: from, to: to, topVia: topVia!)
    }
}

extension SIPMessageParser {
    /// The byte range of a datagram's Call-ID, found without parsing: a scan for the
    /// `Call-ID:` (or compact `i:`) line, any case. Used to send every message of a call to the
    /// event loop that owns it before the real parse; nil when there is none (the owner is
    /// then arbitrary and the full parse refuses the message).
    public static func peekCallID(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        let end = bytes.count
        let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), colon = UInt8(ascii: ":")
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        var i = 0
        while i < end, bytes[i] != lf { i += 1 } // the start line
        i += 1
        let name: [UInt8] = Array("call-id".utf8)
        while i < end {
            let lineStart = i
            while i < end, bytes[i] != lf { i += 1 }
            var lineEnd = i
            if lineEnd > lineStart, bytes[lineEnd - 1] == cr { lineEnd -= 1 }
            if lineEnd == lineStart { return nil } // end of the headers
            i += 1
            // Cheap first-letter filter: only lines starting with c/C or i/I can be it.
            let first = bytes[lineStart] | 0x20
            guard first == UInt8(ascii: "c") || first == UInt8(ascii: "i") else { continue }
            var c = lineStart
            while c < lineEnd, bytes[c] != colon { c += 1 }
            guard c < lineEnd else { continue }
            var nameEnd = c
            while nameEnd > lineStart, bytes[nameEnd - 1] == space || bytes[nameEnd - 1] == tab { nameEnd -= 1 }
            let length = nameEnd - lineStart
            var isCallID = length == 1 && first == UInt8(ascii: "i")
            if length == 7 {
                isCallID = true
                for k in 0..<7 where bytes[lineStart + k] | 0x20 != name[k] && bytes[lineStart + k] != name[k] { isCallID = false }
            }
            guard isCallID else { continue }
            var valueStart = c + 1, valueEnd = lineEnd
            while valueStart < valueEnd, bytes[valueStart] == space || bytes[valueStart] == tab { valueStart += 1 }
            while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
            return valueStart < valueEnd ? valueStart..<valueEnd : nil
        }
        return nil
    }

    /// FNV-1a of the Call-ID: which of `shards` event loops owns the call.
    public static func shard(of datagram: UnsafeRawBufferPointer, among shards: Int) -> Int {
        guard shards > 1, let range = peekCallID(in: datagram) else { return 0 }
        return shard(hashing: UnsafeRawBufferPointer(rebasing: datagram[range]), among: shards)
    }

    /// The loop ``shard(of:among:)`` gives a message with this Call-ID: so a request we send
    /// (an agent leg's INVITE, a keep-alive OPTIONS) can be given a Call-ID whose responses
    /// come back to the loop that sent it.
    public static func shard(ofCallID callID: String, among shards: Int) -> Int {
        guard shards > 1 else { return 0 }
        var callID = callID
        return callID.withUTF8 { shard(hashing: UnsafeRawBufferPointer($0), among: shards) }
    }

    private static func shard(hashing bytes: UnsafeRawBufferPointer, among shards: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Int(hash % UInt64(shards))
    }

    /// Whether a datagram is a request with this method (its start line begins with the
    /// method and a space), without parsing it: REGISTERs go to the registrar's loop whatever
    /// their Call-ID.
    public static func startsWithMethod(_ method: String, in datagram: UnsafeRawBufferPointer) -> Bool {
        let name = Array(method.utf8)
        guard datagram.count > name.count, datagram[name.count] == UInt8(ascii: " ") else { return false }
        for (i, byte) in name.enumerated() where datagram[i] != byte { return false }
        return true
    }
}
