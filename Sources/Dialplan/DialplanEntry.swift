/// Where calls enter a dialplan: which dialled numbers start which node, and how long to ring.
public struct DialplanEntry: Sendable, Equatable {
    /// Which dialled numbers an entry takes.
    ///
    /// Only exact numbers exist today; patterns (prefixes, `X`-style wildcards) will be further
    /// cases here, so ``DialplanEntry/matches(_:)`` is the one place lookups go through.
    public enum Match: Sendable, Equatable, CustomStringConvertible {
        /// The dialled number equals this string exactly (digits, `*`, `#`, `+`).
        case exact(String)

        public var description: String {
            switch self {
            case .exact(let number): number
            }
        }
    }

    public var match: Match
    /// The first node of the flow.
    public var start: NodeID
    /// How long to ring (SIP 180) before answering; `.zero` answers at once.
    public var ring: Duration
    /// Where the entry is written (its `-` item).
    public var location: DialplanLocation

    public init(match: Match, start: NodeID, ring: Duration = .zero, location: DialplanLocation) {
        self.match = match
        self.start = start
        self.ring = ring
        self.location = location
    }

    /// Whether a call to `number` enters here.
    public func matches(_ number: String) -> Bool {
        switch match {
        case .exact(let exact): number == exact
        }
    }

    /// Whether `number` is a valid exact entry number: digits, `*`, `#`, and an optional leading `+`.
    public static func isValidNumber(_ number: String) -> Bool {
        let body = number.hasPrefix("+") ? number.dropFirst() : Substring(number)
        return !body.isEmpty && body.allSatisfy { $0.isASCIIDigit || $0 == "*" || $0 == "#" }
    }
}
