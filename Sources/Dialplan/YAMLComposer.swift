import Yams

/// Turns YAML text into a Yams node tree without giving up at the first duplicate key.
///
/// Yams 6 refuses a mapping that binds a key twice and reports only the first such key. A
/// dialplan checker must report every issue, so on that error the composer renames the first
/// binding in the text to a unique placeholder and composes again. The placeholder replaces one
/// Unicode scalar with one private-use scalar, so every line:column stays exactly where it was;
/// ``renamedKeys`` remembers the original name, and the parser reports the duplicate with both
/// locations.
struct YAMLComposer {
    /// The composed document, or `nil` when the text could not be composed.
    var root: Node?
    /// Keys renamed to get past Yams's duplicate check: position of the renamed key → original text.
    var renamedKeys: [Position: String] = [:]
    var issues: [DialplanIssue] = []

    /// A line:column pair, hashable, for looking up renamed keys by a node's mark.
    struct Position: Hashable {
        var line: Int
        var column: Int
    }

    /// Enough for any hand-written file; each round costs one parse.
    static let maxRenames = 200

    init(text: String, file: String) {
        var text = text
        for round in 0...YAMLComposer.maxRenames {
            do {
                root = try Yams.compose(yaml: text)
                return
            } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
                let position = Position(line: context.mark.line, column: context.mark.column)
                guard round < YAMLComposer.maxRenames, let original = duplicates.first,
                    let renamed = YAMLComposer.renamingKey(in: text, at: position, round: round)
                else {
                    // A key we cannot rename safely (an alias, a complex key): report what Yams
                    // knows and stop, rather than guess.
                    issues.append(DialplanIssue(
                        severity: .error, code: .duplicateKey,
                        message: "duplicate key '\(duplicates.first ?? "?")' in mapping",
                        location: DialplanLocation(file: file, line: position.line, column: position.column),
                        keyPath: ""))
                    return
                }
                renamedKeys[position] = original
                text = renamed
            } catch let error as YamlError {
                issues.append(YAMLComposer.issue(for: error, text: text, file: file))
                return
            } catch {
                issues.append(DialplanIssue(
                    severity: .error, code: .yamlSyntax, message: "\(error)",
                    location: DialplanLocation(file: file, line: 1, column: 1), keyPath: ""))
                return
            }
        }
    }

    /// `text` with the key starting at `position` made unique, or `nil` if that is not a plain or
    /// quoted scalar we can rewrite without changing the document's shape.
    static func renamingKey(in text: String, at position: Position, round: Int) -> String? {
        var scalars = Array(text.unicodeScalars)
        guard var index = offset(of: position, in: scalars), index < scalars.count else { return nil }
        if scalars[index] == "\"" || scalars[index] == "'" {
            let quote = scalars[index]
            index += 1
            // An empty quoted key has no character to replace.
            guard index < scalars.count, scalars[index] != quote else { return nil }
        }
        let unsafe: Set<Unicode.Scalar> = ["&", "*", "!", "?", "[", "{", "|", ">", "\n", "\r", " ", "\t"]
        guard !unsafe.contains(scalars[index]),
            let placeholder = Unicode.Scalar(0xE000 + UInt32(round % 0x1900))
        else { return nil }
        scalars[index] = placeholder
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// The scalar index of a 1-based line:column, counting line breaks the way libYAML does
    /// (`\r\n`, `\r`, `\n`, NEL, LS, PS).
    static func offset(of position: Position, in scalars: [Unicode.Scalar]) -> Int? {
        var line = 1
        var index = 0
        while line < position.line {
            guard index < scalars.count else { return nil }
            let scalar = scalars[index]
            index += 1
            if scalar == "\r", index < scalars.count, scalars[index] == "\n" { index += 1 }
            if ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar) { line += 1 }
        }
        let target = index + position.column - 1
        return target <= scalars.count ? target : nil
    }

    /// A located issue for a libYAML reader, scanner, parser or composer error.
    static func issue(for error: YamlError, text: String, file: String) -> DialplanIssue {
        func located(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> DialplanIssue {
            var message = "YAML syntax: \(problem)"
            if let context {
                message += " (\(context.text) at \(context.mark.line):\(context.mark.column))"
            }
            return DialplanIssue(
                severity: .error, code: .yamlSyntax, message: message,
                location: DialplanLocation(file: file, line: mark.line, column: mark.column), keyPath: "",
                hint: hint(problem: problem, context: context?.text, at: mark, in: text))
        }
        switch error {
        case let .scanner(context, problem, mark, _),
            let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            return located(problem, context, mark)
        case let .reader(problem, offset, _, _):
            var line = 1
            var column = 1
            if let offset {
                for character in text.prefix(offset) {
                    if character.isNewline { line += 1; column = 1 } else { column += character.unicodeScalars.count }
                }
            }
            return DialplanIssue(
                severity: .error, code: .unreadableFile, message: "YAML reader: \(problem)",
                location: DialplanLocation(file: file, line: line, column: column), keyPath: "")
        default:
            return DialplanIssue(
                severity: .error, code: .yamlSyntax, message: "YAML: \(error)",
                location: DialplanLocation(file: file, line: 1, column: 1), keyPath: "")
        }
    }

    /// Advice for the libYAML errors people meet most in hand-written dialplans.
    static func hint(problem: String, context: String?, at mark: Mark, in text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        if let index = offset(of: Position(line: mark.line, column: mark.column), in: scalars),
            index < scalars.count, scalars[index] == "\t"
        {
            return "indent with spaces; YAML does not allow tabs"
        }
        if context?.contains("alias") == true || problem.contains("undefined alias") {
            return "'*' starts a YAML alias; quote the key: \"*\""
        }
        if problem.contains("found character that cannot start any token") {
            return "quote values that start with '@' or '`'"
        }
        if problem.contains("mapping values are not allowed") {
            return "check the indentation, or quote a value that contains ': '"
        }
        return nil
    }
}
