import Yams

/// Reading `nodes:`, one node type at a time.
extension DialplanParser {
    /// The keys each node type takes, `type` included, in documentation order.
    static let nodeTypeKeys: [(type: String, keys: [String])] = [
        ("play", ["type", "prompts", "barge_in", "next"]),
        ("menu", ["type", "prompt", "timeout", "inter_key_timeout", "retries", "invalid_prompt", "no_input_prompt", "keys",
                  "on_no_input", "on_invalid", "on_failure"]),
        ("say", ["type", "before", "value", "as", "after", "barge_in", "next"]),
        ("collect", ["type", "prompt", "variable", "min_length", "max_length", "terminator", "pattern", "timeout",
                     "inter_key_timeout", "retries", "invalid_prompt", "no_input_prompt", "next", "on_no_input",
                     "on_invalid", "on_failure"]),
        ("set", ["type", "variables", "next"]),
        ("branch", ["type", "cases", "else"]),
        ("goto", ["type", "next"]),
        ("call", ["type", "flow", "next"]),
        ("return", ["type"]),
        ("language", ["type", "language", "next"]),
        ("queue", ["type", "queue", "priority", "skills", "on_unavailable"]),
        ("transfer", ["type", "to", "on_failure"]),
        ("record", ["type", "beep", "max_duration", "terminator", "next", "on_failure"]),
        ("ticket", ["type", "business_line", "category", "resolution", "summary", "next"]),
        ("hangup", ["type", "disposition"]),
    ]

    /// Advice for keys people reach for that mean something else here.
    static let keyAdvice: [String: [String: String]] = [
        "queue": ["next": "a queue node continues only when the queue cannot take the call: use 'on_unavailable'"],
        "transfer": ["next": "a transfer node continues only when the transfer fails: use 'on_failure'",
                     "uri": "name the target with 'to'"],
        "hangup": ["next": "a hangup node ends the call; nothing follows it"],
        "return": ["next": "a return node goes back to the 'next' of the call that entered the sub-flow"],
        "menu": ["next": "a menu continues through 'keys', 'on_no_input', 'on_invalid' or 'on_failure'",
                 "barge_in": "menus always let a key interrupt their prompt",
                 "first_key_timeout": "'timeout' is the wait for the first key"],
        "collect": ["barge_in": "the first key always interrupts the prompt",
                    "first_key_timeout": "'timeout' is the wait for the first key"],
        "branch": ["next": "a branch continues through its 'cases' and 'else'", "default": "write 'else'",
                   "otherwise": "write 'else'"],
        "say": ["prompts": "use 'before' and 'after' for prompts around the value", "format": "write 'as'"],
        "set": ["values": "write 'variables'"],
        "call": ["node": "name the sub-flow's first node with 'flow'", "target": "name the sub-flow's first node with 'flow'"],
        "record": ["max_length": "write 'max_duration'", "timeout": "write 'max_duration'"],
    ]

    static let defaultMenuTimeout: Duration = .seconds(5)
    static let defaultInterKeyTimeout: Duration = .seconds(2)
    static let defaultCollectInterKeyTimeout: Duration = .seconds(3)
    static let defaultMenuRetries = 2
    static let maxMenuRetries = 9
    static let maxMenuKeys = 6
    static let maxCollectLength = 32
    static let defaultRecordDuration: Duration = .seconds(60)
    static let maxRecordDuration: Duration = .seconds(600)
    static let maxTimeout: Duration = .seconds(60)

