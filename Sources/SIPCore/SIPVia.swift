/// One Via header value (RFC 3261 §20.42): `SIP/2.0/UDP host:port;branch=z9hG4bK...`.
public struct SIPVia: Hashable, Sendable, CustomStringConvertible {
    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: [SIPParameter]

    /// RFC 3261 §8.1.1.7: branches of compliant clients start with this cookie.
    public static let magicCookie = "z9hG4bK"

    public init(transport: String = "UDP", host: String, port: Int?, branch: String, rport: Bool = true) {
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = [SIPParameter(name: "branch", value: branch)]
        if rport { parameters.append(SIPParameter(name: "rport", value: nil)) }
    }

    public var branch: String? { parameters.value("branch") ?? nil }
    public var received: String? { parameters.value("received") ?? nil }
    /// `rport` present (RFC 3581 §3); its value once filled in by the receiver.
    public var hasRport: Bool { parameters.has("rport") }
    public var rport: Int? { (parameters.value("rport") ?? nil).flatMap { Int($0) } }
    public var isRFC3261Branch: Bool { branch?.hasPrefix(SIPVia.magicCookie) ?? false }
    /// `host[:port]` as sent: part of the transaction key (RFC 3261 §17.2.3).
    public var sentBy: String { port.map { "\(host):\($0)" } ?? host }

    public var description: String {
        "SIP/2.0/\(transport) \(sentBy)\(parameters.rendered)"
    }

    public enum ParseError: Error, Equatable, Sendable {
        case invalidProtocol
        case invalidSentBy
        case invalidParameters
        case missingBranch
    }

    public static func parse(_ text: Substring) throws(ParseError) -> SIPVia {
        // sent-protocol: "SIP" LWS? "/" LWS? "2.0" LWS? "/" LWS? transport — LWS allowed (§25.1)
        var rest = SIPGrammar.trim(text)
        var parts: [Substring] = []
        for _ in 0..<2 {
            guard let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")) else { throw .invalidProtocol }
            parts.append(SIPGrammar.trim(rest[rest.startIndex..<slash]))
            rest = SIPGrammar.trim(rest[rest.utf8.index(after: slash)...])
        }
        guard parts[0].equalsIgnoringASCIICase("SIP"), parts[1] == "2.0" else { throw .invalidProtocol }
        guard let space = rest.utf8.firstIndex(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else { throw .invalidSentBy }
        let transport = rest[rest.startIndex..<space]
        guard SIPGrammar.isToken(transport) else { throw .invalidProtocol }
        rest = SIPGrammar.trim(rest[rest.utf8.index(after: space)...])
        var sentByText = rest
        var paramsText: Substring = ""
        if let semi = rest.utf8.firstIndex(of: UInt8(ascii: ";")) {
            sentByText = rest[rest.startIndex..<semi]
            paramsText = rest[semi...]
        }
        // LWS is allowed around the ':' of sent-by ("host : 5060").
        let compact = sentByText.utf8.contains(where: SIPGrammar.isWhitespaceByte)
            ? Substring(sentByText.filter { !SIPGrammar.isWhitespace($0) }) : sentByText
        let host: String, port: Int?
        do { (host, port) = try SIPURI.parseHostPort(compact) } catch { throw .invalidSentBy }
        guard let params = SIPGrammar.parseParameters(paramsText) else { throw .invalidParameters }
        var via = SIPVia(transport: transport.uppercased(), host: host, port: port, branch: "", rport: false)
        via.parameters = params
        if let b = via.parameters.value("branch"), b == nil || b!.isEmpty { throw .missingBranch }
        return via
    }

    public static func parse(_ text: String) throws(ParseError) -> SIPVia { try parse(text[...]) }
}
