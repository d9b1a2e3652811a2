import Foundation

extension Dialplan {
    /// Every prompt name any node plays, in any language.
    public func promptReferences() -> Set<String> {
        Set(nodes.values.flatMap { $0.promptUses.map(\.name) })
    }

    /// One issue for each prompt a node plays that has no recording in one of ``languages``,
    /// located at the value naming the prompt.
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
