// ACDConfig: agents.yaml and queues.yaml. This file: walking a composed YAML document with
// locations, collecting issues instead of stopping at the first.

import Foundation
import Yams

struct YAMLReader {
    let file: String
    private(set) var issues: [ACDConfigIssue] = []

    init(file: String) { self.file = file }

    mutating func compose(contentsOf path: String) -> Node? {
        guard let data = FileManager.default.contents(atPath: path) else {
            issues.append(ACDConfigIssue(file: file, line: 1, column: 1, keyPath: "", message: "cannot read the file"))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            issues.append(ACDConfigIssue(file: file, line: 1, column: 1, keyPath: "", message: "the file is not UTF-8"))
            return nil
        }
        return compose(text)
    }

    mutating func compose(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                issues.append(ACDConfigIssue(file: file, line: 1, column: 1, keyPath: "", message: "the file is empty"))
                return nil
            }
            return node
        } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
            issue("duplicate key '\(duplicates.first ?? "?")' in mapping", line: context.mark.line, column: context.mark.column, path: "")
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _),
            let YamlError.composer(_, problem, mark, _)
        {
            issue("YAML syntax: \(problem)", line: mark.line, column: mark.column, path: "")
        } catch {
            issue("YAML syntax: \(error)", line: 1, column: 1, path: "")
        }
        return nil
    }

    mutating func issue(_ message: String, at node: Node?, path: String, hint: String? = nil, severity: ACDConfigIssue.Severity = .error) {
        issue(message, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, path: path, hint: hint, severity: severity)
    }

    mutating func issue(_ message: String, line: Int, column: Int, path: String, hint: String? = nil,
                        severity: ACDConfigIssue.Severity = .error) {
        issues.append(ACDConfigIssue(severity: severity, file: file, line: line, column: column, keyPath: path, message: message,
                                     hint: hint))
    }

    var hasErrors: Bool { issues.contains { $0.severity == .error } }

    /// Entries of a mapping in file order; keys outside `allowed` are reported with a hint.
    mutating func mapping(_ node: Node, path: String, allowed: [String]? = nil, advice: [String: String] = [:])
        -> [(key: String, keyNode: Node, value: Node)]?
    {
        guard case .mapping(let mapping) = node else {
            issue("expected a mapping", at: node, path: path)
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                issue("expected a text key", at: keyNode, path: path)
                continue
            }
            if let allowed, !allowed.contains(key) {
                issue("unknown key '\(key)'", at: keyNode, path: join(path, key),
                      hint: advice[key] ?? Self.closest(to: key, among: allowed).map { "did you mean '\($0)'?" })
                continue
            }
            entries.append((key, keyNode, value))
        }
        return entries
    }

    mutating func sequence(_ node: Node, path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            issue("expected a list", at: node, path: path)
            return nil
        }
        return Array(sequence)
    }

    mutating func text(_ node: Node, path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            issue("expected a text value", at: node, path: path)
            return nil
        }
        let value = scalar.string.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else {
            issue("expected a value", at: node, path: path)
            return nil
        }
        return value
    }

    mutating func integer(_ node: Node, path: String, range: ClosedRange<Int>) -> Int? {
        guard let text = text(node, path: path) else { return nil }
        guard let value = Int(text) else {
            issue("'\(text)' is not a whole number", at: node, path: path)
            return nil
        }
        guard range.contains(value) else {
            issue("\(value) is out of range \(range.lowerBound)…\(range.upperBound)", at: node, path: path)
            return nil
        }
        return value
    }

    mutating func boolean(_ node: Node, path: String) -> Bool? {
        guard let text = text(node, path: path) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            issue("'\(text)' is not a boolean", at: node, path: path, hint: "write true or false")
            return nil
        }
    }

    /// `500ms`, `20s`, `1.5s`, `5m` — the dialplan's duration syntax.
    mutating func duration(_ node: Node, path: String, positive: Bool = true) -> Duration? {
        guard let text = text(node, path: path) else { return nil }
        guard let value = Self.parseDuration(text) else {
            issue("'\(text)' is not a duration", at: node, path: path,
                  hint: Int(text) != nil ? "add a unit: '\(text)s'" : "a number and ms, s or m, e.g. 20s")
            return nil
        }
        if positive, value <= .zero {
            issue("a duration above zero is needed", at: node, path: path)
            return nil
        }
        return value
    }

    /// A name of lower-case letters, digits and `_` (skills, queues, reasons, prompts).
    mutating func name(_ node: Node, path: String, what: String) -> String? {
        guard let text = text(node, path: path) else { return nil }
        guard Self.isName(text) else {
            issue("'\(text)' is not a valid \(what)", at: node, path: path, hint: "lower-case letters, digits and '_', starting with a letter")
            return nil
        }
        return text
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) }) else { return nil }
        let number = text.dropLast(unit.suffix.count)
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        var milliseconds = Int64(parts[0])! * unit.milliseconds
        if parts.count == 2 {
            var scale: Int64 = 1
            for _ in parts[1] { scale *= 10 }
            let scaled = Int64(parts[1])! * unit.milliseconds
            guard scaled % scale == 0 else { return nil }
            milliseconds += scaled / scale
        }
        return .milliseconds(milliseconds)
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let target = Array(word.lowercased())
        var best: (String, Int)?
        for candidate in candidates where candidate != word {
            let other = Array(candidate.lowercased())
            let distance = editDistance(target, other)
            let allowance = max(target.count, other.count) >= 6 ? 2 : 1
            if distance <= allowance, best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        return best?.0
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
