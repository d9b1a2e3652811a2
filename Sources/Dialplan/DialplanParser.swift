import Yams

/// Builds a ``Dialplan`` from a Yams node tree, collecting every issue instead of stopping at the
/// first.
///
/// Each reader reports its own problem and returns `nil`; the caller carries on with the next
/// key, so one pass finds everything. Node names are gathered before any node is read, so a
/// broken node still counts as defined and does not cause a second, misleading "undefined" issue
/// wherever it is referenced.
struct DialplanParser {
    let file: String
    let renamedKeys: [YAMLComposer.Position: String]
    private(set) var issues: [DialplanIssue] = []

    /// Full key path → where its value is written; nodes copy their part into `fieldLocations`.
    private var valueLocations: [String: DialplanLocation] = [:]
    private var declaredLanguages: [Language] = []
    private var nodeIDs: Set<NodeID> = []
    /// Every node reference, including ones made by nodes that failed to parse, for the
    /// undefined-target check and reachability.
    private var references: [Reference] = []

    private struct Reference {
        /// The node making the reference; `nil` for an entry's `start`.
        var source: NodeID?
        var target: NodeID
        var location: DialplanLocation
        var keyPath: String
    }

    /// One `key: value` binding of a mapping, with the key's text as written (duplicates undone).
    struct Binding {
        var name: String
        var key: Node
        var value: Node
    }

    init(file: String, renamedKeys: [YAMLComposer.Position: String]) {
        self.file = file
        self.renamedKeys = renamedKeys
    }

    // MARK: - Top level

    static let topLevelKeys = ["dialplan", "languages", "default_language", "entries", "nodes"]

    /// The dialplan, or `nil` if any error was found; `issues` holds everything either way.
    mutating func parse(root: Node?, text: String) -> Dialplan? {
        guard let root else {
            report(.error, .missingField, "the file holds no dialplan (it is empty)", at: location(nil), path: [])
            return nil
        }
        guard case .mapping(let mapping) = root else {
            report(
                .error, .wrongType, "a dialplan must be a mapping, found \(kindName(root))", at: location(root),
                path: [], hint: "start with 'dialplan:', 'languages:', 'entries:' and 'nodes:'")
            return nil
        }
        let fields = self.fields(of: mapping, at: [], allowed: DialplanParser.topLevelKeys, what: "at the top level")
        let rootLocation = location(root)

        let name = string(fields["dialplan"], at: ["dialplan"], what: "dialplan name")
        if fields["dialplan"] == nil { missing("dialplan", in: [], at: rootLocation, what: "the dialplan") }

        let languages = parseLanguages(fields["languages"], rootLocation: rootLocation)
        declaredLanguages = languages
        var defaultLanguage = languages.first
        if let field = fields["default_language"], let code = string(field, at: ["default_language"], what: "language code") {
            let language = Language(rawValue: code)
            if languages.isEmpty {
                // Nothing to compare against; the missing `languages` is already reported.
            } else if !languages.contains(language) {
                report(
                    .error, .invalidValue,
                    "default_language '\(code)' is not one of languages [\(languages.map(\.rawValue).joined(separator: ", "))]",
                    at: location(field.value), path: ["default_language"],
                    hint: Suggestion.hint(for: code, among: languages.map(\.rawValue)))
            } else {
                defaultLanguage = language
            }
        }

        // Node names first, so references resolve no matter the order of sections.
        var nodeBindings: [Binding] = []
        if let field = fields["nodes"] {
            if case .mapping(let nodesMapping) = field.value {
                nodeBindings = bindings(of: nodesMapping, at: ["nodes"])
                for binding in nodeBindings {
                    if NodeID.isValid(binding.name) {
                        nodeIDs.insert(NodeID(binding.name))
                    } else {
                        report(
                            .error, .invalidValue,
                            "node name '\(binding.name)' may use only letters, digits, '_' and '-'",
                            at: location(binding.key), path: ["nodes", binding.name])
                    }
                }
                if nodeBindings.isEmpty {
                    report(.error, .missingField, "'nodes' is empty", at: location(field.value), path: ["nodes"])
                }
            } else {
                wrongKind(field.value, expected: "a mapping of node names to nodes", at: ["nodes"])
            }
        } else {
            missing("nodes", in: [], at: rootLocation, what: "the dialplan")
        }

        var nodes: [NodeID: DialplanNode] = [:]
        for binding in nodeBindings where NodeID.isValid(binding.name) {
            if let node = parseNode(binding) { nodes[node.id] = node }
        }

        let entries = parseEntries(fields["entries"], rootLocation: rootLocation)

        checkReferences()
        analyse(nodes: nodes, nodeBindings: nodeBindings, entries: entries)

        guard !issues.contains(where: { $0.severity == .error }), let name, let defaultLanguage else {
            return nil
        }
        return Dialplan(
            name: name, languages: languages, defaultLanguage: defaultLanguage, entries: entries, nodes: nodes,
            file: file, version: Dialplan.fingerprint(of: text), warnings: issues)
    }

