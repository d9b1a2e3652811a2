import Foundation
import Testing

/// The shared conformance kit (../shared/conformance, beside the project as in CI) against
/// `hotline serve --dialplan Dialplans/bench.yaml`: every scenario must pass.
/// The kit lives outside this repository, so a lone checkout may lack it and skips; under CI
/// (`CI=true`) it must be there and its absence fails. SIPp missing always fails.
extension LoopbackClusterSuites {
@Suite(.serialized, .enabled(if: ConformanceKit.present || ConformanceKit.required,
                             "needs ../shared/conformance beside the checkout (required when CI=true)"))
struct ConformanceTests {

    @Test func sharedConformanceKitPassesEveryScenario() async throws {
        try #require(ConformanceKit.present, "CI=true but no conformance kit at \(ConformanceKit.path)")
        let sipp = try SIPp.require()
        // The kit runs `sipp` from PATH: put the one the harness found first.
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = URL(fileURLWithPath: sipp).deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let server = try await ServerProcess()
        let result = try await run("/bin/bash", [ConformanceKit.path, "127.0.0.1", String(server.sipPort)],
                                   environment: environment, timeout: .seconds(240))
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("7 passed, 0 failed"), "\(result.stdout)")
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        // options: none; unknown-number: 1 rejected; cancel: 1; the IVR calls: 1 + 1 + 200; caller-hangup: 1.
        #expect(tickets.count == 205, "one ticket per call: \(tickets.count)")
        #expect(tickets.filter { $0.disposition == .completedInIVR }.count == 202)
    }
}
}

enum ConformanceKit {
    static let path = Repo.root.deletingLastPathComponent().appendingPathComponent("shared/conformance/run.sh").path
    static var present: Bool { FileManager.default.isExecutableFile(atPath: path) }
    /// CI checks the kit out beside the project, so there its absence is a failure.
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}
