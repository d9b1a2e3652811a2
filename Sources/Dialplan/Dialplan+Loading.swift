import Foundation

extension Dialplan {
    /// Everything a check of one dialplan file found.
    public struct CheckResult: Sendable {
        /// The dialplan, when there was no error (warnings allowed).
        public var dialplan: Dialplan?
        /// Errors and warnings in reading order (file by file, in the order files were read).
        public var issues: [DialplanIssue]

        public var errors: [DialplanIssue] { issues.filter { $0.severity == .error } }
        public var warnings: [DialplanIssue] { issues.filter { $0.severity == .warning } }
    }

    /// Reads a file's text for `include:`, or `nil` when it cannot be read as UTF-8.
    public static func readFileFromDisk(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// Checks YAML text and returns every issue, plus the dialplan if there were no errors.
    /// This is what `hotline dialplan check` prints.
    ///
    /// - Parameters:
    ///   - file: the name used in issue locations (a path, or a label like `<stdin>`); included
    ///     files are found relative to its directory.
    ///   - readFile: reads an included file (the disk by default; tests pass a dictionary).
    public static func check(
        yaml: String, file: String, readFile: @escaping (String) -> String? = Dialplan.readFileFromDisk
    ) -> CheckResult {
        let composed = YAMLComposer(text: yaml, file: file)
        var issues = composed.issues
        var dialplan: Dialplan?
        var files = [file]
        if issues.isEmpty {
            var parser = DialplanParser(file: file, renamedKeys: composed.renamedKeys, readFile: readFile)
            dialplan = parser.parse(root: composed.root, text: yaml)
            issues += parser.issues
            if !parser.loadedFiles.isEmpty { files = parser.loadedFiles }
        }
        // Reading order: the main file first, then included files as read; ties keep the order
        // the checks found them in.
        let fileOrder = Dictionary(files.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let ordered = issues.enumerated()
            .sorted {
                let a = $0.element.location, b = $1.element.location
                let fa = fileOrder[a.file] ?? Int.max, fb = fileOrder[b.file] ?? Int.max
                return (fa, a.file, a.line, a.column, $0.offset) < (fb, b.file, b.line, b.column, $1.offset)
            }
            .map(\.element)
        dialplan?.warnings = ordered
        return CheckResult(dialplan: dialplan, issues: ordered)
    }

    /// Reads and checks the file at `path` (and the files it includes).
    public static func check(path: String, readFile: @escaping (String) -> String? = Dialplan.readFileFromDisk) -> CheckResult {
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
        return check(yaml: text, file: path, readFile: readFile)
    }

    /// Parses YAML text into a dialplan; warnings end up in ``warnings``.
    ///
    /// - Throws: ``DialplanError`` with every issue (errors and warnings) if there is any error.
    public static func parse(
        yaml: String, file: String = "<memory>", readFile: @escaping (String) -> String? = Dialplan.readFileFromDisk
    ) throws(DialplanError) -> Dialplan {
        let result = check(yaml: yaml, file: file, readFile: readFile)
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