    private mutating func parseLanguages(_ field: Binding?, rootLocation: DialplanLocation) -> [Language] {
        guard let field else {
            missing("languages", in: [], at: rootLocation, what: "the dialplan", hint: "e.g. languages: [zh, en]")
            return []
        }
        guard case .sequence(let sequence) = field.value else {
            wrongKind(field.value, expected: "a list of language codes such as [zh, en]", at: ["languages"])
            return []
        }
        var languages: [Language] = []
        for (index, item) in sequence.enumerated() {
            let path = ["languages", String(index)]
            guard let code = string(Binding(name: String(index), key: item, value: item), at: path, what: "language code")
            else { continue }
            if !Language.isValid(code) {
                report(
                    .error, .invalidValue, "'\(code)' is not a language code", at: location(item), path: path,
                    hint: "use a lower-case ISO 639 code such as zh or en; it names the Prompts/ directory")
            } else if languages.contains(Language(rawValue: code)) {
                report(.error, .invalidValue, "language '\(code)' is listed twice", at: location(item), path: path)
            } else {
                languages.append(Language(rawValue: code))
            }
        }
        if sequence.isEmpty {
            report(.error, .missingField, "'languages' is empty", at: location(field.value), path: ["languages"])
        }
        return languages
    }

    private mutating func parseEntries(_ field: Binding?, rootLocation: DialplanLocation) -> [DialplanEntry] {
        guard let field else {
            missing("entries", in: [], at: rootLocation, what: "the dialplan", hint: "e.g. entries: [{number: \"12345\", start: welcome}]")
            return []
        }
        guard case .sequence(let sequence) = field.value else {
            wrongKind(field.value, expected: "a list of entries", at: ["entries"])
            return []
        }
        if sequence.isEmpty {
            report(.error, .missingField, "'entries' is empty; no number would reach this dialplan",
                   at: location(field.value), path: ["entries"])
        }
        var entries: [DialplanEntry] = []
        var numbers: [String: DialplanLocation] = [:]
        for (index, item) in sequence.enumerated() {
            let path = ["entries", String(index)]
            guard case .mapping(let mapping) = item else {
                wrongKind(item, expected: "an entry mapping with 'number' and 'start'", at: path)
                continue
            }
            let fields = self.fields(of: mapping, at: path, allowed: ["number", "start", "ring"], what: "in an entry")
            let itemLocation = location(item)
            var number: String?
            if let numberField = fields["number"] {
                if let text = string(numberField, at: path + ["number"], what: "dialled number") {
                    if !DialplanEntry.isValidNumber(text) {
                        report(
                            .error, .invalidValue, "'\(text)' is not a dialled number", at: location(numberField.value),
                            path: path + ["number"], hint: "use digits, '*', '#' and an optional leading '+'")
                    } else if let first = numbers[text] {
                        report(
                            .error, .duplicateEntry,
                            "number '\(text)' already has an entry at \(first.line):\(first.column)",
                            at: location(numberField.value), path: path + ["number"])
                    } else {
                        numbers[text] = location(numberField.value)
                        number = text
                    }
                }
            } else {
                missing("number", in: path, at: itemLocation, what: "the entry")
            }
            let start = reference(fields["start"], at: path + ["start"], from: nil)
            if fields["start"] == nil { missing("start", in: path, at: itemLocation, what: "the entry") }
            var ring = Duration.zero
            if let ringField = fields["ring"] {
                if let value = duration(ringField, at: path + ["ring"], allowZero: true) { ring = value }
            }
            if let number, let start {
                entries.append(DialplanEntry(match: .exact(number), start: start, ring: ring, location: itemLocation))
            }
        }
        return entries
    }

