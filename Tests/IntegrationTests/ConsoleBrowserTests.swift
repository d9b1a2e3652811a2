import Foundation
import Testing

/// The console in a real browser (headless chromium through chromium-driver) against the real
/// server, with SIPp as the caller and the agent's phone: sign-in per role, the wallboard moving
/// on pushed events, CSRF and cookie rules, caller-controlled text shown as text.
/// `HOTLINE_SCREENSHOTS=DIR` saves the pages it sees (docs/console/ is made this way).
@Suite(.serialized)
struct ConsoleBrowserTests {
    static let adminToken = "console-admin-0123456789abcdef"
    static let staffToken = "console-staff-0123456789abcdef"
    static let auditorToken = "console-audit-0123456789abcdef"

    /// A tokens file with one of each role, and agents whose display name is markup.
    static func files() throws -> (tokens: String, agents: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tokens = directory.appendingPathComponent("tokens.yaml")
        try """
            tokens:
              - {name: centre, role: admin, token: "\(adminToken)"}
              - {name: xingqing-desk, role: unit_staff, unit: yinchuan.xingqing, token: "\(staffToken)"}
              - {name: inspector, role: auditor, token: "\(auditorToken)"}
            """.write(to: tokens, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tokens.path)
        let shipped = try String(contentsOf: Repo.root.appendingPathComponent("Tests/IntegrationTests/Dialplans/acd/agents.yaml"),
                                 encoding: .utf8)
        let marked = shipped.replacingOccurrences(of: "name: Test Agent Two", with: #"name: "<img src=x onerror=window.pwned=1>Two""#)
        try #require(marked != shipped)
        let agents = directory.appendingPathComponent("agents.yaml")
        try marked.write(to: agents, atomically: true, encoding: .utf8)
        return (tokens.path, agents.path, directory)
    }

    static func server() async throws -> (ServerProcess, URL) {
        let (tokens, agents, directory) = try files()
        let server = try await ServerProcess(dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", extra: [
            "--agents", agents, "--queues", "Tests/IntegrationTests/Dialplans/acd/queues.yaml", "--tokens", tokens,
        ])
        return (server, directory)
    }

    static func signIn(_ browser: Browser, _ server: ServerProcess, token: String) async throws {
        try await browser.open("http://127.0.0.1:\(server.httpPort)/")
        try await browser.waitForText("#signin h1", "the sign-in form") { !$0.isEmpty }
        try await browser.type("#token", token)
        try await browser.click("#signin-submit")
    }

    static func screenshot(_ browser: Browser, _ name: String) async throws {
        guard let directory = ProcessInfo.processInfo.environment["HOTLINE_SCREENSHOTS"] else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await browser.screenshot().write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(name).png"))
    }

    static func waiting(_ server: ServerProcess, _ queue: String) async throws -> Int {
        let (_, body) = try await server.http("GET", "/api/queues", token: adminToken)
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let queues = object?["queues"] as? [[String: Any]] ?? []
        return queues.first { $0["name"] as? String == queue }?["waiting"] as? Int ?? -1
    }

    /// Runs `body` with a browser, which is closed whatever happens.
    static func withBrowser(width: Int = 1366, height: Int = 768, _ body: (Browser) async throws -> Void) async throws {
        let browser = try await Browser(width: width, height: height)
        do {
            try await body(browser)
        } catch {
            // What the page showed when it failed, for the log.
            let shot = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-console-failure-\(UUID().uuidString.prefix(8)).png")
            try? await browser.screenshot().write(to: shot)
            let text = (try? await browser.execute("return document.body.innerText;")) as? String ?? ""
            await browser.quit()
            throw Browser.Failure(description: "\(error)\npage text: \(text.prefix(1500))\nscreenshot: \(shot.path)")
        }
        await browser.quit()
    }

