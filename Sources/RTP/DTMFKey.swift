/// A DTMF key: 0–9, `*`, `#` and A–D (RFC 4733 §3.2, Table 7).
public enum DTMFKey: Character, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case zero = "0", one = "1", two = "2", three = "3", four = "4"
    case five = "5", six = "6", seven = "7", eight = "8", nine = "9"
    case star = "*", pound = "#"
    case a = "A", b = "B", c = "C", d = "D"

    /// The RFC 4733 event code: 0–9 for the digits, 10 `*`, 11 `#`, 12–15 A–D.
    public var eventCode: UInt8 {
        switch self {
        case .zero: 0
        case .one: 1
        case .two: 2
        case .three: 3
        case .four: 4
        case .five: 5
        case .six: 6
        case .seven: 7
        case .eight: 8
        case .nine: 9
        case .star: 10
        case .pound: 11
        case .a: 12
        case .b: 13
        case .c: 14
        case .d: 15
        }
    }

    /// The key for an RFC 4733 event code; nil for codes that are not keys
    /// (16 is flash, the rest are other events).
    public init?(eventCode: UInt8) {
        guard eventCode < 16 else { return nil }
        self = Self.allCases[Int(eventCode)]
    }

    /// The key for a character, accepting lower-case a–d.
    public init?(character: Character) {
        let upper = Character(character.uppercased())
        self.init(rawValue: upper)
    }

    /// The key's character.
    public var description: String { String(rawValue) }
}
