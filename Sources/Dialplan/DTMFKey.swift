/// One telephone keypad key: `0`–`9`, `*`, `#` or `A`–`D`.
///
/// The set is closed by the telephone network (RFC 4733 section 3.2 defines events 0–15 for
/// exactly these sixteen keys), so a key that is not one of them cannot be constructed.
public struct DTMFKey: RawRepresentable, Hashable, Comparable, Sendable,
    ExpressibleByExtendedGraphemeClusterLiteral, CustomStringConvertible
{
    /// The key as it is printed on the keypad.
    public let rawValue: Character

    /// Every key in RFC 4733 event-code order.
    public static let all: [DTMFKey] = "0123456789*#ABCD".map { DTMFKey(rawValue: $0)! }

    /// Creates a key from its keypad character; `nil` for anything else (lower-case `a` included).
    public init?(rawValue: Character) {
        guard "0123456789*#ABCD".contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Creates a key from a one-character string such as `"3"` or `"#"`.
    public init?(_ string: String) {
        guard string.count == 1, let character = string.first else { return nil }
        self.init(rawValue: character)
    }

    /// Creates a key from an RFC 4733 event code (0–15).
    public init?(eventCode: Int) {
        guard (0..<16).contains(eventCode) else { return nil }
        self = DTMFKey.all[eventCode]
    }

    /// A key literal such as `"3"`; traps on a character that is no keypad key, like `URL(string:)!`.
    /// Note that `DTMFKey("x")` with a literal argument is literal coercion and lands here; use
    /// ``init(rawValue:)`` or ``init(_:)`` with a variable for input that may be invalid.
    public init(extendedGraphemeClusterLiteral value: Character) {
        guard let key = DTMFKey(rawValue: value) else { preconditionFailure("'\(value)' is not a DTMF key") }
        self = key
    }

    /// The RFC 4733 event code: digits 0–9, `*` 10, `#` 11, `A`–`D` 12–15.
    public var eventCode: Int { DTMFKey.all.firstIndex(of: self)! }

    public var description: String { String(rawValue) }

    /// Keypad order by event code, so menus list keys predictably.
    public static func < (lhs: DTMFKey, rhs: DTMFKey) -> Bool { lhs.eventCode < rhs.eventCode }
}
