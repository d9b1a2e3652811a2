import Codecs
import Foundation
import Testing
import Tickets
import TicketsSQLite
@testable import LoadGen

/// `hotline flood` and `hotline console` against the real server (the built binary), on
/// loopback, checked through their own reports, the audio and the ticket database.
@Suite(.serialized) struct EndToEndTests {
    static func json(_ text: String) throws -> [String: Any] {
        guard let start = text.firstIndex(of: "{") else { throw Failure(text) }
        return try JSONSerialization.jsonObject(with: Data(text[start...].utf8)) as! [String: Any]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// 50 calls at 20 calls/s pressing 3 by RFC 4733: no failure, every call heard the menu and
    /// then the key-3 prompt (identified from the audio), and every answered call has its
    /// ticket, completed in the IVR.
    @Test func floodTheKey3Flow() async throws {
        let server = try await Server()
        let result = try await run(Binary.path, [
            "flood", "--target", server.target, "--number", "12345", "--rate", "20", "--calls", "50", "--keys", "3",
            "--dtmf", "rfc4733", "--sources", "4", "--expect-prompts", "bench_menu,bench_key3", "--verify-db", server.database,
            // Loose bounds: the debug build on a shared 2-core machine, beside other tests.
            "--slo", "failed=0,setup_p99<5s,key_to_prompt_p99<3s", "--json",
        ], timeout: .seconds(90))
        #expect(await server.stop() == 0)
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)\n\(server.log)")
        let report = try Self.json(result.stdout)
        let calls = report["calls"] as! [String: Any]
        #expect(calls["started"] as? Int == 50)
        #expect(calls["answered"] as? Int == 50)
        #expect(calls["succeeded"] as? Int == 50)
        #expect(calls["failed"] as? Int == 0)
        #expect((report["failures"] as? [String: Int]) == [:])
        #expect((report["ends"] as? [String: Int]) == ["server_bye": 50])
        let prompts = report["prompts"] as! [String: Any]
        #expect((prompts["sequences"] as? [String: Int]) == ["bench_menu > bench_key3": 50])
        #expect(prompts["unidentified"] as? Int == 0)
        let tickets = report["tickets"] as! [String: Any]
        #expect(tickets["answered_calls"] as? Int == 50)
        #expect(tickets["with_ticket"] as? Int == 50)
        #expect(tickets["missing"] as? Int == 0)
        #expect((tickets["dispositions"] as? [String: Int]) == ["completed_in_ivr": 50])
        let keyToPrompt = report["key_to_prompt_ms"] as! [String: Any]
        #expect(keyToPrompt["count"] as? Int == 50)
        let rtp = report["rtp"] as! [String: Any]
        #expect((rtp["packets_received"] as? Int ?? 0) > 50 * 100, "about 3 s of prompts a call")
        #expect(rtp["packets_lost"] as? Int == 0)
        #expect(report["slo_ok"] as? Bool == true, "\(report["slo"] ?? "")")
        // The database agrees, read independently: 50 tickets, key 3, the enterprise line.
        let rows = try SQLiteTicketReader(path: server.database).list(limit: 1000, since: nil)
        #expect(rows.count == 50)
        #expect(rows.allSatisfy { $0.keys == "3" && $0.businessLine == "enterprise" && $0.disposition == .completedInIVR })
        #expect(Set(rows.map(\.caller)).count == 50, "every call its own caller number")
    }

    /// The library directly: SIP INFO keys, a 2:1 mix with callers that hang up themselves,
    /// several source addresses on two loops.
    @Test func mixedCallersThroughTheLibrary() async throws {
        let server = try await Server()
        let yaml = """
            callers:
              - {name: press3, weight: 2, keys: "3", dtmf: info, expect_prompts: [bench_menu, bench_key3]}
              - {name: leaves, weight: 1, hangup: caller, hold: 1s, audio: tone}
            """
        let scenario = try Scenario.parse(yaml, base: CallerBehaviour(keyDelay: .milliseconds(1200)))
        let configuration = FloodConfiguration(
            targetHost: "127.0.0.1", targetPort: server.sipPort, number: "12345", schedule: .constant(15), calls: 12,
            sources: try SourceAddresses.parse("127.0.0.0/29"), loops: 2, scenario: scenario, prompts: Repo.references,
            verifyDatabase: server.database)
        let report = try await FloodRunner(configuration: configuration).run()
        #expect(await server.stop() == 0)
        #expect(report.calls.started == 12)
        #expect(report.calls.failed == 0, "\(report.failures)\n\(server.log)")
        #expect(report.behaviours == ["press3": 8, "leaves": 4])
        #expect(report.ends == ["server_bye": 8, "caller_bye": 4])
        #expect(report.prompts.sequences["bench_menu > bench_key3"] == 8)
        #expect(report.prompts.sequences["bench_menu"] == 4, "those who left heard only (part of) the menu")
        #expect(report.tickets?.missing == 0)
        #expect(report.tickets?.dispositions == ["completed_in_ivr": 8, "caller_hangup": 4])
        #expect(report.configuration.source_addresses == 6)
        #expect(report.rtp.packets_sent > 4 * 40, "the tone callers sent audio")
    }

