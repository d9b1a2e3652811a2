// ConfigFiles: reading the admin-edited files (agents.yaml, queues.yaml, units.yaml, sla.yaml)
// with every problem located like a compiler diagnostic, and the duration syntax the dialplan,
// those files and the command line share. Pure: Yams and text, no sockets, no clock.
//
// This file: what is wrong with a file, located.

/// One problem in an admin-edited file. `description` prints
/// `file:line:column: error: message [key.path] (hint)`.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    /// The file, as given to the loader.
    public var file: String
    /// 1-based line and column (columns count Unicode scalars, as libYAML does).
    public var line: Int
    public var column: Int
    /// Dotted path to the offending key (`queues.operator.ring_timeout`); empty for the file.
    public var keyPath: String
    public var message: String
    /// A suggestion (`did you mean 'sign_in'?`), if one helps.
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
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public init(issues: [ConfigIssue]) { self.issues = issues }
    /// One issue per line.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
