import Foundation
import Testing
import Tickets
import TicketsSQLite

/// The unit desk in a real browser against the real server on a seeded database: a unit clerk
/// sees their subtree's work orders, overdue first, never another unit's (not even by its
/// number), signs and handles with only the lifecycle's next events offered, and exports CSV;
/// a subject with markup is shown as text.
@Suite(.serialized)
struct ConsoleUnitDeskTests {
    static let staffToken = ConsoleBrowserTests.staffToken
    static let adminToken = ConsoleBrowserTests.adminToken
    static let markup = "<img src=x onerror=window.pwned=1>夜间施工噪音"

    struct Seed {
        var directory: URL
        var database: String
        var overdue: TicketID
        var fresh: TicketID
        var elsewhere: TicketID
    }

    /// Three dispatched work orders: one in Xingqing three days ago (long overdue), one in a
    /// township under Xingqing a minute ago, one in Jinfeng.
    static func seed() async throws -> Seed {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = directory.appendingPathComponent("tickets.sqlite").path
        let policy = try WorkOrderPolicy.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/sla.yaml").path)
        let units = try UnitDirectory.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/units.yaml").path)
        let store = try SQLiteTicketStore(path: database, options: .init(timeZone: .current, policy: policy, units: units))
        defer { store.close() }
        func order(_ subject: String, unit: String, at: Date, caller: String) async throws -> TicketID {
            let created = try await store.createWorkOrder(WorkOrderIntake(
                channel: .phone, caller: caller, businessLine: "enterprise", category: .complaint, subject: subject,
                acceptedAt: at, actor: "seed"))
            let dispatch = try TicketEventRequest(kind: "dispatched", unit: unit).event(actor: "seed", now: at.addingTimeInterval(30))
            _ = try await store.append(dispatch, to: created.id)
            return created.id
        }
        let now = Date()
        let overdue = try await order("路灯不亮", unit: "yinchuan.xingqing", at: now.addingTimeInterval(-3 * 86400), caller: "13800138001")
        let fresh = try await order(markup, unit: "yinchuan.xingqing.fenghuang", at: now.addingTimeInterval(-90), caller: "13800138002")
        let elsewhere = try await order("其他单位的工单", unit: "yinchuan.jinfeng", at: now.addingTimeInterval(-60), caller: "13800138003")
        let tokens = directory.appendingPathComponent("tokens.yaml")
        try """
            tokens:
              - {name: centre, role: admin, token: "\(adminToken)"}
              - {name: xingqing-desk, role: unit_staff, unit: yinchuan.xingqing, token: "\(staffToken)"}
            """.write(to: tokens, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tokens.path)
        return Seed(directory: directory, database: database, overdue: overdue, fresh: fresh, elsewhere: elsewhere)
    }

    static func offeredEvents(_ browser: Browser) async throws -> [String] {
        try await browser.execute("return [...document.querySelectorAll('#order-actions button[data-event]')].map(b => b.dataset.event);")
            as? [String] ?? []
    }

