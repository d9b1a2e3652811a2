// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: a call's menu path as the JSON array text both stores keep in `menu_path`,
// written by hand: JSONEncoder cost more than the rest of a ticket's finish on the writer.

extension CallTicket {
    /// `path` as a JSON array of strings, as JSONEncoder writes it with slashes unescaped:
    /// `"` and `\` escaped, control characters as `\n`-style or `\u00XX` escapes, the rest
    /// (non-ASCII included) as is.
    public static func menuPathJSON(_ path: [String]) -> String {
        var json = "["
        json.reserveCapacity(2 + path.reduce(0) { $0 + $1.utf8.count + 3 })
        for (index, element) in path.enumerated() {
            if index > 0 { json.append(",") }
            json.append("\"")
            if element.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
                json.append(element)
            } else {
                appendEscaped(element, to: &json)
            }
            json.append("\"")
        }
        json.append("]")
        return json
    }

    private static func appendEscaped(_ text: String, to json: inout String) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json.append("\\\"")
            case "\\": json.append("\\\\")
            case "\n": json.append("\\n")
            case "\r": json.append("\\r")
            case "\t": json.append("\\t")
            case "\u{08}": json.append("\\b")
            case "\u{0C}": json.append("\\f")
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                json.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default:
                json.unicodeScalars.append(scalar)
            }
        }
    }
}
