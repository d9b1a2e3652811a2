// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: a caller's number, and the masked form that logs and screens show.

/// A caller's number as the From URI gave it (usually digits, sometimes `anonymous` or a SIP
/// user name), with the masked form (`138****0000`) used wherever a number would otherwise end
/// up in a log line, a description or a table on a screen.
public struct PhoneNumber: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// The masked number; `description` is the masked form too, so interpolating a
    /// `PhoneNumber` into a log message never leaks it.
    public var description: String { masked }

    /// The number with its middle hidden:
    /// - eleven digits or more (a mobile number; an optional leading `+` is kept): the first
    ///   three and the last four stay, every digit between becomes `*` — `13800138000` →
    ///   `138****8000`;
    /// - seven to ten digits (a landline): the first two and the last two stay — `09516012345`
    ///   is eleven digits, `6012345` → `60***45`;
    /// - three to six digits: the first and last stay — `12345` → `1***5`;
    /// - one or two digits: all `*`;
    /// - anything else (`anonymous`, `alice`): the first character and `***` — `a***`;
    /// - empty: empty.
    public var masked: String { Self.masked(rawValue) }

    /// ``masked`` of a raw caller string.
    public static func masked(_ text: String) -> String {
        if text.isEmpty { return "" }
        var digits = Substring(text)
        var prefix = ""
        if digits.first == "+" {
            prefix = "+"
            digits = digits.dropFirst()
        }
        let isNumber = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        guard isNumber else { return String(text.prefix(1)) + "***" }
        let count = digits.count
        switch count {
        case 11...:
            return prefix + digits.prefix(3) + String(repeating: "*", count: count - 7) + digits.suffix(4)
        case 7...10:
            return prefix + digits.prefix(2) + String(repeating: "*", count: count - 4) + digits.suffix(2)
        case 3...6:
            return prefix + digits.prefix(1) + String(repeating: "*", count: count - 2) + digits.suffix(1)
        default:
            return prefix + String(repeating: "*", count: count)
        }
    }

    /// True when the number identifies a caller well enough to link their calls: an optional
    /// `+` and at least five digits, nothing else. `anonymous`, empty and SIP user names are
    /// not, so two anonymous callers are never taken for one.
    public var identifiesCaller: Bool {
        var digits = Substring(rawValue)
        if digits.first == "+" { digits = digits.dropFirst() }
        return digits.count >= 5 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
