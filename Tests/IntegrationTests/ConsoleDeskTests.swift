import Foundation
import Testing

/// The agent desk in a real browser against the real server with the shipped 12345 dialplan:
/// an agent signs in, logs in from the desk, a SIPp caller presses 2, 3, 2 and queues for the
/// enterprise experts, the agent's SIPp phone answers, and the desk pops the call (caller,
/// caller name with markup shown as text, keys, IVR path, business line, the number's earlier
/// work order); the work order written while talking is saved to the call's work order, which
/// the API then returns, and the call's end opens no second one.
@Suite(.serialized)
struct ConsoleDeskTests {
    static let agentToken = "console-agent-0123456789abcdef"
    static let adminToken = ConsoleBrowserTests.adminToken
    static let caller = "13900001111"
    static let markup = "<script>window.pwned=1</script>张三"

    /// The shipped agents with MD5 challenged first (SIPp answers only the first challenge),
    /// a tokens file with an agent (a1003, the enterprise expert) and an admin.
    static func server() async throws -> (ServerProcess, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-desk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let shipped = try String(contentsOf: Repo.root.appendingPathComponent("Dialplans/acd/agents.yaml"), encoding: .utf8)
        let md5First = shipped.replacingOccurrences(of: "digest_algorithms: [sha256, md5]", with: "digest_algorithms: [md5, sha256]")
        try #require(md5First != shipped, "the shipped agents.yaml changed its digest_algorithms line")
        let agents = directory.appendingPathComponent("agents.yaml")
        try md5First.write(to: agents, atomically: true, encoding: .utf8)
        let tokens = directory.appendingPathComponent("tokens.yaml")
        try """
            tokens:
              - {name: centre, role: admin, token: "\(adminToken)"}
              - {name: expert-desk, role: agent, agent: a1003, token: "\(agentToken)"}
            """.write(to: tokens, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tokens.path)
        let server = try await ServerProcess(dialplan: "Dialplans/12345.yaml", extra: [
            "--agents", agents.path, "--queues", "Dialplans/acd/queues.yaml", "--tokens", tokens.path,
        ])
        return (server, directory)
    }

    /// A copy of a scenario calling from `caller`, with `name` as the From display name.
    static func variant(_ scenario: String, caller: String, name: String, in directory: URL) throws -> String {
        var text = try String(contentsOfFile: Repo.scenario(scenario), encoding: .utf8)
        let original = text
        for number in ["1380013[call_number]", "4000[call_number]"] { text = text.replacingOccurrences(of: "sip:\(number)@", with: "sip:\(caller)@") }
        text = text.replacingOccurrences(of: "From: \"tests\"", with: "From: \"\(name)\"")
        try #require(text != original)
        let path = directory.appendingPathComponent("\(scenario)-variant.xml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func json(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not JSON: \(body)")
    }

