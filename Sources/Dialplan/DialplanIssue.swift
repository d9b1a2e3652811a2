/// One problem found in a dialplan, located like a compiler diagnostic.
///
/// `description` prints `file:line:column: error: message [key.path] (hint)`, the form editors and
/// CI logs already know how to link.
public struct DialplanIssue: Sendable, Hashable, CustomStringConvertible {
    /// How bad the issue is. Errors stop a dialplan from loading; warnings do not.
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    /// A stable identifier for the kind of issue, for tests and tools that filter issues.
    /// An open set: later checks add codes without breaking callers.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral,
        CustomStringConvertible
    {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// The file could not be read or is not UTF-8.
        public static let unreadableFile: Code = "unreadable_file"
        /// The text is not well-formed YAML.
        public static let yamlSyntax: Code = "yaml_syntax"
        /// A key that this place in the dialplan does not define.
        public static let unknownKey: Code = "unknown_key"
        /// A key bound twice in one mapping.
        public static let duplicateKey: Code = "duplicate_key"
        /// A `type:` that is not a node type.
        public static let unknownNodeType: Code = "unknown_node_type"
        /// A value of the wrong YAML kind or syntax (`retries: two`, `timeout: 5`).
        public static let wrongType: Code = "wrong_type"
        /// A value of the right kind but not allowed (`retries: 99`, an unknown language).
        public static let invalidValue: Code = "invalid_value"
        /// A required key is absent.
        public static let missingField: Code = "missing_field"
        /// A reference to a node that does not exist.
        public static let undefinedTarget: Code = "undefined_target"
        /// Two entries for the same dialled number.
        public static let duplicateEntry: Code = "duplicate_entry"
        /// A node no entry can reach.
        public static let unreachableNode: Code = "unreachable_node"
        /// A cycle of nodes that never waits for anything.
        public static let loopWithoutWait: Code = "loop_without_wait"
        /// A key that is set but can never take effect.
        public static let unusedField: Code = "unused_field"
        /// A disposition outside ``Disposition/known``.
        public static let unknownDisposition: Code = "unknown_disposition"
        /// A prompt with no recording for one of the dialplan's languages.
        public static let missingPrompt: Code = "missing_prompt"
        /// Two entries (numbers, patterns or prefixes) that could take the same dialled number.
        public static let overlappingEntries: Code = "overlapping_entries"
        /// A file that includes itself, directly or through others.
        public static let includeCycle: Code = "include_cycle"
        /// A calendar or season that is not declared.
        public static let undefinedName: Code = "undefined_name"
        /// A queue that is not in the dialplan's `queues`.
        public static let unknownQueue: Code = "unknown_queue"
        /// A transfer target that is not in the dialplan's `transfer_targets` allow-list.
        public static let transferNotAllowed: Code = "transfer_not_allowed"
        /// A variable read somewhere but set nowhere.
        public static let undefinedVariable: Code = "undefined_variable"
        /// A variable set somewhere but read nowhere.
        public static let unusedVariable: Code = "unused_variable"
        /// An attempt to set a built-in variable.
        public static let readOnlyVariable: Code = "read_only_variable"
        /// A `return` node reachable outside any `call`.
        public static let returnOutsideCall: Code = "return_outside_call"
        /// A cycle of nodes that waits (prompts) but never takes the caller's input.
        public static let loopWithoutInput: Code = "loop_without_input"
        /// A menu or collect from which no path leads to an end of the call.
        public static let noWayOut: Code = "no_way_out"
        /// A ticket resolution outside ``TicketAnnotation/knownResolutions``.
        public static let unknownResolution: Code = "unknown_resolution"
    }

    public var severity: Severity
    public var code: Code
    public var message: String
    /// Where the offending key or value starts.
    public var location: DialplanLocation
    /// Dotted path to the offending key, e.g. `nodes.main_menu.keys.3`; empty for the whole file.
    public var keyPath: String
    /// A suggestion such as `did you mean 'timeout'?`.
    public var hint: String?

    public init(
        severity: Severity, code: Code, message: String, location: DialplanLocation,
        keyPath: String, hint: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.keyPath = keyPath
        self.hint = hint
    }

    public var file: String { location.file }
    public var line: Int { location.line }
    public var column: Int { location.column }

    /// `file:line:column: severity: message [key.path] (hint)`.
    public var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if !keyPath.isEmpty { text += " [\(keyPath)]" }
        if let hint { text += " (\(hint))" }
        return text
    }
}