    @Test func aUnitClerkWorksTheirOrdersOverdueFirstAndCannotOpenAnotherUnits() async throws {
        let seed = try await Self.seed()
        let server = try await ServerProcess(directory: seed.directory, database: seed.database, dialplan: "Dialplans/12345.yaml",
                                             extra: ["--tokens", seed.directory.appendingPathComponent("tokens.yaml").path])
        try await ConsoleBrowserTests.withBrowser { browser in
            try await ConsoleBrowserTests.signIn(browser, server, token: Self.staffToken)
            // The unit's to-do list: overdue first, the other unit's order absent.
            try await browser.waitForText("#orders-table tbody tr:first-child td", "the unit's work orders") { $0 == seed.overdue.rawValue }
            let rows = try await browser.execute("return [...document.querySelectorAll('#orders-table tbody tr')].map(r => [r.dataset.order, r.className]);")
                as? [[String]] ?? []
            #expect(rows.map { $0[0] } == [seed.overdue.rawValue, seed.fresh.rawValue], "\(rows)")
            #expect(rows.first?[1].contains("overdue") == true && rows.last?[1].contains("overdue") == false, "\(rows)")
            #expect(try await browser.text("#orders-table tbody tr:first-child td.clock")?.hasPrefix("超期") == true)
            #expect(try await browser.text("#who") == "xingqing-desk · 承办单位")

            // The fresh one: its markup subject as text; sign, then handle, each offering only what may come next.
            try await browser.click("#orders-table tr[data-order='\(seed.fresh.rawValue)']")
            try await browser.waitForText("#order-id", "the work order") { $0 == seed.fresh.rawValue }
            #expect(try await browser.text("#order-subject") == Self.markup)
            #expect(try await browser.execute("return window.pwned === undefined && document.querySelectorAll('#order-detail img, #orders-list img').length === 0;") as? Bool == true)
            #expect(try await Self.offeredEvents(browser) == ["dispatched", "signed"])
            try await ConsoleBrowserTests.screenshot(browser, "orders")
            try await browser.click("#order-actions button[data-event=signed]")
            try await browser.waitForText("#order-status", "signed") { $0 == "已签收" }
            #expect(try await Self.offeredEvents(browser) == ["dispatched", "handled"])
            try await browser.type("#act-note", "已协调施工方停止夜间作业")
            try await browser.click("#order-actions button[data-event=handled]")
            try await browser.waitForText("#order-status", "handled") { $0 == "已办结" }
            #expect(try await Self.offeredEvents(browser) == ["feedback"], "return visits and closing are the centre's")
            let (_, detail) = try await server.http("GET", "/api/tickets/\(seed.fresh.rawValue)", token: Self.adminToken)
            #expect(detail.contains("已协调施工方停止夜间作业") && detail.contains("api:xingqing-desk"), "\(detail.prefix(600))")

            // Another unit's order, even by its number in the address: refused.
            try await browser.open("http://127.0.0.1:\(server.httpPort)/#/orders/\(seed.elsewhere.rawValue)")
            let refused = try await browser.waitForText("#order-error", "refused") { !$0.isEmpty }
            #expect(refused.contains("yinchuan.xingqing"), "\(refused)")
            #expect(try await browser.find("#order-subject") == nil)
            #expect(try await server.http("GET", "/api/tickets/\(seed.elsewhere.rawValue)", token: Self.staffToken).0 == 403)

            // CSV export: the unit's orders only.
            let href = try #require(try await browser.execute("return document.getElementById('orders-csv').href;") as? String)
            let csv = try await browser.execute("""
                const x = new XMLHttpRequest(); x.open("GET", arguments[0], false); x.send(); return [x.status, x.getResponseHeader("Content-Type"), x.responseText];
                """, [href]) as? [Any] ?? []
            #expect(csv.first as? Int == 200)
            #expect((csv[1] as? String)?.hasPrefix("text/csv") == true)
            let text = csv.last as? String ?? ""
            #expect(text.contains(seed.overdue.rawValue) && !text.contains(seed.elsewhere.rawValue), "\(text.prefix(500))")
        }
        #expect(await server.stop() == 0)
    }

