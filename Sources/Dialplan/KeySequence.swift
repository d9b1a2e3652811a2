/// One or more telephone keys pressed in a row, e.g. `3` or `21`: a menu option or a collected
/// value's keys.
///
/// Menu options may be several keys long; ordering puts a shorter sequence before the longer ones
/// it starts, then follows keypad order key by key (`1` < `11` < `2` < `*`), so listings read like
/// a keypad.
public struct KeySequence: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let keys: [DTMFKey]

    /// The keys as typed: `"21"`, `"*9"`.
    public var rawValue: String { String(keys.map(\.rawValue)) }

    /// A sequence of keypad characters; `nil` when empty or when any character is not a key.
    public init?(rawValue: String) {
        var keys: [DTMFKey] = []
        for character in rawValue {
            guard let key = DTMFKey(rawValue: character) else { return nil }
            keys.append(key)
        }
        guard !keys.isEmpty else { return nil }
        self.keys = keys
    }

    public init(_ keys: [DTMFKey]) {
        precondition(!keys.isEmpty, "a key sequence has at least one key")
        self.keys = keys
    }

    /// A literal such as `"21"`; traps on a character that is no keypad key.
    public init(stringLiteral value: String) {
        guard let sequence = KeySequence(rawValue: value) else { preconditionFailure("'\(value)' is not a key sequence") }
        self = sequence
    }

    public var count: Int { keys.count }

    /// Whether this sequence begins with every key of `prefix` (a sequence is a prefix of itself).
    public func hasPrefix(_ prefix: KeySequence) -> Bool {
        prefix.keys.count <= keys.count && Array(keys.prefix(prefix.keys.count)) == prefix.keys
    }

    public var description: String { rawValue }

    public static func < (lhs: KeySequence, rhs: KeySequence) -> Bool {
        for (a, b) in zip(lhs.keys, rhs.keys) where a != b { return a < b }
        return lhs.keys.count < rhs.keys.count
    }
}
