// Calls the server places, with SIPp as the trunk and the citizen's phone: a work order
// reaching feedback gets a survey call; a busy line is tried again after the retry delay; the
// answered call's key becomes the work order's return-visit score; the number presented is the
// hotline's, on the wire; the campaign API reports it.

import Foundation
import SIPAuth
import Testing
import Tickets
import TicketsSQLite
import TicketsTestSupport

@Suite(.serialized) struct OutboundCallTests {
    /// A SIPp UAS on `port` taking one call with `scenario`, its messages logged in `directory`.
    static func citizen(_ scenario: String, port: Int, directory: URL) async throws -> CommandResult {
        let sipp = try SIPp.require()
        let log = directory.appendingPathComponent("citizen-\(scenario)-messages.log").path
        return try await run(sipp, ["-sf", Repo.scenario(scenario), "-p", String(port), "-i", "127.0.0.1", "-mi", "127.0.0.1",
                                    "-mp", String(allocateSIPpMediaPort()), "-m", "1", "-nostdin", "-recv_timeout", "30000",
                                    "-timeout_error", "-trace_msg", "-message_file", log,
                                    "-trace_err", "-error_file", directory.appendingPathComponent("citizen-\(scenario)-errors.log").path],
                             timeout: .seconds(60))
    }

    @Test func aWorkOrderInFeedbackGetsASurveyCallBusyIsRetriedAndTheKeyBecomesTheScore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-outbound-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = directory.appendingPathComponent("tickets.sqlite").path
        // A work order handled and fed back, due its return visit.
        let policy = try WorkOrderPolicy.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/sla.yaml").path)
        let units = try UnitDirectory.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/units.yaml").path)
        let seeded = try SQLiteTicketStore(path: database, options: .init(timeZone: .current, policy: policy, units: units))
        let start = Date().addingTimeInterval(-86400)
        let order = try await seeded.createWorkOrder(WorkOrderIntake(
            channel: .web, caller: "13800000077", category: .help, subject: "street light", acceptedAt: start, actor: "seed"))
        for (index, step) in [("dispatched", "yinchuan.jinfeng"), ("signed", "yinchuan.jinfeng"), ("handled", nil), ("feedback", nil)].enumerated() {
            let event = try TicketEventRequest(kind: step.0, unit: step.1).event(actor: "seed", now: start.addingTimeInterval(Double(index + 1) * 600))
            _ = try await seeded.append(event, to: order.id)
        }
        seeded.close()

        let trunkPort = try RawUDP().port
        let trunks = directory.appendingPathComponent("trunks.yaml").path
        try """
            trunks:
              - name: carrier
                uri: "sip:127.0.0.1:\(trunkPort)"
                caller_id: "12345"
                p_asserted_identity: "sip:12345@gov.example"
                calls_per_second: 5
                max_concurrent: 2
                ring_timeout: 20s
            """.write(toFile: trunks, atomically: true, encoding: .utf8)

        // The line is busy at the first attempt.
        let busy = Task { try await Self.citizen("citizen-busy", port: trunkPort, directory: directory) }
        let server = try await ServerProcess(directory: directory, database: database, dialplan: "Tests/IntegrationTests/Dialplans/return-visit.yaml",
                                             extra: ["--trunks", trunks, "--return-visit-poll", "200ms",
                                                     "--outbound-retry", "busy=3s,no_answer=3s,unreachable=3s,answered=3s",
                                                     "--units", Repo.root.appendingPathComponent("Dialplans/tickets/units.yaml").path])
        let busyResult = try await busy.value
        #expect(busyResult.status == 0, "busy citizen: \(busyResult.stderr)")
        let busyAt = Date()
        // The retry comes after the delay; the citizen now answers and presses 1.
        let answered = try await Self.citizen("citizen-answers-survey", port: trunkPort, directory: directory)
        #expect(answered.status == 0, "answering citizen: \(answered.stderr)\n\(server.log.suffix(3000))")
        #expect(Date().timeIntervalSince(busyAt) >= 2.5, "the second attempt waited for the busy retry delay")

