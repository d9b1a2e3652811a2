import ConfigFiles
import Foundation
import RTP
import Yams

/// A mix of callers from a YAML file (`--scenario mix.yaml`):
///
/// ```yaml
/// callers:
///   - {name: press1, weight: 60, keys: "1"}
///   - {name: press3, weight: 30, keys: "3", expect_prompts: [bench_menu, bench_key3]}
///   - {name: abandon, weight: 10, hangup: caller, hold: 5s}
/// ```
///
/// Each entry starts from the command line's behaviour and overrides what it names: `keys`,
/// `key_delay`, `dtmf`, `audio`, `hangup`, `hold`, `bye_timeout`, `expect_prompts`. Weights
/// are relative (they need not add up to 100). Calls are dealt by smooth weighted round robin,
/// so any run of calls matches the weights as closely as whole calls can, with no randomness.
public struct Scenario: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var behaviour: CallerBehaviour
        public var weight: Int
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// One behaviour for every call.
    public static func single(_ behaviour: CallerBehaviour) -> Scenario {
        Scenario(entries: [Entry(behaviour: behaviour, weight: 1)])
    }

    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var column: Int
        public var message: String
        public var description: String { "\(file):\(line):\(column): error: \(message)" }
    }

    static let keys: Set<String> = ["name", "weight", "keys", "key_delay", "dtmf", "audio", "hangup", "hold", "bye_timeout", "expect_prompts"]

    /// Reads a scenario file; every entry inherits from `base`.
    public static func load(path: String, base: CallerBehaviour) throws(Error) -> Scenario {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Error(file: path, line: 1, column: 1, message: "cannot read the scenario: \(error.localizedDescription)")
        }
        return try parse(text, file: path, base: base)
    }

    public static func parse(_ text: String, file: String = "scenario", base: CallerBehaviour) throws(Error) -> Scenario {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw Error(file: file, line: 1, column: 1, message: "empty scenario") }
            root = node
        } catch let error as Error {
            throw error
        } catch let YamlError.scanner(_, problem, mark, _) {
            throw Error(file: file, line: mark.line, column: mark.column, message: "YAML: \(problem)")
        } catch let YamlError.parser(_, problem, mark, _) {
            throw Error(file: file, line: mark.line, column: mark.column, message: "YAML: \(problem)")
        } catch {
            throw Error(file: file, line: 1, column: 1, message: "YAML: \(error)")
        }
        func fail(_ node: Node?, _ message: String) -> Error {
            Error(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, message: message)
        }
        guard let mapping = root.mapping, let callers = mapping["callers"] else {
            throw fail(root, "a scenario is a mapping with a 'callers' list")
        }
        for (key, _) in mapping where key.string != "callers" {
            throw fail(key, "unknown key '\(key.string ?? "?")' (the file has one key, 'callers')")
        }
        guard let list = callers.sequence, !list.isEmpty else { throw fail(callers, "'callers' is a non-empty list of caller kinds") }
        var entries: [Entry] = []
        for (index, item) in list.enumerated() {
            guard let fields = item.mapping else { throw fail(item, "each caller is a mapping such as {weight: 60, keys: \"1\"}") }
            var behaviour = base
            behaviour.name = "caller\(index + 1)"
            var weight = 1
            for (keyNode, value) in fields {
                let key = keyNode.string ?? ""
                guard keys.contains(key) else {
                    let hint = Suggest.closest(to: key, in: keys).map { " (did you mean '\($0)'?)" } ?? ""
                    throw fail(keyNode, "unknown caller key '\(key)'\(hint)")
                }
                let text = value.string ?? ""
                do {
                    switch key {
                    case "name": behaviour.name = text
                    case "weight":
                        guard let w = Int(text), w >= 0, w <= 1_000_000 else { throw fail(value, "weight is a whole number from 0 to 1000000") }
                        weight = w
                    case "keys": behaviour.keys = try CallerBehaviour.parse(keys: text)
                    case "key_delay":
                        guard let d = DurationSyntax.parse(text, .commandLine) else { throw fail(value, "key_delay is a duration such as 1.5s") }
                        behaviour.keyDelay = d
                    case "dtmf":
                        guard let m = DTMFMode(rawValue: text) else { throw fail(value, "dtmf is rfc4733, info or inband") }
                        behaviour.dtmf = m
                    case "audio":
                        guard let m = AudioMode(rawValue: text) else { throw fail(value, "audio is silence, tone or none") }
                        behaviour.audio = m
                    case "hangup":
                        guard let m = HangupMode(rawValue: text) else { throw fail(value, "hangup is caller or server") }
                        behaviour.hangup = m
                    case "hold": behaviour.hold = try HoldTime.parse(text)
                    case "bye_timeout":
                        guard let d = DurationSyntax.parse(text, .commandLine) else { throw fail(value, "bye_timeout is a duration such as 30s") }
                        behaviour.byeTimeout = d
                    case "expect_prompts":
                        guard let names = value.sequence?.compactMap(\.string) else { throw fail(value, "expect_prompts is a list of prompt names") }
                        behaviour.expectedPrompts = names
                    default: break
                    }
                } catch let error as Error {
                    throw error
                } catch let error as FloodSyntaxError {
                    throw fail(value, "\(key): \(error)")
                } catch {
                    throw fail(value, "\(error)")
                }
            }
            entries.append(Entry(behaviour: behaviour, weight: weight))
        }
        guard entries.contains(where: { $0.weight > 0 }) else { throw fail(callers, "at least one caller needs a weight above 0") }
        return Scenario(entries: entries)
    }

    /// The longest call any entry makes.
    public var longestCall: Duration { entries.map(\.behaviour.longestCall).max() ?? .zero }
}

/// Smooth weighted round robin (as nginx balances upstreams): each pick adds every weight to
/// its entry's counter, takes the largest counter, and subtracts the total from it. Over any
/// window the picks follow the weights as evenly as whole picks can.
public struct WeightedRoundRobin: Sendable {
    let weights: [Int]
    var current: [Int]
    let total: Int

    public init(weights: [Int]) {
        self.weights = weights
        self.current = Array(repeating: 0, count: weights.count)
        self.total = weights.reduce(0, +)
    }

    public mutating func next() -> Int {
        var best = 0
        for i in weights.indices {
            current[i] += weights[i]
            if current[i] > current[best] { best = i }
        }
        current[best] -= total
        return best
    }
}

/// "Did you mean" for keys: the closest by edit distance, if close.
enum Suggest {
    static func closest(to word: String, in candidates: Set<String>) -> String? {
        var best: (word: String, distance: Int)?
        for candidate in candidates.sorted() {
            let d = distance(Array(word), Array(candidate))
            if best == nil || d < best!.distance { best = (candidate, d) }
        }
        guard let best, best.distance <= Swift.max(2, word.count / 3) else { return nil }
        return best.word
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var row = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                let substitution: Int = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                let insertion: Int = row[j - 1] + 1
                let deletion: Int = previous[j] + 1
                row[j] = Swift.min(deletion, insertion, substitution)
            }
            previous = row
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
