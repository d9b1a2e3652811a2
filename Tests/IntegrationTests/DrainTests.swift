import Foundation
import Testing
import Tickets

/// One node's drain without the front: SIGTERM and `hotline drain` against a real server.
@Suite struct DrainTests {
    /// Waits (up to 10 s) until the node reports `calls` calls in progress.
    private func waitForCalls(_ server: ServerProcess, _ calls: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !server.http("/health").contains("\"active_calls\":\(calls)") {
            if ContinuousClock.now >= deadline { Issue.record("no \(calls) call(s) in progress within 10 s"); return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test("SIGTERM drains: OPTIONS and new INVITEs get 503, the call in progress is hung up with BYE at --drain-timeout, its ticket finished, exit 0")
    func sigtermDrainsThenHangsUp() async throws {
        // 20 s: the two SIPp probes below must finish inside the drain, even on a loaded machine
        // (with 8 s the server had exited before the metrics were read, once in CI).
        let server = try await ServerProcess(extra: ["--drain-timeout", "20s", "--node", "solo"])
        // A caller who would stay 40 s: the server's BYE at the drain timeout ends the call.
        async let long = server.sipp("cluster-call", calls: 1, rate: 1, extra: ["-d", "40000"], timeout: .seconds(60))
        try await waitForCalls(server, 1)
        kill(server.pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while try await !server.http("/health").contains("\"state\":\"draining\"") {
            if ContinuousClock.now >= deadline { Issue.record("not draining 5 s after SIGTERM"); break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let probe = try await server.sipp("options", calls: 1, rate: 1, extra: ["-timeout", "5s"])
        #expect(probe.status != 0, "OPTIONS answered 503, not the scenario's 200")
        _ = try await server.sipp("ivr-key3-info-or-503", calls: 1, rate: 1, extra: ["-timeout", "5s"])
        let metrics = try await server.http("/metrics")
        #expect((prometheusValue(metrics, #"hotline_calls_rejected_total{node="solo",status="503"}"#) ?? 0) == 1, "the new INVITE got 503")
        #expect((prometheusValue(metrics, #"hotline_sip_responses_total{node="solo",direction="out",status="503"}"#) ?? 0) >= 2,
                "and so did the OPTIONS")
        #expect(await server.waitForExit(timeout: .seconds(30)) == 0, "exits 0 after hanging up: \(server.log.suffix(1500))")
        _ = try await long // SIPp sees the server's BYE where it expected to send its own: its status is not the point
        let tickets = try server.tickets().filter { $0.answeredAt != nil }
        #expect(tickets.count == 1)
        #expect(tickets.first?.disposition == .serverShutdown, "the ticket is finished: \(String(describing: tickets.first?.disposition))")
        #expect(tickets.first?.endedAt != nil)
    }

    @Test("hotline drain asks the node over the admin API; an idle node drains and exits 0")
    func drainCommand() async throws {
        let server = try await ServerProcess(extra: ["--drain-timeout", "30s"])
        let result = try await run(Repo.binary, ["drain", "--http", "127.0.0.1:\(server.httpPort)"], timeout: .seconds(20))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"started\":true"), "\(result.stdout)")
        #expect(await server.waitForExit(timeout: .seconds(10)) == 0, "\(server.log.suffix(1500))")
    }

    @Test("the drain endpoint wants the admin role when tokens are configured; hotline drain --token passes")
    func drainNeedsAdmin() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-drain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let admin = "drain-admin-token-0123456789abcdef", auditor = "drain-auditor-token-0123456789abcdef"
        try """
            tokens:
              - {name: centre, role: admin, token: "\(admin)"}
              - {name: inspector, role: auditor, token: "\(auditor)"}
            """.write(to: directory.appendingPathComponent("tokens.yaml"), atomically: true, encoding: .utf8)
        let server = try await ServerProcess(directory: directory,
                                             extra: ["--drain-timeout", "30s", "--tokens", directory.appendingPathComponent("tokens.yaml").path])
        #expect(try await server.http("POST", "/api/drain").0 == 401)
        let refused = try await run(Repo.binary, ["drain", "--http", "127.0.0.1:\(server.httpPort)", "--token", auditor], timeout: .seconds(20))
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("403"), "\(refused.stderr)")
        #expect(try await server.http("/health").contains("\"state\":\"active\""))
        let result = try await run(Repo.binary, ["drain", "--http", "127.0.0.1:\(server.httpPort)", "--token", admin], timeout: .seconds(20))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(await server.waitForExit(timeout: .seconds(10)) == 0)
    }
}
