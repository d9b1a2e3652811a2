// SIPAuth: SIP digest authentication. This file: the `Digest name=value, ...` syntax shared by
// WWW-Authenticate and Authorization (RFC 7235 §2.1, RFC 3261 §25.1 `digest-cln`).

/// Why an Authorization or WWW-Authenticate value could not be read. `offset` is the UTF-8
/// offset into the header value where reading stopped.
public enum DigestParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The scheme is not `Digest` (e.g. `Basic`, which SIP forbids, RFC 3261 §22.1).
    case notDigest(scheme: String)
    case malformed(reason: String, offset: Int)
    case duplicateParameter(String, offset: Int)
    case missingParameter(String)
    case invalidValue(parameter: String, value: String)

    public var description: String {
        switch self {
        case .notDigest(let scheme): "authentication scheme '\(scheme)' is not Digest"
        case .malformed(let reason, let offset): "malformed digest header at byte \(offset): \(reason)"
        case .duplicateParameter(let name, let offset): "digest parameter '\(name)' given twice (byte \(offset))"
        case .missingParameter(let name): "digest parameter '\(name)' is missing"
        case .invalidValue(let parameter, let value): "digest parameter '\(parameter)' has an invalid value '\(value)'"
        }
    }
}

/// The parameters of one `Digest` credentials or challenge value, names lower-cased, quoted
/// strings unquoted and unescaped.
struct DigestParameters {
    var values: [String: String] = [:]
    /// Whether each value was written as a quoted string.
    var quoted: Set<String> = []

    subscript(_ name: String) -> String? { values[name] }

    /// Parses `Digest a=b, c="d, e", ...`. Names are case-insensitive tokens; whitespace (also
    /// folded lines) may surround `=` and `,`; empty list elements are skipped (RFC 7230 §7).
    static func parse(_ text: String) throws(DigestParseError) -> DigestParameters {
        let bytes = Array(text.utf8)
        var i = 0
        func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0d || bytes[i] == 0x0a { i += 1 }
        }
        func readToken() -> String {
            let start = i
            while i < bytes.count, isTokenByte(bytes[i]) { i += 1 }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
        skipWhitespace()
        let scheme = readToken()
        guard !scheme.isEmpty else { throw .malformed(reason: "expected the scheme 'Digest'", offset: i) }
        guard scheme.equalsIgnoringCase("Digest") else { throw .notDigest(scheme: scheme) }
        guard i == bytes.count || bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0d || bytes[i] == 0x0a else {
            throw .malformed(reason: "expected a space after 'Digest'", offset: i)
        }
        var result = DigestParameters()
        while true {
            skipWhitespace()
            while i < bytes.count, bytes[i] == UInt8(ascii: ",") {
                i += 1
                skipWhitespace()
            }
            if i == bytes.count { break }
            let nameOffset = i
            let name = readToken().lowercased()
            guard !name.isEmpty else { throw .malformed(reason: "expected a parameter name", offset: i) }
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                throw .malformed(reason: "expected '=' after '\(name)'", offset: i)
            }
            i += 1
            skipWhitespace()
            var value: [UInt8] = []
            var wasQuoted = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                wasQuoted = true
                i += 1
                var closed = false
                while i < bytes.count {
                    let b = bytes[i]
                    if b == UInt8(ascii: "\\") {
                        guard i + 1 < bytes.count else { break }
                        value.append(bytes[i + 1])
                        i += 2
                    } else if b == UInt8(ascii: "\"") {
                        i += 1
                        closed = true
                        break
                    } else {
                        value.append(b)
                        i += 1
                    }
                }
                guard closed else { throw .malformed(reason: "unterminated quoted string in '\(name)'", offset: i) }
            } else {
                // A token; be lenient about the characters real clients put in unquoted values
                // (`uri=sip:a@b` from old phones), stopping at a comma or whitespace.
                while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != 0x20, bytes[i] != 0x09,
                      bytes[i] != 0x0d, bytes[i] != 0x0a, bytes[i] != UInt8(ascii: "\"")
                {
                    value.append(bytes[i])
                    i += 1
                }
                guard !value.isEmpty else { throw .malformed(reason: "expected a value for '\(name)'", offset: i) }
            }
            guard result.values[name] == nil else { throw .duplicateParameter(name, offset: nameOffset) }
            result.values[name] = String(decoding: value, as: UTF8.self)
            if wasQuoted { result.quoted.insert(name) }
            skipWhitespace()
            guard i == bytes.count || bytes[i] == UInt8(ascii: ",") else {
                throw .malformed(reason: "expected ',' after the value of '\(name)'", offset: i)
            }
        }
        return result
    }

    func required(_ name: String) throws(DigestParseError) -> String {
        guard let value = values[name] else { throw .missingParameter(name) }
        return value
    }

    /// RFC 7230 §3.2.6 quoted-string with `"` and `\` escaped.
    static func quote(_ value: String) -> String {
        var out = "\""
        for c in value {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"), UInt8(ascii: "*"),
             UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"), UInt8(ascii: "'"), UInt8(ascii: "~"),
             UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "^"), UInt8(ascii: "|"):
            true
        default:
            false
        }
    }
}
