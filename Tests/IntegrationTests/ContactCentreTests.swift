import Foundation
import Testing
import Tickets

/// The contact centre end to end: SIPp as agents' phones (REGISTER with digest, feature codes,
/// answering or ignoring the server's INVITEs, echoing RTP) and as callers waiting in queues,
/// against the real server, checked against its tickets and admin API.
///
/// Agents and queues: Tests/IntegrationTests/Dialplans/acd (2001/pw-2001 = a2001, home seat;
/// 2002/pw-2002 = a2002, on site). Every test ends within the 30 s OPTIONS keep-alive interval,
/// so SIPp's agent never sees an OPTIONS its scenario does not expect.
@Suite(.serialized)
struct ContactCentreTests {
    static let testAgents = ["--agents", "Tests/IntegrationTests/Dialplans/acd/agents.yaml",
                             "--queues", "Tests/IntegrationTests/Dialplans/acd/queues.yaml"]

    static func queueServer(_ extra: [String] = []) async throws -> ServerProcess {
        try await ServerProcess(dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", extra: testAgents + extra)
    }

    /// An agent's phone: the UDP port it registers from and is rung on.
    struct Phone {
        let user: String
        let password: String
        let port: String
        init(_ user: String, _ password: String) throws {
            self.user = user
            self.password = password
            port = String(try RawUDP().port) // free now; the socket closes at once
        }
    }

    static func register(_ phone: Phone, on server: ServerProcess, scenario: String = "agent-register") async throws -> CommandResult {
        try await server.sipp(scenario, service: phone.user,
                              extra: ["-p", phone.port, "-au", phone.user, "-ap", phone.password])
    }

    /// The phone waiting for `calls` INVITEs from the server, answering (echoing what it hears)
    /// or letting them ring, depending on `scenario`.
    static func ring(_ phone: Phone, on server: ServerProcess, scenario: String = "agent-answer", calls: Int = 1) -> Task<CommandResult, Error> {
        Task { try await server.sipp(scenario, calls: calls, extra: ["-p", phone.port, "-rtp_echo"], timeout: .seconds(60)) }
    }

    static func agentAction(_ action: String, _ id: String, on server: ServerProcess) async throws -> (Int, String) {
        try await server.http("POST", "/api/agents/\(id)/\(action)")
    }

    static func agents(_ server: ServerProcess) async throws -> [String: [String: Any]] {
        let body = try await server.http("/api/agents")
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let list = object?["agents"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: list.map { ($0["id"] as? String ?? "", $0) })
    }

    static func metric(_ server: ServerProcess, _ name: String) async throws -> Double {
        prometheusValue(try await server.http("/metrics"), name) ?? 0
    }

    // MARK: - Registration, login, a call answered

    @Test func registeredAgentAnswersAQueuedCallerAndTheTicketHasTheQueueRecord() async throws {
        let server = try await Self.queueServer()
        let phone = try Phone("2001", "pw-2001")
        let registered = try await Self.register(phone, on: server)
        try #require(registered.status == 0, "REGISTER: \(registered.stderr)\n\(server.log)")
        var agent = try #require(try await Self.agents(server)["a2001"])
        #expect(agent["state"] as? String == "logged_out", "registering is not logging in")
        #expect((agent["registrations"] as? [[String: Any]])?.first?["source"] as? String == "udp:127.0.0.1:\(phone.port)")

        let answering = Self.ring(phone, on: server)
        let (status, body) = try await Self.agentAction("login", "a2001", on: server)
        #expect(status == 200, "\(body)")
        let caller = try await server.sipp("caller-queue", extra: ["-d", "1000"])
        #expect(caller.status == 0, "caller: \(caller.stderr)")
        let agentLeg = try await answering.value
        #expect(agentLeg.status == 0, "agent: \(agentLeg.stderr)\n\(server.log)")

        // The echoing phone sent back what it heard: audio crossed the bridge both ways.
        #expect(try await Self.metric(server, #"hotline_agent_rtp_packets_total{direction="out"}"#) >= 50)
        #expect(try await Self.metric(server, #"hotline_agent_rtp_packets_total{direction="in"}"#) >= 50)
        agent = try #require(try await Self.agents(server)["a2001"])
        #expect(agent["state"] as? String == "available", "wrap_up 0s: free again")
        #expect(agent["calls_answered"] as? Int == 1)

        #expect(await server.stop() == 0)
        let t = try #require(try server.tickets().first)
        let q = try #require(t.queue, "\(t)")
        #expect(q.queue == "operator")
        #expect(q.agent == "a2001")
        #expect(q.agentAnsweredAt != nil)
        #expect(!q.abandoned && !q.overflowed && !q.callback)
        #expect((q.waitMilliseconds ?? -1) >= 0 && (q.waitMilliseconds ?? .max) < 5_000)
        #expect((q.talkMilliseconds ?? 0) >= 2_000, "the caller talked about 3 s after answer")
        #expect(t.disposition == .callerHangup)
    }

    @Test func key3Then2ReachesTheEnterpriseExpertNotTheLongerIdleGeneralAgent() async throws {
        // The shipped 12345 dialplan, agents and queues (demo passwords demo-<user>), except
        // that MD5 is challenged first: SIPp 3.6 answers only the first challenge, in MD5.
        let shipped = try String(contentsOf: Repo.root.appendingPathComponent("Dialplans/acd/agents.yaml"), encoding: .utf8)
        let agentsFile = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-agents-\(UUID().uuidString).yaml")
        let md5First = shipped.replacingOccurrences(of: "digest_algorithms: [sha256, md5]", with: "digest_algorithms: [md5, sha256]")
        try #require(md5First != shipped, "the shipped agents.yaml changed its digest_algorithms line")
        try md5First.write(to: agentsFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: agentsFile) }
        let server = try await ServerProcess(dialplan: "Dialplans/12345.yaml",
                                             extra: ["--agents", agentsFile.path, "--queues", "Dialplans/acd/queues.yaml"])
        let general = try Phone("1001", "demo-1001")   // general 3, tax 4
        let expert = try Phone("1003", "demo-1003")    // enterprise 4, business_environment 3
        for phone in [general, expert] {
            let r = try await Self.register(phone, on: server)
            try #require(r.status == 0, "REGISTER \(phone.user): \(r.stderr)")
        }
        #expect(try await Self.agentAction("login", "a1001", on: server).0 == 200)
        let answering = Self.ring(expert, on: server)
        #expect(try await Self.agentAction("login", "a1003", on: server).0 == 200)

        let caller = try await server.sipp("caller-enterprise", extra: ["-d", "1500"])
        #expect(caller.status == 0, "caller: \(caller.stderr)\n\(server.log)")
        let agentLeg = try await answering.value
        #expect(agentLeg.status == 0, "expert: \(agentLeg.stderr)")
        #expect(try await Self.metric(server, #"hotline_agent_rtp_packets_total{direction="in"}"#) >= 50)
        #expect(try await Self.agents(server)["a1001"]?["calls_answered"] as? Int == 0)

        #expect(await server.stop() == 0)
        let t = try #require(try server.tickets().first)
        #expect(t.keys == "232")
        #expect(t.businessLine == "enterprise")
        #expect(t.category == .consultation)
        #expect(t.queue?.queue == "enterprise_experts")
        #expect(t.queue?.agent == "a1003")
    }

