/// DTMF carried in SIP INFO bodies: the de-facto formats of Cisco, Asterisk and SIPp
/// (`application/dtmf-relay`: `Signal=3\r\nDuration=160`) and `application/dtmf` (a bare `3`).
public enum SIPDTMFInfo {
    public static let contentTypes: Set<String> = ["application/dtmf-relay", "application/dtmf"]

    public enum Result: Equatable, Sendable {
        /// A key: one of `0-9 * # A-D`.
        case key(Character)
        /// A body without a key (some phones send empty INFO as keep-alive).
        case noKey
        /// The body is not understood.
        case malformed(String)
    }

    public static func parse(contentType: String?, body: [UInt8]) -> Result {
        let text = String(decoding: body, as: UTF8.self)
        if text.allSatisfy({ $0.isWhitespace }) { return .noKey }
        switch contentType {
        case "application/dtmf-relay":
            for line in text.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, SIPGrammar.trim(parts[0]).equalsIgnoringASCIICase("signal") else { continue }
                return key(from: SIPGrammar.trim(parts[1]))
            }
            return .malformed("no Signal= line")
        case "application/dtmf":
            return key(from: SIPGrammar.trim(text[...]))
        default:
            return .malformed("unsupported content type \(contentType ?? "none")")
        }
    }

    private static func key(from value: Substring) -> Result {
        // Cisco sends 10 and 11 for * and # (RFC 4733 event codes), others send the symbol.
        switch value {
        case "10": return .key("*")
        case "11": return .key("#")
        default:
            guard value.count == 1, let c = value.first?.uppercased().first, "0123456789*#ABCD".contains(c) else {
                return .malformed("invalid key '\(value)'")
            }
            return .key(c)
        }
    }
}
