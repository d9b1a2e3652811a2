/// Lexical helpers shared by the parsers (RFC 3261 §25.1).
public enum SIPGrammar {
    /// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
    @inlinable
    public static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"),
             UInt8(ascii: "*"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"),
             UInt8(ascii: "'"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    public static func isToken(_ s: Substring) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy(isTokenByte)
    }
    public static func isToken(_ s: String) -> Bool { isToken(s[...]) }

    /// SP, HTAB, CR, LF — and CRLF, which Swift treats as a single Character.
    public static func isWhitespace(_ c: Character) -> Bool { c == " " || c == "\t" || c.isNewline }

    @inline(__always)
    static func isWhitespaceByte(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\n")
    }

    // The grammar is ASCII, so the helpers below work on UTF-8 bytes: a delimiter byte is
    // never part of a multi-byte character, and bytes are what RFC 3261's ABNF is written
    // on. (Walking `Character`s instead ran grapheme breaking on every byte of every header:
    // most of the parser's cost.)

    public static func trim(_ s: Substring) -> Substring {
        let utf8 = s.utf8
        var start = utf8.startIndex, end = utf8.endIndex
        while start < end, isWhitespaceByte(utf8[start]) { start = utf8.index(after: start) }
        while end > start {
            let before = utf8.index(before: end)
            guard isWhitespaceByte(utf8[before]) else { break }
            end = before
        }
        return s[start..<end]
    }
    public static func trim(_ s: String) -> String { String(trim(s[...])) }

    /// `trim` on raw bytes (SP, HTAB, CR, LF at either end).
    public static func trimBytes(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, isWhitespaceByte(bytes[start]) { start += 1 }
        while end > start, isWhitespaceByte(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    /// Splits on `separator` outside double quotes and angle brackets; pieces are trimmed
    /// and empty ones dropped. Used for comma lists and for `;` parameters.
    public static func split(_ s: Substring, on separator: Character) -> [Substring] {
        precondition(separator.isASCII, "SIP separators are ASCII")
        let separatorByte = separator.asciiValue!
        var parts: [Substring] = []
        var quotes = QuotedStrings()
        var angle = 0
        let utf8 = s.utf8
        var start = utf8.startIndex
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let c = utf8[i]
            if quotes.consume(c) {
                // inside a quoted string: nothing here separates
            } else if c == UInt8(ascii: "<") {
                angle += 1
            } else if c == UInt8(ascii: ">") {
                angle = max(0, angle - 1)
            } else if c == separatorByte, angle == 0 {
                let piece = trim(s[start..<i])
                if !piece.isEmpty { parts.append(piece) }
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        let piece = trim(s[start..<s.endIndex])
        if !piece.isEmpty { parts.append(piece) }
        return parts
    }

    public static func splitList(_ s: String) -> [String] {
        split(s[...], on: ",").map(String.init)
    }

    /// Parses `;name=value;flag` into an ordered list (RFC 3261 §25.1 generic-param).
    /// Returns nil when a name is not a token or a quoted value is unterminated.
    public static func parseParameters(_ s: Substring) -> [SIPParameter]? {
        var params: [SIPParameter] = []
        for piece in split(s, on: ";") {
            if let eq = piece.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let name = trim(piece[piece.startIndex..<eq])
                let value = trim(piece[piece.utf8.index(after: eq)...])
                guard isToken(name), !value.isEmpty else { return nil }
                if value.utf8.first == UInt8(ascii: "\"") {
                    guard value.utf8.count >= 2, value.utf8.last == UInt8(ascii: "\"") else { return nil }
                } else {
                    guard value.utf8.allSatisfy({ isTokenByte($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") }) else { return nil }
                }
                params.append(SIPParameter(name: String(name), value: String(value)))
            } else {
                guard isToken(piece) else { return nil }
                params.append(SIPParameter(name: String(piece), value: nil))
            }
        }
        return params
    }

    /// The first `byte` outside double-quoted strings (quoted-pairs skipped), e.g. the `<` that
    /// opens a name-addr's URI after a display name that may itself contain one.
    public static func firstIndex(ofUnquoted byte: UInt8, in s: Substring) -> Substring.Index? {
        var quotes = QuotedStrings()
        var i = s.utf8.startIndex
        while i < s.utf8.endIndex {
            let c = s.utf8[i]
            if !quotes.consume(c), c == byte { return i }
            i = s.utf8.index(after: i)
        }
        return nil
    }

    /// Checks that double quotes balance (RFC 4475 §3.1.2.8 `quotbal`).
    public static func quotesBalance(_ s: Substring) -> Bool {
        var quotes = QuotedStrings()
        for c in s.utf8 { _ = quotes.consume(c) }
        return !quotes.isOpen
    }
}

/// Follows double-quoted strings through a byte scan (RFC 3261 §25.1 quoted-string, with its
/// quoted-pairs), so separators and brackets inside them are not taken for syntax.
struct QuotedStrings {
    /// Inside a quoted string after the last byte consumed.
    private(set) var isOpen = false
    private var escaped = false

    /// Consumes the next byte; true when it belongs to a quoted string, its quotes included.
    @inline(__always)
    mutating func consume(_ c: UInt8) -> Bool {
        if escaped {
            escaped = false
            return true
        }
        if isOpen {
            if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { isOpen = false }
            return true
        }
        if c == UInt8(ascii: "\"") {
            isOpen = true
            return true
        }
        return false
    }
}

/// A `name[=value]` parameter, as in Via, To/From, Contact and URIs. Names compare
/// case-insensitively (RFC 3261 §7.3.1).
public struct SIPParameter: Hashable, Sendable {
    public var name: String
    public var value: String?
    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
    var rendered: String { value.map { "\(name)=\($0)" } ?? name }
}

extension Array where Element == SIPParameter {
    /// The value of the first parameter of that name; `.some(nil)` for a flag.
    public func value(_ name: String) -> String?? {
        for p in self where p.name.equalsIgnoringASCIICase(name) { return .some(p.value) }
        return nil
    }
    public func has(_ name: String) -> Bool { value(name) != nil }
    public mutating func set(_ name: String, _ value: String?) {
        if let i = firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) }) {
            self[i].value = value
        } else {
            append(SIPParameter(name: name, value: value))
        }
    }
    public mutating func remove(_ name: String) {
        removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }
    /// `;a=1;b` as it appears after a URI or header value.
    public var rendered: String { map { ";" + $0.rendered }.joined() }
}

extension StringProtocol {
    /// ASCII case-insensitive equality, without Foundation.
    public func equalsIgnoringASCIICase<S: StringProtocol>(_ other: S) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = (x >= 65 && x <= 90) ? x + 32 : x
            let ly = (y >= 65 && y <= 90) ? y + 32 : y
            if lx != ly { return false }
        }
        return true
    }
}