        // The number presented is the hotline's (From and P-Asserted-Identity), never another citizen's.
        let wire = try String(contentsOf: directory.appendingPathComponent("citizen-citizen-answers-survey-messages.log"), encoding: .utf8)
        let invite = wire.components(separatedBy: "INVITE sip:").dropFirst().first ?? ""
        #expect(invite.hasPrefix("13800000077@127.0.0.1:\(trunkPort)"), "Request-URI names the citizen")
        #expect(invite.contains("From: <sip:12345@"), "From presents the hotline's number")
        #expect(invite.contains("P-Asserted-Identity: <sip:12345@gov.example>"))

        // The score reaches the work order; the attempts are on record; the survey call is an
        // outbound ticket linked to the work order.
        let reader = try SQLiteTicketReader(path: database)
        var visited: WorkOrder?
        for _ in 0..<100 {
            visited = try reader.workOrder(id: order.id)
            if visited?.status == .visited, try reader.workOrderDetail(id: order.id, within: nil)?.outboundAttempts.count == 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(visited?.status == .visited && visited?.satisfaction == 5, "\(String(describing: visited))\n\(server.log.suffix(3000))")
        let detail = try #require(try reader.workOrderDetail(id: order.id, within: nil))
        let ticket = try #require(detail.calls.last?.call)
        #expect(ticket.direction == .outbound && ticket.caller == "13800000077" && ticket.answeredAt != nil)
        // Both attempts are on the work order, the answered one naming its call's ticket.
        #expect(detail.outboundAttempts.map(\.outcome) == [.busy, .answered] && detail.outboundAttempts.last?.ticket == ticket.id)
        let json = try await server.http("GET", "/api/tickets/\(order.id.rawValue)").1.filter { !$0.isWhitespace }
        #expect(json.contains(#""outbound_attempts":[{"#) && json.contains(#""direction":"outbound""#) && json.contains(#""outcome":"busy""#), "\(json)")
        let (status, body) = try await server.http("GET", "/api/campaigns/return_visit")
        #expect(status == 200)
        #expect(body.contains(#""completed":1"#) && body.contains(#""attempts":2"#), "\(body)")
        #expect(await server.stop() == 0)
        let attempts = try OutboundProbe.attempts(database: database, workOrder: order.id)
        #expect(attempts.map(\.outcome) == [.busy, .answered] && attempts.map(\.sipStatus) == [486, 200])
        try? FileManager.default.removeItem(at: directory)
    }
}


extension OutboundCallTests {
    @Test func aMoveMyCarRequestCallsTheOwnerFromTheHotlinesNumberAndClosesTheWorkOrder() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-movecar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = directory.appendingPathComponent("tickets.sqlite").path
        let units = Repo.root.appendingPathComponent("Dialplans/tickets/units.yaml").path
        let policy = try WorkOrderPolicy.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/sla.yaml").path)
        let seeded = try SQLiteTicketStore(path: database, options: .init(timeZone: .current, policy: policy,
                                                                          units: try UnitDirectory.load(contentsOf: units)))
        // Two requests as the IVR's key 4 leaves them: a plate with a known owner, and one without.
        let known = try await seeded.createWorkOrder(WorkOrderIntake(
            channel: .phone, caller: "13700000055", businessLine: "move_car", category: .help, details: "location: 88\nplate: 12345",
            acceptedAt: Date(), actor: "seed"))
        let unknown = try await seeded.createWorkOrder(WorkOrderIntake(
            channel: .phone, caller: "13700000066", businessLine: "move_car", category: .help, details: "location: 7\nplate: 99999",
            acceptedAt: Date(), actor: "seed"))
        seeded.close()
        let owners = directory.appendingPathComponent("owners.csv").path
        try "plate,owner_number\n12345,13900000001\n".write(toFile: owners, atomically: true, encoding: .utf8)
        let ownerPort = try RawUDP().port
        let trunks = directory.appendingPathComponent("trunks.yaml").path
        try "trunks:\n  - {name: carrier, uri: \"sip:127.0.0.1:\(ownerPort)\", caller_id: \"12345\", p_asserted_identity: \"sip:12345@gov.example\"}\n"
            .write(toFile: trunks, atomically: true, encoding: .utf8)

