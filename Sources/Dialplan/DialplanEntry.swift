/// Where calls enter a dialplan: which dialled numbers start which node, and how long to ring.
public struct DialplanEntry: Sendable, Equatable {
    /// Which dialled numbers an entry takes. Entries of one dialplan never overlap (the loader
    /// refuses two entries that could take the same number), so at most one entry matches a call.
    public enum Match: Sendable, Equatable, CustomStringConvertible {
        /// `number:` the dialled number equals this string exactly (digits, `*`, `#`, `+`).
        case exact(String)
        /// `pattern:` a number of the pattern's length, position by position (`1234X`).
        case pattern(NumberPattern)
        /// `prefix:` any number starting with this string, the string itself included.
        case prefix(String)
        /// `outbound:` a flow for calls the server places (a return-visit survey, a car owner's
        /// notice), entered by name; no dialled number ever enters it.
        case outbound(String)

        /// The YAML key that writes this kind of match.
        public var key: String {
            switch self {
            case .exact: "number"
            case .pattern: "pattern"
            case .prefix: "prefix"
            case .outbound: "outbound"
            }
        }

        /// `12345`, `1234X`, `95…`.
        public var description: String {
            switch self {
            case .exact(let number): number
            case .pattern(let pattern): pattern.source
            case .prefix(let prefix): "\(prefix)…"
            case .outbound(let name): name
            }
        }
    }

    /// The dialled numbers this entry takes.
    public var match: Match
    /// The first node of the flow.
    public var start: NodeID
    /// How long to ring (SIP 180) before answering; `.zero` answers at once.
    public var ring: Duration
    /// Where the entry is written (its `-` item).
    public var location: DialplanLocation
    /// An outbound flow's `calendar`: the hours in which its calls may be placed (no calls at
    /// night or on the calendar's holidays); nil places them at any time.
    public var calendar: String?
    /// An outbound flow's `variables`: the values the server sets before the flow starts.
    public var variables: [String]

    public init(match: Match, start: NodeID, ring: Duration = .zero, location: DialplanLocation, calendar: String? = nil,
                variables: [String] = []) {
        self.variables = variables
        self.match = match
        self.start = start
        self.ring = ring
        self.location = location
        self.calendar = calendar
    }

    /// The outbound flow's name, for an `outbound:` entry.
    public var outboundName: String? {
        if case .outbound(let name) = match { return name }
        return nil
    }

    /// Whether a call to `number` enters here.
    public func matches(_ number: String) -> Bool {
        switch match {
        case .exact(let exact): number == exact
        case .pattern(let pattern): pattern.matches(number)
        case .prefix(let prefix): number.hasPrefix(prefix)
        case .outbound: false
        }
    }

    /// Whether `number` is a valid exact entry number: digits, `*`, `#`, and an optional leading `+`.
    public static func isValidNumber(_ number: String) -> Bool {
        let body = number.hasPrefix("+") ? number.dropFirst() : Substring(number)
        return !body.isEmpty && body.allSatisfy { $0.isASCIIDigit || $0 == "*" || $0 == "#" }
    }
}
