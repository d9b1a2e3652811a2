import Foundation

extension Dialplan {
    /// Every prompt name any node names, in any language (fragments `say` may use excluded).
    public func promptReferences() -> Set<String> {
        Set(nodes.values.flatMap { $0.promptUses.map(\.name) })
    }

    /// One issue for each prompt a node plays that has no recording in one of ``languages``,
    /// located at the value naming the prompt. A `say` node needs every fragment its format may
    /// use in each language (`digit_0`…`digit_9`, `num_100`, `month_12`...); those are reported
    /// at its `as:` value.
    ///
    /// Every declared language is checked, not just the ones a flow can switch to: the controller
    /// may start any call in any declared language later, and a hole should show up at load time.
    ///
    /// - Parameter exist: whether a recording exists, e.g. a file-system check of
    ///   `Prompts/<language>/<name>.wav`.
    public func checkPrompts(exist: (Language, String) -> Bool) -> [DialplanIssue] {
        var issues: [DialplanIssue] = []
        for node in nodesInSourceOrder {
            for use in node.promptUses {
                for language in languages where !exist(language, use.name) {
                    issues.append(DialplanIssue(
                        severity: .error, code: .missingPrompt,
                        message: "prompt '\(use.name)' has no recording for language '\(language)'",
                        location: node.fieldLocations[use.keyPath] ?? node.location,
                        keyPath: "nodes.\(node.id).\(use.keyPath)",
                        hint: "expected Prompts/\(language)/\(use.name).wav"))
                }
            }
            guard case .say(let say) = node.kind else { continue }
            for language in languages where SayFormat.languages.contains(language) {
                let missing = say.format.requiredFragments(in: language).filter { !exist(language, $0) }
                guard !missing.isEmpty else { continue }
                issues.append(DialplanIssue(
                    severity: .error, code: .missingPrompt,
                    message: "say as \(say.format) needs fragment\(missing.count == 1 ? "" : "s") "
                        + "\(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? " and \(missing.count - 5) more" : "") "
                        + "for language '\(language)'",
                    location: node.fieldLocations["as"] ?? node.location, keyPath: "nodes.\(node.id).as",
                    hint: "record them as Prompts/\(language)/<name>.wav (Prompts/prompts.tsv lists the shipped ones)"))
            }
        }
        return issues
    }

    /// ``checkPrompts(exist:)`` against `<directory>/<language>/<name>.wav` on disk.
    public func checkPrompts(inDirectory directory: String) -> [DialplanIssue] {
        checkPrompts { language, name in
            FileManager.default.fileExists(atPath: "\(directory)/\(language.rawValue)/\(name).wav")
        }
    }
}

extension Dialplan {
    /// What `hotline dialplan check` does for one file: every issue of the file and the files it
    /// includes, plus missing prompt recordings when `promptsDirectory` is given, in reading order.
    public static func check(path: String, promptsDirectory: String?) -> CheckResult {
        var result = check(path: path)
        guard let directory = promptsDirectory, let dialplan = result.dialplan else { return result }
        let missing = dialplan.checkPrompts(inDirectory: directory)
        guard !missing.isEmpty else { return result }
        let order = Dictionary(dialplan.files.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        result.issues = (result.issues + missing).enumerated().sorted {
            let a = $0.element.location, b = $1.element.location
            return (order[a.file] ?? .max, a.line, a.column, $0.offset) < (order[b.file] ?? .max, b.line, b.column, $1.offset)
        }.map(\.element)
        result.dialplan = nil
        return result
    }
}