        let owner = Task { try await Self.citizen("owner-will-move", port: ownerPort, directory: directory) }
        let server = try await ServerProcess(directory: directory, database: database, dialplan: "Tests/IntegrationTests/Dialplans/move-car.yaml",
                                             extra: ["--trunks", trunks, "--vehicle-owners", owners, "--return-visit-poll", "200ms",
                                                     "--move-car-escalate", "yinchuan.traffic_police", "--units", units])
        let answered = try await owner.value
        #expect(answered.status == 0, "owner: \(answered.stderr)\n\(server.log.suffix(3000))")

        // Masked on the wire: the owner is called from the hotline's number; the caller's number
        // appears nowhere in the INVITE.
        let wire = try String(contentsOf: directory.appendingPathComponent("citizen-owner-will-move-messages.log"), encoding: .utf8)
        let invite = wire.components(separatedBy: "INVITE sip:").dropFirst().first?.components(separatedBy: "\n\n").first ?? ""
        #expect(invite.hasPrefix("13900000001@127.0.0.1:\(ownerPort)"), "Request-URI names the owner")
        #expect(invite.contains("From: <sip:12345@") && invite.contains("P-Asserted-Identity: <sip:12345@gov.example>"))
        #expect(!invite.contains("13700000055") && !invite.contains("3700000055"), "the caller's number is never presented")

        let reader = try SQLiteTicketReader(path: database)
        var closed: WorkOrder?, escalated: WorkOrder?
        for _ in 0..<100 {
            closed = try reader.workOrder(id: known.id)
            escalated = try reader.workOrder(id: unknown.id)
            if closed?.status == .closed, escalated?.status == .dispatched { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(closed?.status == .closed && closed?.answeredDirectlyAt != nil, "resolved in the IVR: \(String(describing: closed))\n\(server.log.suffix(4000))")
        #expect(escalated?.status == .dispatched && escalated?.unit == UnitID("yinchuan.traffic_police"),
                "no owner known: escalated to the traffic police")
        let call = try #require(try reader.workOrderDetail(id: known.id, within: nil)?.calls.last?.call)
        #expect(call.direction == .outbound && call.caller == "13900000001")
        #expect(await server.stop() == 0)
        try? FileManager.default.removeItem(at: directory)
    }
}

