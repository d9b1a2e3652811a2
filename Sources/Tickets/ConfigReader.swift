// Tickets: calls, and the 12345 work orders they open, in SQLite behind intention-named APIs.
// This file: reading admin YAML with line:column kept, collecting every issue on the way.

import Foundation
import Yams

/// Walks a composed YAML document, recording issues with their locations instead of stopping
/// at the first one. Each loader asks it for mappings, sequences and scalars by key path.
struct ConfigReader {
    let file: String
    private(set) var issues: [TicketsConfigIssue] = []

    init(file: String) {
        self.file = file
    }

    /// Reads and composes `path`; nil (with an issue) if the file cannot be read or parsed.
    mutating func compose(contentsOf path: String) -> Node? {
        guard let data = FileManager.default.contents(atPath: path) else {
            issues.append(TicketsConfigIssue(file: file, line: 1, column: 1, keyPath: "", message: "cannot read the file"))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            issues.append(TicketsConfigIssue(file: file, line: 1, column: 1, keyPath: "", message: "the file is not UTF-8"))
            return nil
        }
        return compose(text)
    }

    /// Composes `text`; nil (with an issue) if it is not well-formed YAML or is empty.
    mutating func compose(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                issues.append(TicketsConfigIssue(file: file, line: 1, column: 1, keyPath: "", message: "the file is empty"))
                return nil
            }
            return node
        } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
            issue("duplicate key '\(duplicates.first ?? "?")' in mapping", line: context.mark.line,
                  column: context.mark.column, path: "")
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _),
            let YamlError.composer(_, problem, mark, _)
        {
            issue("YAML syntax: \(problem)", line: mark.line, column: mark.column, path: "")
        } catch {
            issue("YAML syntax: \(error)", line: 1, column: 1, path: "")
        }
        return nil
    }

    mutating func issue(_ message: String, at node: Node?, path: String, hint: String? = nil) {
        issue(message, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, path: path, hint: hint)
    }

    mutating func issue(_ message: String, line: Int, column: Int, path: String, hint: String? = nil) {
        issues.append(TicketsConfigIssue(file: file, line: line, column: column, keyPath: path, message: message, hint: hint))
    }

    /// The entries of a mapping in file order, with key nodes for locations; nil (and an
    /// issue) if `node` is not a mapping. Keys outside `allowed` are reported with a hint,
    /// unless `allowed` is nil (free keys, e.g. category names).
    mutating func mapping(_ node: Node, path: String, allowed: [String]? = nil) -> [(key: String, keyNode: Node, value: Node)]? {
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
                      hint: Self.closest(to: key, among: allowed).map { "did you mean '\($0)'?" })
                continue
            }
            entries.append((key, keyNode, value))
        }
        return entries
    }

    /// The items of a sequence; nil (and an issue) if `node` is not one.
    mutating func sequence(_ node: Node, path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            issue("expected a list", at: node, path: path)
            return nil
        }
        return Array(sequence)
    }

    /// A scalar's text; nil (and an issue) if `node` is not a scalar or is blank.
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

    func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }

    func error() -> TicketsConfigError? {
        issues.isEmpty ? nil : TicketsConfigError(issues: issues)
    }

    /// The candidate within two edits of `word` (one for short words), if any.
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
