import Foundation
import Testing

@testable import Dialplan

/// Paths in the repository, found from this file so tests need no bundled resources.
enum Repository {
    /// `<repo>/Tests/DialplanTests/TestSupport.swift` → `<repo>`.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func dialplan(_ name: String) -> String { "\(root)/Dialplans/\(name)" }

    static var promptsDirectory: String { "\(root)/Prompts" }

    /// Whether `Prompts/` is in this checkout; it is produced on another branch, and the prompt
    /// test is skipped (reported as skipped, not passed) until that branch is merged.
    static var hasPromptsDirectory: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: promptsDirectory, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// Loads a shipped dialplan, failing the test with every issue if it does not load.
func loadShipped(_ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Dialplan {
    do {
        return try Dialplan.load(path: Repository.dialplan(name))
    } catch {
        Issue.record("\(name) did not load:\n\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The issues checking `yaml` produces (file name `t.yaml`).
func issues(_ yaml: String) -> [DialplanIssue] {
    Dialplan.check(yaml: yaml, file: "t.yaml").issues
}

/// A dialplan from inline YAML that must load.
func dialplan(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Dialplan {
    do {
        return try Dialplan.parse(yaml: yaml, file: "t.yaml")
    } catch {
        Issue.record("inline dialplan did not load:\n\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// A started execution for `number` and the commands `start()` returned.
func startCall(_ dialplan: Dialplan, number: String) throws -> (DialplanExecution, [DialplanCommand]) {
    let entry = try #require(dialplan.entry(forNumber: number))
    var execution = DialplanExecution(
        dialplan: dialplan, entry: entry, context: CallContext(caller: "13800000000", dialledNumber: number, callID: "c1"))
    let commands = execution.start(now: testEpoch)
    return (execution, commands)
}

/// The manual clock's reading for tests that do not care about the time of day:
/// 2026-12-01T10:00:00+08:00, a Tuesday morning in Beijing.
let testEpoch = Date(timeIntervalSince1970: 1_796_090_400)

/// `now` for a test: `testEpoch` plus `seconds`.
func at(_ seconds: Double) -> Date { testEpoch.addingTimeInterval(seconds) }

extension DialplanExecution {
    /// An event at ``testEpoch``, for traces where the time of day does not matter.
    mutating func event(_ event: DialplanEvent) -> [DialplanCommand] {
        self.event(event, now: testEpoch)
    }
}

/// Shorthands that keep expected command lists readable.
func p(_ id: UInt64) -> PlaybackID { PlaybackID(rawValue: id) }
func t(_ id: UInt64) -> TimerID { TimerID(rawValue: id) }
func en(_ names: String...) -> [PromptRef] { names.map { PromptRef(language: .en, name: $0) } }
func zh(_ names: String...) -> [PromptRef] { names.map { PromptRef(language: .zh, name: $0) } }
