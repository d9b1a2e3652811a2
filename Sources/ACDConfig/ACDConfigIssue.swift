// ACDConfig: reads the admin-edited `agents.yaml` and `queues.yaml` into the ACD's
// configuration and the registrar's credentials, reporting every problem with file:line:column.
// The only target of the contact centre that touches YAML (Yams); the ACD itself stays pure.
//
// This file: what is wrong with a file, located like a compiler diagnostic.

/// One problem in agents.yaml or queues.yaml. `description` prints
/// `file:line:column: error: message [key.path] (hint)`.
public struct ACDConfigIssue: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    public var file: String
    /// 1-based line and column (columns count Unicode scalars, as libYAML does).
    public var line: Int
    public var column: Int
    /// Dotted path to the offending key (`queues.operator.ring_timeout`); empty for the file.
    public var keyPath: String
    public var message: String
    public var hint: String?

    public init(severity: Severity = .error, file: String, line: Int, column: Int, keyPath: String, message: String,
                hint: String? = nil) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = "\(file):\(line):\(column): \(severity.rawValue): \(message)"
        if !keyPath.isEmpty { text += " [\(keyPath)]" }
        if let hint { text += " (\(hint))" }
        return text
    }
}

/// Files that could not be loaded: every issue found (errors and warnings), in file order.
public struct ACDConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var issues: [ACDConfigIssue]
    public init(issues: [ACDConfigIssue]) { self.issues = issues }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
