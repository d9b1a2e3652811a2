import ConfigFiles
import Foundation
import Yams

/// Reading mappings and values, and reporting: the parser's vocabulary.
extension DialplanParser {
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
            let name = key.mark.flatMap { renamedKeys[file]?[YAMLComposer.Position(line: $0.line, column: $0.column)] }
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

    /// The value of `field` as a mapping, or `nil` (reported).
    mutating func mapping(_ field: Binding?, at path: [String], expected: String) -> Node.Mapping? {
        guard let field else { return nil }
        guard case .mapping(let mapping) = field.value else {
            wrongKind(field.value, expected: expected, at: path)
            return nil
        }
        return mapping
    }

    /// The items of a list value; a single value where a list belongs gets a "write [x]" hint.
    mutating func sequence(_ field: Binding?, at path: [String], expected: String) -> [Node]? {
        guard let field else { return nil }
        guard case .sequence(let sequence) = field.value else {
            if case .scalar = field.value, let text = field.value.string {
                report(.error, .wrongType, "'\(path.last ?? "")' takes a list", at: location(field.value), path: path,
                       hint: "write \(path.last ?? "value"): [\(text)]")
            } else {
                wrongKind(field.value, expected: expected, at: path)
            }
            return nil
        }
        return Array(sequence)
    }

