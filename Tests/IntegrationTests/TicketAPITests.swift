import Foundation
import Handoffs
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TicketsTestSupport
import Tickets
import TicketsSQLite
import Yams

/// The admin API of a real `hotline serve`, on a database seeded with work orders, checked
/// against docs/openapi.yaml: every documented operation is called, every status it answers
/// must be documented for it, every JSON body must match the documented schema, and every
/// route the server serves must be documented. Along the way: the roles, the unit scopes,
/// masking, paging, and the error statuses. The server runs with the test contact centre
/// (Tests/IntegrationTests/Dialplans/acd: agents a2001 on a home seat and a2002 on site, four
/// licensed seats, queues operator, tax and short).
@Suite(.serialized)
struct TicketAPITests {
    static let adminToken = "admin-token-for-the-api-tests"
    static let staffToken = "xingqing-token-for-the-api-tests"
    static let auditorToken = "auditor-token-for-the-api-tests"
    static let agentToken = "a2001-token-for-the-api-tests"

    /// The seeded work orders.
    struct Seed {
        var directory: URL
        /// With yinchuan.xingqing, dispatched (unit staff of Xingqing see it), linked to a call
        /// that waited in the operator queue.
        var xingqing: TicketID
        /// With yinchuan.jinfeng, closed after a return visit.
        var jinfeng: TicketID
        /// Accepted, never dispatched.
        var fresh: TicketID
        var call: TicketID
        var count: Int
        /// The seeded store (kept alive: a PostgreSQL test database is dropped with it).
        var database: TestDatabase
        /// The server's --db for it.
        var db: String
    }

    /// A ticket database with three work orders and a call, and a tokens file, in a new directory.
    static func seed(_ backend: StoreBackend) async throws -> Seed {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let policy = try WorkOrderPolicy.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/sla.yaml").path)
        let units = try UnitDirectory.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/units.yaml").path)
        let database = try await TestDatabase(backend)
        let store = try database.open(TestStoreOptions(timeZone: .current, policy: policy, units: units))
        defer { store.close() }
        let start = Date().addingTimeInterval(-3 * 86400)
        func at(_ minutes: Double) -> Date { start.addingTimeInterval(minutes * 60) }

        // A finished call that an agent answered from the operator queue, linked to the first work order.
        let callID = store.allocateID(at: at(0))
        var call = CallTicket(id: callID, callID: "seed-call@127.0.0.1", caller: "13800138000", dialled: "12345",
                              arrivedAt: at(0), dialplanVersion: "seed")
        call.answeredAt = at(0.01)
        call.endedAt = at(3)
        call.keys = "3"
        call.menuPath = ["bench_menu:3"]
        call.disposition = .callerHangup
        call.sipStatus = 200
        call.queue = QueueOutcome(queue: "operator", agent: "a2001", enqueuedAt: at(0.2), agentAnsweredAt: at(0.3),
                                  waitMilliseconds: 6_000, talkMilliseconds: 162_000)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            store.record(call) { continuation.resume(with: $0.mapError { $0 as Error }) }
        }

        func event(_ kind: String, unit: String? = nil, score: Int? = nil, at time: Date) throws -> TicketEvent {
            try TicketEventRequest(kind: kind, unit: unit, score: score).event(actor: "seed", now: time)
        }
        let xingqing = try await store.createWorkOrder(WorkOrderIntake(
            channel: .phone, caller: "13800138000", businessLine: "enterprise", category: .complaint,
            subject: "wage arrears", details: "A restaurant owes three months of wages.", acceptedAt: at(3),
            actor: "seed", calls: [callID]))
        _ = try await store.append(try event("dispatched", unit: "yinchuan.xingqing", at: at(10)), to: xingqing.id)

        let jinfeng = try await store.createWorkOrder(WorkOrderIntake(
            channel: .web, caller: "13900139000", category: .help, subject: "street light", acceptedAt: at(20), actor: "seed"))
        for (index, step) in [("dispatched", "yinchuan.jinfeng"), ("signed", "yinchuan.jinfeng"), ("handled", nil),
                              ("feedback", nil)].enumerated() {
            _ = try await store.append(try event(step.0, unit: step.1, at: at(30 + Double(index) * 10)), to: jinfeng.id)
        }
        _ = try await store.append(try event("return_visit", score: 5, at: at(90)), to: jinfeng.id)
        _ = try await store.append(try event("closed", at: at(100)), to: jinfeng.id)

        let fresh = try await store.createWorkOrder(WorkOrderIntake(
            channel: .app, caller: "+8613700137000", category: .consultation, acceptedAt: at(120), actor: "seed"))

