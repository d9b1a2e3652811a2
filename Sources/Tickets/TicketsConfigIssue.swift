// Tickets: calls, and the 12345 work orders they open, in SQLite behind intention-named APIs.
// This file: what is wrong with an admin-edited config file (units.yaml, sla.yaml), located
// like a compiler diagnostic.

/// One problem in a Tickets config file. `description` prints
/// `file:line:column: error: message [key.path] (hint)`.
public struct TicketsConfigIssue: Sendable, Hashable, CustomStringConvertible {
    /// The file, as given to the loader.
    public var file: String
    /// 1-based line and column (columns count Unicode scalars, as libYAML does).
    public var line: Int
    public var column: Int
    /// Dotted path to the offending key, e.g. `categories.complaint.sign_in`; empty for the file.
    public var keyPath: String
    public var message: String
    /// A suggestion (`did you mean 'sign_in'?`), if one helps.
    public var hint: String?

    public init(file: String, line: Int, column: Int, keyPath: String, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = "\(file):\(line):\(column): error: \(message)"
        if !keyPath.isEmpty { text += " [\(keyPath)]" }
        if let hint { text += " (\(hint))" }
        return text
    }
}

/// A config file that could not be loaded: every issue found, not just the first.
public struct TicketsConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var issues: [TicketsConfigIssue]

    public init(issues: [TicketsConfigIssue]) {
        self.issues = issues
    }

    /// One issue per line.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
