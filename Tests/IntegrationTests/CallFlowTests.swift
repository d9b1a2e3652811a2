import Foundation
import Testing
import Tickets
import TicketsSQLite

/// The real server driven over loopback by SIPp, checked against the tickets it wrote.
/// Serialized: each test starts its own server, and the machine has two cores.
@Suite(.serialized)
struct CallFlowTests {
    @Test func key3ByInfoReachesTheEnterpriseLineAndIsTicketed() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("ivr-key3-info")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0)
        let tickets = try server.tickets()
        try #require(tickets.count == 1, "\(tickets)\n\(server.log)")
        let t = tickets[0]
        #expect(t.disposition == .completedInIVR)
        #expect(t.businessLine == "enterprise")
        #expect(t.keys == "3")
        #expect(t.menuPath == ["bench_menu:3"])
        #expect(t.sipStatus == 200)
        #expect(t.dialled == "12345")
        #expect(t.caller == "40001")
        #expect(t.answeredAt != nil && t.endedAt != nil)
        #expect(t.id.rawValue.range(of: #"^\d{8}-\d{6}$"#, options: .regularExpression) != nil)
        #expect(!t.callID.isEmpty && !t.dialplanVersion.isEmpty)
    }

    @Test func key3ByRFC4733TelephoneEvents() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("ivr-key3-rfc2833")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .completedInIVR)
        #expect(t.keys == "3", "one key however many end packets the pcap repeats")
        #expect(t.businessLine == "enterprise")
    }

    @Test func callerHangingUpMidPromptIsCallerHangup() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("caller-hangup")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .callerHangup)
        #expect(t.keys == "")
        #expect(t.answeredAt != nil)
    }

    @Test func cancelWhileRingingIs487AndCancelled() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("cancel-ringing", service: "12346")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .cancelled)
        #expect(t.sipStatus == 487)
        #expect(t.answeredAt == nil)
    }

    @Test func unknownNumberIs404AndTicketedAsRejected() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("unknown-number", service: "99999")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .rejected)
        #expect(t.sipStatus == 404)
        #expect(t.dialled == "99999")
    }

    @Test func noCommonCodecIs488() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("no-common-codec")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.sipStatus == 488)
        #expect(t.disposition == .rejected)
    }

    @Test func optionsAndRefusalsOutsideADialog() async throws {
        // Without a contact centre, so REGISTER is refused (with one it is challenged: ContactCentreTests).
        let server = try await ServerProcess(extra: ["--agents", "off"])
        let options = try await server.sipp("options")
        #expect(options.status == 0, "sipp: \(options.stderr)")
        let refusals = try await server.sipp("out-of-dialog")
        #expect(refusals.status == 0, "sipp: \(refusals.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        #expect(try server.tickets().isEmpty, "no call, no ticket")
    }

    @Test func invitesAUASMustRefuseAreRefusedAndTicketed() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("refused-invites")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        #expect(Set(tickets.compactMap(\.sipStatus)) == [415, 416, 420])
        #expect(tickets.allSatisfy { $0.disposition == .rejected })
    }

    @Test func delayedOfferIsAnsweredInTheACK() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("delayed-offer")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .completedInIVR)
        #expect(t.keys == "3")
    }

    @Test func reInviteIsAnsweredWithSDP() async throws {
        let server = try await ServerProcess()
        let result = try await server.sipp("reinvite")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .callerHangup)
    }

    @Test func noInputRepeatsTheMenuThenSaysGoodbyeAndHangsUp() async throws {
        let server = try await ServerProcess()
        let started = ContinuousClock.now
        let result = try await server.sipp("no-input")
        let elapsed = ContinuousClock.now - started
        #expect(result.status == 0, "sipp: \(result.stderr)")
        // Three offers of a ~4 s menu with 5 s timeouts, then goodbye: well over 20 s.
        #expect(elapsed > .seconds(20), "menu repeated: \(elapsed)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .noInput)
        #expect(t.menuPath == ["bench_menu:no_input"])
    }

    @Test func the12345LineInEnglishKey3IsTheEnterpriseLine() async throws {
        let server = try await ServerProcess(dialplan: "Dialplans/12345.yaml")
        let result = try await server.sipp("ivr-12345-english-key3")
        #expect(result.status == 0, "sipp: \(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.keys == "23")
        #expect(t.businessLine == "enterprise")
        #expect(t.disposition == .completedInIVR)
        // Key 3 opens the enterprise line's own sub-menu; holding on registers the request (issue 3).
        #expect(t.menuPath == ["language_menu:2", "main_menu:3", "enterprise_menu:no_input"])
    }

    @Test func aBadDialplanStopsStartUpWithItsLocation() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("bad.yaml")
        try """
        dialplan: bad
        languages: [en]
        entries:
          - number: "12345"
            start: menu
        nodes:
          menu:
            type: menu
            prompt: bench_menu
            timout: 5s
            keys: {"3": nowhere}
        """.write(to: bad, atomically: true, encoding: .utf8)
        let result = try await run(Repo.binary, ["serve", "--sip", "127.0.0.1:0", "--http", "off", "--dialplan", bad.path,
                                                 "--db", directory.appendingPathComponent("t.sqlite").path], timeout: .seconds(30))
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.yaml:10:5: error:"), "\(result.stderr)")
        #expect(result.stderr.contains("timeout"), "the hint names the key meant")
        #expect(result.stderr.contains("nowhere"))
    }

    static let features = Repo.root.appendingPathComponent("Tests/IntegrationTests/Dialplans/features.yaml").path

    @Test func blindTransferByREFERSucceedsWhenTheCallerReachesTheTarget() async throws {
        let server = try await ServerProcess(dialplan: Self.features)
        let result = try await server.sipp("transfer-accepted")
        #expect(result.status == 0, "sipp: \(result.stderr.suffix(2000))")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == CallDisposition("transferred"))
        #expect(t.keys == "9")
    }

    @Test func aTransferTheCallerRefusesContinuesTheDialplan() async throws {
        let server = try await ServerProcess(dialplan: Self.features)
        let result = try await server.sipp("transfer-refused")
        #expect(result.status == 0, "sipp: \(result.stderr.suffix(2000))")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .notRouted, "the dialplan's on_failure branch ran")
    }

    @Test func aVoiceMessageIsRecordedBesideTheTicket() async throws {
        let server = try await ServerProcess(dialplan: Self.features)
        let result = try await server.sipp("voice-message")
        #expect(result.status == 0, "sipp: \(result.stderr.suffix(2000))")
        #expect(await server.stop() == 0, "clean shutdown")
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .completedInIVR)
        #expect(t.category == TicketCategory("suggestion"))
        // The call opened a work order carrying the dialplan's summary.
        let order = try #require(try SQLiteTicketReader(path: server.database).workOrder(id: t.id))
        #expect(order.subject == "voice message")
        #expect(order.details == "channel: ivr")
        #expect(order.status == .accepted)
        let recordings = server.directory.appendingPathComponent("recordings")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: recordings.path)) ?? []
        let file = try #require(files.first { $0.hasPrefix(t.id.rawValue) && $0.hasSuffix(".wav") }, "\(files)")
        let size = (try FileManager.default.attributesOfItem(atPath: recordings.appendingPathComponent(file).path)[.size] as? Int) ?? 0
        // At most 3 s of 8 kHz 16-bit mono (48,044 bytes with the header); at least one second of it.
        #expect((16_044...48_044).contains(size), "\(size) bytes")
    }

    @Test func keysSentAsTonesInTheAudioAreHeard() async throws {
        let server = try await ServerProcess(extra: ["--dtmf-inband", "always"])
        let result = try await run(Repo.binary, [
            "flood", "--target", "127.0.0.1:\(server.sipPort)", "--rate", "2", "--calls", "3", "--keys", "3",
            "--dtmf", "inband", "--expect-prompts", "bench_menu,bench_key3", "--language", "en", "--quiet",
            "--slo", "failed=0",
        ], timeout: .seconds(90))
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        #expect(tickets.count == 3 && tickets.allSatisfy { $0.keys == "3" && $0.disposition == .completedInIVR })
    }

    @Test func ticketsListPrintsJSON() async throws {
        let server = try await ServerProcess()
        _ = try await server.sipp("unknown-number", service: "99999")
        _ = try await server.sipp("ivr-key3-info")
        #expect(await server.stop() == 0, "clean shutdown")
        let result = try await run(Repo.binary, ["tickets", "list", "--db", server.database, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let decoded = try CallTicket.jsonDecoder.decode([CallTicket].self, from: Data(result.stdout.utf8))
        #expect(decoded.count == 2)
        #expect(Set(decoded.compactMap(\.disposition)) == [.rejected, .completedInIVR])
        for key in ["\"id\"", "\"call_id\"", "\"caller\"", "\"dialled\"", "\"arrived_at\"", "\"answered_at\"", "\"ended_at\"",
                    "\"keys\"", "\"menu_path\"", "\"business_line\"", "\"disposition\"", "\"dialplan_version\""] {
            #expect(result.stdout.contains(key), "JSON has \(key)")
        }
    }

    @Test func healthAndMetricsReportTheCalls() async throws {
        let server = try await ServerProcess()
        _ = try await server.sipp("ivr-key3-info")
        let health = try await server.http("/health")
        #expect(health.contains("\"status\":\"ok\""))
        let metrics = try await server.http("/metrics")
        #expect(metrics.contains("hotline_calls_total{disposition=\"completed_in_ivr\"} 1"), "\(metrics)")
        #expect(metrics.contains("hotline_sip_requests_total{direction=\"in\",method=\"INVITE\"} 1"))
        #expect(metrics.contains("hotline_sip_responses_total{direction=\"out\",status=\"200\"}"))
        #expect(metrics.contains("hotline_sip_requests_total{direction=\"out\",method=\"BYE\"} 1"))
        #expect(prometheusValue(metrics, "hotline_active_calls") == 0)
        let sent = metrics.firstMatch(of: /hotline_rtp_packets_total\{direction="out"\} (\d+)/).map { Int($0.1)! } ?? 0
        #expect(sent > 50, "about 1.5 s of menu and 1.5 s of the key-3 prompt went out as 20 ms packets")
        #expect(metrics.contains("hotline_ticket_writes_total{outcome=\"committed\"}"))
        // Latency histograms: the one answered call's setup and ticket open, the pacer's ticks.
        #expect(metrics.contains("# TYPE hotline_call_setup_seconds histogram"))
        #expect(metrics.contains("hotline_call_setup_seconds_count 1"), "\(metrics)")
        #expect(metrics.contains("hotline_call_setup_seconds_bucket{le=\"+Inf\"} 1"))
        #expect(metrics.contains("hotline_ticket_open_seconds_count 1"))
        let ticks = metrics.firstMatch(of: /hotline_rtp_tick_duration_seconds_count (\d+)/).map { Int($0.1)! } ?? 0
        #expect(ticks >= sent / 2, "a tick sent each frame (several calls' frames share a tick, one call's never)")
        // What a soak watches: timers (live, and heap entries with the cancelled), descriptors, memory.
        let pending = try #require(prometheusValue(metrics, "hotline_timers_pending"))
        let stored = try #require(prometheusValue(metrics, "hotline_timers_stored"))
        #expect(stored >= pending)
        #expect(try #require(prometheusValue(metrics, "hotline_open_fds")) >= 3)
        #expect(try #require(prometheusValue(metrics, "hotline_resident_memory_bytes")) > 1_048_576)
        #expect(await server.stop() == 0, "clean shutdown")
    }

    /// `--realtime`: the call loops and the ticket writer run under SCHED_RR (as root here;
    /// without the privilege the server says so and carries on time-shared); the admin API's
    /// loop and the dialplan publisher stay time-shared.
    @Test func realtimeSchedulingAppliesToTheCallLoopsAndTheTicketWriter() async throws {
        let server = try await ServerProcess(extra: ["--realtime"])
        _ = try await server.sipp("ivr-key3-info")
        // /proc/PID/task/TID/stat: field 41 (policy) after the ")" that ends the thread name.
        func policies() throws -> [String: Int] {
            var byName: [String: Int] = [:]
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/task")
            for tid in tasks {
                let stat = try String(contentsOfFile: "/proc/\(server.pid)/task/\(tid)/stat", encoding: .utf8)
                let name = String(stat[stat.index(after: stat.firstIndex(of: "(")!)..<stat.lastIndex(of: ")")!])
                let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
                byName[name] = Int(fields[38]) // field 41, counted from field 3 (state)
            }
            return byName
        }
        let byName = try policies()
        let loops = byName.filter { $0.key.hasPrefix("NIO-ELT") }
        #expect(!loops.isEmpty, "\(byName)")
        if getuid() == 0 {
            #expect(loops.values.allSatisfy { $0 == Int(SCHED_RR) }, "\(byName)")
            #expect(byName["hotline-tickets"] == Int(SCHED_RR), "\(byName)")
        }
        #expect(byName["hotline-admin"] == Int(SCHED_OTHER), "\(byName)")
        #expect(byName["hotline-publish"] == Int(SCHED_OTHER), "\(byName)")
        #expect(await server.stop() == 0, "clean shutdown")
    }
}