    // MARK: - Nodes

    /// The keys each node type takes, `type` included.
    static let nodeTypeKeys: [(type: String, keys: [String])] = [
        ("play", ["type", "prompts", "barge_in", "next"]),
        ("menu", ["type", "prompt", "timeout", "retries", "invalid_prompt", "no_input_prompt", "keys",
                  "on_no_input", "on_invalid", "on_failure"]),
        ("language", ["type", "language", "next"]),
        ("ticket", ["type", "business_line", "category", "next"]),
        ("queue", ["type", "queue", "on_unavailable"]),
        ("hangup", ["type", "disposition"]),
    ]

    /// Node types the language will have (issue 3) but this version does not run yet.
    static let plannedNodeTypes: Set<String> = [
        "say", "collect", "set", "branch", "goto", "call", "return", "transfer", "record",
    ]

    /// Advice for keys people reach for that mean something else here.
    static let keyAdvice: [String: [String: String]] = [
        "queue": ["next": "a queue node continues only when the queue cannot take the call: use 'on_unavailable'"],
        "hangup": ["next": "a hangup node ends the call; nothing follows it"],
        "menu": ["next": "a menu continues through 'keys', 'on_no_input', 'on_invalid' or 'on_failure'",
                 "barge_in": "menus always let a key interrupt their prompt"],
    ]

    static let defaultMenuTimeout: Duration = .seconds(5)
    static let defaultMenuRetries = 2
    static let maxMenuRetries = 9