        let auditorDigest = try await sha256Hex(auditorToken)
        let tokens = """
            # The API tests' tokens: one of each role.
            tokens:
              - name: centre
                role: admin
                token: "\(adminToken)"
              - name: xingqing-desk
                role: unit_staff
                unit: yinchuan.xingqing
                token: "\(staffToken)"
              - name: inspector
                role: auditor
                sha256: \(auditorDigest)
              - name: a2001-desk
                role: agent
                agent: a2001
                token: "\(agentToken)"
            """
        let tokensPath = directory.appendingPathComponent("tokens.yaml").path
        try tokens.write(toFile: tokensPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tokensPath)
        return Seed(directory: directory, xingqing: xingqing.id, jinfeng: jinfeng.id, fresh: fresh.id, call: callID, count: 3,
                    database: database, db: database.postgresURL?.description ?? database.sqlitePath)
    }

    /// `sha256sum`, so the test states its digest the way an operator makes one.
    static func sha256Hex(_ text: String) async throws -> String {
        let result = try await run("/bin/sh", ["-c", "printf %s \"$0\" | sha256sum", text], timeout: .seconds(20))
        return String(result.stdout.prefix(64))
    }

    /// The CLI on either store: list calls and work orders, sign one, report the KPIs.
    @Test(arguments: StoreBackend.allCases)
    func theCommandLineWorksOnEitherStore(_ backend: StoreBackend) async throws {
        let seed = try await Self.seed(backend)
        defer { try? FileManager.default.removeItem(at: seed.directory) }
        let calls = try await run(Repo.binary, ["tickets", "list", "--db", seed.db, "--json"])
        #expect(calls.status == 0, "\(calls.stderr)")
        #expect(calls.stdout.contains(seed.call.rawValue))
        let orders = try await run(Repo.binary, ["tickets", "orders", "--db", seed.db, "--status", "dispatched"])
        #expect(orders.status == 0 && orders.stdout.contains(seed.xingqing.rawValue) && !orders.stdout.contains(seed.fresh.rawValue),
                "\(orders.stdout)\(orders.stderr)")
        let sign = try await run(Repo.binary, ["tickets", "sign", seed.xingqing.rawValue, "--unit", "yinchuan.xingqing",
                                               "--db", seed.db, "--json"])
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(sign.stdout.contains("\"signed\""), "\(sign.stdout)")
        let refused = try await run(Repo.binary, ["tickets", "close", seed.fresh.rawValue, "--db", seed.db])
        #expect(refused.status != 0, "the lifecycle refuses closing an accepted work order")
        let report = try await run(Repo.binary, ["report", "--db", seed.db, "--json"])
        #expect(report.status == 0, "\(report.stderr)")
        let kpis = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        #expect(kpis != nil, "\(report.stdout.prefix(500))")
        #expect(report.stdout.contains("\"accepted\":3") || report.stdout.contains("\"accepted\" : 3"), "\(report.stdout.prefix(800))")
    }

    /// On either store: the admin API reads and writes through the same protocols.
    @Test(arguments: StoreBackend.allCases)
    func theServerMatchesItsOpenAPIDocument(_ backend: StoreBackend) async throws {
        let seed = try await Self.seed(backend)
        let live = try DialplanPublishingTests.privateBench()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: live).deletingLastPathComponent().path) }
        // The private copy gains an outbound flow for the campaign calls (bench.yaml itself is
        // the conformance contract's, byte for byte).
        let benchText = try String(contentsOfFile: live, encoding: .utf8)
        try benchText.replacingOccurrences(of: "\nnodes:\n", with: "\n  - outbound: notice\n    start: enterprise_line\nnodes:\n")
            .write(toFile: live, atomically: true, encoding: .utf8)
        let handoffs = try HandoffTests.writeConfiguration(in: seed.directory, localName: "12345", partner: "110",
                                                           webhook: "http://127.0.0.1:9/api/handoffs", targets: [])
        // A trunk nobody answers on (the discard port): the campaign calls below are due tomorrow.
        let trunks = seed.directory.appendingPathComponent("trunks.yaml")
        try "trunks:\n  - {name: carrier, uri: \"sip:127.0.0.1:9\", caller_id: \"12345\"}\n".write(to: trunks, atomically: true, encoding: .utf8)
        let server = try await ServerProcess(directory: seed.directory, database: seed.db, dialplan: live,
                                             extra: ["--tokens", seed.directory.appendingPathComponent("tokens.yaml").path,
                                                     "--handoffs", handoffs.path, "--trunks", trunks.path]
                                                 + ContactCentreTests.testAgents)
        let api = try APIChecker(port: server.httpPort)
        let admin = Self.adminToken, staff = Self.staffToken, auditor = Self.auditorToken
        #expect(server.log.contains("admin API: bearer tokens required"), "\(server.log.suffix(2000))")
        #expect(server.log.contains("tokens=admin=1 unit_staff=1 auditor=1"))

        // MARK: GET /api/tickets
        let all = try await api.call("GET", "/api/tickets", "/api/tickets?total=true", token: admin, expect: 200)
        #expect(all.json?["total"]?.int == seed.count)
        #expect(all.json?["items"]?.array?.count == seed.count)
        #expect(all.json?["items"]?.array?.first?["id"]?.string == seed.fresh.rawValue, "newest accepted first")
        #expect(all.body.contains("13800138000"), "admins see callers")
        let first = try await api.call("GET", "/api/tickets", "/api/tickets?limit=2", token: admin, expect: 200)
        let next = try #require(first.json?["next"]?.string)
        let second = try await api.call("GET", "/api/tickets", "/api/tickets?limit=2&after=\(next)", token: admin, expect: 200)
        #expect(second.json?["items"]?.array?.map { $0["id"]?.string } == [seed.xingqing.rawValue])
        #expect(second.json?["next"] == .null)
        // Every documented parameter is taken (the examples combine to no match, which is fine).
        try await api.callWithEveryDocumentedParameter("GET", "/api/tickets", token: admin, expect: 200)
        let dispatched = try await api.call("GET", "/api/tickets", "/api/tickets?status=dispatched,signed&line=enterprise",
                                            token: admin, expect: 200)
        #expect(dispatched.json?["items"]?.array?.map { $0["id"]?.string } == [seed.xingqing.rawValue])
        let fromTo = try await api.call("GET", "/api/tickets", "/api/tickets?from=2000-01-01&to=2000-01-31", token: admin, expect: 200)
        #expect(fromTo.json?["items"]?.array?.isEmpty == true)
        let masked = try await api.call("GET", "/api/tickets", "/api/tickets", token: auditor, expect: 200)
        #expect(!masked.body.contains("13800138000") && masked.body.contains("138****8000"), "auditors see callers masked")
        let scoped = try await api.call("GET", "/api/tickets", "/api/tickets?total=true", token: staff, expect: 200)
        #expect(scoped.json?["items"]?.array?.map { $0["id"]?.string } == [seed.xingqing.rawValue], "unit staff see their subtree only")
        let outside = try await api.call("GET", "/api/tickets", "/api/tickets?unit=yinchuan", token: staff, expect: 403)
        #expect(outside.json?["code"]?.string == "outside_unit")
        _ = try await api.call("GET", "/api/tickets", "/api/tickets?unit=nowhere", token: admin, expect: 422)
        let typo = try await api.call("GET", "/api/tickets", "/api/tickets?stauts=closed", token: admin, expect: 400)
        #expect(typo.json?["error"]?.string?.contains("did you mean 'status'") == true)
        _ = try await api.call("GET", "/api/tickets", "/api/tickets?limit=0", token: admin, expect: 400)
        _ = try await api.call("GET", "/api/tickets", "/api/tickets?after=nonsense", token: admin, expect: 400)
        _ = try await api.call("GET", "/api/tickets", "/api/tickets?from=yesterday", token: admin, expect: 400)
        let anonymous = try await api.call("GET", "/api/tickets", "/api/tickets", token: nil, expect: 401)
        #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        _ = try await api.call("GET", "/api/tickets", "/api/tickets", token: "not-a-token-we-know-of", expect: 401)

        // MARK: GET /api/tickets.csv
        let csv = try await api.call("GET", "/api/tickets.csv", "/api/tickets.csv", token: admin, expect: 200)
        let csvLines = csv.body.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(csvLines.count == 1 + seed.count)
        #expect(csvLines.first?.hasPrefix("id,channel,caller,") == true)
        #expect(csv.body.contains("13800138000"))
        let auditorCSV = try await api.call("GET", "/api/tickets.csv", "/api/tickets.csv", token: auditor, expect: 200)
        #expect(!auditorCSV.body.contains("13800138000") && auditorCSV.body.contains("138****8000"))
        let staffCSV = try await api.call("GET", "/api/tickets.csv", "/api/tickets.csv", token: staff, expect: 200)
        #expect(staffCSV.body.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 2)
        try await api.callWithEveryDocumentedParameter("GET", "/api/tickets.csv", token: admin, expect: 200)
        _ = try await api.call("GET", "/api/tickets.csv", "/api/tickets.csv?limit=5", token: admin, expect: 400)

        // MARK: GET /api/tickets/{id}
        let detail = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/\(seed.xingqing)", token: staff, expect: 200)
        let linkedCall = detail.json?["calls"]?.array?.first?["call"]
        #expect(linkedCall?["call_id"]?.string == "seed-call@127.0.0.1")
        // A linked call has the call ticket's shape, its queue record included.
        #expect(linkedCall?["queue"]?.string == "operator")
        #expect(linkedCall?["agent"]?.string == "a2001")
        #expect(linkedCall?["wait_ms"]?.int == 6_000)
        #expect(linkedCall?["abandoned"] == .bool(false))
        #expect(detail.json?["allowed_events"]?.array?.compactMap(\.string) == ["dispatched", "signed"])
        #expect(detail.json?["dispatches"]?.array?.first?["unit"]?.string == "yinchuan.xingqing")
        let closed = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/\(seed.jinfeng)", token: auditor, expect: 200)
        #expect(closed.json?["work_order"]?["status"]?.string == "closed")
        #expect(closed.json?["work_order"]?["caller"]?.string == "139****9000")
        let notTheirs = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/\(seed.jinfeng)", token: staff, expect: 403)
        #expect(notTheirs.json?["code"]?.string == "outside_unit")
        let aCall = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/\(seed.call)", token: admin, expect: 404)
        #expect(aCall.json?["error"]?.string?.contains("is a call; its work order is \(seed.xingqing)") == true)
        _ = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/20991231-999999", token: admin, expect: 404)
        _ = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/not-a-number", token: admin, expect: 400)

        // MARK: POST /api/tickets/{id}/events
        let signed = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.xingqing)/events", token: staff,
                                        body: #"{"kind": "signed", "unit": "yinchuan.xingqing", "note": "on it", "actor": "someone else"}"#,
                                        expect: 201)
        #expect(signed.json?["status"]?.string == "signed")
        #expect(signed.headers["location"] == "/api/tickets/\(seed.xingqing)")
        let afterSign = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/\(seed.xingqing)", token: admin, expect: 200)
        let lastEvent = afterSign.json?["events"]?.array?.last
        #expect(lastEvent?["actor"]?.string == "api:xingqing-desk", "the actor is the token's name, not the body's")
        #expect(lastEvent?["note"]?.string == "on it")
        let elsewhere = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.xingqing)/events", token: staff,
                                           body: #"{"kind": "dispatched", "unit": "yinchuan.jinfeng"}"#, expect: 403)
        #expect(elsewhere.json?["code"]?.string == "outside_unit", "unit staff dispatch only within their subtree")
        let twice = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.xingqing)/events", token: staff,
                                       body: #"{"kind": "signed", "unit": "yinchuan.xingqing"}"#, expect: 409)
        #expect(twice.json?["code"]?.string == "event_refused")
        let readOnly = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.xingqing)/events", token: auditor,
                                          body: #"{"kind": "handled"}"#, expect: 403)
        #expect(readOnly.json?["code"]?.string == "forbidden")
        _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.jinfeng)/events", token: staff,
                               body: #"{"kind": "reopened", "reason": "not fixed"}"#, expect: 403)
        _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.fresh)/events", token: admin,
                               body: #"{"kind": "dispatched", "unit": "nowhere"}"#, expect: 422)
        _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.fresh)/events", token: admin,
                               body: #"{"kind": "dispatch", "unit": "yinchuan"}"#, expect: 400)
        _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.fresh)/events", token: admin,
                               body: "not json", expect: 400)
        _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/20991231-999999/events", token: admin,
                               body: #"{"kind": "closed"}"#, expect: 404)
        let dispatchedNow = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(seed.fresh)/events",
                                               token: admin, body: #"{"kind": "dispatched", "unit": "yinchuan.jinfeng"}"#,
                                               expect: 201)
        #expect(dispatchedNow.json?["sign_deadline"]?.string != nil, "a dispatch gets its SLA deadlines")

        // MARK: GET /api/kpis
        let kpis = try await api.call("GET", "/api/kpis", "/api/kpis", token: admin, expect: 200)
        #expect(kpis.json?["work_orders"]?["accepted"]?.int == seed.count)
        #expect(kpis.json?["calls"]?["offered"]?.int == 1)
        let kpiCSV = try await api.call("GET", "/api/kpis", "/api/kpis?format=csv&from=2000-01-01&to=2099-12-31", token: auditor,
                                        expect: 200)
        #expect(kpiCSV.body.hasPrefix("section,key,value,numerator,denominator,previous"))
        try await api.callWithEveryDocumentedParameter("GET", "/api/kpis", token: admin, expect: 200)
        let instants = try await api.call("GET", "/api/kpis", "/api/kpis?from=2000-01-01T00:00:00Z&to=2099-01-01T00:00:00%2B08:00",
                                          token: admin, expect: 200)
        #expect(instants.json?["work_orders"]?["accepted"]?.int == seed.count)
        let unitKPIs = try await api.call("GET", "/api/kpis", "/api/kpis", token: staff, expect: 200)
        #expect(unitKPIs.json?["unit"]?.string == "yinchuan.xingqing")
        #expect(unitKPIs.json?["calls"] == .null, "call figures belong to no unit")
        _ = try await api.call("GET", "/api/kpis", "/api/kpis?unit=ningxia", token: staff, expect: 403)
        _ = try await api.call("GET", "/api/kpis", "/api/kpis?unit=nowhere", token: admin, expect: 422)
        _ = try await api.call("GET", "/api/kpis", "/api/kpis?to=2026-11-30", token: admin, expect: 400)
        _ = try await api.call("GET", "/api/kpis", "/api/kpis?format=xml", token: admin, expect: 400)

        // MARK: dialplans
        let dialplans = try await api.call("GET", "/api/dialplans", "/api/dialplans", token: auditor, expect: 200)
        let name = try #require(dialplans.json?.array?.first?["name"]?.string)
        _ = try await api.call("GET", "/api/dialplans", "/api/dialplans", token: staff, expect: 403)
        _ = try await api.call("GET", "/api/dialplans", "/api/dialplans", token: nil, expect: 401)
        let text = try await api.call("GET", "/api/dialplans/{name}", "/api/dialplans/\(name)", token: admin, expect: 200)
        _ = try await api.call("GET", "/api/dialplans/{name}", "/api/dialplans/nope", token: admin, expect: 404)
        _ = try await api.call("PUT", "/api/dialplans/{name}", "/api/dialplans/\(name)", token: auditor,
                               body: text.body + "\n# v2\n", expect: 403)
        _ = try await api.call("PUT", "/api/dialplans/{name}", "/api/dialplans/\(name)", token: admin,
                               body: text.body.replacingOccurrences(of: "timeout: 5s", with: "timout: 5s"), expect: 422)
        _ = try await api.call("PUT", "/api/dialplans/{name}", "/api/dialplans/\(name)", token: admin,
                               body: text.body + "\n# v2\n", expect: 200)
        let versions = try await api.call("GET", "/api/dialplans/{name}/versions", "/api/dialplans/\(name)/versions", token: auditor, expect: 200)
        // The console's editor: check, simulate, draw, a past version's text.
        let misspelt = text.body.replacingOccurrences(of: "timeout: 5s", with: "timout: 5s")
        let checked = try await api.call("POST", "/api/dialplans/{name}/check", "/api/dialplans/\(name)/check", token: auditor,
                                         body: misspelt, expect: 200)
        #expect(checked.json?["valid"] == .bool(false))
        #expect(checked.json?["issues"]?.array?.first?["code"]?.string == "unknown_key")
        _ = try await api.call("POST", "/api/dialplans/{name}/check", "/api/dialplans/\(name)/check", token: staff, body: misspelt, expect: 403)
        let simulated = try await api.call("POST", "/api/dialplans/{name}/simulate", "/api/dialplans/\(name)/simulate", token: auditor,
                                           body: #"{"number": "12345", "keys": "3"}"#, expect: 200)
        #expect(simulated.json?["result"]?["disposition"]?.string == "completed_in_ivr", "\(simulated.body.prefix(300))")
        _ = try await api.call("POST", "/api/dialplans/{name}/simulate", "/api/dialplans/\(name)/simulate", token: auditor,
                               body: #"{"number": "999"}"#, expect: 404)
        _ = try await api.call("POST", "/api/dialplans/{name}/simulate", "/api/dialplans/\(name)/simulate", token: auditor,
                               body: "not json", expect: 400)
        let drawn = try await api.call("POST", "/api/dialplans/{name}/graph", "/api/dialplans/\(name)/graph", token: auditor, expect: 200)
        #expect(drawn.body.contains("<svg"))
        _ = try await api.call("POST", "/api/dialplans/{name}/graph", "/api/dialplans/\(name)/graph", token: auditor, body: misspelt, expect: 422)
        let firstVersion = try #require(versions.json?.array?.first?["version"]?.string)
        let old = try await api.call("GET", "/api/dialplans/{name}/versions/{version}", "/api/dialplans/\(name)/versions/\(firstVersion)",
                                     token: auditor, expect: 200)
        #expect(old.body == text.body)
        _ = try await api.call("GET", "/api/dialplans/{name}/versions/{version}", "/api/dialplans/\(name)/versions/nope", token: auditor, expect: 404)
        _ = try await api.call("POST", "/api/dialplans/{name}/rollback", "/api/dialplans/\(name)/rollback", token: staff, expect: 403)
        _ = try await api.call("POST", "/api/dialplans/{name}/rollback", "/api/dialplans/\(name)/rollback", token: admin, expect: 200)
        _ = try await api.call("POST", "/api/dialplans/{name}/rollback", "/api/dialplans/\(name)/rollback?version=nope",
                               token: admin, expect: 404)
        _ = try await api.call("POST", "/api/dialplans/{name}/reload", "/api/dialplans/\(name)/reload", token: auditor, expect: 403)
        _ = try await api.call("POST", "/api/dialplans/{name}/reload", "/api/dialplans/\(name)/reload", token: admin, expect: 200)

        // MARK: contact centre: seats
        let seats = try await api.call("GET", "/api/seats", "/api/seats", token: auditor, expect: 200)
        #expect(seats.json == .object(["licensed": .int(4), "logged_in": .int(0), "remote": .int(0)]))
        _ = try await api.call("GET", "/api/seats", "/api/seats", token: staff, expect: 403)
        _ = try await api.call("GET", "/api/seats", "/api/seats", token: nil, expect: 401)
        let auditorSeats = try await api.call("PUT", "/api/seats", "/api/seats", token: auditor, body: #"{"licensed": 1}"#,
                                              expect: 403)
        #expect(auditorSeats.json?["code"]?.string == "forbidden", "auditors read the contact centre but do not run it")
        for bad in [#"{"licensed": -1}"#, #"{"licensed": 100001}"#, #"{"seats": 1}"#, "not json"] {
            let refused = try await api.call("PUT", "/api/seats", "/api/seats", token: admin, body: bad, expect: 400)
            #expect(refused.json?["code"]?.string == "invalid_request", "\(bad)")
        }
        let oneSeat = try await api.call("PUT", "/api/seats", "/api/seats", token: admin, body: #"{"licensed": 1}"#, expect: 200)
        #expect(oneSeat.json?["licensed"]?.int == 1)

        // MARK: contact centre: agents (a2001's phone registers first, so its binding is listed)
        let phone = try ContactCentreTests.Phone("2001", "pw-2001")
        let registered = try await ContactCentreTests.register(phone, on: server)
        try #require(registered.status == 0, "REGISTER: \(registered.stderr)")
        let agents = try await api.call("GET", "/api/agents", "/api/agents", token: auditor, expect: 200)
        let listed = agents.json?["agents"]?.array ?? []
        #expect(listed.compactMap { $0["id"]?.string }.sorted() == ["a2001", "a2002"])
        let a2001 = listed.first { $0["id"]?.string == "a2001" }
        #expect(a2001?["state"]?.string == "logged_out")
        #expect(a2001?["seat"]?.string == "home")
        #expect(a2001?["registrations"]?.array?.first?["source"]?.string == "udp:127.0.0.1:\(phone.port)")
        _ = try await api.call("GET", "/api/agents", "/api/agents", token: staff, expect: 403)

        func agent(_ action: String, _ id: String, token: String? = Self.adminToken, body: String? = nil,
                   expect: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws -> APIAnswer {
            try await api.call("POST", "/api/agents/{id}/\(action)", "/api/agents/\(id)/\(action)", token: token, body: body,
                               expect: expect, sourceLocation: sourceLocation)
        }
        let byAuditor = try await agent("login", "a2001", token: auditor, expect: 403)
        #expect(byAuditor.json?["code"]?.string == "forbidden")
        _ = try await agent("login", "a2001", token: staff, expect: 403)
        let login = try await agent("login", "a2001", expect: 200)
        #expect(login.json?["state"]?.string == "available")
        #expect(try await agent("login", "a2001", expect: 409).json?["code"]?.string == "already_logged_in")
        #expect(try await agent("login", "a2002", expect: 409).json?["code"]?.string == "no_seat_available",
                "one licensed seat, and a2001 holds it")
        let taken = try await api.call("GET", "/api/seats", "/api/seats", token: admin, expect: 200)
        #expect(taken.json == .object(["licensed": .int(1), "logged_in": .int(1), "remote": .int(1)]))
        _ = try await api.call("PUT", "/api/seats", "/api/seats", token: admin, body: #"{"licensed": 4}"#, expect: 200)
        #expect(try await agent("login", "a2002", expect: 200).json?["seat"]?.string == "on_site")
        #expect(try await agent("logout", "a2002", expect: 200).json?["state"]?.string == "logged_out")

        let paused = try await agent("pause", "a2001", body: #"{"reason": "lunch"}"#, expect: 200)
        #expect(paused.json?["state"]?.string == "paused")
        #expect(paused.json?["pause_reason"]?.string == "lunch")
        _ = try await agent("pause", "a2001", body: #"{"reason": "Lunch!"}"#, expect: 400)
        _ = try await agent("pause", "a2001", body: "not json", expect: 400)
        #expect(try await agent("unpause", "a2001", expect: 200).json?["state"]?.string == "available")
        #expect(try await agent("unpause", "a2001", expect: 409).json?["code"]?.string == "not_paused")
        #expect(try await agent("pause", "a2001", expect: 200).json?["pause_reason"]?.string == "pause", "no body, no reason")
        #expect(try await agent("logout", "a2001", expect: 200).json?["state"]?.string == "logged_out")
        #expect(try await agent("logout", "a2001", expect: 409).json?["code"]?.string == "not_logged_in")
        #expect(try await agent("pause", "a2001", expect: 409).json?["code"]?.string == "not_logged_in")
        #expect(try await agent("unpause", "a2001", expect: 409).json?["code"]?.string == "not_logged_in")
        #expect(try await agent("login", "nobody", expect: 404).json?["code"]?.string == "not_found")
        _ = try await agent("logout", "nobody", token: auditor, expect: 403)

        // MARK: the agent desk: a2001's own token reaches their own desk and calls only
        let desk = Self.agentToken
        _ = try await api.call("GET", "/api/desk", "/api/desk", token: admin, expect: 403)
        #expect(try await api.call("GET", "/api/desk", "/api/desk", token: desk, expect: 200).json?["agent"]?["id"]?.string == "a2001")
        _ = try await api.call("GET", "/api/tickets", "/api/tickets", token: desk, expect: 403)
        _ = try await api.call("POST", "/api/agents/{id}/login", "/api/agents/a2001/login", token: desk, expect: 403)
        #expect(try await api.call("POST", "/api/desk/login", "/api/desk/login", token: desk, expect: 200)
            .json?["agent"]?["state"]?.string == "available")
        #expect(try await api.call("POST", "/api/desk/pause", "/api/desk/pause", token: desk, body: #"{"reason": "lunch"}"#, expect: 200)
            .json?["agent"]?["pause_reason"]?.string == "lunch")
        _ = try await api.call("POST", "/api/desk/pause", "/api/desk/pause", token: desk, body: #"{"reason": "Lunch!"}"#, expect: 400)
        _ = try await api.call("POST", "/api/desk/unpause", "/api/desk/unpause", token: desk, expect: 200)
        #expect(try await api.call("POST", "/api/desk/logout", "/api/desk/logout", token: desk, expect: 200)
            .json?["agent"]?["state"]?.string == "logged_out")
        #expect(try await api.call("POST", "/api/desk/logout", "/api/desk/logout", token: desk, expect: 409).json?["code"]?.string == "not_logged_in")
        _ = try await api.call("GET", "/api/desk/calls", "/api/desk/calls", token: desk, expect: 200)
        // The seeded call was answered by a2001: theirs to open, with the number's other work orders.
        let ownCall = try await api.call("GET", "/api/desk/calls/{id}", "/api/desk/calls/\(seed.call.rawValue)", token: desk, expect: 200)
        #expect(ownCall.json?["earlier_work_orders"]?.array?.compactMap { $0["id"]?.string } == [seed.xingqing.rawValue])
        let stranger = try await api.call("GET", "/api/desk/calls/{id}", "/api/desk/calls/20200101-000001", token: desk, expect: 403)
        #expect(stranger.json?["code"]?.string == "not_your_call")
        _ = try await api.call("POST", "/api/desk/calls/{id}/work-order", "/api/desk/calls/\(seed.call.rawValue)/work-order",
                               token: desk, body: #"{"category": "nonsense"}"#, expect: 400)
        _ = try await api.call("POST", "/api/desk/calls/{id}/work-order", "/api/desk/calls/\(seed.call.rawValue)/work-order",
                               token: desk, body: #"{"subject": "x", "resolution": "dispatched", "unit": "nowhere"}"#, expect: 422)
        let filed = try await api.call("POST", "/api/desk/calls/{id}/work-order", "/api/desk/calls/\(seed.call.rawValue)/work-order",
                                       token: desk, body: #"{"category": "help", "subject": "water bill", "resolution": "answered_directly"}"#,
                                       expect: 201)
        #expect(filed.json?["id"]?.string == seed.call.rawValue && filed.json?["status"]?.string == "answered_directly")
        let units = try await api.call("GET", "/api/units", "/api/units", token: staff, expect: 200)
        #expect(units.json?["units"]?.array?.first?["id"]?.string == "yinchuan.xingqing", "unit staff see their subtree")
        _ = try await api.call("GET", "/api/units", "/api/units", token: desk, expect: 200)

        // MARK: contact centre: queues
        let queues = try await api.call("GET", "/api/queues", "/api/queues", token: auditor, expect: 200)
        let queueList = queues.json?["queues"]?.array ?? []
        #expect(Set(queueList.compactMap { $0["name"]?.string }) == ["operator", "tax", "short"])
        #expect(queueList.allSatisfy { $0["waiting"]?.int == 0 && $0["agents"]?["logged_in"]?.int == 0 })
        _ = try await api.call("GET", "/api/queues", "/api/queues", token: staff, expect: 403)
        _ = try await api.call("GET", "/api/queues", "/api/queues", token: nil, expect: 401)

        // MARK: contact centre: reload (the files are unchanged, so the same setup again)
        let reloaded = try await api.call("POST", "/api/contact-centre/reload", "/api/contact-centre/reload", token: admin, expect: 200)
        #expect(reloaded.json?["agents"]?.int == 2)
        #expect(Set(reloaded.json?["queues"]?.array?.compactMap(\.string) ?? []) == ["operator", "tax", "short"])
        _ = try await api.call("POST", "/api/contact-centre/reload", "/api/contact-centre/reload", token: auditor, expect: 403)

        // MARK: open routes
        _ = try await api.call("GET", "/health", "/health", token: nil, expect: 200)
        _ = try await api.call("GET", "/metrics", "/metrics", token: nil, expect: 200)

        // MARK: the cluster view, on either store
        let cluster = try await api.call("GET", "/api/cluster", "/api/cluster", token: auditor, expect: 200)
        #expect(cluster.json?["store"]?.string == (backend == .postgres ? "postgresql" : "sqlite"))
        // This node, active (with PostgreSQL also the seeding store's node, gone since it closed).
        let states = cluster.json?["nodes"]?.array?.compactMap { $0["state"]?.string } ?? []
        #expect(states.filter { $0 == "active" }.count == 1 && states.allSatisfy { $0 == "active" || $0 == "gone" }, "\(states)")
        _ = try await api.call("GET", "/api/cluster", "/api/cluster", token: staff, expect: 403)

        // MARK: the console's sign-in: a token for a cookie and a CSRF token
        _ = try await api.call("POST", "/api/session", "/api/session", token: nil, body: #"{"token": "not-one-of-our-tokens"}"#, expect: 401)
        let session = try await api.call("POST", "/api/session", "/api/session", token: nil, body: "{\"token\": \"\(admin)\"}", expect: 201)
        let setCookie = try #require(session.headers["set-cookie"])
        #expect(setCookie.contains("; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800"), "\(setCookie)")
        let cookie = ["Cookie": String(setCookie.prefix { $0 != ";" })]
        let csrf = try #require(session.json?["csrf_token"]?.string)
        #expect(session.json?["role"]?.string == "admin")
        _ = try await api.call("GET", "/api/session", "/api/session", token: nil, headers: cookie, expect: 200)
        _ = try await api.call("GET", "/api/queues", "/api/queues", token: nil, headers: cookie, expect: 200)
        _ = try await api.call("DELETE", "/api/session", "/api/session", token: nil, headers: cookie, expect: 403)
        _ = try await api.call("DELETE", "/api/session", "/api/session", token: nil,
                               headers: cookie.merging(["X-CSRF-Token": csrf]) { a, _ in a }, expect: 204)
        _ = try await api.call("GET", "/api/session", "/api/session", token: nil, headers: cookie, expect: 401)

        // MARK: hand-offs (signed by the partner; no token)
        let matter = #"{"handoff_id": "api-h-1", "from": "110", "work_order": "110-1", "caller": "13900139000", "details": "", "#
            + #""accepted_at": "2026-11-02T02:00:00.000Z", "handed_off_at": "2026-11-02T02:00:05.000Z"}"#
        func partnerSigned(_ path: String, _ body: String) -> [String: String] {
            Dictionary(uniqueKeysWithValues: HandoffSigner.sign(method: "POST", path: path, body: Array(body.utf8),
                                                                key: HandoffTests.key, now: Date()).headers)
        }
        _ = try await api.call("POST", "/api/handoffs", "/api/handoffs", token: admin, body: matter, expect: 401)
        _ = try await api.call("POST", "/api/handoffs", "/api/handoffs", token: nil, body: "{}",
                               headers: partnerSigned("/api/handoffs", "{}"), expect: 400)
        _ = try await api.call("POST", "/api/handoffs", "/api/handoffs", token: nil, body: matter,
                               headers: partnerSigned("/api/handoffs", matter), expect: 201)
        _ = try await api.call("POST", "/api/handoffs", "/api/handoffs", token: nil, body: matter,
                               headers: partnerSigned("/api/handoffs", matter), expect: 200)
        let report = #"{"status": "handled", "note": "done"}"#
        _ = try await api.call("POST", "/api/handoffs/{id}/status", "/api/handoffs/api-h-1/status", token: nil,
                               body: report, headers: partnerSigned("/api/handoffs/api-h-1/status", report), expect: 200)
        _ = try await api.call("POST", "/api/handoffs/{id}/status", "/api/handoffs/nope/status", token: nil,
                               body: report, headers: partnerSigned("/api/handoffs/nope/status", report), expect: 404)

        // MARK: campaigns
        _ = try await api.call("POST", "/api/campaigns", "/api/campaigns", token: staff, body: #"{"id": "notice", "flow": "notice"}"#, expect: 403)
        _ = try await api.call("POST", "/api/campaigns", "/api/campaigns", token: admin, body: #"{"id": "x", "flow": "no_such_flow"}"#, expect: 400)
        let created = try await api.call("POST", "/api/campaigns", "/api/campaigns", token: admin,
                                         body: #"{"id": "heating_notice", "flow": "notice", "calls_per_second": 2, "max_attempts": 2}"#, expect: 201)
        #expect(created.json?["flow"]?.string == "notice")
        let tomorrow = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86400))
        _ = try await api.call("POST", "/api/campaigns/{id}/jobs", "/api/campaigns/heating_notice/jobs", token: admin,
                               body: "{\"not_before\": \"\(tomorrow)\", \"jobs\": [{\"number\": \"13800000099\"}]}", expect: 201)
        _ = try await api.call("POST", "/api/campaigns/{id}/jobs", "/api/campaigns/heating_notice/jobs", token: admin,
                               body: #"{"jobs": [{"number": "call me"}]}"#, expect: 400)
        _ = try await api.call("POST", "/api/campaigns/{id}/pause", "/api/campaigns/heating_notice/pause", token: admin, expect: 200)
        _ = try await api.call("POST", "/api/campaigns/{id}/resume", "/api/campaigns/heating_notice/resume", token: admin, expect: 200)
        let progress = try await api.call("GET", "/api/campaigns/{id}", "/api/campaigns/heating_notice", token: auditor, expect: 200)
        #expect(progress.json?["progress"]?["jobs"] == .int(1))
        _ = try await api.call("GET", "/api/campaigns", "/api/campaigns", token: auditor, expect: 200)

        // MARK: the knowledge base: import (admins), search and lookup (every role), a direct answer naming an article
        try await checkKnowledgeBase(api, seed: seed)

        // MARK: drain (last: the node exits once drained)
        _ = try await api.call("POST", "/api/drain", "/api/drain", token: auditor, expect: 403)
        let drain = try await api.call("POST", "/api/drain", "/api/drain", token: admin, expect: 202)
        #expect(drain.json?["started"] == .bool(true))

        // Every documented operation answered 2xx at least once...
        for operation in api.documentedOperations.sorted() {
            #expect(api.succeeded.contains(operation), "\(operation) was never called with success")
        }
        // ...and every route the server serves is documented (it logs its table at debug level).
        let table = try #require(server.log.firstMatch(of: /routes=(.+?) \[HotlineServer\] admin routes/)).1
        let served = table.components(separatedBy: ", ")
        #expect(served.count >= 13, "\(served)")
        for route in served {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            #expect(api.documentedOperations.contains("\(parts[0]) \(parts[1])"), "\(route) is served but not in docs/openapi.yaml")
        }
        #expect(await server.stop() == 0)
    }

    /// `/api/kb`: the sample articles imported as YAML, searched in Chinese by an agent, and a
    /// direct answer naming one, counted by article in the KPIs.
    func checkKnowledgeBase(_ api: APIChecker, seed: Seed) async throws {
        let admin = Self.adminToken, agent = Self.agentToken, staff = Self.staffToken, auditor = Self.auditorToken
        let sample = try String(contentsOfFile: sampleKnowledgePath, encoding: .utf8)
        func q(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789"))!
        }
        _ = try await api.call("POST", "/api/kb/articles", "/api/kb/articles?format=yaml", token: staff, body: sample, expect: 403)
        _ = try await api.call("POST", "/api/kb/articles", "/api/kb/articles?format=yaml", token: agent, body: sample, expect: 403)
        let imported = try await api.call("POST", "/api/kb/articles", "/api/kb/articles?format=yaml", token: admin, body: sample,
                                          expect: 200)
        #expect(imported.json?["inserted"]?.int == 8)
        let again = try await api.call("POST", "/api/kb/articles", "/api/kb/articles?format=yaml", token: admin, body: sample,
                                       expect: 200)
        #expect(again.json?["updated"]?.int == 8 && again.json?["inserted"]?.int == 0)
        // A bad CSV row is located and nothing of the file is imported.
        let bad = "id,title,body\nnoise,夜间施工噪音,夜间禁止施工。\nbad id,,正文\n"
        let refused = try await api.call("POST", "/api/kb/articles", "/api/kb/articles?format=csv", token: admin, body: bad,
                                         expect: 422)
        #expect(refused.json?["error"]?.string?.contains("body:3:1: error: 'bad id' is not an article id") == true,
                "\(refused.body)")
        _ = try await api.call("GET", "/api/kb/articles/{id}", "/api/kb/articles/noise", token: admin, expect: 404)
        _ = try await api.call("POST", "/api/kb/articles", "/api/kb/articles", token: admin, body: sample, expect: 400)

        let search = try await api.call("GET", "/api/kb", "/api/kb?q=\(q("社保卡丢了怎么补办"))", token: agent, expect: 200)
        #expect(search.json?["items"]?.array?.first?["article"]?["id"]?.string == "social-security-card-replace", "\(search.body)")
        let short = try await api.call("GET", "/api/kb", "/api/kb?q=\(q("挪车"))&limit=3", token: auditor, expect: 200)
        #expect(short.json?["items"]?.array?.first?["article"]?["id"]?.string == "parking-move-car")
        #expect(short.json?["items"]?.array?.first?["snippet"]?["highlights"]?.array?.isEmpty == false)
        try await api.callWithEveryDocumentedParameter("GET", "/api/kb", token: staff, expect: 200)
        _ = try await api.call("GET", "/api/kb", "/api/kb", token: agent, expect: 400)
        _ = try await api.call("GET", "/api/kb", "/api/kb?q=\(q("停车"))&limit=51", token: agent, expect: 400)
        _ = try await api.call("GET", "/api/kb", "/api/kb?q=\(q("停车"))", token: nil, expect: 401)
        let article = try await api.call("GET", "/api/kb/articles/{id}", "/api/kb/articles/parking-move-car", token: agent,
                                         expect: 200)
        #expect(article.json?["title"]?.string == "违章停车挡住出口如何申请挪车")

        // A direct answer names the article it gave; an unknown one is refused. (The closed work
        // order, reopened: the others are with units by now.)
        let target = seed.jinfeng
        let before = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/\(target)", token: admin, expect: 200)
        if before.json?["allowed_events"]?.array?.contains(.string("reopened")) == true {
            _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(target)/events", token: admin,
                                   body: #"{"kind": "reopened", "reason": "the caller asks again"}"#, expect: 201)
        }
        _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(target)/events", token: admin,
                               body: #"{"kind": "answered_directly", "article": "no-such-article"}"#, expect: 422)
        _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(target)/events", token: admin,
                               body: #"{"kind": "closed", "article": "parking-move-car"}"#, expect: 400)
        _ = try await api.call("POST", "/api/tickets/{id}/events", "/api/tickets/\(target)/events", token: admin,
                               body: #"{"kind": "answered_directly", "article": "parking-move-car"}"#, expect: 201)
        let detail = try await api.call("GET", "/api/tickets/{id}", "/api/tickets/\(target)", token: admin, expect: 200)
        #expect(detail.json?["events"]?.array?.last?["article"]?.string == "parking-move-car")
        let kpis = try await api.call("GET", "/api/kpis", "/api/kpis", token: admin, expect: 200)
        let byArticle = kpis.json?["direct_answers_by_article"]?.array?.first
        #expect(byArticle?["article"]?.string == "parking-move-car" && byArticle?["count"]?.int == 1, "\(kpis.body)")
    }

    @Test func withoutATokenTheAPIServesLoopbackAndSaysSo() async throws {
        let server = try await ServerProcess()
        #expect(server.log.contains("no token configured") && server.log.contains("serves loopback clients only"))
        let api = try APIChecker(port: server.httpPort)
        let list = try await api.call("GET", "/api/tickets", "/api/tickets", token: nil, expect: 200)
        #expect(list.json?["items"]?.array?.isEmpty == true)
        #expect(await server.stop() == 0)
    }

    @Test func withoutAContactCentreItsRoutesAnswerNotConfigured() async throws {
        let server = try await ServerProcess(extra: ["--agents", "off"])
        let api = try APIChecker(port: server.httpPort)
        let routes: [(method: String, template: String, path: String, body: String?)] = [
            ("GET", "/api/seats", "/api/seats", nil), ("PUT", "/api/seats", "/api/seats", #"{"licensed": 4}"#),
            ("GET", "/api/queues", "/api/queues", nil), ("GET", "/api/agents", "/api/agents", nil),
            ("POST", "/api/agents/{id}/login", "/api/agents/a2001/login", nil),
            ("POST", "/api/contact-centre/reload", "/api/contact-centre/reload", nil),
        ]
        for (method, template, path, body) in routes {
            let answer = try await api.call(method, template, path, token: nil, body: body, expect: 404)
            #expect(answer.json?["code"]?.string == "not_configured", "\(method) \(path)")
        }
        #expect(await server.stop() == 0)
    }
}

// MARK: - Calling the server and checking the answer against the document

/// A JSON value as parsed (numbers keep whether they were integers).
enum JSONNode: Decodable, Equatable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONNode]), object([String: JSONNode])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONNode].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONNode].self)) }
    }

    subscript(key: String) -> JSONNode? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .int(let i) = self { i } else { nil } }
    var array: [JSONNode]? { if case .array(let a) = self { a } else { nil } }
}

