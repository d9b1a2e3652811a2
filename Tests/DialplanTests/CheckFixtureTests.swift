import Foundation
import Testing

@testable import Dialplan

/// One failing dialplan per kind of issue, in `Fixtures/checks/`. Each file lists the issues it
/// must produce, exactly and in order, as comments at its end (so they shift no line):
///
///     # expect: 9:5 error unknown_key nodes.menu.timout (did you mean 'timeout'?)
///     # expect: included/centre.yaml:9:17 error undefined_target nodes.centre_menu.keys.1
///
/// The location is `line:column` in the fixture itself, or `file:line:column` in a file it
/// includes (relative to `Fixtures/checks/`); `-` is the empty key path; the hint is compared when
/// given. `# prompts: DIR` checks prompt recordings against `DIR` (relative to the fixture).
@Suite("Checks, one failing fixture per kind of issue")
struct CheckFixtureTests {
    static let directory = "\(Repository.root)/Tests/DialplanTests/Fixtures/checks"

    static let fixtures: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    struct Expected: Equatable, CustomStringConvertible {
        var file: String
        var line: Int
        var column: Int
        var severity: String
        var code: String
        var keyPath: String
        var hint: String?

        var description: String {
            "\(file):\(line):\(column) \(severity) \(code) \(keyPath.isEmpty ? "-" : keyPath)\(hint.map { " (\($0))" } ?? "")"
        }
    }

    static func expectations(in text: String, file: String) -> [Expected] {
        text.components(separatedBy: "\n").compactMap { line -> Expected? in
            guard line.hasPrefix("# expect: ") else { return nil }
            var rest = Substring(line.dropFirst("# expect: ".count))
            var hint: String?
            if let open = rest.range(of: " ("), rest.hasSuffix(")") {
                hint = String(rest[open.upperBound..<rest.index(before: rest.endIndex)])
                rest = rest[..<open.lowerBound]
            }
            let words = rest.split(separator: " ").map(String.init)
            guard words.count == 4 else { return nil }
            var position = words[0].split(separator: ":").map(String.init)
            let lineNumber = Int(position[position.count - 2]) ?? 0, column = Int(position[position.count - 1]) ?? 0
            position.removeLast(2)
            return Expected(file: position.isEmpty ? file : position.joined(separator: ":"), line: lineNumber, column: column,
                            severity: words[1], code: words[2], keyPath: words[3] == "-" ? "" : words[3], hint: hint)
        }
    }

    @Test("each fixture produces exactly its expected issues, located file:line:column", arguments: fixtures)
    func fixture(_ name: String) throws {
        let path = "\(Self.directory)/\(name)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expected = Self.expectations(in: text, file: name)
        #expect(!expected.isEmpty, "\(name) lists no '# expect:' lines")
        let prompts = text.components(separatedBy: "\n").first { $0.hasPrefix("# prompts: ") }
            .map { "\(Self.directory)/\($0.dropFirst("# prompts: ".count))" }
        let result = Dialplan.check(path: path, promptsDirectory: prompts)
        let actual = result.issues.map { issue in
            Expected(file: String(issue.file.dropFirst(Self.directory.count + 1)), line: issue.line, column: issue.column,
                     severity: issue.severity.rawValue, code: issue.code.rawValue, keyPath: issue.keyPath, hint: issue.hint)
        }
        let comparable = zip(actual, expected).map { actual, expected in
            var actual = actual
            if expected.hint == nil { actual.hint = nil }
            return actual
        }
        #expect(comparable == Array(expected.prefix(comparable.count)) && actual.count == expected.count,
                "\(name):\nexpected\n\(expected.map(\.description).joined(separator: "\n"))\nactual\n\(result.issues.map(\.description).joined(separator: "\n"))")
        if result.issues.contains(where: { $0.severity == .error }) {
            #expect(result.dialplan == nil, "a dialplan with errors does not load")
        }
    }

    @Test("every kind of issue the language promises to catch has a failing fixture")
    func coverage() throws {
        var codes: Set<String> = []
        for name in Self.fixtures {
            let text = try String(contentsOfFile: "\(Self.directory)/\(name)", encoding: .utf8)
            codes.formUnion(Self.expectations(in: text, file: name).map(\.code))
        }
        let promised: [DialplanIssue.Code] = [
            .yamlSyntax, .unknownKey, .unknownNodeType, .wrongType, .undefinedTarget, .unreachableNode, .noWayOut,
            .loopWithoutInput, .loopWithoutWait, .duplicateKey, .missingPrompt, .unknownQueue, .transferNotAllowed,
            .overlappingEntries, .duplicateEntry, .includeCycle, .unreadableFile, .undefinedVariable, .unusedVariable,
            .readOnlyVariable, .returnOutsideCall, .undefinedName, .missingField, .invalidValue,
        ]
        for code in promised {
            #expect(codes.contains(code.rawValue), "no fixture for \(code)")
        }
    }

    @Test("issues print like a compiler: file:line:column: severity: message [key.path] (hint)")
    func compilerStyle() throws {
        let result = Dialplan.check(path: "\(Self.directory)/unknown_key.yaml", promptsDirectory: nil)
        #expect(result.issues.map(\.description) == [
            "\(Self.directory)/unknown_key.yaml:9:5: error: unknown key 'timout' in a menu node [nodes.menu.timout] (did you mean 'timeout'?)",
        ])
        let error = DialplanError(issues: result.issues)
        #expect(error.description.hasSuffix("\n1 error, 0 warnings"))
    }
}
