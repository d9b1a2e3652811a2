/// A From, To, Contact, Route or Record-Route value (RFC 3261 §20.10, §25.1 name-addr /
/// addr-spec): optional display name, the URI, and header parameters such as `tag`.
public struct SIPNameAddress: Hashable, Sendable, CustomStringConvertible {
    public var displayName: String?
    public var uri: SIPURI
    public var parameters: [SIPParameter]
    /// Contact: `*` (only valid in REGISTER).
    public var isWildcard: Bool = false

    public init(displayName: String? = nil, uri: SIPURI, parameters: [SIPParameter] = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public var tag: String? {
        get { parameters.value("tag") ?? nil }
        set { if let newValue { parameters.set("tag", newValue) } else { parameters.remove("tag") } }
    }

    /// Always rendered in angle brackets so URI parameters cannot be mistaken for header
    /// parameters (RFC 3261 §20.10).
    public var description: String {
        if isWildcard { return "*" }
        var s = ""
        if let displayName, !displayName.isEmpty {
            s += displayName.first == "\"" ? displayName : "\"\(displayName)\""
            s += " "
        }
        return s + "<\(uri)>" + parameters.rendered
    }

    public enum ParseError: Error, Equatable, Sendable {
        case unbalancedQuotes
        case unterminatedAngleBracket
        case invalidURI(SIPURI.ParseError)
        case invalidParameters
        case invalidDisplayName
    }

    public static func parse(_ text: Substring) throws(ParseError) -> SIPNameAddress {
        let s = SIPGrammar.trim(text)
        if s == "*" {
            var wildcard = SIPNameAddress(uri: SIPURI(host: "*"))
            wildcard.isWildcard = true
            return wildcard
        }
        guard SIPGrammar.quotesBalance(s) else { throw .unbalancedQuotes }
        // Find '<' outside quotes: name-addr form.
        // Bytes, not Characters: the delimiters are ASCII (see SIPGrammar).
        let utf8 = s.utf8
        let lt = SIPGrammar.firstIndex(ofUnquoted: UInt8(ascii: "<"), in: s)
        if let lt {
            guard let gt = s[lt...].utf8.firstIndex(of: UInt8(ascii: ">")) else { throw .unterminatedAngleBracket }
            let display = SIPGrammar.trim(s[s.startIndex..<lt])
            if !display.isEmpty, display.utf8.first != UInt8(ascii: "\"") {
                // Unquoted display name: *(token LWS) (RFC 3261 §25.1).
                guard display.split(whereSeparator: { $0 == " " || $0 == "\t" }).allSatisfy({ SIPGrammar.isToken($0) }) else {
                    throw .invalidDisplayName
                }
            }
            let uri: SIPURI
            do { uri = try SIPURI.parse(s[utf8.index(after: lt)..<gt]) } catch { throw .invalidURI(error) }
            guard let params = SIPGrammar.parseParameters(s[utf8.index(after: gt)...]) else { throw .invalidParameters }
            return SIPNameAddress(displayName: display.isEmpty ? nil : String(display), uri: uri, parameters: params)
        }
        // addr-spec form: the URI cannot contain ';', so parameters after it are the header's.
        var uriText = s
        var paramsText: Substring = ""
        if let semi = utf8.firstIndex(of: UInt8(ascii: ";")) {
            uriText = SIPGrammar.trim(s[s.startIndex..<semi])
            paramsText = s[semi...]
        }
        let uri: SIPURI
        do { uri = try SIPURI.parse(uriText) } catch { throw .invalidURI(error) }
        guard uri.headers == nil else { throw .invalidURI(.invalidCharacters) }
        guard let params = SIPGrammar.parseParameters(paramsText) else { throw .invalidParameters }
        return SIPNameAddress(uri: uri, parameters: params)
    }

    public static func parse(_ text: String) throws(ParseError) -> SIPNameAddress { try parse(text[...]) }
}

/// The CSeq header (RFC 3261 §20.16): a 32-bit sequence number below 2^31 and a method.
public struct SIPCSeq: Hashable, Sendable, CustomStringConvertible {
    public var sequence: UInt32
    public var method: SIPMethod
    public init(_ sequence: UInt32, _ method: SIPMethod) {
        self.sequence = sequence
        self.method = method
    }
    public var description: String { "\(sequence) \(method.rawValue)" }

    public static func parse(_ text: Substring) -> SIPCSeq? {
        let parts = SIPGrammar.trim(text).split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0].count <= 10, parts[0].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let n = UInt32(parts[0]), n < 1 << 31, SIPGrammar.isToken(parts[1]) else { return nil }
        return SIPCSeq(n, SIPMethod(String(parts[1])))
    }
}
