// hotline-stages (Benchmarks/Stages), the runner Benchmarks/callgrind-stages.sh counts
// instructions with, still does a whole key-3 call in every stage: it checks each call went as
// the scenario says (answers sent, key seen, BYE answered, every transaction and timer gone,
// 150 packets sent, tickets committed with their work orders) and exits 1 otherwise.

import Foundation
import Testing

@Suite struct StagesRunnerTests {
    static let runner = Repo.root.appendingPathComponent(
        URL(fileURLWithPath: Repo.binary).deletingLastPathComponent().lastPathComponent == "release"
            ? ".build/release/hotline-stages" : ".build/debug/hotline-stages").path

    @Test("every stage of the key-3 call runs through the production code and checks itself",
          arguments: ["sip", "dialplan", "rtp", "tickets"])
    func stageRunsAndChecksItsCalls(_ stage: String) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.runner), "swift build makes \(Self.runner)")
        let result = try await run(Self.runner, [stage, "30"], directory: Repo.root, timeout: .seconds(120))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(stage) calls=30 warm_up=20"), "\(result.stdout)")
    }

    @Test func aWrongStageIsAUsageError() async throws {
        let result = try await run(Self.runner, ["voicemail", "3"], directory: Repo.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("usage: hotline-stages"))
    }
}
