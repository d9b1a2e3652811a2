import Foundation

extension Dialplan {
    /// Everything a check of one dialplan file found.
    public struct CheckResult: Sendable {
        /// The dialplan, when there was no error (warnings allowed).
        public var dialplan: Dialplan?
        /// Errors and warnings in source order.
        public var issues: [DialplanIssue]

        public var errors: [DialplanIssue] { issues.filter { $0.severity == .error } }
        public var warnings: [DialplanIssue] { issues.filter { $0.severity == .warning } }
    }

    /// Checks YAML text and returns every issue, plus the dialplan if there were no errors.
    /// This is what `hotline dialplan check` prints.
    ///
    /// - Parameter file: the name used in issue locations (a path, or a label like `<stdin>`).
    public static func check(yaml: String, file: String) -> CheckResult {
        let composed = YAMLComposer(text: yaml, file: file)
        var issues = composed.issues
        var dialplan: Dialplan?
        if issues.isEmpty {
            var parser = DialplanParser(file: file, renamedKeys: composed.renamedKeys)
            dialplan = parser.parse(root: composed.root, text: yaml)
            issues += parser.issues
        }
        // Reading order; ties keep the order the checks found them in.
        let ordered = issues.enumerated()
            .sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
            .map(\.element)
        dialplan?.warnings = ordered
        return CheckResult(dialplan: dialplan, issues: ordered)
    }

    /// Reads and checks the file at `path`.
    public static func check(path: String) -> CheckResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            return CheckResult(dialplan: nil, issues: [DialplanIssue(
                severity: .error, code: .unreadableFile, message: "cannot read the file",
                location: DialplanLocation(file: path, line: 1, column: 1), keyPath: "")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return CheckResult(dialplan: nil, issues: [DialplanIssue(
                severity: .error, code: .unreadableFile, message: "the file is not UTF-8 text",
                location: DialplanLocation(file: path, line: 1, column: 1), keyPath: "")])
        }
        return check(yaml: text, file: path)
    }

    /// Parses YAML text into a dialplan; warnings end up in ``warnings``.
    ///
    /// - Throws: ``DialplanError`` with every issue (errors and warnings) if there is any error.
    public static func parse(yaml: String, file: String = "<memory>") throws(DialplanError) -> Dialplan {
        let result = check(yaml: yaml, file: file)
        guard let dialplan = result.dialplan else { throw DialplanError(issues: result.issues) }
        return dialplan
    }

    /// Reads and parses the dialplan file at `path`.
    ///
    /// - Throws: ``DialplanError`` with every issue if the file cannot be read or has any error.
    public static func load(path: String) throws(DialplanError) -> Dialplan {
        let result = check(path: path)
        guard let dialplan = result.dialplan else { throw DialplanError(issues: result.issues) }
        return dialplan
    }
}
