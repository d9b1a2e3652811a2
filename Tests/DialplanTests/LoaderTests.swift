import Testing

@testable import Dialplan

/// What a test expects of one issue; the hint is checked only when given.
struct ExpectedIssue: CustomStringConvertible {
    var code: DialplanIssue.Code
    var line: Int
    var column: Int
    var keyPath: String
    var severity: DialplanIssue.Severity = .error
    var hint: String?

    init(_ code: DialplanIssue.Code, _ line: Int, _ column: Int, _ keyPath: String,
         _ severity: DialplanIssue.Severity = .error, hint: String? = nil)
    {
        self.code = code
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.severity = severity
        self.hint = hint
    }

    func matches(_ issue: DialplanIssue) -> Bool {
        issue.code == code && issue.line == line && issue.column == column && issue.keyPath == keyPath
            && issue.severity == severity && (hint == nil || issue.hint == hint)
    }

    var description: String { "\(line):\(column) \(severity) \(code) [\(keyPath)]\(hint.map { " (\($0))" } ?? "")" }
}

/// One bad input and exactly the issues it must produce, in order.
struct BadInput: CustomTestStringConvertible, Sendable {
    var name: String
    var yaml: String
    var expected: @Sendable () -> [ExpectedIssue]
    var testDescription: String { name }
}

@Suite("Loading dialplans")
struct LoaderTests {
    static let badInputs: [BadInput] = [
        BadInput(name: "unknown node key, with hint", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - number: "1"
                start: menu
            nodes:
              menu:
                type: menu
                prompt: m
                timout: 5s
                keys: {"1": bye}
              bye: {type: hangup}
            """) { [ExpectedIssue(.unknownKey, 10, 5, "nodes.menu.timout", hint: "did you mean 'timeout'?")] },

        BadInput(name: "unknown top-level key, and the key it was meant to be is missing", yaml: """
            dialplan: t
            language: [en]
            entries:
              - {number: "1", start: bye}
            nodes:
              bye: {type: hangup}
            """) {
            [ExpectedIssue(.missingField, 1, 1, "languages"),
             ExpectedIssue(.unknownKey, 2, 1, "language", hint: "did you mean 'languages'?")]
        },

        BadInput(name: "unknown node type, with hint", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: bye}
            nodes:
              bye: {type: hangpu}
            """) { [ExpectedIssue(.unknownNodeType, 6, 15, "nodes.bye.type", hint: "did you mean 'hangup'?")] },

        BadInput(name: "unknown node type with no close match", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: bye}
            nodes:
              bye: {type: voicemail}
            """) { [ExpectedIssue(.unknownNodeType, 6, 15, "nodes.bye.type")] },

        BadInput(name: "undefined menu target, with hint", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: main_menu}
            nodes:
              main_menu:
                type: menu
                prompt: m
                keys: {"1": bye, "2": mian_menu}
              bye: {type: hangup}
            """) { [ExpectedIssue(.undefinedTarget, 9, 27, "nodes.main_menu.keys.2", hint: "did you mean 'main_menu'?")] },

