/// Why bytes could not be read as a SIP message, where, and what a UAS should answer.
public struct SIPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Byte offset in the datagram or stream where the problem was found.
    public var offset: Int
    public var reason: String
    /// The status a UAS answers a request with: 400, or 505 for a version we don't speak.
    public var status: SIPStatus
    /// For a request whose start line and header framing were readable: its method and raw
    /// headers, so the UAS can still build a response (Via, From, To, Call-ID, CSeq copied).
    /// Nil when nothing answerable could be recovered: such a message is dropped and counted.
    public var answerable: AnswerableRequest?

    public struct AnswerableRequest: Hashable, Sendable {
        public var method: SIPMethod
        public var headers: SIPHeaders
    }

    public init(offset: Int, reason: String, status: SIPStatus = .badRequest, answerable: AnswerableRequest? = nil) {
        self.offset = offset
        self.reason = reason
        self.status = status
        self.answerable = answerable
    }

    public var description: String { "offset \(offset): \(reason)" }

    /// A response to the unreadable request, or nil when it cannot be answered (no Via to
    /// route it, or it was a response or an ACK, which are never answered — RFC 3261 §17.2.1).
    public func response() -> SIPResponse? {
        guard let request = answerable, request.method != .ack, request.headers.contains(.via) else { return nil }
        var headers = SIPHeaders()
        for field in request.headers.fields
        where [SIPHeaderName.via, .from, .to, .callID, .cseq].contains(field.name) {
            headers.append(field.name, field.value)
        }
        let phrase = status == .badRequest ? "Bad Request - \(reason)" : status.reasonPhrase
        var response = SIPResponse(status: status, reasonPhrase: SIPParseError.sanitize(phrase), headers: headers)
        response.headers.append(.warning, "399 hotline \"\(SIPParseError.sanitize(reason).replacingQuotes())\"")
        return response
    }

    /// A reason phrase may not contain CR/LF or other controls (RFC 3261 §25.1).
    static func sanitize(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(120))
    }
}

extension String {
    fileprivate func replacingQuotes() -> String { String(map { $0 == "\"" ? "'" : $0 }) }
}