    @Test func theWallboardShowsACallerWaitingThenAnsweredWithinASecondOfEachChange() async throws {
        let (server, directory) = try await Self.server()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.withBrowser { browser in
            try await Self.signIn(browser, server, token: Self.adminToken)
            try await browser.waitForText("#waiting-operator", "no caller waits yet") { $0 == "0" }
            #expect(try await browser.text("#who") == "centre · 管理员", "Mandarin first")
            #expect(try await browser.text("#nav-wallboard") == "大屏")

            // The only agent is logged in but paused: a caller queues.
            let phone = try ContactCentreTests.Phone("2001", "pw-2001")
            let registered = try await ContactCentreTests.register(phone, on: server)
            try #require(registered.status == 0, "REGISTER: \(registered.stderr)")
            for action in ["login", "pause"] {
                let (status, body) = try await server.http("POST", "/api/agents/a2001/\(action)", token: Self.adminToken)
                try #require(status == 200, "\(action): \(body)")
            }
            let answering = ContactCentreTests.ring(phone, on: server)
            let caller = Task { try await server.sipp("caller-queue", extra: ["-d", "6000"]) }
            try await waitUntil("the caller waits", timeout: .seconds(15)) { try await Self.waiting(server, "operator") == 1 }
            try await browser.waitForText("#waiting-operator", timeout: .seconds(1), "the pushed count rises") { $0 == "1" }
            try await browser.waitForText("#seat-home td[data-state=paused]", timeout: .seconds(1), "the paused agent") { $0 == "1" }
            try await Self.screenshot(browser, "wallboard")
            if ProcessInfo.processInfo.environment["HOTLINE_SCREENSHOTS"] != nil {
                // The wall display, as a 1920×1080 screen shows it.
                try await browser.setWindow(width: 1920, height: 1080)
                try await browser.waitForText("#waiting-operator", "still shown") { $0 == "1" }
                try await Self.screenshot(browser, "wallboard-1080")
                try await browser.setWindow(width: 1366, height: 768)
            }

            // The agent comes back and answers: the caller leaves the queue.
            let (status, body) = try await server.http("POST", "/api/agents/a2001/unpause", token: Self.adminToken)
            #expect(status == 200, "\(body)")
            try await waitUntil("the agent answers", timeout: .seconds(15)) { try await Self.waiting(server, "operator") == 0 }
            try await browser.waitForText("#waiting-operator", timeout: .seconds(1), "the pushed count falls") { $0 == "0" }
            try await browser.waitForText("#seat-home td[data-state=on_call]", timeout: .seconds(2), "the agent is on a call") { $0 == "1" }

            #expect(try await caller.value.status == 0)
            #expect(try await answering.value.status == 0)
            // The call's end reaches today's figures.
            try await browser.waitForText("#answered-operator", timeout: .seconds(5), "one answered") { $0 == "1" }
        }
        #expect(await server.stop() == 0)
    }

    @Test func eachRoleSeesItsPagesAndABadTokenIsTold() async throws {
        let (server, directory) = try await Self.server()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.withBrowser { browser in
            try await Self.signIn(browser, server, token: "not-a-token-of-ours-at-all")
            let refused = try await browser.waitForText("#signin-error", "the refusal is shown") { !$0.isEmpty }
            #expect(refused.contains("unknown token"))

            try await Self.signIn(browser, server, token: Self.auditorToken)
            try await browser.waitForText("#waiting-operator", "the auditor sees the wallboard") { $0 == "0" }
            #expect(try await browser.text("#who") == "inspector · 审计")
            try await browser.click("#signout")
            try await browser.waitForText("#signin h1", "signed out") { !$0.isEmpty }
            // The old cookie is dead: the feed refuses it.
            let afterSignOut = try await browser.execute("""
                const x = new XMLHttpRequest(); x.open("GET", "/api/queues", false); x.send(); return x.status;
                """) as? Int
            #expect(afterSignOut == 401)

            try await Self.signIn(browser, server, token: Self.staffToken)
            try await browser.waitForText("main h1", "unit staff land on their unit desk") { $0 == "承办单位工作台" }
            #expect(try await browser.find("#nav-wallboard") == nil)
            try await browser.open("http://127.0.0.1:\(server.httpPort)/#/wallboard")
            try await browser.waitForText("#forbidden", "unit staff have no wallboard") { !$0.isEmpty }
            #expect(try await browser.find("#waiting-operator") == nil)
        }
        #expect(await server.stop() == 0)
    }

    @Test func changesNeedTheCSRFTokenTheCookieIsHiddenAndMarkupStaysText() async throws {
        let (server, directory) = try await Self.server()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.withBrowser { browser in
            try await Self.signIn(browser, server, token: Self.adminToken)
            try await browser.waitForText("#waiting-operator", "signed in") { $0 == "0" }
            #expect(try await browser.execute("return document.cookie;") as? String == "", "the session cookie is HttpOnly")

            let withoutToken = try await browser.execute("""
                const x = new XMLHttpRequest(); x.open("POST", "/api/agents/a2002/login", false); x.send(); return [x.status, x.responseText];
                """) as? [Any]
            #expect(withoutToken?.first as? Int == 403)
            #expect((withoutToken?.last as? String)?.contains("\"code\":\"csrf\"") == true)

            // The seats page changes the licensed seats through the form (with the token).
            try await browser.open("http://127.0.0.1:\(server.httpPort)/#/seats")
            try await browser.waitForText("#seats-licensed", "the seats page") { $0 == "4" }
            try await browser.type("#licensed", "7")
            try await browser.click("#seats-form button")
            try await browser.waitForText("#seats-licensed", timeout: .seconds(2), "the pushed count") { $0 == "7" }
            let (_, seats) = try await server.http("GET", "/api/seats", token: Self.adminToken)
            #expect(seats.contains("\"licensed\" : 7"), "\(seats)")

            // An agent's display name with markup is shown as those characters, never run.
            let name = try await browser.waitForText("tr[data-agent=a2002] td:nth-child(2)", "the agent's row") { !$0.isEmpty }
            #expect(name == "<img src=x onerror=window.pwned=1>Two")
            #expect(try await browser.execute("return window.pwned === undefined && document.querySelectorAll('#agent-list img').length === 0;") as? Bool == true)
            try await Self.screenshot(browser, "seats")
        }
        #expect(await server.stop() == 0)
    }
}
