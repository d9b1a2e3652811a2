/// A recorded prompt in a given language; it resolves to `Prompts/<language>/<name>.wav`.
public struct PromptRef: Hashable, Sendable, CustomStringConvertible {
    public var language: Language
    /// File name without extension: lower-case ASCII letters, digits and `_`.
    public var name: String

    public init(language: Language, name: String) {
        self.language = language
        self.name = name
    }

    /// `language/name`, e.g. `en/main_menu`.
    public var description: String { "\(language)/\(name)" }

    /// Whether `name` is a valid prompt name. The rule matches `Prompts/prompts.tsv` and keeps
    /// names safe as file names (no separators, no `..`).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }
}
