import Foundation
import Testing

/// The shared conformance kit (../shared/conformance, beside the project as in CI) against
/// `hotline serve --dialplan Dialplans/bench.yaml`: every scenario must pass.
@Suite(.serialized, .enabled(if: Repo.sippAvailable && ConformanceKit.present,
                             "needs sipp and ../shared/conformance (present in CI and the team's checkouts)"))
struct ConformanceTests {

    @Test func sharedConformanceKitPassesEveryScenario() async throws {
        let server = try await ServerProcess()
        let result = try await run("/bin/bash", [ConformanceKit.path, "127.0.0.1", String(server.sipPort)], timeout: .seconds(240))
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("7 passed, 0 failed"), "\(result.stdout)")
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        // options: none; unknown-number: 1 rejected; cancel: 1; the IVR calls: 1 + 1 + 200; caller-hangup: 1.
        #expect(tickets.count == 205, "one ticket per call: \(tickets.count)")
        #expect(tickets.filter { $0.disposition == .completedInIVR }.count == 202)
    }
}

enum ConformanceKit {
    static let path = Repo.root.deletingLastPathComponent().appendingPathComponent("shared/conformance/run.sh").path
    static var present: Bool { FileManager.default.isExecutableFile(atPath: path) }
}
