/// Why a dialplan did not load: every issue found in one pass, errors and warnings, in source order.
public struct DialplanError: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [DialplanIssue]

    public init(issues: [DialplanIssue]) { self.issues = issues }

    /// The issues that stopped loading.
    public var errors: [DialplanIssue] { issues.filter { $0.severity == .error } }

    /// One issue per line, compiler style, then a count.
    public var description: String {
        let warnings = issues.count - errors.count
        let lines = issues.map(\.description)
            + ["\(errors.count) error\(errors.count == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"]
        return lines.joined(separator: "\n")
    }
}
