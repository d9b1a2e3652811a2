import Foundation
import Testing
import Yams

@testable import Dialplan

@Suite("Shipped dialplans")
struct ShippedDialplanTests {
    /// `Dialplans/*.yaml`: what `hotline dialplan check Dialplans/*.yaml` checks (included files
    /// live in subdirectories and are checked through the file that includes them).
    static let shipped: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Repository.dialplan(""))) ?? []
        return names.filter { $0.hasSuffix(".yaml") && !configurationFiles.contains($0) }.sorted()
    }()

    /// Files beside the dialplans that are not dialplans: outbound trunks, hand-off partners
    /// (checked by their own loaders' tests).
    static let configurationFiles: Set<String> = ["trunks.yaml", "handoffs.yaml"]

    @Test("the shipped dialplans are the ones this suite knows")
    func shippedList() {
        #expect(Self.shipped == ["12345.yaml", "bench.yaml"])
    }

    @Test("hotline dialplan check Dialplans/*.yaml is clean: no error, no warning, every prompt recorded",
          .enabled(if: Repository.hasPromptsDirectory), arguments: shipped)
    func checkIsClean(_ name: String) throws {
        let result = Dialplan.check(path: Repository.dialplan(name), promptsDirectory: Repository.promptsDirectory)
        #expect(result.issues.isEmpty, "\(result.issues.map(\.description).joined(separator: "\n"))")
        let plan = try #require(result.dialplan)
        #expect(plan.version.count == 16)
        #expect(plan.file.hasSuffix("Dialplans/\(name)"))
    }

    @Test("12345: languages, time zone, the included enterprise file, declarations")
    func hotlineShape() throws {
        let plan = try loadShipped("12345.yaml")
        #expect(plan.languages == [.zh, .en])
        #expect(plan.defaultLanguage == .zh)
        #expect(plan.timeZone?.identifier == "Asia/Shanghai")
        #expect(plan.files.map { $0.components(separatedBy: "Dialplans/").last! } == ["12345.yaml", "12345/enterprise.yaml", "12345/return_visit.yaml",
                                                                                     "12345/move_car.yaml"])
        #expect(plan.entry(forNumber: "12345")?.start == "welcome")
        #expect(plan.entry(forNumber: "12345")?.ring == .zero)
        #expect(plan.entry(forNumber: "123453")?.start == "enterprise", "the enterprise line's own number")
        #expect(plan.queues == ["operator", "heating", "enterprise_experts"])
        #expect(plan.transferTargets == ["sip:110@110-linkage.example"])
        #expect(plan.nodes["enterprise_menu"]?.location.file.hasSuffix("12345/enterprise.yaml") == true)
        let calendar = try #require(plan.calendars["operators"])
        #expect(calendar.timeZone.identifier == "Asia/Shanghai")
        let beijing = TimeZone(identifier: "Asia/Shanghai")!
        #expect(calendar.isHoliday(try #require(DialplanSimulation.parseTime("2026-10-03T10:00", defaultZone: beijing))))
        #expect(calendar.isWorkingDay(try #require(DialplanSimulation.parseTime("2026-09-20T10:00", defaultZone: beijing))),
                "a make-up Sunday")
        #expect(plan.seasons["heating"]?.description == "11-15..03-15")
        // Every say node can be read in both languages; the prompt test checks their fragments exist.
        #expect(plan.nodes.values.contains { if case .say = $0.kind { true } else { false } })
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
        #expect(plan.timeZone == nil && plan.calendars.isEmpty, "bench does not depend on the time of day")
    }

    @Test("bench.yaml is byte for byte the file the conformance contract was written against")
    func benchUnchanged() throws {
        let text = try String(contentsOfFile: Repository.dialplan("bench.yaml"), encoding: .utf8)
        #expect(Dialplan.fingerprint(of: text) == "67068d4e8aa08133", "bench.yaml changed: change it only with shared/conformance")
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

    @Test("the version is a stable FNV-1a fingerprint of the text, and covers included files")
    func versionFingerprint() throws {
        #expect(Dialplan.fingerprint(of: "") == "cbf29ce484222325")
        #expect(Dialplan.fingerprint(of: "a") == "af63dc4c8601ec8c")
        let path = Repository.dialplan("bench.yaml")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let plan = try loadShipped("bench.yaml")
        #expect(plan.version == Dialplan.fingerprint(of: text))
        #expect(try Dialplan.parse(yaml: text + "\n# edited\n").version != plan.version)

        let main = "dialplan: t\nlanguages: [en]\ninclude: [sub.yaml]\nentries: [{number: \"1\", start: bye}]\nnodes: {bye: {type: hangup}}\n"
        let one = try Dialplan.parse(yaml: main, file: "d/main.yaml", readFile: { $0 == "d/sub.yaml" ? "queues: [a]\n" : nil })
        let two = try Dialplan.parse(yaml: main, file: "d/main.yaml", readFile: { $0 == "d/sub.yaml" ? "queues: [b]\n" : nil })
        #expect(one.version != two.version, "an edit in an included file is a new version")
    }

    // MARK: - The README's examples

    /// The ```yaml blocks of Dialplans/README.md, with the line each starts on.
    static let readmeBlocks: [(line: Int, text: String)] = {
        guard let readme = try? String(contentsOfFile: Repository.dialplan("README.md"), encoding: .utf8) else { return [] }
        var blocks: [(Int, String)] = []
        var current: (Int, [String])?
        for (index, line) in readme.components(separatedBy: "\n").enumerated() {
            if current == nil, line == "```yaml" {
                current = (index + 2, [])
            } else if let open = current, line == "```" {
                blocks.append((open.0, open.1.joined(separator: "\n") + "\n"))
                current = nil
            } else if current != nil {
                current!.1.append(line)
            }
        }
        return blocks
    }()

    /// Blocks that stand for included files (`# file: NAME` on their first line), by name.
    static var readmeFiles: [String: String] {
        var files: [String: String] = [:]
        for block in readmeBlocks where block.text.hasPrefix("# file: ") {
            let name = block.text.dropFirst("# file: ".count).prefix { $0 != " " && $0 != "\n" }
            files["README/\(name)"] = block.text
        }
        return files
    }

    @Test("the README has an example for every node type and top-level key")
    func readmeCoversTheLanguage() {
        let all = Self.readmeBlocks.map(\.text).joined()
        for (type, _) in DialplanParser.nodeTypeKeys {
            #expect(all.contains("type: \(type)"), "no example of a \(type) node")
        }
        for key in DialplanParser.topLevelKeys {
            #expect(all.contains("\(key):"), "no example of '\(key)'")
        }
        for key in DialplanParser.conditionKeys {
            #expect(all.contains("\(key):"), "no example of the condition test '\(key)'")
        }
        #expect(Self.readmeBlocks.count >= 19)
    }

    @Test("every YAML example in the README checks", arguments: readmeBlocks.map(\.line))
    func readmeExample(_ line: Int) throws {
        let block = try #require(Self.readmeBlocks.first { $0.line == line }).text
        if block.hasPrefix("# file: ") { return }  // checked through the example that includes it
        if block.hasPrefix("dialplan:") {
            let result = Dialplan.check(yaml: block, file: "README/example.yaml", readFile: { Self.readmeFiles[$0] })
            #expect(result.issues.isEmpty, "README.md:\(line):\n\(result.issues.map(\.description).joined(separator: "\n"))")
            return
        }
        // A node example: give it a dialplan around it and stub the neighbours it names.
        let first = try #require(try Yams.compose(yaml: block)?.mapping?.keys.first?.string, "README.md:\(line) is no node mapping")
        var stubs: [String] = []
        var variables: [String] = []
        var result = Dialplan.check(yaml: Self.wrap(block, first: first, stubs: stubs, variables: variables), file: "README.md")
        for _ in 0..<3 {
            let newStubs = result.issues.filter { $0.code == .undefinedTarget }.compactMap { Self.quoted(in: $0.message) }
            let newVariables = result.issues.filter { $0.code == .undefinedVariable }.compactMap { Self.quoted(in: $0.message) }
            if newStubs.isEmpty && newVariables.isEmpty { break }
            stubs = Array(Set(stubs + newStubs)).sorted()
            variables = Array(Set(variables + newVariables)).sorted()
            result = Dialplan.check(yaml: Self.wrap(block, first: first, stubs: stubs, variables: variables), file: "README.md")
        }
        let unexpected = result.issues.filter { ![.unreachableNode, .unusedVariable].contains($0.code) }
        #expect(unexpected.isEmpty, "README.md:\(line):\n\(unexpected.map(\.description).joined(separator: "\n"))")
    }

    /// A dialplan declaring what the README's node examples use, entering at `first`.
    static func wrap(_ block: String, first: String, stubs: [String], variables: [String]) -> String {
        var yaml = """
            dialplan: readme
            languages: [zh, en]
            time_zone: Asia/Shanghai
            queues: [operator, enterprise_experts]
            transfer_targets: ["sip:110@110-linkage.example"]
            calendars:
              operators: {hours: {mon-fri: ["08:00-20:00"]}}
            seasons:
              heating: "11-15..03-15"
            entries:
              - {number: "1", start: readme_start}
            nodes:

            """
        let assignments = variables.map { "\($0): \"x\"" }.joined(separator: ", ")
        yaml += variables.isEmpty ? "  readme_start: {type: goto, next: \(first)}\n"
            : "  readme_start: {type: set, variables: {\(assignments)}, next: \(first)}\n"
        for line in block.components(separatedBy: "\n") where !line.isEmpty { yaml += "  \(line)\n" }
        for stub in stubs { yaml += "  \(stub): {type: hangup}\n" }
        return yaml
    }

    static func quoted(in message: String) -> String? {
        let parts = message.components(separatedBy: "'")
        return parts.count >= 3 ? parts[1] : nil
    }
}
