// ConfigFiles: reading admin-edited files with located issues.
// This file: walking a composed YAML document with line:column kept, collecting every issue
// instead of stopping at the first.

import Foundation
import Yams

/// Walks a composed YAML document, recording issues with their locations instead of stopping
/// at the first one. Each loader asks it for mappings, sequences and scalars by key path.
public struct LocatedYAMLReader {
    public let file: String
    public private(set) var issues: [ConfigIssue] = []

    public init(file: String) { self.file = file }

    /// Reads and composes `path`; nil (with an issue) if the file cannot be read or parsed.
    public mutating func compose(contentsOf path: String) -> Node? {
        guard let data = FileManager.default.contents(atPath: path) else {
            issue("cannot read the file", line: 1, column: 1, path: "")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            issue("the file is not UTF-8", line: 1, column: 1, path: "")
            return nil
        }
        return compose(text)
    }

    /// Composes `text`; nil (with an issue) if it is not well-formed YAML or is empty.
    public mutating func compose(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                issue("the file is empty", line: 1, column: 1, path: "")
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

    public mutating func issue(_ message: String, at node: Node?, path: String, hint: String? = nil,
                               severity: ConfigIssue.Severity = .error) {
        issue(message, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, path: path, hint: hint, severity: severity)
    }

    public mutating func issue(_ message: String, line: Int, column: Int, path: String, hint: String? = nil,
                               severity: ConfigIssue.Severity = .error) {
        issues.append(ConfigIssue(severity: severity, file: file, line: line, column: column, keyPath: path, message: message,
                                  hint: hint))
    }

    public var hasErrors: Bool { issues.contains { $0.severity == .error } }

    /// Every issue as an error to throw, or nil when there is none.
    public func error() -> ConfigError? { issues.isEmpty ? nil : ConfigError(issues: issues) }

    /// The entries of a mapping in file order, with key nodes for locations; nil (and an
    /// issue) if `node` is not a mapping. Keys outside `allowed` are reported with `advice[key]`
    /// or a "did you mean", unless `allowed` is nil (free keys, e.g. category names).
    public mutating func mapping(_ node: Node, path: String, allowed: [String]? = nil, advice: [String: String] = [:])
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

    /// The items of a sequence; nil (and an issue) if `node` is not one.
    public mutating func sequence(_ node: Node, path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            issue("expected a list", at: node, path: path)
            return nil
        }
        return Array(sequence)
    }

    /// A scalar's text; nil (and an issue) if `node` is not a scalar or is blank.
    public mutating func text(_ node: Node, path: String) -> String? {
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

    public mutating func integer(_ node: Node, path: String, range: ClosedRange<Int>) -> Int? {
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

    public mutating func boolean(_ node: Node, path: String) -> Bool? {
        guard let text = text(node, path: path) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            issue("'\(text)' is not a boolean", at: node, path: path, hint: "write true or false")
            return nil
        }
    }

    /// `500ms`, `20s`, `1.5s`, `5m`: ``DurationSyntax``, as in the dialplan.
    public mutating func duration(_ node: Node, path: String, positive: Bool = true) -> Duration? {
        guard let text = text(node, path: path) else { return nil }
        guard let value = DurationSyntax.parse(text) else {
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
    public mutating func name(_ node: Node, path: String, what: String) -> String? {
        guard let text = text(node, path: path) else { return nil }
        guard Self.isName(text) else {
            issue("'\(text)' is not a valid \(what)", at: node, path: path, hint: "lower-case letters, digits and '_', starting with a letter")
            return nil
        }
        return text
    }

    public static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    public func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The candidate within two edits of `word` (one for short words), if any.
    public static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
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
