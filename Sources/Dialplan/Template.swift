/// A text with variables in it, as written in a dialplan: `"${plate}"`, `"plate ${plate}, from ${caller}"`.
///
/// `${name}` is replaced by the variable's value when the node runs (the empty string for a
/// variable never set). A `$` not followed by `{` is an ordinary character. Templates are
/// parsed when the dialplan loads, so a malformed one is a located error, and the loader knows
/// every variable a flow reads.
public struct Template: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Literal text or a variable reference.
    public enum Part: Hashable, Sendable {
        case text(String)
        case variable(String)
    }

    public let parts: [Part]
    /// The template as written.
    public let source: String

    /// Why a text is not a template.
    public enum ParseError: Error, Equatable, Sendable {
        /// `${` without its `}`.
        case unclosed
        /// `${}` or a name that breaks the variable-name rule.
        case badName(String)
    }

    /// Parses `text`; see ``ParseError``.
    public static func parse(_ text: String) -> Result<Template, ParseError> {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            let afterDollar = rest.index(after: dollar)
            guard afterDollar < rest.endIndex, rest[afterDollar] == "{" else {
                literal += rest[...dollar]
                rest = rest[afterDollar...]
                continue
            }
            literal += rest[..<dollar]
            let nameStart = rest.index(after: afterDollar)
            guard let close = rest[nameStart...].firstIndex(of: "}") else { return .failure(.unclosed) }
            let name = String(rest[nameStart..<close])
            guard Variables.isValidName(name) else { return .failure(.badName(name)) }
            if !literal.isEmpty { parts.append(.text(literal)) }
            literal = ""
            parts.append(.variable(name))
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.text(literal)) }
        return .success(Template(parts: parts, source: text))
    }

    private init(parts: [Part], source: String) {
        self.parts = parts
        self.source = source
    }

    /// A literal template; traps if `value` is not a valid template (tests and hand-built plans).
    public init(stringLiteral value: String) {
        guard case .success(let template) = Template.parse(value) else { preconditionFailure("bad template '\(value)'") }
        self = template
    }

    /// The variables the template reads, in order of appearance.
    public var variables: [String] {
        parts.compactMap { if case .variable(let name) = $0 { name } else { nil } }
    }

    /// The text when the template reads no variable.
    public var literal: String? { variables.isEmpty ? source : nil }

    /// The text with each variable replaced by `value(name)`.
    public func render(_ value: (String) -> String) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .variable(let name): value(name)
            }
        }.joined()
    }

    public var description: String { source }
}

/// The variables every node can read, and the naming rule for all variables.
///
/// Built-in variables are read-only and always have a value (possibly empty): the controller's
/// facts about the call and the execution's own state. Dialplans add their own with `set` and
/// `collect`.
public enum Variables {
    /// The caller's number as presented (empty when withheld).
    public static let caller = "caller"
    /// The number the caller dialled; it chose the entry.
    public static let dialledNumber = "dialled_number"
    /// The current time, ISO 8601 in the dialplan's `time_zone` (`2026-12-01T20:00:00+08:00`).
    public static let time = "time"
    /// The current prompt language code (`zh`).
    public static let language = "language"
    /// Every key the caller pressed since answering, in order.
    public static let keys = "keys"
    /// The call's ticket id once the controller knows it, else empty.
    public static let ticketID = "ticket_id"

    /// Every built-in name, in documentation order.
    public static let builtIn: [String] = [caller, dialledNumber, time, language, keys, ticketID]

    /// Whether `name` is a valid variable name: a lower-case ASCII letter, then lower-case letters,
    /// digits and `_` (at most 64 characters).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.unicodeScalars.count <= 64
        else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