    // MARK: - Fairness, ring-no-answer, overflow, abandon

    @Test func theLongestWaitingCallerIsServedFirstAcrossTwoQueues() async throws {
        let server = try await Self.queueServer()
        let phone = try Phone("2001", "pw-2001")
        try #require(try await Self.register(phone, on: server).status == 0)
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        #expect(try await Self.agentAction("pause", "a2001", on: server).0 == 200)
        let answering = Self.ring(phone, on: server, calls: 2)

        // First a caller for operator, then one for tax; the one agent serves both queues.
        let first = Task { try await server.sipp("caller-queue", service: "12345", extra: ["-d", "2500"]) }
        try await waitUntil("operator caller queued") { try await Self.waiting(server, "operator") == 1 }
        let second = Task { try await server.sipp("caller-queue", service: "12346", extra: ["-d", "9000"]) }
        try await waitUntil("tax caller queued") { try await Self.waiting(server, "tax") == 1 }
        #expect(try await Self.agentAction("unpause", "a2001", on: server).0 == 200)

        let (a, b, agentLegs) = (try await first.value, try await second.value, try await answering.value)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)\n\(b.stderr)")
        #expect(agentLegs.status == 0, "agent: \(agentLegs.stderr)\n\(server.log)")
        #expect(await server.stop() == 0)
        let tickets = try server.tickets()
        let operatorCall = try #require(tickets.first { $0.dialled == "12345" }?.queue)
        let taxCall = try #require(tickets.first { $0.dialled == "12346" }?.queue)
        #expect(operatorCall.agent == "a2001" && taxCall.agent == "a2001")
        let firstAnswer = try #require(operatorCall.agentAnsweredAt), secondAnswer = try #require(taxCall.agentAnsweredAt)
        #expect(firstAnswer < secondAnswer, "the caller who waited longest is served first")
        #expect(!taxCall.abandoned)
    }

    @Test func ringNoAnswerRequeuesTheCallerToTheNextAgent() async throws {
        let server = try await Self.queueServer()
        let absent = try Phone("2001", "pw-2001"), present = try Phone("2002", "pw-2002")
        for phone in [absent, present] { try #require(try await Self.register(phone, on: server).status == 0) }
        let ringing = Self.ring(absent, on: server, scenario: "agent-no-answer")
        let answering = Self.ring(present, on: server)
        // a2001 logs in first, so longest_idle offers it the caller first.
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        #expect(try await Self.agentAction("login", "a2002", on: server).0 == 200)

        let caller = try await server.sipp("caller-queue", extra: ["-d", "6000"])
        #expect(caller.status == 0, "caller: \(caller.stderr)")
        let (missed, answered) = (try await ringing.value, try await answering.value)
        #expect(missed.status == 0, "the unanswered phone is CANCELled after ring_timeout: \(missed.stderr)\n\(server.log)")
        #expect(answered.status == 0, "agent 2002: \(answered.stderr)")
        let states = try await Self.agents(server)
        #expect(states["a2001"]?["consecutive_misses"] as? Int == 1)
        #expect(states["a2001"]?["state"] as? String == "available", "one miss of 3 does not pause")

        #expect(await server.stop() == 0)
        let q = try #require(try server.tickets().first?.queue)
        #expect(q.agent == "a2002")
        #expect((q.waitMilliseconds ?? 0) >= 4_000, "waited through a2001's 4 s ring timeout")
    }

    @Test func overflowAfterTheWaitLimit() async throws {
        let server = try await Self.queueServer()
        let phone = try Phone("2001", "pw-2001")
        try #require(try await Self.register(phone, on: server).status == 0)
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        #expect(try await Self.agentAction("pause", "a2001", on: server).0 == 200, "staffed, but nobody free")

        let caller = try await server.sipp("caller-overflow", service: "12347")
        #expect(caller.status == 0, "caller: \(caller.stderr)\n\(server.log)")
        #expect(await server.stop() == 0)
        let t = try #require(try server.tickets().first)
        let q = try #require(t.queue)
        #expect(q.queue == "short")
        #expect(q.overflowed)
        #expect(q.agent == nil)
        #expect((q.waitMilliseconds ?? 0) >= 2_000, "max_wait 2s")
        #expect(t.disposition == .notRouted)
    }

    @Test func aWaitingCallerHearsTheirPositionThenTheMusic() async throws {
        let server = try await Self.queueServer()
        let phone = try Phone("2001", "pw-2001")
        try #require(try await Self.register(phone, on: server).status == 0)
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        #expect(try await Self.agentAction("pause", "a2001", on: server).0 == 200, "staffed, but nobody free")
        // The project's own caller names what it hears from the audio itself.
        let flood = try await run(Repo.binary, [
            "flood", "--target", "127.0.0.1:\(server.sipPort)", "--number", "12346", "--calls", "1", "--rate", "1",
            "--hangup", "caller", "--hold", "7s", "--prompts", "Prompts", "--json", "--quiet",
        ], timeout: .seconds(60))
        #expect(flood.status == 0, "\(flood.stdout)\(flood.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(flood.stdout.utf8)) as? [String: Any]
        let heard = (report?["prompts"] as? [String: Any])?["heard"] as? [String: Int] ?? [:]
        #expect(heard["queue_position_before", default: 0] >= 1, "\(heard)")
        #expect(heard["queue_position_after", default: 0] >= 1, "\(heard)")
        #expect(heard["queue_music", default: 0] >= 1, "\(heard)")
        #expect(await server.stop() == 0)
        let q = try #require(try server.tickets().first?.queue)
        #expect(q.queue == "tax" && q.abandoned, "hung up waiting")
    }

    @Test func aCallerHangingUpWhileTheAgentRingsCancelsTheAgentLeg() async throws {
        let server = try await Self.queueServer()
        let phone = try Phone("2001", "pw-2001")
        try #require(try await Self.register(phone, on: server).status == 0)
        let ringing = Self.ring(phone, on: server, scenario: "agent-no-answer")
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        let caller = try await server.sipp("caller-queue-hangup", extra: ["-d", "2000"])
        #expect(caller.status == 0, "caller: \(caller.stderr)")
        let agentLeg = try await ringing.value
        #expect(agentLeg.status == 0, "CANCEL, 487, ACK: \(agentLeg.stderr)\n\(server.log)")
        #expect(await server.stop() == 0)
        let q = try #require(try server.tickets().first?.queue)
        #expect(q.abandoned)
        #expect(q.agent == nil || q.agentAnsweredAt == nil)
    }

    // MARK: - Seats, passwords, floods

    @Test func aLoginBeyondTheSeatLimitIsRefusedThenSucceedsAfterSeatsSet() async throws {
        let server = try await Self.queueServer()
        let (status, _) = try await server.http("PUT", "/api/seats", body: #"{"licensed": 1}"#)
        #expect(status == 200)
        let home = try Phone("2001", "pw-2001"), onSite = try Phone("2002", "pw-2002")
        for phone in [home, onSite] { try #require(try await Self.register(phone, on: server).status == 0) }
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        let (refused, reason) = try await Self.agentAction("login", "a2002", on: server)
        #expect(refused == 409, "\(reason)")
        #expect(reason.contains("no_seat_available"))

        let cli = try await run(Repo.binary, ["seats", "set", "2", "--http", "127.0.0.1:\(server.httpPort)"])
        #expect(cli.status == 0, "\(cli.stdout)\(cli.stderr)")
        // This time from the phone: *21 with digest credentials.
        let login = try await server.sipp("agent-feature", service: "*21",
                                          extra: ["-p", onSite.port, "-key", "user", "2002", "-au", "2002", "-ap", "pw-2002",
                                                  // SIPp's digest uri is the server's address unless told the Request-URI
                                                  "-auth_uri", "*21@127.0.0.1:\(server.sipPort)"])
        #expect(login.status == 0, "*21: \(login.stderr)\n\(server.log)")
        #expect(try await Self.agents(server)["a2002"]?["state"] as? String == "available")
        let seats = try JSONSerialization.jsonObject(with: Data(try await server.http("/api/seats").utf8)) as? [String: Int]
        #expect(seats == ["licensed": 2, "logged_in": 2, "remote": 1])
        #expect(await server.stop() == 0)

        // The seats set at runtime outlive a restart (agents.yaml still says 4, as when they were set).
        let restarted = try await ServerProcess(reusing: server, dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml",
                                                extra: Self.testAgents)
        let after = try JSONSerialization.jsonObject(with: Data(try await restarted.http("/api/seats").utf8)) as? [String: Int]
        #expect(after?["licensed"] == 2, "\(restarted.log)")
        #expect(await restarted.stop() == 0)
    }

    @Test func agentsAddedToAgentsYAMLWorkAfterAReloadAndABadFileIsRefused() async throws {
        // Start with a2001 only: a2002's block cut out of the test agents.
        let full = try String(contentsOf: Repo.root.appendingPathComponent("Tests/IntegrationTests/Dialplans/acd/agents.yaml"), encoding: .utf8)
        let cut = try #require(full.range(of: "  - id: a2002"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let agentsFile = directory.appendingPathComponent("agents.yaml")
        try String(full[..<cut.lowerBound]).write(to: agentsFile, atomically: true, encoding: .utf8)
        let server = try await ServerProcess(dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", extra: [
            "--agents", agentsFile.path, "--queues", "Tests/IntegrationTests/Dialplans/acd/queues.yaml"])
        let one = try Phone("2001", "pw-2001"), two = try Phone("2002", "pw-2002")
        try #require(try await Self.register(one, on: server).status == 0)
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        #expect(try await Self.agents(server)["a2002"] == nil)
        #expect(try await Self.register(two, on: server).status != 0, "2002 is nobody yet: challenged again")

        // A broken file is refused with its location; the live agents stay.
        try (full + "    bogus_key: 1\n").write(to: agentsFile, atomically: true, encoding: .utf8)
        let (refused, why) = try await server.http("POST", "/api/contact-centre/reload")
        #expect(refused == 422, "\(why)")
        #expect(why.contains("agents.yaml:") && why.contains("bogus_key"), "\(why)")
        #expect(try await Self.agents(server)["a2001"]?["state"] as? String == "available")

        // The whole file with 6 seats, and SIGHUP (what an admin's `kill -HUP` does): a2002
        // exists and works, and the edited licensed_seats applies.
        let sixSeats = full.replacingOccurrences(of: "licensed_seats: 4", with: "licensed_seats: 6")
        try #require(sixSeats != full)
        try sixSeats.write(to: agentsFile, atomically: true, encoding: .utf8)
        kill(server.pid, SIGHUP)
        try await waitUntil("a2002 loaded") { try await Self.agents(server)["a2002"] != nil }
        let registered = try await Self.register(two, on: server)
        #expect(registered.status == 0, "\(registered.stderr)")
        #expect(try await Self.agentAction("login", "a2002", on: server).0 == 200)
        #expect(try await Self.agents(server)["a2001"]?["state"] as? String == "available", "nobody was logged out")
        #expect(server.log.contains("contact centre reloaded"))
        let seats = try JSONSerialization.jsonObject(with: Data(try await server.http("/api/seats").utf8)) as? [String: Int]
        #expect(seats?["licensed"] == 6 && seats?["logged_in"] == 2)
        #expect(await server.stop() == 0)
    }

    @Test func keepAlivesMarkASilentPhoneUnreachableAndItsAgentIsOfferedNothing() async throws {
        let server = try await Self.queueServer(["--agent-keepalive", "1"])
        let phone = try Phone("2001", "pw-2001")
        try #require(try await Self.register(phone, on: server).status == 0)
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        // The phone answers three keep-alives (sent to the address it registered from), then
        // goes silent, as when a home router drops the NAT binding.
        let answered = try await server.sipp("agent-keepalive", calls: 3, extra: ["-p", phone.port], timeout: .seconds(30))
        #expect(answered.status == 0, "three OPTIONS came and were answered: \(answered.stderr)")
        #expect(try await Self.agents(server)["a2001"]?["reachable"] as? Bool == true)
        // Two unanswered probes (5 s each) later: unreachable, still logged in.
        try await waitUntil("a2001 unreachable", timeout: .seconds(25)) {
            try await Self.agents(server)["a2001"]?["reachable"] as? Bool == false
        }
        #expect(try await Self.agents(server)["a2001"]?["state"] as? String == "available")
        // So a caller finds nobody who could serve them: the queue's on_unavailable, at once.
        let caller = try await server.sipp("caller-overflow", service: "12345")
        #expect(caller.status == 0, "\(caller.stderr)")
        #expect(await server.stop() == 0)
        let t = try #require(try server.tickets().first)
        #expect(t.disposition == .notRouted)
        #expect(t.queue?.agent == nil)
    }

    @Test func wrongPasswordsLockTheUserOut() async throws {
        let server = try await Self.queueServer()
        let phone = try Phone("2002", "not-the-password")
        let guessing = try await Self.register(phone, on: server, scenario: "agent-register-wrong-password")
        #expect(guessing.status == 0, "five 401s, then 403: \(guessing.stderr)\n\(server.log)")
        // Now locked: even the right password is refused.
        let right = try Phone("2002", "pw-2002")
        let refused = try await Self.register(right, on: server, scenario: "agent-register-refused")
        #expect(refused.status == 0, "403 for a locked user: \(refused.stderr)")
        #expect(try await Self.metric(server, "hotline_agent_lockouts_total") >= 1)
        #expect(try await Self.metric(server, "hotline_agent_authentication_failures_total") >= 5)
        #expect((try await Self.agents(server)["a2002"]?["registrations"] as? [Any])?.isEmpty == true)
        #expect(server.log.contains("lock"), "the lockout is logged as a security event")
        #expect(await server.stop() == 0)
    }

    @Test func aFloodBeyondMaxCallsGets503sWhileQueuedCallersWait() async throws {
        let server = try await Self.queueServer(["--max-calls", "6"])
        let phone = try Phone("2001", "pw-2001")
        try #require(try await Self.register(phone, on: server).status == 0)
        #expect(try await Self.agentAction("login", "a2001", on: server).0 == 200)
        #expect(try await Self.agentAction("pause", "a2001", on: server).0 == 200, "callers queue up")

        let flood = try await server.sipp("caller-queue-or-503", calls: 30, rate: 30, extra: ["-d", "3000"])
        #expect(flood.status == 0, "every call was served or refused cleanly: \(flood.stderr)")
        let health = try await server.http("GET", "/health")
        #expect(health.0 == 200)
        #expect(await server.stop() == 0)
        let tickets = try server.tickets()
        #expect(tickets.count == 30)
        let rejected = tickets.filter { $0.disposition == .rejectedCapacity }
        #expect(rejected.count >= 20, "at most 6 at once of 30 arriving within a second")
        #expect(rejected.allSatisfy { $0.sipStatus == 503 && $0.queue == nil })
        let queued = tickets.filter { $0.queue != nil }
        #expect(queued.count >= 6 && queued.count + rejected.count == 30)
    }

    static func waiting(_ server: ServerProcess, _ queue: String) async throws -> Int {
        let object = try JSONSerialization.jsonObject(with: Data(try await server.http("/api/queues").utf8)) as? [String: Any]
        let queues = object?["queues"] as? [[String: Any]] ?? []
        return queues.first { $0["name"] as? String == queue }?["waiting"] as? Int ?? 0
    }
}

/// Polls `condition` every 50 ms until it holds, for at most `timeout`: for state only the
/// admin API shows (no event to await from outside the process).
func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}