    mutating func parseNode(_ binding: Binding) -> DialplanNode? {
        let id = NodeID(binding.name)
        let path = ["nodes", binding.name]
        let nodeLocation = location(binding.key)
        guard case .mapping(let mapping) = binding.value else {
            wrongKind(binding.value, expected: "a node mapping with a 'type'", at: path)
            return nil
        }
        // Quietly: `fields(of:)` below reports this mapping's problems once the type is known.
        let all = bindings(of: mapping, at: path, quiet: true)
        let typeNames = DialplanParser.nodeTypeKeys.map(\.type)
        guard let typeBinding = all.last(where: { $0.name == "type" }) else {
            missing("type", in: path, at: nodeLocation, what: "node '\(id)'", hint: "one of: \(typeNames.joined(separator: ", "))")
            return nil
        }
        guard let type = string(typeBinding, at: path + ["type"], what: "node type") else { return nil }
        guard let keys = DialplanParser.nodeTypeKeys.first(where: { $0.type == type })?.keys else {
            report(.error, .unknownNodeType, "unknown node type '\(type)'", at: location(typeBinding.value),
                   path: path + ["type"],
                   hint: Suggestion.hint(for: type, among: typeNames) ?? "one of: \(typeNames.joined(separator: ", "))")
            return nil
        }
        let fields = self.fields(
            of: mapping, at: path, allowed: keys, advice: DialplanParser.keyAdvice[type] ?? [:],
            what: "in a \(type) node")
        let errorsBefore = errorCount
        func required(_ key: String) -> Binding? {
            if fields[key] == nil { missing(key, in: path, at: nodeLocation, what: "\(type) node '\(id)'") }
            return fields[key]
        }
        func optionalDuration(_ key: String, default value: Duration, max: Duration = DialplanParser.maxTimeout) -> Duration? {
            guard let field = fields[key] else { return value }
            return duration(field, at: path + [key], allowZero: false, max: max)
        }
        func retries() -> Int? {
            guard let field = fields["retries"] else { return DialplanParser.defaultMenuRetries }
            return int(field, at: path + ["retries"], range: 0...DialplanParser.maxMenuRetries)
        }
        func bargeIn() -> Bool { fields["barge_in"].flatMap { bool($0, at: path + ["barge_in"]) } ?? false }
        func ref(_ key: String) -> NodeID? { reference(fields[key], at: path + [key], from: id) }
        func unusedFailure() {
            if let failure = fields["on_failure"], fields["on_no_input"] != nil, fields["on_invalid"] != nil {
                report(.warning, .unusedField, "on_failure is never used: on_no_input and on_invalid are both set",
                       at: location(failure.key), path: path + ["on_failure"])
            }
        }

        var kind: DialplanNode.Kind?
        switch type {
        case "play":
            let prompts = promptList(required("prompts"), at: path + ["prompts"])
            let bargeIn = bargeIn()
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let prompts, let next { kind = .play(.init(prompts: prompts, bargeIn: bargeIn, next: next)) }

        case "menu":
            let prompt = promptName(required("prompt"), at: path + ["prompt"])
            let timeout = optionalDuration("timeout", default: DialplanParser.defaultMenuTimeout)
            let interKey = optionalDuration("inter_key_timeout", default: DialplanParser.defaultInterKeyTimeout)
            let retries = retries()
            let invalidPrompt = promptName(fields["invalid_prompt"], at: path + ["invalid_prompt"])
            let noInputPrompt = promptName(fields["no_input_prompt"], at: path + ["no_input_prompt"])
            let keyTargets = menuKeys(required("keys"), at: path + ["keys"], from: id)
            let onNoInput = ref("on_no_input"), onInvalid = ref("on_invalid"), onFailure = ref("on_failure")
            unusedFailure()
            if let field = fields["inter_key_timeout"], let keyTargets, keyTargets.keys.allSatisfy({ $0.count == 1 }) {
                report(.warning, .unusedField, "inter_key_timeout is never used: every option is a single key",
                       at: location(field.key), path: path + ["inter_key_timeout"])
            }
            if let prompt, let timeout, let interKey, let retries, let keyTargets {
                kind = .menu(.init(
                    prompt: prompt, timeout: timeout, interKeyTimeout: interKey, retries: retries,
                    invalidPrompt: invalidPrompt, noInputPrompt: noInputPrompt, keys: keyTargets, onNoInput: onNoInput,
                    onInvalid: onInvalid, onFailure: onFailure))
            }

        case "say":
            let before = fields["before"] == nil ? [] : promptList(fields["before"], at: path + ["before"], allowEmpty: true)
            let after = fields["after"] == nil ? [] : promptList(fields["after"], at: path + ["after"], allowEmpty: true)
            let value = template(required("value"), at: path + ["value"], what: "value to say")
            var format: SayFormat?
            if let field = required("as"), let text = string(field, at: path + ["as"], what: "say format") {
                format = SayFormat(rawValue: text)
                if format == nil {
                    let names = SayFormat.allCases.map(\.rawValue)
                    report(.error, .invalidValue, "'\(text)' is not a say format", at: location(field.value), path: path + ["as"],
                           hint: Suggestion.hint(for: text, among: names) ?? "one of: \(names.joined(separator: ", "))")
                } else {
                    sayUses.append((location(field.value), (path + ["as"]).joined(separator: ".")))
                }
                if let format, let literal = value?.literal {
                    // A constant value can be checked now, in a language that has a reader.
                    if case .failure(let error) = format.fragments(for: literal, in: .en) {
                        report(.error, .invalidValue, "\(error)", at: location(fields["value"]?.value), path: path + ["value"])
                    }
                }
            }
            let bargeIn = bargeIn()
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let before, let after, let value, let format, let next {
                kind = .say(.init(before: before, value: value, format: format, after: after, bargeIn: bargeIn, next: next))
            }

        case "collect":
            let prompt = promptName(required("prompt"), at: path + ["prompt"])
            let variable = writtenVariable(required("variable"), at: path + ["variable"])
            let minLength = fields["min_length"].map { int($0, at: path + ["min_length"], range: 1...DialplanParser.maxCollectLength) } ?? 1
            let maxLength = required("max_length").flatMap { int($0, at: path + ["max_length"], range: 1...DialplanParser.maxCollectLength) }
            if let minLength, let maxLength, minLength > maxLength, let field = fields["min_length"] {
                report(.error, .invalidValue, "min_length \(minLength) is more than max_length \(maxLength)",
                       at: location(field.value), path: path + ["min_length"])
            }
            var terminator: DTMFKey?? = .some("#")
            if let field = fields["terminator"] {
                if field.value.string == "none" { terminator = .some(nil) } else { terminator = key(field, at: path + ["terminator"]).map { .some($0) } }
            }
            let pattern = regex(fields["pattern"], at: path + ["pattern"])
            let timeout = optionalDuration("timeout", default: DialplanParser.defaultMenuTimeout)
            let interKey = optionalDuration("inter_key_timeout", default: DialplanParser.defaultCollectInterKeyTimeout)
            let retries = retries()
            let invalidPrompt = promptName(fields["invalid_prompt"], at: path + ["invalid_prompt"])
            let noInputPrompt = promptName(fields["no_input_prompt"], at: path + ["no_input_prompt"])
            let next = reference(required("next"), at: path + ["next"], from: id)
            let onNoInput = ref("on_no_input"), onInvalid = ref("on_invalid"), onFailure = ref("on_failure")
            unusedFailure()
            if let prompt, let variable, let minLength, let maxLength, let terminator, let timeout, let interKey,
                let retries, let next, fields["pattern"] == nil || pattern != nil
            {
                kind = .collect(.init(
                    prompt: prompt, variable: variable, minLength: minLength, maxLength: maxLength, terminator: terminator,
                    pattern: pattern, timeout: timeout, interKeyTimeout: interKey, retries: retries,
                    invalidPrompt: invalidPrompt, noInputPrompt: noInputPrompt, next: next, onNoInput: onNoInput,
                    onInvalid: onInvalid, onFailure: onFailure))
            }

        case "set":
            let assignments = self.assignments(required("variables"), at: path + ["variables"], writes: true)
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let assignments, let next { kind = .set(.init(assignments: assignments, next: next)) }

        case "branch":
            let cases = branchCases(required("cases"), at: path + ["cases"], from: id)
            let otherwise = reference(required("else"), at: path + ["else"], from: id)
            if let cases, let otherwise { kind = .branch(.init(cases: cases, otherwise: otherwise)) }

        case "goto":
            if let next = reference(required("next"), at: path + ["next"], from: id) { kind = .goto(.init(next: next)) }

        case "call":
            let flow = reference(required("flow"), at: path + ["flow"], from: id)
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let flow, let next { kind = .call(.init(flow: flow, next: next)) }

        case "return":
            kind = .return

        case "language":
            let language = declaredLanguage(required("language"), at: path + ["language"])
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let language, let next { kind = .language(.init(language: language, next: next)) }

        case "queue":
            var queue: String?
            if let field = required("queue"), let name = identifier(field, at: path + ["queue"], what: "queue name") {
                if queueLocations[name] != nil {
                    queue = name
                } else {
                    report(.error, .unknownQueue, "queue '\(name)' is not declared", at: location(field.value), path: path + ["queue"],
                           hint: Suggestion.hint(for: name, among: queues)
                               ?? (queues.isEmpty ? "declare the dialplan's queues at the top level: queues: [\(name)]"
                                   : "declared queues: \(queues.joined(separator: ", "))"))
                }
            }
            let priority = fields["priority"].map { int($0, at: path + ["priority"], range: 0...9) } ?? 0
            let skills = fields["skills"].map { identifierList($0, at: path + ["skills"], what: "skill") }
            let onUnavailable = ref("on_unavailable")
            if let queue, let priority, skills == nil || skills! != nil {
                kind = .queue(.init(queue: queue, priority: priority, skills: skills ?? nil, onUnavailable: onUnavailable))
            }

        case "transfer":
            var target: String?
            if let field = required("to"), let uri = sipURI(field, at: path + ["to"]) {
                if transferTargetLocations[uri] != nil {
                    target = uri
                } else {
                    report(.error, .transferNotAllowed, "transfer target '\(uri)' is not in transfer_targets",
                           at: location(field.value), path: path + ["to"],
                           hint: Suggestion.hint(for: uri, among: transferTargets)
                               ?? "list every SIP URI calls may be sent to under the top-level 'transfer_targets'")
                }
            }
            let onFailure = ref("on_failure")
            if let target { kind = .transfer(.init(to: target, onFailure: onFailure)) }

        case "record":
            let beep = promptName(fields["beep"], at: path + ["beep"])
            let maxDuration = optionalDuration("max_duration", default: DialplanParser.defaultRecordDuration,
                                               max: DialplanParser.maxRecordDuration)
            let terminator = fields["terminator"].map { key($0, at: path + ["terminator"]) } ?? "#"
            let next = reference(required("next"), at: path + ["next"], from: id)
            let onFailure = ref("on_failure")
            if let maxDuration, let terminator, let next {
                kind = .record(.init(beep: beep, maxDuration: maxDuration, terminator: terminator, next: next, onFailure: onFailure))
            }

        case "ticket":
            let businessLine = identifier(fields["business_line"], at: path + ["business_line"], what: "business line")
            var category: String?
            if let field = fields["category"], let text = identifier(field, at: path + ["category"], what: "category") {
                if TicketAnnotation.categories.contains(text) {
                    category = text
                } else {
                    report(.error, .invalidValue, "'\(text)' is not a ticket category", at: location(field.value),
                           path: path + ["category"],
                           hint: Suggestion.hint(for: text, among: TicketAnnotation.categories)
                               ?? "one of: \(TicketAnnotation.categories.joined(separator: ", "))")
                }
            }
            let resolution = identifier(fields["resolution"], at: path + ["resolution"], what: "resolution")
            if let resolution, let field = fields["resolution"], !TicketAnnotation.knownResolutions.contains(resolution) {
                report(.warning, .unknownResolution, "'\(resolution)' is not a resolution Hotline reports on",
                       at: location(field.value), path: path + ["resolution"],
                       hint: Suggestion.hint(for: resolution, among: TicketAnnotation.knownResolutions)
                           ?? "known: \(TicketAnnotation.knownResolutions.joined(separator: ", "))")
            }
            let summary = fields["summary"] == nil ? [] : assignments(fields["summary"], at: path + ["summary"], writes: false)
            if ["business_line", "category", "resolution", "summary"].allSatisfy({ fields[$0] == nil }) {
                report(.error, .missingField, "ticket node '\(id)' sets none of business_line, category, resolution and summary",
                       at: nodeLocation, path: path)
            }
            let next = reference(required("next"), at: path + ["next"], from: id)
            if let next, let summary {
                kind = .ticket(.init(businessLine: businessLine, category: category, resolution: resolution,
                                     summary: summary, next: next))
            }

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

        guard let kind, errorCount == errorsBefore else { return nil }
        let prefix = path.joined(separator: ".") + "."
        var fieldLocations: [String: DialplanLocation] = [:]
        for (keyPath, location) in valueLocations where keyPath.hasPrefix(prefix) {
            fieldLocations[String(keyPath.dropFirst(prefix.count))] = location
        }
        return DialplanNode(id: id, kind: kind, location: nodeLocation, fieldLocations: fieldLocations)
    }

    private mutating func menuKeys(_ field: Binding?, at path: [String], from source: NodeID) -> [KeySequence: NodeID]? {
        guard let field else { return nil }
        guard case .mapping(let mapping) = field.value else {
            wrongKind(field.value, expected: "a mapping of keys to nodes, e.g. {\"1\": policy}", at: path)
            return nil
        }
        var keys: [KeySequence: NodeID] = [:]
        var failed = false
        for binding in bindings(of: mapping, at: path) {
            let keyPath = path + [binding.name]
            let target = reference(binding, at: keyPath, from: source)
            guard let sequence = KeySequence(rawValue: binding.name), sequence.count <= DialplanParser.maxMenuKeys else {
                let upper = binding.name.uppercased()
                report(.error, .invalidValue, "'\(binding.name)' is not a telephone key or sequence of keys",
                       at: location(binding.key), path: keyPath,
                       hint: KeySequence(rawValue: upper) != nil && upper.count <= DialplanParser.maxMenuKeys
                           ? "did you mean '\(upper)'?"
                           : "keys are 0-9, \"*\", \"#\" and A-D; an option is 1 to \(DialplanParser.maxMenuKeys) keys")
                failed = true
                continue
            }
            if let target { keys[sequence] = target } else { failed = true }
        }
        if mapping.isEmpty {
            report(.error, .missingField, "'keys' is empty; a menu needs at least one key", at: location(field.value), path: path)
            return nil
        }
        return failed ? nil : keys
    }

    /// A variable a node writes (`collect`'s `variable`): a valid name that is not built in.
    private mutating func writtenVariable(_ field: Binding?, at path: [String]) -> String? {
        guard let field, let name = string(field, at: path, what: "variable name") else { return nil }
        return checkWritable(name, at: location(field.value), path: path)
    }

    mutating func checkWritable(_ name: String, at location: DialplanLocation, path: [String]) -> String? {
        guard Variables.isValidName(name) else {
            report(.error, .invalidValue, "'\(name)' is not a variable name", at: location, path: path,
                   hint: "variable names are lower-case letters, digits and '_', starting with a letter")
            return nil
        }
        guard !Variables.builtIn.contains(name) else {
            report(.error, .readOnlyVariable, "'\(name)' is a built-in variable and cannot be set", at: location, path: path,
                   hint: name == Variables.language ? "use a language node" : "choose another name")
            return nil
        }
        variableWrites.append(VariableUse(name: name, location: location, keyPath: path.joined(separator: ".")))
        return name
    }

    /// `variables:` of a `set` node (`writes`) or `summary:` of a ticket: name → template, in order.
    private mutating func assignments(_ field: Binding?, at path: [String], writes: Bool) -> [DialplanNode.Assignment]? {
        guard let mapping = mapping(field, at: path, expected: "a mapping of names to values") else { return nil }
        var result: [DialplanNode.Assignment] = []
        var failed = false
        for binding in bindings(of: mapping, at: path) {
            let keyPath = path + [binding.name]
            if writes {
                guard checkWritable(binding.name, at: location(binding.key), path: keyPath) != nil else {
                    failed = true
                    continue
                }
            } else if !PromptRef.isValidName(binding.name) {
                report(.error, .invalidValue, "'\(binding.name)' is not a summary field name", at: location(binding.key),
                       path: keyPath, hint: "use lower-case letters, digits and '_'")
                failed = true
                continue
            }
            if let value = template(binding, at: keyPath) {
                result.append(.init(binding.name, value))
            } else {
                failed = true
            }
        }
        if mapping.isEmpty {
            report(.error, .missingField, "'\(path.last ?? "")' is empty", at: location(field?.value), path: path)
            return nil
        }
        return failed ? nil : result
    }

    private mutating func branchCases(_ field: Binding?, at path: [String], from source: NodeID) -> [DialplanNode.Branch.Case]? {
        guard let list = sequence(field, at: path, expected: "a list of cases, each with 'if' and 'next'") else { return nil }
        var cases: [DialplanNode.Branch.Case] = []
        var failed = false
        for (index, node) in list.enumerated() {
            let casePath = path + [String(index)]
            guard case .mapping(let mapping) = node else {
                wrongKind(node, expected: "a case with 'if' and 'next'", at: casePath)
                failed = true
                continue
            }
            let fields = self.fields(of: mapping, at: casePath, allowed: ["if", "next"],
                                     advice: ["when": "write 'if'", "then": "write 'next'", "goto": "write 'next'"],
                                     what: "in a branch case")
            var condition: Condition?
            if let ifField = fields["if"] {
                condition = self.condition(ifField.value, at: casePath + ["if"])
            } else {
                missing("if", in: casePath, at: location(node), what: "the case")
            }
            let next = reference(fields["next"], at: casePath + ["next"], from: source)
            if fields["next"] == nil { missing("next", in: casePath, at: location(node), what: "the case") }
            if let condition, let next { cases.append(.init(condition, next: next)) } else { failed = true }
        }
        if list.isEmpty {
            report(.error, .missingField, "'cases' is empty; use a goto node to go on unconditionally",
                   at: location(field?.value), path: path)
            return nil
        }
        return failed ? nil : cases
    }
}
