/// The headers every message carries, as the parser already read them, so the call path
/// does not parse From, To, CSeq and the top Via again at every use. Any change to the
/// headers drops it (the accessors then parse on demand).
public struct SIPParsedHeaders: Hashable, Sendable {
    public var callID: String
    public var cseq: SIPCSeq
    public var from: SIPNameAddress
    public var to: SIPNameAddress
    public var topVia: SIPVia
}

/// A SIP request (RFC 3261 §7.1).
public struct SIPRequest: Hashable, Sendable {
    public var method: SIPMethod
    public var uri: SIPURI
    public var headers: SIPHeaders { didSet { parsed = nil } }
    public var body: [UInt8]
    /// Set by the parser; not part of the message's value (equality ignores it).
    public internal(set) var parsed: SIPParsedHeaders?

    public init(method: SIPMethod, uri: SIPURI, headers: SIPHeaders = [], body: [UInt8] = []) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }

    public static func == (a: SIPRequest, b: SIPRequest) -> Bool {
        a.method == b.method && a.uri == b.uri && a.headers == b.headers && a.body == b.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(uri)
        hasher.combine(headers)
        hasher.combine(body)
    }
}

/// A SIP response (RFC 3261 §7.2).
public struct SIPResponse: Hashable, Sendable {
    public var status: SIPStatus
    public var reasonPhrase: String
    public var headers: SIPHeaders { didSet { parsed = nil } }
    public var body: [UInt8]
    /// Set by the parser; not part of the message's value (equality ignores it).
    public internal(set) var parsed: SIPParsedHeaders?

    public init(status: SIPStatus, reasonPhrase: String? = nil, headers: SIPHeaders = [], body: [UInt8] = []) {
        self.status = status
        self.reasonPhrase = reasonPhrase ?? status.reasonPhrase
        self.headers = headers
        self.body = body
    }

    public static func == (a: SIPResponse, b: SIPResponse) -> Bool {
        a.status == b.status && a.reasonPhrase == b.reasonPhrase && a.headers == b.headers && a.body == b.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(status)
        hasher.combine(reasonPhrase)
        hasher.combine(headers)
        hasher.combine(body)
    }
}

public enum SIPMessage: Hashable, Sendable {
    case request(SIPRequest)
    case response(SIPResponse)

    public var headers: SIPHeaders {
        switch self {
        case .request(let r): r.headers
        case .response(let r): r.headers
        }
    }
}

/// Typed access to the headers every message carries. Each accessor parses on demand and
/// returns nil for an absent or malformed value; the parser has already checked the
/// mandatory ones of every message it returns.
public protocol SIPMessageHeaders {
    var headers: SIPHeaders { get set }
    var body: [UInt8] { get set }
    var parsed: SIPParsedHeaders? { get }
}

extension SIPRequest: SIPMessageHeaders {}
extension SIPResponse: SIPMessageHeaders {}

extension SIPMessageHeaders {
    public var callID: String? { parsed?.callID ?? headers[.callID].map(SIPGrammar.trim) }
    public var cseq: SIPCSeq? { parsed?.cseq ?? headers[.cseq].flatMap { SIPCSeq.parse($0[...]) } }
    public var from: SIPNameAddress? { parsed?.from ?? headers[.from].flatMap { try? SIPNameAddress.parse($0) } }
    public var to: SIPNameAddress? { parsed?.to ?? headers[.to].flatMap { try? SIPNameAddress.parse($0) } }
    public var vias: [SIPVia] { headers.values(.via).compactMap { try? SIPVia.parse($0) } }
    public var topVia: SIPVia? { parsed?.topVia ?? headers.values(.via).first.flatMap { try? SIPVia.parse($0) } }
    public var contacts: [SIPNameAddress] { headers.values(.contact).compactMap { try? SIPNameAddress.parse($0) } }
    public var recordRoutes: [String] { headers.values(.recordRoute) }
    public var maxForwards: Int? { headers[.maxForwards].flatMap { Int(SIPGrammar.trim($0)) } }
    /// The media type of Content-Type, lower-cased, without parameters (`application/sdp`).
    public var contentType: String? {
        guard let value = headers[.contentType] else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map { SIPGrammar.trim($0) } ?? ""
        return type.lowercased().filter { !SIPGrammar.isWhitespace($0) }
    }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    /// Option tags in Require (RFC 3261 §20.32).
    public var required: [String] { headers.values(.require) }
}

extension SIPRequest {
    /// RFC 3261 §18.2.1: note where the request really came from in the top Via, so the
    /// response goes back there. `received` is added when the source IP differs from
    /// sent-by; an empty `rport` (RFC 3581 §4) is filled in with the source port.
    public mutating func annotateTopVia(sourceIP: String, sourcePort: Int) {
        guard var via = topVia else { return }
        var changed = false
        if via.host != sourceIP || via.hasRport {
            via.parameters.set("received", sourceIP)
            changed = true
        }
        if via.hasRport {
            via.parameters.set("rport", String(sourcePort))
            changed = true
        }
        if changed {
            let kept = parsed
            headers.replaceFirstValue(.via, with: via.description) // drops `parsed`...
            parsed = kept.map { var p = $0; p.topVia = via; return p } // ...which stays true but for the Via
        }
    }
}

extension SIPResponse {
    /// Builds a response to `request` as a UAS must (RFC 3261 §8.2.6.2): Via, From,
    /// Call-ID and CSeq copied, To copied with our tag added for anything but 100, and
    /// Timestamp echoed in 100 Trying (§8.2.6.1).
    public init(to request: SIPRequest, status: SIPStatus, reasonPhrase: String? = nil, toTag: String? = nil) {
        var headers = SIPHeaders()
        for field in request.headers.fields where field.name == .via {
            headers.append(.via, field.value)
        }
        if let from = request.headers[.from] { headers.append(.from, from) }
        if let to = request.headers[.to] {
            // Keep the peer's spelling of To and only append the tag: some phones compare
            // To headers textually.
            if let toTag, status != .trying, let parsed = request.to, parsed.tag == nil {
                headers.append(.to, SIPGrammar.trim(to) + ";tag=" + toTag)
            } else {
                headers.append(.to, to)
            }
        }
        if let callID = request.headers[.callID] { headers.append(.callID, callID) }
        if let cseq = request.headers[.cseq] { headers.append(.cseq, cseq) }
        if status == .trying, let ts = request.headers[.timestamp] { headers.append(.timestamp, ts) }
        self.init(status: status, reasonPhrase: reasonPhrase, headers: headers)
    }
}