    @Test func theDeskPopsTheCallAndSavesTheWorkOrderWrittenWhileTalking() async throws {
        let (server, directory) = try await Self.server()
        defer { try? FileManager.default.removeItem(at: directory) }

        // An earlier call of the same number opened a work order on the enterprise line.
        let earlier = try await server.sipp(try Self.variant("ivr-12345-english-key3", caller: Self.caller, name: "tests", in: directory))
        try #require(earlier.status == 0, "earlier call: \(earlier.stderr)")
        var earlierID: String?
        try await waitUntil("the earlier work order", timeout: .seconds(10)) {
            let (_, body) = try await server.http("GET", "/api/tickets?caller=\(Self.caller)", token: Self.adminToken)
            earlierID = (try Self.json(body)["items"] as? [[String: Any]])?.first?["id"] as? String
            return earlierID != nil
        }

        let expert = try ContactCentreTests.Phone("1003", "demo-1003")
        let registered = try await ContactCentreTests.register(expert, on: server)
        try #require(registered.status == 0, "REGISTER: \(registered.stderr)")

        try await ConsoleBrowserTests.withBrowser { browser in
            try await ConsoleBrowserTests.signIn(browser, server, token: Self.agentToken)
            try await browser.waitForText("#desk-state", "the desk") { !$0.isEmpty }
            #expect(try await browser.find("#nav-wallboard") == nil, "an agent has no wallboard")
            #expect(try await browser.execute("return document.querySelector('#desk-state').dataset.state;") as? String == "logged_out")
            try await browser.click("#desk-login")
            try await waitUntil("logged in from the desk", timeout: .seconds(5)) {
                try await browser.execute("return document.querySelector('#desk-state').dataset.state;") as? String == "available"
            }
            // The same effect as the feature code: the ACD has the agent available.
            let (_, agents) = try await server.http("GET", "/api/agents", token: Self.adminToken)
            #expect(agents.contains("\"state\" : \"available\""), "\(agents)")

            let answering = ContactCentreTests.ring(expert, on: server)
            let scenario = try Self.variant("caller-enterprise", caller: Self.caller, name: Self.markup, in: directory)
            let call = Task { try await server.sipp(scenario, extra: ["-d", "9000"]) }

            // The pop, pushed while the call rings the agent or once they talk.
            try await browser.waitForText("#pop-caller", timeout: .seconds(20), "the screen pop") { $0 == Self.caller }
            try await browser.waitForText("#pop-keys", "the keys") { $0 == "232" }
            // Each desk event redraws the pop: wait for each field rather than read it once.
            try await browser.waitForText("#pop-line", "the business line") { $0 == "enterprise" }
            try await browser.waitForText("#pop-path", "the IVR path") { $0.contains("›") && $0.contains("enterprise_menu") }
            try await browser.waitForText("#pop-name", "the caller's name shown as text") { $0 == Self.markup }
            #expect(try await browser.execute("return window.pwned === undefined && document.querySelectorAll('#desk-pop script').length === 0;") as? Bool == true)
            try await browser.waitForText("#history-list tr[data-order] td", "the number's earlier work order") { $0 == earlierID! }
            try await browser.waitForText("#pop-live", timeout: .seconds(10), "talking") { $0 == "通话中" }
            let ticket = try #require(try await browser.text("#pop-ticket"))

            // The form, filled while talking, dispatched to a unit of the tree.
            try await browser.type("#wo-subject", "企业反映拖欠工程款")
            try await browser.type("#wo-description", "某建筑公司拖欠工程款三个月。")
            _ = try await browser.execute("""
                const set = (id, value) => { const s = document.getElementById(id); s.value = value; s.dispatchEvent(new Event("change")); };
                set("wo-category", "complaint"); set("wo-resolution", "dispatched"); set("wo-unit", "yinchuan.xingqing");
                return document.getElementById("wo-unit").value;
                """)
            try await ConsoleBrowserTests.screenshot(browser, "desk")
            try await browser.click("#wo-save")
            try await browser.waitForText("#wo-status", "saved") { $0.contains(ticket) }
            #expect(try await browser.text("#pop-live") == "通话中", "saved while the call is on")

            // The API returns it: the call's own work order, dispatched by the agent.
            let (status, body) = try await server.http("GET", "/api/tickets/\(ticket)", token: Self.adminToken)
            #expect(status == 200, "\(body)")
            let detail = try Self.json(body)
            let order = try #require(detail["work_order"] as? [String: Any], "\(body)")
            #expect(order["subject"] as? String == "企业反映拖欠工程款")
            #expect(order["category"] as? String == "complaint")
            #expect(order["status"] as? String == "dispatched")
            #expect(order["unit"] as? String == "yinchuan.xingqing")
            #expect(order["business_line"] as? String == "enterprise")
            #expect(body.contains("agent:a1003"), "the agent is the actor of its events")

            #expect(try await call.value.status == 0)
            #expect(try await answering.value.status == 0)
            // The call's end: no second work order, and it is in "my calls today" with its order.
            try await browser.waitForText("#calls-list tr[data-call] td:nth-child(5)", timeout: .seconds(10), "my calls today") { $0 == ticket }
            let (_, list) = try await server.http("GET", "/api/tickets?caller=\(Self.caller)", token: Self.adminToken)
            #expect((try Self.json(list)["items"] as? [[String: Any]])?.count == 2, "the earlier one and this call's: \(list)")
        }
        #expect(await server.stop() == 0)
    }

    @Test func anAgentTokenReachesOnlyItsOwnDeskAndCalls() async throws {
        let (server, directory) = try await Self.server()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (desk, body) = try await server.http("GET", "/api/desk", token: Self.agentToken)
        #expect(desk == 200, "\(body)")
        #expect(try Self.json(body)["call"] is NSNull)
        #expect(try await server.http("GET", "/api/queues", token: Self.agentToken).0 == 403)
        #expect(try await server.http("GET", "/api/tickets", token: Self.agentToken).0 == 403)
        #expect(try await server.http("POST", "/api/agents/a1001/login", token: Self.agentToken).0 == 403)
        #expect(try await server.http("GET", "/api/desk", token: Self.adminToken).0 == 403, "the desk is an agent's")
        // Someone else's call (an IVR call nobody's agent took) is not this agent's to file.
        let ivr = try await server.sipp("ivr-12345-english-key3")
        try #require(ivr.status == 0, "\(ivr.stderr)")
        var other = ""
        try await waitUntil("the IVR call's work order", timeout: .seconds(10)) {
            let (_, tickets) = try await server.http("GET", "/api/tickets", token: Self.adminToken)
            other = (try Self.json(tickets)["items"] as? [[String: Any]])?.first?["id"] as? String ?? ""
            return !other.isEmpty
        }
        let (refused, why) = try await server.http("POST", "/api/desk/calls/\(other)/work-order", body: #"{"subject": "x", "resolution": "pending"}"#,
                                                   token: Self.agentToken)
        #expect(refused == 403, "\(why)")
        #expect(why.contains("not_your_call"))
        #expect(await server.stop() == 0)
    }
}