    private mutating func parseNode(_ binding: Binding) -> DialplanNode? {
        let id = NodeID(binding.name)
        let path = ["nodes", binding.name]
        let nodeLocation = location(binding.key)
        guard case .mapping(let mapping) = binding.value else {
            wrongKind(binding.value, expected: "a node mapping with a 'type'", at: path)
            return nil
        }
        // Quietly: `fields(of:)` below reports this mapping's problems once the type is known.
        let all = bindings(of: mapping, at: path, quiet: true)
        guard let typeBinding = all.last(where: { $0.name == "type" }) else {
            missing("type", in: path, at: nodeLocation, what: "node '\(id)'",
                    hint: "one of: \(DialplanParser.nodeTypeKeys.map(\.type).joined(separator: ", "))")
            return nil
        }
        guard let type = string(typeBinding, at: path + ["type"], what: "node type") else { return nil }
        guard let keys = DialplanParser.nodeTypeKeys.first(where: { $0.type == type })?.keys else {
            if DialplanParser.plannedNodeTypes.contains(type) {
                report(.error, .unknownNodeType, "node type '\(type)' is not available in this version of Hotline",
                       at: location(typeBinding.value), path: path + ["type"])
            } else {
                report(.error, .unknownNodeType, "unknown node type '\(type)'", at: location(typeBinding.value),
                       path: path + ["type"],
                       hint: Suggestion.hint(for: type, among: DialplanParser.nodeTypeKeys.map(\.type))
                           ?? "one of: \(DialplanParser.nodeTypeKeys.map(\.type).joined(separator: ", "))")
            }
            return nil
        }
        let fields = self.fields(
            of: mapping, at: path, allowed: keys, advice: DialplanParser.keyAdvice[type] ?? [:],
            what: "in a \(type) node")
        let issuesBefore = issues.filter { $0.severity == .error }.count
        func required(_ key: String) -> Binding? {
            if fields[key] == nil { missing(key, in: path, at: nodeLocation, what: "\(type) node '\(id)'") }
            return fields[key]
        }

        var kind: DialplanNode.Kind?
        switch type {
        case "play":
            let prompts = promptList(required("prompts"), at: path + ["prompts"])
            let bargeIn = fields["barge_in"].flatMap { bool($0, at: path + ["barge_in"]) } ?? false
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let prompts, let next { kind = .play(.init(prompts: prompts, bargeIn: bargeIn, next: next)) }

        case "menu":
            let prompt = promptName(required("prompt"), at: path + ["prompt"])
            var timeout = DialplanParser.defaultMenuTimeout
            if let field = fields["timeout"], let value = duration(field, at: path + ["timeout"], allowZero: false) {
                timeout = value
            }
            var retries: Int? = DialplanParser.defaultMenuRetries
            if let field = fields["retries"] {
                retries = int(field, at: path + ["retries"], range: 0...DialplanParser.maxMenuRetries)
            }
            let invalidPrompt = promptName(fields["invalid_prompt"], at: path + ["invalid_prompt"])
            let noInputPrompt = promptName(fields["no_input_prompt"], at: path + ["no_input_prompt"])
            let keyTargets = menuKeys(required("keys"), at: path + ["keys"], from: id)
            let onNoInput = reference(fields["on_no_input"], at: path + ["on_no_input"], from: id)
            let onInvalid = reference(fields["on_invalid"], at: path + ["on_invalid"], from: id)
            let onFailure = reference(fields["on_failure"], at: path + ["on_failure"], from: id)
            if let failure = fields["on_failure"], fields["on_no_input"] != nil, fields["on_invalid"] != nil {
                report(.warning, .unusedField, "on_failure is never used: on_no_input and on_invalid are both set",
                       at: location(failure.key), path: path + ["on_failure"])
            }
            if let prompt, let retries, let keyTargets {
                kind = .menu(.init(
                    prompt: prompt, timeout: timeout, retries: retries, invalidPrompt: invalidPrompt,
                    noInputPrompt: noInputPrompt, keys: keyTargets, onNoInput: onNoInput, onInvalid: onInvalid,
                    onFailure: onFailure))
            }

        case "language":
            let language = declaredLanguage(required("language"), at: path + ["language"])
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let language, let next { kind = .language(.init(language: language, next: next)) }

        case "ticket":
            let businessLine = identifier(fields["business_line"], at: path + ["business_line"], what: "business line")
            let category = identifier(fields["category"], at: path + ["category"], what: "category")
            if fields["business_line"] == nil, fields["category"] == nil {
                report(.error, .missingField, "ticket node '\(id)' sets neither 'business_line' nor 'category'",
                       at: nodeLocation, path: path)
            }
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let next {
                kind = .ticket(.init(annotation: TicketAnnotation(businessLine: businessLine, category: category), next: next))
            }

        case "queue":
            let queue = identifier(required("queue"), at: path + ["queue"], what: "queue name")
            let onUnavailable = reference(fields["on_unavailable"], at: path + ["on_unavailable"], from: id)
            if let queue { kind = .queue(.init(queue: queue, onUnavailable: onUnavailable)) }

        case "hangup":
            var disposition = Disposition.completedInIVR
            if let field = fields["disposition"],
                let text = identifier(field, at: path + ["disposition"], what: "disposition")
            {
                disposition = Disposition(rawValue: text)
                if !Disposition.known.contains(disposition) {
                    report(.warning, .unknownDisposition, "'\(text)' is not a disposition Hotline reports on",
                           at: location(field.value), path: path + ["disposition"],
                           hint: Suggestion.hint(for: text, among: Disposition.known.map(\.rawValue))
                               ?? "known: \(Disposition.known.map(\.rawValue).joined(separator: ", "))")
                }
            }
            kind = .hangup(.init(disposition: disposition))

        default:
            preconditionFailure("node type '\(type)' listed in nodeTypeKeys but not parsed")
        }

        guard let kind, issues.filter({ $0.severity == .error }).count == issuesBefore else { return nil }
        let prefix = path.joined(separator: ".") + "."
        var fieldLocations: [String: DialplanLocation] = [:]
        for (keyPath, location) in valueLocations where keyPath.hasPrefix(prefix) {
            fieldLocations[String(keyPath.dropFirst(prefix.count))] = location
        }
        return DialplanNode(id: id, kind: kind, location: nodeLocation, fieldLocations: fieldLocations)
    }