extension OutboundCallTests {
    /// A campaign's call through a trunk that challenges: the second INVITE answers the digest
    /// challenge with the trunk's HA1 (SIPp verifies it against the password), and the citizen
    /// answers. Then a phone that rings without an answer gets our CANCEL at the trunk's ring
    /// timeout: no answer, and with one attempt the job fails.
    @Test func aChallengingTrunkIsAnsweredWithDigestAndARingingPhoneIsCancelledAtTheRingTimeout() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-trunk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = try RawUDP().port
        let ha1 = try #require(DigestCredentials(username: "hotline", realm: "carrier.example", password: "trunk-secret").ha1[.md5])
        let trunks = directory.appendingPathComponent("trunks.yaml").path
        try """
            trunks:
              - name: carrier
                uri: "sip:127.0.0.1:\(port)"
                username: hotline
                realm: carrier.example
                ha1_md5: \(ha1)
                caller_id: "12345"
                ring_timeout: 2s
            """.write(toFile: trunks, atomically: true, encoding: .utf8)
        let server = try await ServerProcess(directory: directory, dialplan: "Tests/IntegrationTests/Dialplans/return-visit.yaml",
                                             extra: ["--trunks", trunks, "--return-visits", "off"])
        let sipp = try SIPp.require()
        func trunk(_ scenario: String, extra: [String] = []) -> Task<CommandResult, Error> {
            Task {
                try await run(sipp, ["-sf", Repo.scenario(scenario), "-p", String(port), "-i", "127.0.0.1", "-mi", "127.0.0.1",
                                     "-mp", String(allocateSIPpMediaPort()), "-m", "1", "-nostdin", "-recv_timeout", "20000",
                                     "-timeout_error"] + extra, timeout: .seconds(60))
            }
        }
        let challenged = trunk("trunk-challenges-then-answers")
        _ = try await server.http("POST", "/api/campaigns", body: #"{"id": "survey", "flow": "return_visit", "max_attempts": 1}"#)
        let (added, addBody) = try await server.http("POST", "/api/campaigns/survey/jobs", body: #"{"jobs": [{"number": "13800000021"}]}"#)
        #expect(added == 201, "\(addBody)")
        let authorized = try await challenged.value
        #expect(authorized.status == 0, "the challenge was answered with valid digest credentials: \(authorized.stderr)\n\(server.log.suffix(2000))")

        let ringing = trunk("citizen-rings-no-answer")
        _ = try await server.http("POST", "/api/campaigns", body: #"{"id": "ring", "flow": "return_visit", "max_attempts": 1}"#)
        _ = try await server.http("POST", "/api/campaigns/ring/jobs", body: #"{"jobs": [{"number": "13800000022"}]}"#)
        let cancelled = try await ringing.value
        #expect(cancelled.status == 0, "CANCEL at the ring timeout: \(cancelled.stderr)")
        var progress = ""
        for _ in 0..<50 {
            progress = try await server.http("/api/campaigns/ring")
            if progress.contains(#""failed":1"#) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(progress.contains(#""failed":1"#) && progress.contains(#""no_answer":1"#), "\(progress)")
        let survey = try await server.http("/api/campaigns/survey")
        #expect(survey.contains(#""completed":1"#), "\(survey)")
        #expect(await server.stop() == 0)
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Reads the outbound attempts of a stopped server's database.
enum OutboundProbe {
    static func attempts(database: String, workOrder: TicketID) throws -> [OutboundAttempt] {
        let store = try SQLiteTicketStore(path: database)
        defer { store.close() }
        return try store.attempts(workOrder: workOrder)
    }

    static func job(database: String, id: String) throws -> OutboundJob? {
        let store = try SQLiteTicketStore(path: database)
        defer { store.close() }
        return try store.job(id: id)
    }
}

extension OutboundCallTests {
    /// Quiet hours on the real clock: the survey flow's calendar has today and tomorrow as
    /// holidays, so the due return visit is not dialled (the trunk's socket hears nothing) and
    /// waits for the day after tomorrow, 00:00 in the calendar's zone. (The schedule's hours,
    /// nights and retries are tested on a manual clock in OutboundSchedulerTests.)
    @Test func noCallIsPlacedOutsideTheFlowsCalendarTheVisitWaitsForTheNextOpening() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-quiet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = directory.appendingPathComponent("tickets.sqlite").path
        let policy = try WorkOrderPolicy.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/sla.yaml").path)
        let units = Repo.root.appendingPathComponent("Dialplans/tickets/units.yaml").path
        let seeded = try SQLiteTicketStore(path: database, options: .init(timeZone: .current, policy: policy,
                                                                          units: try UnitDirectory.load(contentsOf: units)))
        let start = Date().addingTimeInterval(-3600)
        let order = try await seeded.createWorkOrder(WorkOrderIntake(channel: .web, caller: "13800000011", category: .help,
                                                                     acceptedAt: start, actor: "seed"))
        for (index, step) in [("dispatched", "yinchuan.jinfeng"), ("signed", "yinchuan.jinfeng"), ("handled", nil), ("feedback", nil)].enumerated() {
            _ = try await seeded.append(try TicketEventRequest(kind: step.0, unit: step.1).event(actor: "seed", now: start.addingTimeInterval(Double(index + 1) * 60)),
                                        to: order.id)
        }
        seeded.close()
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let today = utc.startOfDay(for: Date())
        let day = { (offset: Int) -> String in
            let c = utc.dateComponents([.year, .month, .day], from: utc.date(byAdding: .day, value: offset, to: today)!)
            return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        }
        let plan = directory.appendingPathComponent("quiet.yaml").path
        let survey = try String(contentsOf: Repo.root.appendingPathComponent("Tests/IntegrationTests/Dialplans/return-visit.yaml"), encoding: .utf8)
        try survey.replacingOccurrences(of: "time_zone: Asia/Shanghai", with: """
            time_zone: UTC
            calendars:
              visits:
                hours: {mon-sun: ["00:00-23:59"]}
                holidays: [\(day(0)), \(day(1))]
            """).replacingOccurrences(of: "    start: survey\n", with: "    start: survey\n    calendar: visits\n")
            .write(toFile: plan, atomically: true, encoding: .utf8)
        let trunk = try RawUDP()
        let trunks = directory.appendingPathComponent("trunks.yaml").path
        try "trunks:\n  - {name: carrier, uri: \"sip:127.0.0.1:\(trunk.port)\", caller_id: \"12345\"}\n".write(toFile: trunks, atomically: true, encoding: .utf8)
        let server = try await ServerProcess(directory: directory, database: database, dialplan: plan,
                                             extra: ["--trunks", trunks, "--return-visit-poll", "100ms", "--units", units])
        var scheduled = false
        for _ in 0..<50 {
            let (_, body) = try await server.http("GET", "/api/campaigns/return_visit")
            if body.contains(#""scheduled":1"#) { scheduled = true; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(scheduled, "the visit is scheduled: \(server.log.suffix(2000))")
        #expect(trunk.drain(quietFor: .seconds(2)).isEmpty, "no INVITE in quiet hours")
        #expect(await server.stop() == 0)
        let job = try #require(try OutboundProbe.job(database: database, id: "rv-\(order.id.rawValue)"))
        #expect(job.state == .scheduled && job.attempts == 0)
        #expect(job.notBefore == utc.date(byAdding: .day, value: 2, to: today), "\(job.notBefore)")
        try? FileManager.default.removeItem(at: directory)
    }
}

extension OutboundCallTests {
    /// A queued callback that dials: the caller overflows to a callback request; the agent who
    /// takes it answers first, then the server calls the citizen through the trunk and bridges
    /// them; the citizen's hang-up ends the agent's leg too, and the call is an outbound ticket
    /// with the queue's record (callback, the agent).
    @Test func aCallbackTakenByAnAgentDialsTheCitizenAndBridgesThem() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-callback-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let citizenPort = try RawUDP().port
        let trunks = directory.appendingPathComponent("trunks.yaml").path
        try "trunks:\n  - {name: carrier, uri: \"sip:127.0.0.1:\(citizenPort)\", caller_id: \"12345\"}\n"
            .write(toFile: trunks, atomically: true, encoding: .utf8)
        let server = try await ServerProcess(directory: directory, dialplan: "Tests/IntegrationTests/Dialplans/callback.yaml",
                                             extra: ["--agents", "Tests/IntegrationTests/Dialplans/acd/agents.yaml",
                                                     "--queues", "Tests/IntegrationTests/Dialplans/acd-callback/queues.yaml",
                                                     "--trunks", trunks])
        // Nobody serves the queue: after 1 s the caller is offered a callback and hung up.
        let caller = try await server.sipp("caller-overflow")
        #expect(caller.status == 0, "caller: \(caller.stderr)\n\(server.log.suffix(2000))")

        let phone = try ContactCentreTests.Phone("2001", "pw-2001")
        let registered = try await ContactCentreTests.register(phone, on: server)
        try #require(registered.status == 0, "REGISTER: \(registered.stderr)")
        let answering = ContactCentreTests.ring(phone, on: server)
        let citizen = Task { try await Self.citizen("citizen-answers-hangs-up", port: citizenPort, directory: directory) }
        let (status, body) = try await ContactCentreTests.agentAction("login", "a2001", on: server)
        #expect(status == 200, "\(body)")
        let agentLeg = try await answering.value
        #expect(agentLeg.status == 0, "agent: \(agentLeg.stderr)\n\(server.log.suffix(3000))")
        let citizenLeg = try await citizen.value
        #expect(citizenLeg.status == 0, "citizen: \(citizenLeg.stderr)\n\(server.log.suffix(3000))")
        #expect(server.log.contains("callback connected"))

        let wire = try String(contentsOf: directory.appendingPathComponent("citizen-citizen-answers-hangs-up-messages.log"), encoding: .utf8)
        let invite = wire.components(separatedBy: "INVITE sip:").dropFirst().first ?? ""
        #expect(invite.hasPrefix("13800131@127.0.0.1:\(citizenPort)"), "the citizen's own number is dialled")
        #expect(invite.contains("From: <sip:12345@"))

        #expect(await server.stop() == 0)
        let tickets = try server.tickets()
        let outbound = try #require(tickets.first { $0.direction == .outbound }, "\(tickets)")
        #expect(outbound.caller == "13800131" && outbound.answeredAt != nil && outbound.disposition == .callerHangup)
        #expect(outbound.queue?.callback == true && outbound.queue?.agent == "a2001" && outbound.queue?.queue == "cb")
        #expect(tickets.contains { $0.direction == .inbound && $0.queue?.callback == true }, "the request's own call is kept too")
    }
}