    /// Refusals are failures by code, and an SLO breach is exit status 2.
    @Test func refusalsAndSLOBreaches() async throws {
        let server = try await Server()
        let refused = try await run(Binary.path, [
            "flood", "--target", server.target, "--number", "99999", "--rate", "10", "--calls", "3", "--quiet",
            "--slo", "failed=0,answered_pct>=99",
        ])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stdout.contains("failures      404 ×3"), "\(refused.stdout)")
        #expect(refused.stdout.contains("slo           BREACH failed=0  (actual 3)"))
        #expect(refused.stdout.contains("slo           BREACH answered_pct>=99  (actual 0)"))

        let fine = try await run(Binary.path, [
            "flood", "--target", server.target, "--rate", "10", "--calls", "2", "--hangup", "caller", "--hold", "1500ms",
            "--rtp-read", "batched", "--quiet", "--slo", "failed=0,setup_p99<2s",
        ])
        #expect(fine.status == 0, "\(fine.stdout)\n\(fine.stderr)")
        #expect(fine.stdout.contains("slo           ok     failed=0"))
        #expect(fine.stdout.contains("prompts       bench_menu  ×2"), "batched RTP reads still hear the menu")
        #expect(await server.stop() == 0)

        let offLoopback = try await run(Binary.path, ["flood", "--target", "192.0.2.1:5060", "--calls", "1"])
        #expect(offLoopback.status != 0)
        #expect(offLoopback.stderr.contains("loopback"))
    }

    /// The console phone on the ALSA null device: it hears the menu, sends the typed 3, hears
    /// the key-3 prompt and ends when the server hangs up.
    @Test func consoleOnTheNullDevice() async throws {
        let server = try await Server()
        let result = try await run(Binary.path, ["console", "--target", server.target, "--device", "null"],
                                   input: "3", inputAfter: "answered:", inputDelay: .milliseconds(1500), timeout: .seconds(60))
        #expect(await server.stop() == 0)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("answered: PCMU/8000") })
        #expect(lines.contains("key 3 (rfc4733)"))
        #expect(lines.contains("heard en/bench_menu (cut short)"))
        #expect(lines.contains("heard en/bench_key3"))
        #expect(lines.contains("call ended: server_bye; heard bench_menu > bench_key3"))
    }

    /// With --mic the console records (ALSA null captures silence) and sends that.
    @Test func consoleWithTheMicrophone() async throws {
        let server = try await Server()
        let result = try await run(Binary.path, ["console", "--target", server.target, "--device", "null", "--mic", "--dtmf", "info"],
                                   input: "3", inputAfter: "answered:", inputDelay: .milliseconds(1500), timeout: .seconds(60))
        #expect(await server.stop() == 0)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("key 3 (info)"))
        #expect(result.stdout.contains("call ended: server_bye; heard bench_menu > bench_key3"))
    }

    /// The console through an ALSA file plugin (an ~/.asoundrc in a temporary HOME): what it
    /// played is in the file, and the prompts are recognised in it.
    @Test func consolePlaysWhatItHearsIntoAFile() async throws {
        let server = try await Server()
        let home = server.directory.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let played = home.appendingPathComponent("played.raw").path
        try """
            pcm.hotlinetest {
                type file
                slave.pcm "null"
                file "\(played)"
                format "raw"
            }
            """.write(to: home.appendingPathComponent(".asoundrc"), atomically: true, encoding: .utf8)
        let result = try await run(Binary.path, ["console", "--target", server.target, "--device", "hotlinetest"],
                                   environment: ["HOME": home.path], input: "3", inputAfter: "answered:", inputDelay: .milliseconds(1500), timeout: .seconds(60))
        #expect(await server.stop() == 0)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let bytes = try #require(FileManager.default.contents(atPath: played))
        let samples = bytes.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        #expect(samples.count > 8000 * 2, "more than two seconds played")
        // Re-encode what was played and identify it, as if it came off the wire.
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        _ = Signal.feed(samples, to: &tracker, scratch: &scratch)
        tracker.finish()
        #expect(tracker.heard.map(\.name) == ["bench_menu", "bench_key3"])
    }

    @Test func consoleWithoutASoundCardSaysSo() async throws {
        let result = try await run(Binary.path, ["console", "--target", "127.0.0.1:5", "--device", "no-such-card-hotline"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("hotline console: ALSA playback device 'no-such-card-hotline': open failed"))
        #expect(result.stderr.contains("no sound card or no such device"))
    }
}