    /// A list item as a binding, so the value readers can take it.
    func item(_ node: Node, _ index: Int) -> Binding {
        Binding(name: String(index), key: node, value: node)
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

    mutating func int(_ field: Binding, at path: [String], range: ClosedRange<Int>) -> Int? {
        guard let text = string(field, at: path, what: "whole number") else { return nil }
        guard let value = Int(text) else {
            report(.error, .wrongType, "'\(text)' is not a whole number", at: location(field.value), path: path,
                   hint: "write digits, e.g. \(path.last ?? "value"): \(range.lowerBound == 0 ? 2 : range.lowerBound)")
            return nil
        }
        guard range.contains(value) else {
            report(.error, .invalidValue, "\(path.last ?? "value") must be between \(range.lowerBound) and \(range.upperBound), found \(value)",
                   at: location(field.value), path: path)
            return nil
        }
        return value
    }

    mutating func bool(_ field: Binding, at path: [String]) -> Bool? {
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

    mutating func duration(_ field: Binding, at path: [String], allowZero: Bool, max: Duration? = nil) -> Duration? {
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
        if let max, value > max {
            report(.error, .invalidValue, "\(path.last ?? "duration") must be at most \(DurationSyntax.format(max)), found \(text)",
                   at: location(field.value), path: path)
            return nil
        }
        return value
    }

    /// A reference to a node, remembered for the undefined-target check.
    mutating func reference(_ field: Binding?, at path: [String], from source: NodeID?) -> NodeID? {
        guard let field, let name = string(field, at: path, what: "node name") else { return nil }
        let target = NodeID(name)
        references.append(Reference(source: source, target: target, location: location(field.value),
                                    keyPath: path.joined(separator: ".")))
        return target
    }

    mutating func promptName(_ field: Binding?, at path: [String]) -> String? {
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

    /// A non-empty list of prompt names (`allowEmpty` for the optional `before`/`after` of `say`).
    mutating func promptList(_ field: Binding?, at path: [String], allowEmpty: Bool = false) -> [String]? {
        guard let sequence = sequence(field, at: path, expected: "a list of prompt names") else { return nil }
        guard allowEmpty || !sequence.isEmpty else {
            report(.error, .missingField, "'\(path.last ?? "prompts")' is empty", at: location(field?.value), path: path)
            return nil
        }
        var names: [String] = []
        for (index, node) in sequence.enumerated() {
            if let name = promptName(item(node, index), at: path + [String(index)]) { names.append(name) }
        }
        return names.count == sequence.count ? names : nil
    }

    /// A `[a-z0-9_]` name such as a business line, category, queue or disposition; these end up in
    /// tickets and reports, where one spelling matters.
    mutating func identifier(_ field: Binding?, at path: [String], what: String) -> String? {
        guard let field, let text = string(field, at: path, what: what) else { return nil }
        guard PromptRef.isValidName(text) else {
            report(.error, .invalidValue, "'\(text)' is not a valid \(what)", at: location(field.value), path: path,
                   hint: "use lower-case letters, digits and '_', e.g. '\(text.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined())'")
            return nil
        }
        return text
    }

    /// A list of identifiers (`skills: [enterprise, tax]`).
    mutating func identifierList(_ field: Binding?, at path: [String], what: String) -> [String]? {
        guard let sequence = sequence(field, at: path, expected: "a list of \(what)s") else { return nil }
        var names: [String] = []
        for (index, node) in sequence.enumerated() {
            if let name = identifier(item(node, index), at: path + [String(index)], what: what) { names.append(name) }
        }
        return names.count == sequence.count ? names : nil
    }

    mutating func declaredLanguage(_ field: Binding?, at path: [String]) -> Language? {
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

    /// One telephone key, e.g. a terminator.
    mutating func key(_ field: Binding, at path: [String]) -> DTMFKey? {
        guard let text = string(field, at: path, what: "telephone key") else { return nil }
        guard let key = DTMFKey(text) else {
            report(.error, .invalidValue, "'\(text)' is not a telephone key", at: location(field.value), path: path,
                   hint: DTMFKey(text.uppercased()) != nil ? "did you mean '\(text.uppercased())'?" : "keys are 0-9, \"*\", \"#\" and A-D")
            return nil
        }
        return key
    }

    /// A text with `${variable}`s, whose reads are remembered for the variable checks.
    mutating func template(_ field: Binding?, at path: [String], what: String = "text") -> Template? {
        guard let field else { return nil }
        // An empty value is a legitimate template ("clear this variable").
        if case .scalar(let scalar) = field.value, scalar.string.isEmpty, scalar.style != .plain {
            valueLocations[path.joined(separator: ".")] = location(field.value)
            return Template(stringLiteral: "")
        }
        guard let text = string(field, at: path, what: what) else { return nil }
        switch Template.parse(text) {
        case .success(let template):
            for name in template.variables {
                variableReads.append(VariableUse(name: name, location: location(field.value), keyPath: path.joined(separator: ".")))
            }
            return template
        case .failure(.unclosed):
            report(.error, .invalidValue, "'\(text)' has '${' without its '}'", at: location(field.value), path: path,
                   hint: "write variables as ${name}")
            return nil
        case .failure(.badName(let name)):
            report(.error, .invalidValue, "'\(name)' is not a variable name", at: location(field.value), path: path,
                   hint: "variable names are lower-case letters, digits and '_', starting with a letter")
            return nil
        }
    }

    /// A regular expression, checked by compiling it.
    mutating func regex(_ field: Binding?, at path: [String]) -> String? {
        guard let field, let text = string(field, at: path, what: "regular expression") else { return nil }
        do {
            _ = try Regex(text)
        } catch {
            report(.error, .invalidValue, "'\(text)' is not a regular expression: \(error)", at: location(field.value), path: path,
                   hint: "e.g. \"[0-9]{5,7}\"; the whole value must match")
            return nil
        }
        return text
    }

    /// A SIP URI such as `sip:110@10.0.0.1`: the scheme and something after it.
    mutating func sipURI(_ field: Binding?, at path: [String]) -> String? {
        guard let field, let text = string(field, at: path, what: "SIP URI") else { return nil }
        let lower = text.lowercased()
        guard lower.hasPrefix("sip:") || lower.hasPrefix("sips:"), text.count > 5, !text.contains(" ") else {
            report(.error, .invalidValue, "'\(text)' is not a SIP URI", at: location(field.value), path: path,
                   hint: "write sip:user@host, e.g. sip:110@police.example")
            return nil
        }
        return text
    }

    mutating func parseTimeZone(_ field: Binding, at path: [String]) -> TimeZone? {
        guard let text = string(field, at: path, what: "time zone") else { return nil }
        guard text.contains("/") || text == "UTC", let zone = TimeZone(identifier: text) else {
            let advice: [String: String] = ["Asia/Beijing": "Asia/Shanghai", "CST": "Asia/Shanghai", "China": "Asia/Shanghai",
                                            "Beijing": "Asia/Shanghai", "Asia/Chongqing": "Asia/Shanghai"]
            report(.error, .invalidValue, "'\(text)' is not a time zone name", at: location(field.value), path: path,
                   hint: advice[text].map { "did you mean '\($0)'?" }
                       ?? Suggestion.hint(for: text, among: TimeZone.knownTimeZoneIdentifiers)
                       ?? "use an IANA name such as Asia/Shanghai")
            return nil
        }
        return zone
    }

    // MARK: - Reporting

    func location(_ node: Node?) -> DialplanLocation {
        DialplanLocation(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }

    func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: "a single value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    mutating func wrongKind(_ node: Node, expected: String, at path: [String]) {
        report(.error, .wrongType, "expected \(expected), found \(kindName(node))", at: location(node), path: path)
    }

    mutating func missing(_ key: String, in path: [String], at location: DialplanLocation, what: String, hint: String? = nil) {
        report(.error, .missingField, "\(what) is missing required key '\(key)'", at: location, path: path + [key], hint: hint)
    }

    mutating func report(
        _ severity: DialplanIssue.Severity, _ code: DialplanIssue.Code, _ message: String, at location: DialplanLocation,
        path: [String], hint: String? = nil
    ) {
        report(severity, code, message, at: location, keyPath: path.joined(separator: "."), hint: hint)
    }

    mutating func report(
        _ severity: DialplanIssue.Severity, _ code: DialplanIssue.Code, _ message: String, at location: DialplanLocation,
        keyPath: String, hint: String? = nil
    ) {
        issues.append(DialplanIssue(severity: severity, code: code, message: message, location: location,
                                    keyPath: keyPath, hint: hint))
    }

    /// Whether any error has been reported so far.
    var hasErrors: Bool { issues.contains { $0.severity == .error } }

    /// How many errors have been reported so far.
    var errorCount: Int { issues.count { $0.severity == .error } }
}