/// One answer of the server.
struct APIAnswer {
    var status: Int
    var contentType: String
    var body: String
    /// Lower-case names.
    var headers: [String: String]
    var json: JSONNode?
}

/// Calls the server and checks each answer against docs/openapi.yaml.
final class APIChecker: @unchecked Sendable {
    let port: Int
    let document: [String: Any]
    /// `METHOD /path/{param}` of every documented operation.
    let documentedOperations: Set<String>
    /// Operations that answered 2xx.
    private(set) var succeeded: Set<String> = []

    init(port: Int) throws {
        self.port = port
        let text = try String(contentsOf: Repo.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        document = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        var operations: Set<String> = []
        for (path, item) in (document["paths"] as? [String: Any]) ?? [:] {
            for method in ((item as? [String: Any]) ?? [:]).keys where ["get", "put", "post", "delete", "patch"].contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        documentedOperations = operations
    }

    func operation(_ method: String, _ template: String) -> [String: Any]? {
        ((document["paths"] as? [String: Any])?[template] as? [String: Any])?[method.lowercased()] as? [String: Any]
    }

    /// Calls `path` (an instance of `template`) and checks: the status is `expect`, it is
    /// documented for the operation, its content type is documented, and a JSON body matches
    /// the documented schema.
    @discardableResult
    func call(_ method: String, _ template: String, _ path: String, token: String?, body: String? = nil,
              headers extra: [String: String] = [:], expect: Int,
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> APIAnswer {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
        request.httpMethod = method
        // Cookies only where a test sends one: the shared store would hand them to other servers.
        request.httpShouldHandleCookies = false
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue(template.contains("dialplans") ? "application/yaml" : "application/json",
                             forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await testHTTPSession.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        let contentType = (headers["content-type"] ?? "").split(separator: ";").first.map(String.init) ?? ""
        let text = String(decoding: data, as: UTF8.self)
        var answer = APIAnswer(status: http.statusCode, contentType: contentType, body: text, headers: headers)
        let label = "\(method) \(path) (\(template))"
        #expect(answer.status == expect, "\(label): \(answer.status) \(text.prefix(500))", sourceLocation: sourceLocation)

        guard let operation = operation(method, template) else {
            Issue.record("\(method) \(template) is not in docs/openapi.yaml", sourceLocation: sourceLocation)
            return answer
        }
        guard var documented = (operation["responses"] as? [String: Any])?[String(answer.status)] as? [String: Any] else {
            Issue.record("\(label): status \(answer.status) is not documented for it", sourceLocation: sourceLocation)
            return answer
        }
        if let ref = documented["$ref"] as? String { documented = resolve(ref) }
        let content = documented["content"] as? [String: Any] ?? [:]
        // A response documented without content (204) must come without a body or its type.
        if content.isEmpty, answer.body.isEmpty, contentType.isEmpty {
            if (200..<300).contains(answer.status) { succeeded.insert("\(method) \(template)") }
            return answer
        }
        guard let media = content[contentType] as? [String: Any] else {
            let documentedTypes = content.keys.sorted().joined(separator: ", ")
            Issue.record("\(label): content type '\(contentType)' is not documented for \(answer.status) (documented: \(documentedTypes))",
                         sourceLocation: sourceLocation)
            return answer
        }
        if contentType == "application/json" {
            do {
                let json = try JSONDecoder().decode(JSONNode.self, from: data)
                answer.json = json
                if let schema = media["schema"] as? [String: Any] {
                    let errors = validate(json, schema, at: "$")
                    let listed = errors.prefix(10).joined(separator: "\n")
                    #expect(errors.isEmpty, "\(label): the body does not match the schema:\n\(listed)\n\(text.prefix(1500))",
                            sourceLocation: sourceLocation)
                }
            } catch {
                Issue.record("\(label): not JSON: \(text.prefix(300))", sourceLocation: sourceLocation)
            }
        }
        if (200..<300).contains(answer.status) { succeeded.insert("\(method) \(template)") }
        return answer
    }

    /// Calls `template` once with every documented query parameter set to its `example`.
    func callWithEveryDocumentedParameter(_ method: String, _ template: String, token: String?, expect: Int,
                                          sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let parameters = (operation(method, template)?["parameters"] as? [Any] ?? []).compactMap { item -> [String: Any]? in
            guard var parameter = item as? [String: Any] else { return nil }
            if let ref = parameter["$ref"] as? String { parameter = resolve(ref) }
            return parameter["in"] as? String == "query" ? parameter : nil
        }
        var components = URLComponents()
        components.path = template
        components.queryItems = parameters.map { parameter in
            let example = parameter["example"].map { "\($0)" } ?? ""
            return URLQueryItem(name: parameter["name"] as? String ?? "", value: example)
        }
        #expect(!parameters.isEmpty, sourceLocation: sourceLocation)
        #expect(parameters.allSatisfy { $0["example"] != nil }, "every query parameter has an example", sourceLocation: sourceLocation)
        let query = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        try await call(method, template, template + "?" + query, token: token, expect: expect, sourceLocation: sourceLocation)
    }

    /// `#/components/...`.
    func resolve(_ ref: String) -> [String: Any] {
        var node: Any = document
        for part in ref.dropFirst(2).split(separator: "/") {
            node = (node as? [String: Any])?[String(part)] ?? [:]
        }
        return node as? [String: Any] ?? [:]
    }

    /// The subset of JSON Schema the document uses: $ref, type (one or a list, "null"
    /// included), enum, required, properties, additionalProperties: false, items, pattern,
    /// minimum, maximum, oneOf. Returns every mismatch, each with its JSON path.
    func validate(_ value: JSONNode, _ schema: [String: Any], at path: String) -> [String] {
        var schema = schema
        if let ref = schema["$ref"] as? String { schema = resolve(ref) }
        if let alternatives = schema["oneOf"] as? [Any] {
            let schemas = alternatives.compactMap { $0 as? [String: Any] }
            let failures = schemas.map { validate(value, $0, at: path) }
            let matching = failures.filter(\.isEmpty).count
            if matching != 1 {
                return ["\(path): matches \(matching) of oneOf's \(schemas.count) schemas"] + failures.joined()
            }
        }
        var errors: [String] = []
        let types: [String] = (schema["type"] as? [String]) ?? (schema["type"] as? String).map { [$0] } ?? []
        let kind: String = switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
        if !types.isEmpty, !types.contains(kind), !(kind == "integer" && types.contains("number")) {
            return ["\(path): \(kind), expected \(types.joined(separator: " or "))"]
        }
        if let allowed = schema["enum"] as? [Any] {
            let texts = allowed.map { "\($0)" }
            let text: String? = switch value {
            case .string(let s): s
            case .int(let i): String(i)
            case .null: nil
            default: "\(value)"
            }
            if let text, !texts.contains(text) { errors.append("\(path): '\(text)' is not one of \(texts)") }
        }
        switch value {
        case .object(let members):
            for key in (schema["required"] as? [String]) ?? [] where members[key] == nil {
                errors.append("\(path): missing required '\(key)'")
            }
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            for (key, member) in members {
                if let property = properties[key] as? [String: Any] {
                    errors += validate(member, property, at: "\(path).\(key)")
                } else if schema["additionalProperties"] as? Bool == false {
                    errors.append("\(path): '\(key)' is not documented")
                }
            }
        case .array(let items):
            if let itemSchema = schema["items"] as? [String: Any] {
                for (index, item) in items.enumerated() { errors += validate(item, itemSchema, at: "\(path)[\(index)]") }
            }
        case .string(let text):
            if let pattern = schema["pattern"] as? String {
                if let regex = try? Regex(pattern) {
                    if text.firstMatch(of: regex) == nil { errors.append("\(path): '\(text)' does not match \(pattern)") }
                } else {
                    errors.append("\(path): the document's pattern \(pattern) is not a regular expression")
                }
            }
        case .int(let number):
            if let minimum = schema["minimum"] as? Int, number < minimum { errors.append("\(path): \(number) < \(minimum)") }
            if let maximum = schema["maximum"] as? Int, number > maximum { errors.append("\(path): \(number) > \(maximum)") }
        default:
            break
        }
        return errors
    }
}
