import Foundation
import Testing

@testable import Dialplan

@Suite("Shipped dialplans")
struct ShippedDialplanTests {
    @Test("loads with no errors and no warnings", arguments: ["12345.yaml", "bench.yaml"])
    func loadsCleanly(_ name: String) throws {
        let plan = try loadShipped(name)
        #expect(plan.warnings.isEmpty, "\(plan.warnings.map(\.description).joined(separator: "\n"))")
        #expect(plan.version.count == 16)
        #expect(plan.file.hasSuffix("Dialplans/\(name)"))
    }

    @Test("every prompt referenced is a recording in Prompts/<language>/",
          .enabled(if: Repository.hasPromptsDirectory,
                   "Prompts/ is produced on the prompts branch; until it is merged this test is skipped"),
          arguments: ["12345.yaml", "bench.yaml"])
    func promptsExist(_ name: String) throws {
        let plan = try loadShipped(name)
        let missing = plan.checkPrompts(inDirectory: Repository.promptsDirectory)
        #expect(missing.isEmpty, "\(missing.map(\.description).joined(separator: "\n"))")
        #expect(!plan.promptReferences().isEmpty)
    }

    @Test("12345 uses exactly the hotline's prompt names")
    func hotlinePromptNames() throws {
        let plan = try loadShipped("12345.yaml")
        #expect(plan.promptReferences() == [
            "welcome", "choose_language", "main_menu", "policy_line", "complaints_line", "enterprise_line",
            "move_car", "operator_unavailable", "invalid_key", "no_input", "goodbye",
        ])
        #expect(plan.languages == [.zh, .en])
        #expect(plan.defaultLanguage == .zh)
        #expect(plan.entry(forNumber: "12345")?.start == "welcome")
        #expect(plan.entry(forNumber: "12345")?.ring == .zero)
    }

    @Test("bench matches the conformance contract's shape")
    func benchShape() throws {
        let plan = try loadShipped("bench.yaml")
        #expect(plan.languages == [.en])
        #expect(plan.promptReferences() == ["bench_menu", "bench_key3", "goodbye"])
        #expect(plan.entry(forNumber: "12345")?.ring == .zero)
        #expect(plan.entry(forNumber: "12346")?.ring == .seconds(2))
        #expect(plan.entry(forNumber: "12347") == nil, "other numbers get 404")
        guard case .menu(let menu)? = plan.nodes["bench_menu"]?.kind else {
            Issue.record("bench_menu is not a menu")
            return
        }
        #expect(menu.timeout == .seconds(5))
        #expect(menu.retries == 2)
        #expect(menu.keys.keys.sorted() == ["3"])
    }

    @Test("checkPrompts reports each missing recording per language, at the value naming it")
    func checkPromptsLocatesMissingRecordings() throws {
        let plan = try dialplan("""
            dialplan: t
            languages: [zh, en]
            entries:
              - {number: "1", start: hello}
            nodes:
              hello: {type: play, prompts: [welcome, only_zh], next: bye}
              bye: {type: hangup}
            """)
        #expect(plan.promptReferences() == ["welcome", "only_zh"])
        let issues = plan.checkPrompts { language, name in name == "welcome" || language == .zh }
        #expect(issues.map(\.description) == [
            "t.yaml:6:42: error: prompt 'only_zh' has no recording for language 'en' [nodes.hello.prompts.1] (expected Prompts/en/only_zh.wav)"
        ])
    }

    @Test("the complete example in Dialplans/README.md loads with no issues")
    func readmeExample() throws {
        let readme = try String(contentsOfFile: Repository.dialplan("README.md"), encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "```yaml\n").dropFirst().first?
            .components(separatedBy: "```").first)
        #expect(block.hasPrefix("dialplan:"), "the first YAML block is the complete example")
        let result = Dialplan.check(yaml: block, file: "README.md")
        #expect(result.issues.isEmpty, "\(result.issues.map(\.description).joined(separator: "\n"))")
        #expect(result.dialplan?.nodes.count == 6)
    }

    @Test("the version is a stable FNV-1a fingerprint of the text")
    func versionFingerprint() throws {
        #expect(Dialplan.fingerprint(of: "") == "cbf29ce484222325")
        #expect(Dialplan.fingerprint(of: "a") == "af63dc4c8601ec8c")
        let path = Repository.dialplan("bench.yaml")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let plan = try loadShipped("bench.yaml")
        #expect(plan.version == Dialplan.fingerprint(of: text))
        #expect(try Dialplan.parse(yaml: text + "\n# edited\n").version != plan.version)
    }
}
