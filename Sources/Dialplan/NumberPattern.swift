/// A dialled-number pattern such as `1234X` or `95[1-3]ZX`: one character class per position.
///
/// - `0`–`9`, `*`, `#`, and `+` (first position only) match themselves;
/// - `X` any digit, `Z` 1–9, `N` 2–9 (the classes Asterisk and most PBX admins know);
/// - `[1-35]` one of the listed digits, with ranges.
///
/// A pattern matches numbers of exactly its length; a `prefix` entry covers numbers of any length.
public struct NumberPattern: Hashable, Sendable, CustomStringConvertible {
    /// The pattern as written.
    public let source: String
    /// The characters each position accepts.
    public let positions: [Set<Character>]

    static let digits: Set<Character> = Set("0123456789")

    /// Parses a pattern, or says why it is not one.
    public static func parse(_ text: String) -> Result<NumberPattern, PatternError> {
        var positions: [Set<Character>] = []
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            switch character {
            case "X": positions.append(digits)
            case "Z": positions.append(Set("123456789"))
            case "N": positions.append(Set("23456789"))
            case "[":
                guard let close = characters.firstIndex(of: "]") else { return .failure(.unclosedSet) }
                let body = Array(characters[..<close])
                characters = characters[(close + 1)...]
                var set: Set<Character> = []
                var index = 0
                while index < body.count {
                    let low = body[index]
                    guard low.isASCIIDigit else { return .failure(.badSet(String(body))) }
                    if index + 2 < body.count, body[index + 1] == "-" {
                        let high = body[index + 2]
                        guard high.isASCIIDigit, low <= high else { return .failure(.badSet(String(body))) }
                        for value in low.asciiValue!...high.asciiValue! { set.insert(Character(UnicodeScalar(value))) }
                        index += 3
                    } else {
                        set.insert(low)
                        index += 1
                    }
                }
                guard !set.isEmpty else { return .failure(.badSet(String(body))) }
                positions.append(set)
            case "+" where positions.isEmpty:
                positions.append(["+"])
            default:
                guard character.isASCIIDigit || character == "*" || character == "#" else {
                    return .failure(.badCharacter(character))
                }
                positions.append([character])
            }
        }
        guard !positions.isEmpty else { return .failure(.empty) }
        return .success(NumberPattern(source: text, positions: positions))
    }

    /// Why a text is not a pattern.
    public enum PatternError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case unclosedSet
        case badSet(String)
        case badCharacter(Character)

        public var description: String {
            switch self {
            case .empty: "the pattern is empty"
            case .unclosedSet: "'[' has no closing ']'"
            case .badSet(let body): "'[\(body)]' is not a set of digits such as [1-35]"
            case .badCharacter(let character): "'\(character)' cannot appear in a number pattern"
            }
        }
    }

    /// An exact number as a pattern: each position is its own character.
    init(exact number: String) {
        source = number
        positions = number.map { [$0] }
    }

    private init(source: String, positions: [Set<Character>]) {
        self.source = source
        self.positions = positions
    }

    /// Whether `number` has the pattern's length and each character is in its position's class.
    public func matches(_ number: String) -> Bool {
        number.count == positions.count && zip(number, positions).allSatisfy { $1.contains($0) }
    }

    public var description: String { source }
}

extension DialplanEntry.Match {
    /// The positions the match constrains, and whether longer numbers match too (a prefix).
    private var shape: (positions: [Set<Character>], openEnded: Bool) {
        switch self {
        case .exact(let number): (NumberPattern(exact: number).positions, false)
        case .pattern(let pattern): (pattern.positions, false)
        case .prefix(let prefix): (NumberPattern(exact: prefix).positions, true)
        case .outbound: ([], false)
        }
    }

    /// A number both matches take, or `nil` when no number could enter through both. The number
    /// is the smallest such, so an overlap issue can name a concrete example.
    public func overlap(with other: DialplanEntry.Match) -> String? {
        // Outbound flows are entered by name, never by a number: only a second flow of the same
        // name collides with one.
        switch (self, other) {
        case (.outbound(let a), .outbound(let b)): return a == b ? a : nil
        case (.outbound, _), (_, .outbound): return nil
        default: break
        }
        let (a, aOpen) = shape
        let (b, bOpen) = other.shape
        // Two closed shapes need equal lengths; an open one needs the other to be at least as long.
        switch (aOpen, bOpen) {
        case (false, false): guard a.count == b.count else { return nil }
        case (true, false): guard b.count >= a.count else { return nil }
        case (false, true): guard a.count >= b.count else { return nil }
        case (true, true): break
        }
        var example = ""
        for index in 0..<max(a.count, b.count) {
            let set: Set<Character>
            switch (index < a.count, index < b.count) {
            case (true, true): set = a[index].intersection(b[index])
            case (true, false): set = a[index]
            case (false, true): set = b[index]
            case (false, false): set = []
            }
            guard let smallest = set.min() else { return nil }
            example.append(smallest)
        }
        return example
    }
}