        BadInput(name: "undefined entry start", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: welcom}
            nodes:
              welcome: {type: hangup}
            """) { [ExpectedIssue(.undefinedTarget, 4, 26, "entries.0.start", hint: "did you mean 'welcome'?")] },

        BadInput(name: "key bound twice in a node (Yams would refuse the file)", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: menu}
            nodes:
              menu:
                type: menu
                prompt: m
                timeout: 5s
                keys: {"1": bye}
                timeout: 4s
              bye: {type: hangup}
            """) { [ExpectedIssue(.duplicateKey, 11, 5, "nodes.menu.timeout")] },

        BadInput(name: "duplicate menu keys (quoted and plain alike) and duplicate node names", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: menu}
            nodes:
              menu:
                type: menu
                prompt: m
                keys: {"1": bye, 1: bye, "2": bye, "2": bye}
              bye: {type: hangup}
              bye: {type: hangup}
            """) {
            [ExpectedIssue(.duplicateKey, 9, 22, "nodes.menu.keys.1"),
             ExpectedIssue(.duplicateKey, 9, 40, "nodes.menu.keys.2"),
             ExpectedIssue(.duplicateKey, 11, 3, "nodes.bye")]
        },

        BadInput(name: "key bound three times: each later binding is reported", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: bye}
            nodes:
              bye:
                type: hangup
                disposition: no_input
                disposition: invalid_input
                disposition: not_routed
            """) {
            [ExpectedIssue(.duplicateKey, 9, 5, "nodes.bye.disposition"),
             ExpectedIssue(.duplicateKey, 10, 5, "nodes.bye.disposition")]
        },

        BadInput(name: "columns count Unicode scalars on a line with Chinese text", yaml: """
            dialplan: 热线
            languages: [zh]
            entries:
              - {number: "1", start: hello}
            nodes:
              hello: {type: play, prompts: [欢迎], nxt: bye}
              bye: {type: hangup}
            """) {
            [ExpectedIssue(.missingField, 6, 3, "nodes.hello.next"),
             ExpectedIssue(.invalidValue, 6, 33, "nodes.hello.prompts.0"),
             ExpectedIssue(.unknownKey, 6, 38, "nodes.hello.nxt", hint: "did you mean 'next'?")]
        },

        BadInput(name: "bad durations", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: menu, ring: soon}
            nodes:
              menu:
                type: menu
                prompt: m
                timeout: 5
                keys: {"1": bye}
              bye: {type: hangup}
            """) {
            [ExpectedIssue(.wrongType, 4, 38, "entries.0.ring", hint: "durations look like 500ms, 2s, 1.5s or 1m"),
             ExpectedIssue(.wrongType, 9, 14, "nodes.menu.timeout", hint: "did you mean '5s'?")]
        },

        BadInput(name: "wrong value types", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: hello}
            nodes:
              hello: {type: play, prompts: hi, barge_in: yes, next: menu}
              menu:
                type: menu
                prompt: m
                retries: two
                keys: {"1": bye}
              bye: {type: hangup}
            """) {
            [ExpectedIssue(.wrongType, 6, 32, "nodes.hello.prompts", hint: "write prompts: [hi]"),
             ExpectedIssue(.wrongType, 6, 46, "nodes.hello.barge_in", hint: "write true or false"),
             ExpectedIssue(.wrongType, 10, 14, "nodes.menu.retries")]
        },

        BadInput(name: "missing required keys", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - number: "1"
            nodes:
              menu: {type: menu}
            """) {
            [ExpectedIssue(.missingField, 4, 5, "entries.0.start"),
             ExpectedIssue(.missingField, 6, 3, "nodes.menu.prompt"),
             ExpectedIssue(.missingField, 6, 3, "nodes.menu.keys")]
        },

        BadInput(name: "duplicate entry numbers", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: bye}
              - {number: "1", start: bye}
            nodes:
              bye: {type: hangup}
            """) { [ExpectedIssue(.duplicateEntry, 5, 14, "entries.1.number")] },

        BadInput(name: "invalid key names", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: menu}
            nodes:
              menu:
                type: menu
                prompt: m
                keys: {"a": bye, "1x": bye, "#": bye, "1234567": bye}
              bye: {type: hangup}
            """) {
            [ExpectedIssue(.invalidValue, 9, 12, "nodes.menu.keys.a", hint: "did you mean 'A'?"),
             ExpectedIssue(.invalidValue, 9, 22, "nodes.menu.keys.1x",
                           hint: "keys are 0-9, \"*\", \"#\" and A-D; an option is 1 to 6 keys"),
             ExpectedIssue(.invalidValue, 9, 43, "nodes.menu.keys.1234567")]
        },

        BadInput(name: "default_language and a language node outside languages", yaml: """
            dialplan: t
            languages: [zh, en]
            default_language: eng
            entries:
              - {number: "1", start: lang}
            nodes:
              lang: {type: language, language: fr, next: bye}
              bye: {type: hangup}
            """) {
            [ExpectedIssue(.invalidValue, 3, 19, "default_language", hint: "did you mean 'en'?"),
             ExpectedIssue(.invalidValue, 7, 36, "nodes.lang.language")]
        },

        BadInput(name: "YAML syntax error", yaml: """
            dialplan: t
            languages: [en]
            nodes:
              bye:
                type: hangup
               next: x
            """) { [ExpectedIssue(.yamlSyntax, 6, 4, "")] },

        BadInput(name: "unquoted * key", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: menu}
            nodes:
              menu:
                type: menu
                prompt: m
                keys: {*: bye}
            """) { [ExpectedIssue(.yamlSyntax, 9, 13, "", hint: "'*' starts a YAML alias; quote the key: \"*\"")] },

        BadInput(name: "queue node given next", yaml: """
            dialplan: t
            languages: [en]
            queues: [operator]
            entries:
              - {number: "1", start: operator}
            nodes:
              operator: {type: queue, queue: operator, next: bye}
              bye: {type: hangup}
            """) {
            [ExpectedIssue(.unknownKey, 7, 44, "nodes.operator.next",
                           hint: "a queue node continues only when the queue cannot take the call: use 'on_unavailable'")]
        },

        BadInput(name: "merge keys are refused", yaml: """
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: bye}
            nodes:
              bye: {type: hangup, <<: {disposition: no_input}}
            """) { [ExpectedIssue(.unknownKey, 6, 23, "nodes.bye.<<")] },

        BadInput(name: "empty file", yaml: "") { [ExpectedIssue(.missingField, 1, 1, "")] },

        BadInput(name: "a list instead of a dialplan", yaml: "- dialplan: t\n") { [ExpectedIssue(.wrongType, 1, 1, "")] },
    ]

    @Test("bad input produces exactly the expected issues", arguments: badInputs)
    func badInput(_ input: BadInput) {
        let result = Dialplan.check(yaml: input.yaml, file: "t.yaml")
        let expected = input.expected()
        #expect(result.dialplan == nil, "a dialplan with errors must not load")
        #expect(result.issues.count == expected.count, "\(result.issues.map(\.description).joined(separator: "\n"))")
        for (issue, expectation) in zip(result.issues, expected) {
            #expect(expectation.matches(issue), "expected \(expectation), got \(issue)")
            #expect(issue.file == "t.yaml")
        }
    }

    @Test("an issue prints like a compiler diagnostic")
    func compilerStyleDescription() throws {
        let first = try #require(issues(Self.badInputs[0].yaml).first)
        #expect(first.description
            == "t.yaml:10:5: error: unknown key 'timout' in a menu node [nodes.menu.timout] (did you mean 'timeout'?)")
        let duplicate = try #require(issues(Self.badInputs[6].yaml).first)
        #expect(duplicate.message == "key 'timeout' is bound twice; the first binding is at 9:5")
        let third = try #require(issues(Self.badInputs.first { $0.name.hasPrefix("key bound three") }!.yaml).last)
        #expect(third.message == "key 'disposition' is bound twice; the first binding is at 8:5")
    }

    @Test("several issues in different places are all reported in one pass, in reading order")
    func severalIssuesAtOnce() {
        let found = issues("""
            dialplan: t
            languages: [zh, en]
            default_language: fr
            entries:
              - {number: "12345", start: welcome}
              - {number: "12345", start: welcome}
            nodes:
              welcome: {type: play, prompts: [welcome], nxt: menu}
              menu:
                type: menu
                prompt: main_menu
                timeout: 5 seconds
                retries: 2
                keys: {"1": policy, "x": bye}
                retries: 3
              policy: {type: tiket, next: bye}
              bye: {type: hangup, disposition: compleetd_in_ivr}
            """)
        #expect(found.map { "\($0.line):\($0.column) \($0.code)" } == [
            "3:19 invalid_value",          // default_language fr
            "6:14 duplicate_entry",        // 12345 twice
            "8:3 missing_field",           // welcome has no next
            "8:45 unknown_key",            // nxt
            "12:14 wrong_type",            // 5 seconds
            "14:25 invalid_value",         // key x
            "15:5 duplicate_key",          // retries twice
            "16:18 unknown_node_type",     // tiket
            "17:36 unknown_disposition",   // warning, with a hint
        ], "\(found.map(\.description).joined(separator: "\n"))")
        #expect(found.last?.severity == .warning)
        #expect(found.last?.hint == "did you mean 'completed_in_ivr'?")
        #expect(found.first(where: { $0.code == .unknownKey })?.hint == "did you mean 'next'?")
    }

    @Test("unreachable nodes are warnings; the dialplan still loads")
    func unreachableNodeWarning() throws {
        let plan = try dialplan("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: bye}
            nodes:
              bye: {type: hangup}
              orphan: {type: play, prompts: [x], next: bye}
            """)
        #expect(plan.warnings.count == 1)
        let warning = try #require(plan.warnings.first)
        #expect(ExpectedIssue(.unreachableNode, 7, 3, "nodes.orphan", .warning).matches(warning), "\(warning)")
    }

    @Test("a loop of nodes that never wait, with no way out, is an error naming the loop")
    func loopWithoutWaitError() throws {
        let found = issues("""
            dialplan: t
            languages: [zh, en]
            entries:
              - {number: "1", start: start}
            nodes:
              start: {type: ticket, category: help, next: to_english}
              to_english: {type: language, language: en, next: to_chinese}
              to_chinese: {type: language, language: zh, next: start}
            """)
        let error = try #require(found.first)
        #expect(found.count == 1, "\(found)")
        #expect(ExpectedIssue(.loopWithoutWait, 6, 3, "nodes.start").matches(error), "\(error)")
        #expect(error.message == "nodes start → to_english → to_chinese → start loop without waiting for anything")
        #expect(error.hint == "a call reaching this loop ends with dialplan_error")
    }

    @Test("on_failure next to both specific branches is reported as unused")
    func unusedOnFailure() throws {
        let plan = try dialplan("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: menu}
            nodes:
              menu:
                type: menu
                prompt: m
                keys: {"1": bye}
                on_no_input: bye
                on_invalid: bye
                on_failure: bye
              bye: {type: hangup}
            """)
        #expect(plan.warnings.map(\.code) == [.unusedField])
        #expect(plan.warnings.first?.line == 12)
    }

    @Test("a missing file is one located issue")
    func missingFile() {
        let result = Dialplan.check(path: "/nonexistent/plan.yaml")
        #expect(result.issues.map(\.code) == [.unreadableFile])
        #expect(result.issues.first?.description.hasPrefix("/nonexistent/plan.yaml:1:1: error:") == true)
        #expect(throws: DialplanError.self) { try Dialplan.load(path: "/nonexistent/plan.yaml") }
    }

    @Test("the model keeps every node's source location and field locations")
    func locationsInModel() throws {
        let plan = try dialplan("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: hello, ring: 1.5s}
            nodes:
              hello:
                type: play
                prompts: [a, b]
                next: bye
              bye: {type: hangup, disposition: no_input}
            """)
        let hello = try #require(plan.nodes["hello"])
        #expect("\(hello.location)" == "t.yaml:6:3")
        #expect(hello.fieldLocations["prompts.1"]?.description == "t.yaml:8:18")
        #expect(hello.kind == .play(.init(prompts: ["a", "b"], bargeIn: false, next: "bye")))
        #expect(plan.nodes["bye"]?.kind == .hangup(.init(disposition: .noInput)))
        #expect(plan.entries.first?.ring == .milliseconds(1500))
        #expect(plan.defaultLanguage == .en, "default_language defaults to the first language")
    }
}