    /// The KPI page for a week against the week before: the cards with their change, both
    /// charts drawn by Chart.js (under the CSP), the unit ranking, the report as CSV.
    @Test func theKPIPageComparesAPeriodWithThePreviousOne() async throws {
        let seed = try await Self.seed()
        // One more work order in the week before the one reported.
        let policy = try WorkOrderPolicy.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/sla.yaml").path)
        let units = try UnitDirectory.load(contentsOf: Repo.root.appendingPathComponent("Dialplans/tickets/units.yaml").path)
        let store = try SQLiteTicketStore(path: seed.database, options: .init(timeZone: .current, policy: policy, units: units))
        _ = try await store.createWorkOrder(WorkOrderIntake(
            channel: .phone, caller: "13800138009", category: .help, subject: "上周的工单",
            acceptedAt: Date().addingTimeInterval(-10 * 86400), actor: "seed"))
        // Some work done this week, so the rates (and the charts) have something to show.
        for (kind, unit, order) in [("signed", "yinchuan.xingqing.fenghuang", seed.fresh), ("handled", nil, seed.fresh),
                                    ("signed", "yinchuan.jinfeng", seed.elsewhere)] {
            _ = try await store.append(try TicketEventRequest(kind: kind, unit: unit).event(actor: "seed", now: Date()), to: order)
        }
        store.close()
        let server = try await ServerProcess(directory: seed.directory, database: seed.database, dialplan: "Dialplans/12345.yaml",
                                             extra: ["--tokens", seed.directory.appendingPathComponent("tokens.yaml").path])
        let days = DateFormatter()
        days.dateFormat = "yyyy-MM-dd"
        days.timeZone = .current
        days.locale = Locale(identifier: "en_US_POSIX")
        let from = days.string(from: Date().addingTimeInterval(-6 * 86400)), to = days.string(from: Date())
        try await ConsoleBrowserTests.withBrowser { browser in
            try await ConsoleBrowserTests.signIn(browser, server, token: Self.adminToken)
            try await browser.open("http://127.0.0.1:\(server.httpPort)/#/kpis")
            try await browser.waitForText("#kpi-status", "the month's report") { !$0.isEmpty && !$0.contains("…") }
            _ = try await browser.execute(
                "document.getElementById('kpi-from').value = arguments[0]; document.getElementById('kpi-to').value = arguments[1];",
                [from, to])
            try await browser.click("#kpi-run")
            try await browser.waitForText("#kpi-status", "the week's report") { $0.hasPrefix("\(from) – \(to)") }
            #expect(try await browser.text("#kpi-accepted .value") == "3")
            let change = try await browser.execute("return document.querySelector('#kpi-accepted .change').dataset.change;") as? String
            #expect(change == "2", "3 this week against 1 the week before")
            #expect(try await browser.text("#kpi-accepted .label") == "受理工单")
            let ranked = try await browser.execute("return [...document.querySelectorAll('#kpi-ranking tbody tr')].map(r => r.dataset.unit);")
                as? [String] ?? []
            #expect(Set(ranked).isSuperset(of: ["yinchuan.xingqing", "yinchuan.xingqing.fenghuang", "yinchuan.jinfeng"]), "\(ranked)")
            let drawn = try await browser.execute("""
                const ready = (id) => document.getElementById(id).dataset.ready === "true";
                return new Promise((done) => { const t0 = Date.now(); (function poll() {
                  if (ready("kpi-rates-chart") && ready("kpi-units-chart")) done(true);
                  else if (Date.now() - t0 > 10000) done(false); else requestAnimationFrame(poll); })(); });
                """) as? Bool
            #expect(drawn == true, "both charts drawn")
            let painted = try await browser.execute("""
                const c = document.getElementById("kpi-rates-chart"); const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;
                """) as? Int ?? 0
            #expect(painted > 1000, "the rates chart has pixels: \(painted)")
            // The picture: the rates and the charts below them.
            _ = try await browser.execute("document.getElementById('kpi-rates-chart').scrollIntoView({block: 'end'});")
            try await ConsoleBrowserTests.screenshot(browser, "kpis")

            let href = try #require(try await browser.execute("return document.getElementById('kpi-csv').href;") as? String)
            let csv = try await browser.execute("""
                const x = new XMLHttpRequest(); x.open("GET", arguments[0], false); x.send(); return [x.status, x.getResponseHeader("Content-Type"), x.responseText];
                """, [href]) as? [Any] ?? []
            #expect(csv.first as? Int == 200)
            #expect((csv[1] as? String)?.hasPrefix("text/csv") == true, "\(csv)")
        }
        #expect(await server.stop() == 0)
    }
}
