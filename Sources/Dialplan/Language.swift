/// A prompt language, such as `zh` (Mandarin) or `en` (English).
///
/// An open set: a dialplan declares the languages it has recordings for, and prompts resolve to
/// `Prompts/<language>/<name>.wav`. The code is also the directory name, so it is restricted to
/// lower-case ASCII letters (2 or 3, as in ISO 639) with optional `-` subtags (`zh-hk`).
public struct Language: RawRepresentable, Hashable, Comparable, Sendable,
    ExpressibleByStringLiteral, CustomStringConvertible
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// Mandarin Chinese.
    public static let zh: Language = "zh"
    /// English.
    public static let en: Language = "en"

    public var description: String { rawValue }

    public static func < (lhs: Language, rhs: Language) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether `code` is usable as a language code and prompt directory name.
    public static func isValid(_ code: String) -> Bool {
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard let primary = parts.first, (2...3).contains(primary.count),
            primary.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) })
        else { return false }
        return parts.dropFirst().allSatisfy { subtag in
            (2...8).contains(subtag.count)
                && subtag.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        }
    }
}
