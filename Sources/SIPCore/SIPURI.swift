/// A SIP or SIPS URI (RFC 3261 §19.1), or any other absolute URI kept opaque
/// (`tel:`, unknown schemes — a UAS answers those with 416, §8.2.2.1).
public struct SIPURI: Hashable, Sendable, CustomStringConvertible {
    public var scheme: String
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    public var parameters: [SIPParameter]
    /// `?name=value&...` headers, unparsed.
    public var headers: String?
    /// For non-SIP schemes: everything after `scheme:`.
    public var opaque: String?

    public init(scheme: String = "sip", user: String? = nil, host: String, port: Int? = nil,
                parameters: [SIPParameter] = []) {
        self.scheme = scheme
        self.user = user
        self.password = nil
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = nil
        self.opaque = nil
    }

    public var isSIP: Bool { scheme == "sip" || scheme == "sips" }

    /// The user part with %-escapes decoded (what a dialplan matches on).
    public var decodedUser: String? { user.map(SIPURI.percentDecode) }

    public var description: String {
        if let opaque { return "\(scheme):\(opaque)" }
        var s = scheme + ":"
        if let user {
            s += user
            if let password { s += ":" + password }
            s += "@"
        }
        s += host
        if let port { s += ":\(port)" }
        s += parameters.rendered
        if let headers { s += "?" + headers }
        return s
    }

    public enum ParseError: Error, Equatable, Sendable {
        case missingScheme
        case invalidHost(String)
        case invalidPort(String)
        case invalidCharacters
        case invalidParameters
    }

    /// Parses an absolute URI. SIP/SIPS URIs are checked strictly enough to reject what
    /// RFC 4475 §3.1.2 calls invalid (whitespace, bad ports, bad hosts, bad escapes).
    public static func parse(_ text: Substring) throws(ParseError) -> SIPURI {
        // Bytes, not Characters: the delimiters are ASCII (see SIPGrammar).
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")), colon > text.startIndex else { throw .missingScheme }
        let schemeText = text[text.startIndex..<colon]
        guard schemeText.utf8.allSatisfy({ isSchemeByte($0) }), let first = schemeText.utf8.first, isAlpha(first) else {
            throw .missingScheme
        }
        let scheme = schemeText.equalsIgnoringASCIICase("sip") ? "sip" : schemeText.equalsIgnoringASCIICase("sips") ? "sips" : schemeText.lowercased()
        let rest = text[text.utf8.index(after: colon)...]
        // No whitespace or control characters anywhere in a URI (RFC 3986 §2, RFC 4475 lwsruri).
        guard rest.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .invalidCharacters }
        guard scheme == "sip" || scheme == "sips" else {
            guard !rest.isEmpty else { throw .invalidCharacters }
            var uri = SIPURI(scheme: scheme, host: "")
            uri.opaque = String(rest)
            return uri
        }
        var remainder = rest
        var user: String?
        var password: String?
        if let at = remainder.utf8.firstIndex(of: UInt8(ascii: "@")) {
            let userinfo = remainder[remainder.startIndex..<at]
            guard !userinfo.isEmpty, validEscapes(userinfo) else { throw .invalidCharacters }
            if let c = userinfo.utf8.firstIndex(of: UInt8(ascii: ":")) {
                user = String(userinfo[userinfo.startIndex..<c])
                password = String(userinfo[userinfo.utf8.index(after: c)...])
            } else {
                user = String(userinfo)
            }
            remainder = remainder[remainder.utf8.index(after: at)...]
        }
        var headers: String?
        if let q = remainder.utf8.firstIndex(of: UInt8(ascii: "?")) {
            headers = String(remainder[remainder.utf8.index(after: q)...])
            remainder = remainder[remainder.startIndex..<q]
        }
        var paramsText: Substring = ""
        if let semi = remainder.utf8.firstIndex(of: UInt8(ascii: ";")) {
            paramsText = remainder[semi...]
            remainder = remainder[remainder.startIndex..<semi]
        }
        let (host, port) = try parseHostPort(remainder)
        guard validEscapes(paramsText), let params = parseURIParameters(paramsText) else { throw .invalidParameters }
        var uri = SIPURI(scheme: scheme, user: user, host: host, port: port, parameters: params)
        uri.password = password
        uri.headers = headers
        return uri
    }

    public static func parse(_ text: String) throws(ParseError) -> SIPURI { try parse(text[...]) }

    /// `host[:port]` with IPv6 references in brackets.
    static func parseHostPort(_ text: Substring) throws(ParseError) -> (String, Int?) {
        var host: Substring
        var portText: Substring?
        if text.utf8.first == UInt8(ascii: "[") {
            guard let close = text.utf8.firstIndex(of: UInt8(ascii: "]")) else { throw .invalidHost(String(text)) }
            host = text[text.startIndex...close]
            let after = text[text.utf8.index(after: close)...]
            if !after.isEmpty {
                guard after.utf8.first == UInt8(ascii: ":") else { throw .invalidHost(String(text)) }
                portText = after[after.utf8.index(after: after.startIndex)...]
            }
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.utf8.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else {
                throw .invalidHost(String(text))
            }
        } else {
            if let c = text.utf8.firstIndex(of: UInt8(ascii: ":")) {
                host = text[text.startIndex..<c]
                portText = text[text.utf8.index(after: c)...]
            } else {
                host = text
            }
            guard isValidHostname(host) else { throw .invalidHost(String(host)) }
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let p = Int(portText), p <= 65535 else { throw .invalidPort(String(portText)) }
            port = p
        }
        return (String(host), port)
    }

    /// hostname / IPv4address (RFC 3261 §25.1): labels of alphanum and '-', dot-separated.
    static func isValidHostname(_ host: Substring) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 255 else { return false }
        var labelLength = 0
        var previous: UInt8 = UInt8(ascii: ".")
        for b in host.utf8 {
            if b == UInt8(ascii: ".") {
                if labelLength == 0 || previous == UInt8(ascii: "-") { return false }
                labelLength = 0
            } else if isAlpha(b) || (b >= 48 && b <= 57) || b == UInt8(ascii: "-") {
                if labelLength == 0 && b == UInt8(ascii: "-") { return false }
                labelLength += 1
                if labelLength > 63 { return false }
            } else {
                return false
            }
            previous = b
        }
        return previous != UInt8(ascii: "-")
    }

    /// URI parameters allow more characters than header parameters (§25.1 `paramchar`).
    static func parseURIParameters(_ text: Substring) -> [SIPParameter]? {
        var params: [SIPParameter] = []
        for piece in text.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: true).map({ Substring($0) }) {
            if let eq = piece.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let name = piece[piece.startIndex..<eq]
                let value = piece[piece.utf8.index(after: eq)...]
                guard !name.isEmpty else { return nil }
                params.append(SIPParameter(name: String(name), value: String(value)))
            } else {
                params.append(SIPParameter(name: String(piece), value: nil))
            }
        }
        return params
    }

    /// Every `%` must start a two-digit hex escape (RFC 3261 §25.1 `escaped`).
    static func validEscapes(_ s: Substring) -> Bool {
        // Pending hex digits after a '%'.
        var needed = 0
        for b in s.utf8 {
            if needed > 0 {
                guard isHexDigit(b) else { return false }
                needed -= 1
            } else if b == UInt8(ascii: "%") {
                needed = 2
            }
        }
        return needed == 0
    }

    public static func percentDecode(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
    static func isSchemeByte(_ b: UInt8) -> Bool {
        isAlpha(b) || (b >= 48 && b <= 57) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }
    static func isHexDigit(_ b: UInt8) -> Bool { hexValue(b) != nil }
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }
}