    private mutating func menuKeys(_ field: Binding?, at path: [String], from source: NodeID) -> [DTMFKey: NodeID]? {
        guard let field else { return nil }
        guard case .mapping(let mapping) = field.value else {
            wrongKind(field.value, expected: "a mapping of keys to nodes, e.g. {\"1\": policy}", at: path)
            return nil
        }
        var keys: [DTMFKey: NodeID] = [:]
        var failed = false
        for binding in bindings(of: mapping, at: path) {
            let keyPath = path + [binding.name]
            let target = reference(binding, at: keyPath, from: source)
            guard let key = DTMFKey(binding.name) else {
                let upper = binding.name.uppercased()
                report(.error, .invalidValue, "'\(binding.name)' is not a telephone key", at: location(binding.key),
                       path: keyPath,
                       hint: DTMFKey(upper) != nil ? "did you mean '\(upper)'?" : "keys are 0-9, \"*\", \"#\" and A-D")
                failed = true
                continue
            }
            if let target { keys[key] = target } else { failed = true }
        }
        if mapping.isEmpty {
            report(.error, .missingField, "'keys' is empty; a menu needs at least one key", at: location(field.value), path: path)
            return nil
        }
        return failed ? nil : keys
    }

    // MARK: - Mappings

    /// The bindings of a mapping in source order. Reports (unless `quiet`) non-scalar keys and keys
    /// bound twice, which Yams would either keep only one of, silently, or refuse the file for.
    /// For a key bound twice the last binding is kept, at the first binding's place.
    mutating func bindings(of mapping: Node.Mapping, at path: [String], quiet: Bool = false) -> [Binding] {
        var result: [Binding] = []
        var indexByName: [String: Int] = [:]
        var firstKeyByName: [String: Node] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                if !quiet { report(.error, .wrongType, "keys must be plain names, found \(kindName(key))", at: location(key), path: path) }
                continue
            }
            let name = key.mark.flatMap { renamedKeys[YAMLComposer.Position(line: $0.line, column: $0.column)] }
                ?? scalar.string
            let binding = Binding(name: name, key: key, value: value)
            if let index = indexByName[name] {
                if !quiet {
                    let first = location(firstKeyByName[name])
                    report(.error, .duplicateKey, "key '\(name)' is bound twice; the first binding is at \(first.line):\(first.column)",
                           at: location(key), path: path + [name], hint: "remove one of them")
                }
                result[index] = binding
            } else {
                indexByName[name] = result.count
                firstKeyByName[name] = key
                result.append(binding)
            }
        }
        return result
    }

    /// The allowed keys of a mapping by name. Unknown keys are reported with the closest valid key
    /// as a hint, and left out.
    mutating func fields(
        of mapping: Node.Mapping, at path: [String], allowed: [String], advice: [String: String] = [:], what: String
    ) -> [String: Binding] {
        var fields: [String: Binding] = [:]
        for binding in bindings(of: mapping, at: path) {
            if allowed.contains(binding.name) {
                fields[binding.name] = binding
            } else if binding.name == "<<" {
                report(.error, .unknownKey, "YAML merge keys ('<<') are not supported in dialplans",
                       at: location(binding.key), path: path + [binding.name], hint: "write the keys out in each node")
            } else {
                report(.error, .unknownKey, "unknown key '\(binding.name)' \(what)", at: location(binding.key),
                       path: path + [binding.name],
                       hint: advice[binding.name] ?? Suggestion.hint(for: binding.name, among: allowed)
                           ?? "expected one of: \(allowed.joined(separator: ", "))")
            }
        }
        return fields
    }

    // MARK: - Values

    /// The scalar text of a value; `nil` (reported) for a mapping, a list or a null.
    mutating func string(_ field: Binding?, at path: [String], what: String) -> String? {
        guard let field else { return nil }
        let value = field.value
        valueLocations[path.joined(separator: ".")] = location(value)
        guard case .scalar(let scalar) = value else {
            wrongKind(value, expected: "a \(what)", at: path)
            return nil
        }
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            report(.error, .missingField, "'\(path.last ?? "")' has no value; expected a \(what)", at: location(value), path: path)
            return nil
        }
        if scalar.string.isEmpty {
            report(.error, .invalidValue, "'\(path.last ?? "")' is empty; expected a \(what)", at: location(value), path: path)
            return nil
        }
        return scalar.string
    }

    private mutating func int(_ field: Binding, at path: [String], range: ClosedRange<Int>) -> Int? {
        guard let text = string(field, at: path, what: "whole number") else { return nil }
        guard let value = Int(text) else {
            report(.error, .wrongType, "'\(text)' is not a whole number", at: location(field.value), path: path,
                   hint: "write digits, e.g. \(path.last ?? "value"): 2")
            return nil
        }
        guard range.contains(value) else {
            report(.error, .invalidValue, "\(path.last ?? "value") must be between \(range.lowerBound) and \(range.upperBound), found \(value)",
                   at: location(field.value), path: path)
            return nil
        }
        return value
    }

    private mutating func bool(_ field: Binding, at path: [String]) -> Bool? {
        guard let text = string(field, at: path, what: "true or false") else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            report(.error, .wrongType, "'\(text)' is not true or false", at: location(field.value), path: path,
                   hint: "write true or false")
            return nil
        }
    }

    private mutating func duration(_ field: Binding, at path: [String], allowZero: Bool) -> Duration? {
        guard let text = string(field, at: path, what: "duration") else { return nil }
        guard let value = DurationSyntax.parse(text) else {
            let isBareNumber = !text.isEmpty && text.allSatisfy { $0.isASCIIDigit || $0 == "." }
            report(.error, .wrongType, "'\(text)' is not a duration", at: location(field.value), path: path,
                   hint: isBareNumber ? "did you mean '\(text)s'?" : "durations look like 500ms, 2s, 1.5s or 1m")
            return nil
        }
        if !allowZero, value == .zero {
            report(.error, .invalidValue, "\(path.last ?? "duration") must be longer than 0", at: location(field.value), path: path)
            return nil
        }
        return value
    }

    private mutating func reference(_ field: Binding?, at path: [String], from source: NodeID?) -> NodeID? {
        guard let field, let name = string(field, at: path, what: "node name") else { return nil }
        let target = NodeID(name)
        references.append(Reference(source: source, target: target, location: location(field.value),
                                    keyPath: path.joined(separator: ".")))
        return target
    }

    private mutating func promptName(_ field: Binding?, at path: [String]) -> String? {
        guard let field, let name = string(field, at: path, what: "prompt name") else { return nil }
        guard PromptRef.isValidName(name) else {
            let lowered = name.lowercased()
            report(.error, .invalidValue, "'\(name)' is not a prompt name", at: location(field.value), path: path,
                   hint: PromptRef.isValidName(lowered) ? "did you mean '\(lowered)'?"
                       : "prompt names are file names without '.wav': lower-case letters, digits and '_'")
            return nil
        }
        return name
    }

    private mutating func promptList(_ field: Binding?, at path: [String]) -> [String]? {
        guard let field else { return nil }
        guard case .sequence(let sequence) = field.value else {
            if case .scalar = field.value, let name = field.value.string {
                report(.error, .wrongType, "'prompts' takes a list", at: location(field.value), path: path,
                       hint: "write prompts: [\(name)]")
            } else {
                wrongKind(field.value, expected: "a list of prompt names", at: path)
            }
            return nil
        }
        guard !sequence.isEmpty else {
            report(.error, .missingField, "'prompts' is empty", at: location(field.value), path: path)
            return nil
        }
        var names: [String] = []
        for (index, item) in sequence.enumerated() {
            if let name = promptName(Binding(name: String(index), key: item, value: item), at: path + [String(index)]) {
                names.append(name)
            }
        }
        return names.count == sequence.count ? names : nil
    }

    /// A `[a-z0-9_]` name such as a business line, category, queue or disposition; these end up in
    /// tickets and reports, where one spelling matters.
    private mutating func identifier(_ field: Binding?, at path: [String], what: String) -> String? {
        guard let field, let text = string(field, at: path, what: what) else { return nil }
        guard PromptRef.isValidName(text) else {
            report(.error, .invalidValue, "'\(text)' is not a valid \(what)", at: location(field.value), path: path,
                   hint: "use lower-case letters, digits and '_', e.g. '\(text.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined())'")
            return nil
        }
        return text
    }

    private mutating func declaredLanguage(_ field: Binding?, at path: [String]) -> Language? {
        guard let field, let code = string(field, at: path, what: "language code") else { return nil }
        let language = Language(rawValue: code)
        guard declaredLanguages.isEmpty || declaredLanguages.contains(language) else {
            report(.error, .invalidValue,
                   "language '\(code)' is not one of languages [\(declaredLanguages.map(\.rawValue).joined(separator: ", "))]",
                   at: location(field.value), path: path,
                   hint: Suggestion.hint(for: code, among: declaredLanguages.map(\.rawValue)))
            return nil
        }
        return language
    }

    // MARK: - Whole-dialplan checks

    private mutating func checkReferences() {
        for reference in references where !nodeIDs.contains(reference.target) {
            report(.error, .undefinedTarget, "undefined node '\(reference.target)'", at: reference.location,
                   keyPath: reference.keyPath,
                   hint: Suggestion.hint(for: reference.target.rawValue, among: nodeIDs.map(\.rawValue).sorted()))
        }
    }

    /// Unreachable nodes and loops that never wait. Both are warnings: the dialplan still runs,
    /// and the interpreter's loop guard ends such a call with `dialplan_error`.
    ///
    /// Reachability is judged only when there is no error: a broken node or entry hides its
    /// edges, and "unreachable" warnings downstream of it would be noise.
    private mutating func analyse(nodes: [NodeID: DialplanNode], nodeBindings: [Binding], entries: [DialplanEntry]) {
        let starts = entries.map(\.start)
        if !starts.isEmpty, !issues.contains(where: { $0.severity == .error }) {
            var successors: [NodeID: [NodeID]] = [:]
            for reference in references {
                if let source = reference.source { successors[source, default: []].append(reference.target) }
            }
            var reached = Set(starts)
            var frontier = starts
            while let node = frontier.popLast() {
                for next in successors[node] ?? [] where reached.insert(next).inserted {
                    frontier.append(next)
                }
            }
            for binding in nodeBindings where NodeID.isValid(binding.name) && !reached.contains(NodeID(binding.name)) {
                report(.warning, .unreachableNode, "node '\(binding.name)' is never reached from any entry",
                       at: location(binding.key), path: ["nodes", binding.name])
            }
        }

        // Nodes that pass straight on without waiting for the caller or the media.
        func passThrough(_ id: NodeID) -> NodeID? {
            switch nodes[id]?.kind {
            case .language(let change): change.next
            case .ticket(let ticket): ticket.next
            default: nil
            }
        }
        var reported: Set<NodeID> = []
        for node in nodes.values.sorted(by: { $0.location < $1.location }) where !reported.contains(node.id) {
            var chain: [NodeID] = [node.id]
            var current = node.id
            while let next = passThrough(current), !reported.contains(next) {
                if let start = chain.firstIndex(of: next) {
                    let cycle = Array(chain[start...])
                    reported.formUnion(cycle)
                    let first = cycle.min { nodes[$0]!.location < nodes[$1]!.location }!
                    let rotated = Array(cycle[cycle.firstIndex(of: first)!...] + cycle[..<cycle.firstIndex(of: first)!])
                    report(.warning, .loopWithoutWait,
                           "nodes \((rotated + [first]).map(\.rawValue).joined(separator: " → ")) loop without waiting for the caller",
                           at: nodes[first]!.location, path: ["nodes", first.rawValue],
                           hint: "a call reaching this loop ends with dialplan_error")
                    break
                }
                chain.append(next)
                current = next
            }
        }
    }

    // MARK: - Reporting

    private func location(_ node: Node?) -> DialplanLocation {
        DialplanLocation(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }

    private func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: "a single value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private mutating func wrongKind(_ node: Node, expected: String, at path: [String]) {
        report(.error, .wrongType, "expected \(expected), found \(kindName(node))", at: location(node), path: path)
    }

    private mutating func missing(_ key: String, in path: [String], at location: DialplanLocation, what: String, hint: String? = nil) {
        report(.error, .missingField, "\(what) is missing required key '\(key)'", at: location, path: path + [key], hint: hint)
    }

    private mutating func report(
        _ severity: DialplanIssue.Severity, _ code: DialplanIssue.Code, _ message: String, at location: DialplanLocation,
        path: [String], hint: String? = nil
    ) {
        report(severity, code, message, at: location, keyPath: path.joined(separator: "."), hint: hint)
    }

    private mutating func report(
        _ severity: DialplanIssue.Severity, _ code: DialplanIssue.Code, _ message: String, at location: DialplanLocation,
        keyPath: String, hint: String? = nil
    ) {
        issues.append(DialplanIssue(severity: severity, code: code, message: message, location: location,
                                    keyPath: keyPath, hint: hint))
    }
}
