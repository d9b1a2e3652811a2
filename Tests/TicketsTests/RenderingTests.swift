// The forms the API and the CLI print: JSON of work orders and reports, CSV and text of the
// report, and events as clients send them.

import Foundation
import Testing
import WorkCalendar
@testable import Tickets

@Suite struct RenderingTests {
    static let order = WorkOrder(
        id: try! TicketID(parsing: "20261102-000001"), channel: .phone, caller: "13800000001", businessLine: "complaints",
        category: .complaint, status: .signed, unit: "xingqing", acceptedAt: date(2026, 11, 2, 10, 1),
        dispatchedAt: date(2026, 11, 2, 11), signDeadline: date(2026, 11, 2, 13), completionDeadline: date(2026, 11, 5, 11),
        signedAt: date(2026, 11, 2, 12), dispatchCount: 1, callCount: 2, eventCount: 3, updatedAt: date(2026, 11, 2, 12))

    @Test func workOrderJSON() throws {
        let text = try TicketJSON.text(Self.order)
        #expect(text == """
            {
              "accepted_at" : "2026-11-02T02:01:00.000Z",
              "answered_directly_at" : null,
              "business_line" : "complaints",
              "call_count" : 2,
              "caller" : "13800000001",
              "category" : "complaint",
              "channel" : "phone",
              "closed_at" : null,
              "completed_on_time" : null,
              "completion_deadline" : "2026-11-05T03:00:00.000Z",
              "details" : "",
              "dispatch_count" : 1,
              "dispatched_at" : "2026-11-02T03:00:00.000Z",
              "event_count" : 3,
              "fed_back_at" : null,
              "handled_at" : null,
              "id" : "20261102-000001",
              "reopen_count" : 0,
              "satisfaction" : null,
              "sign_deadline" : "2026-11-02T05:00:00.000Z",
              "signed_at" : "2026-11-02T04:00:00.000Z",
              "signed_on_time" : true,
              "status" : "signed",
              "subject" : null,
              "unit" : "xingqing",
              "updated_at" : "2026-11-02T04:00:00.000Z",
              "visited_at" : null
            }

            """)
    }

    @Test func reportFormsCarryTheSameFigures() throws {
        let query = KPIQuery(period: ReportPeriod(from: LocalDate(year: 2026, month: 11, day: 1)!,
                                                  through: LocalDate(year: 2026, month: 11, day: 30)!, in: shanghai),
                             asOf: date(2026, 12, 10, 12))
        let report = KPIReport(
            query: query,
            calls: CallKPIs(offered: 9, answered: 6, abandoned: 2, abandonedShort: 1, serviceLevelCount: 5,
                            averageSpeedOfAnswer: 35.0 / 6, averageHandleTime: 48),
            workOrders: WorkOrderKPIs(accepted: 5, directAnswerRate: KPIRatio(1, of: 5), completionRate: KPIRatio(3, of: 5),
                                      onTimeSignInRate: KPIRatio(2, of: 4), onTimeCompletionRate: KPIRatio(1, of: 3),
                                      satisfactionRate: KPIRatio(2, of: 3), open: 2, overdue: 1, repeatCalls: 1),
            units: [UnitKPIs(rank: 1, unit: "xingqing", name: "兴庆区", dispatched: 2, handled: 1,
                             onTimeSignInRate: KPIRatio(1, of: 1), onTimeCompletionRate: KPIRatio(1, of: 1),
                             satisfactionRate: KPIRatio(0, of: 0))],
            topCategories: [TopEntry(key: "complaint", count: 2, previousCount: 1)],
            topSubjects: [TopEntry(key: "street lights, north", count: 1, previousCount: 0)])

        let text = report.text
        #expect(text.hasPrefix("Hotline KPIs 2026-11-01 to 2026-11-30 (Asia/Shanghai), all units\n"))
        #expect(text.contains("  connect rate             66.67% (6/9)\n"))
        #expect(text.contains("  answered within 15 s     55.56% (5/9)\n"))
        #expect(text.contains("  average speed of answer  5.8 s\n"))
        #expect(text.contains("  on-time completion rate  33.33% (1/3)\n"))
        #expect(text.contains("  1     xingqing  兴庆区  2           1        100.00% (1/1)"))
        #expect(text.contains("Top 10 categories (change against 2026-10-01 to 2026-10-31)\n  complaint  2  +1 (+100.0%)\n"))

        let csv = report.csv.components(separatedBy: "\r\n")
        #expect(csv[0] == "section,key,value,numerator,denominator,previous")
        #expect(csv.contains("calls,connect_rate,0.666667,6,9,"))
        #expect(csv.contains("calls,abandoned_within_10s,1,,,"))
        #expect(csv.contains("work_orders,direct_answer_rate,0.200000,1,5,"))
        #expect(csv.contains("unit:xingqing,satisfaction_rate,,0,0,"))
        #expect(csv.contains("top_category,complaint,2,,,1"))
        #expect(csv.contains("top_subject,\"street lights, north\",1,,,0"))

        let json = try JSONSerialization.jsonObject(with: Data(TicketJSON.text(report).utf8)) as! [String: Any]
        let period = json["period"] as! [String: Any]
        #expect(period["from"] as? String == "2026-11-01")
        #expect(period["start"] as? String == "2026-10-31T16:00:00.000Z")
        #expect(period["previous_start"] as? String == "2026-09-30T16:00:00.000Z")
        let calls = json["calls"] as! [String: Any]
        #expect((calls["connect_rate"] as! [String: Any])["numerator"] as? Int == 6)
        #expect(calls["service_level_seconds"] as? Int == 15)
        let orders = json["work_orders"] as! [String: Any]
        #expect((orders["satisfaction_rate"] as! [String: Any])["denominator"] as? Int == 3)
        let units = json["units"] as! [[String: Any]]
        #expect((units[0]["satisfaction_rate"] as! [String: Any])["value"] is NSNull)
        let top = (json["top_categories"] as! [[String: Any]])[0]
        #expect(top["change"] as? Int == 1)
        #expect(top["change_rate"] as? Double == 1)
    }

    @Test func textForTheTerminalMasksCallers() async throws {
        let table = WorkOrder.table([Self.order], now: date(2026, 11, 6))
        #expect(table.contains("138****0001"))
        #expect(!table.contains("13800000001"))
        #expect(table.contains("done 2026-11-05T03:00:00.000Z OVERDUE"))
        #expect(WorkOrder.table([Self.order], maskCallers: false, now: date(2026, 11, 6)).contains("13800000001"))
    }

    // MARK: - Event requests

    @Test func eventRequestsFromClients() throws {
        let now = date(2026, 11, 2, 12)
        let body = #"{"kind": "dispatched", "unit": "xingqing", "note": " sent to the district ", "at": "2026-11-02T11:00:00+08:00"}"#
        let request = try JSONDecoder().decode(TicketEventRequest.self, from: Data(body.utf8))
        let event = try request.event(actor: "agent:1001", now: now)
        #expect(event == TicketEvent(.dispatched(to: "xingqing"), at: date(2026, 11, 2, 11), actor: "agent:1001",
                                     note: "sent to the district"))
        #expect(try TicketEventRequest(kind: "handled").event(actor: "a", now: now).at == now)
        #expect(try TicketEventRequest(kind: "return_visit", score: 4).event(actor: "a", now: now).kind == .returnVisited(score: 4))
        #expect(try TicketEventRequest(kind: "closed", at: "2026-11-02T03:00:00.000Z").event(actor: "a", now: now).at
            == date(2026, 11, 2, 11))
        #expect(throws: TicketEventRequestError.unknownKind("handeld", hint: "handled")) {
            try TicketEventRequest(kind: "handeld").event(actor: "a", now: now)
        }
        #expect(throws: TicketEventRequestError.missing("unit", kind: "signed")) {
            try TicketEventRequest(kind: "signed").event(actor: "a", now: now)
        }
        #expect(throws: TicketEventRequestError.missing("unit", kind: "dispatched")) {
            try TicketEventRequest(kind: "dispatched", unit: "Not An Id").event(actor: "a", now: now)
        }
        #expect(throws: TicketEventRequestError.missing("score", kind: "return_visit")) {
            try TicketEventRequest(kind: "return_visit").event(actor: "a", now: now)
        }
        #expect(throws: TicketEventRequestError.missing("reason", kind: "reopened")) {
            try TicketEventRequest(kind: "reopened", reason: " ").event(actor: "a", now: now)
        }
        #expect(throws: TicketEventRequestError.badTime("yesterday")) {
            try TicketEventRequest(kind: "closed", at: "yesterday").event(actor: "a", now: now)
        }
    }

    @Test func periodsFromTheCommandLine() throws {
        let today = date(2026, 11, 29, 12)
        #expect(try ReportPeriod.days(from: nil, to: nil, in: shanghai, today: today) == nil)
        let period = try #require(try ReportPeriod.days(from: "2026-11-01", to: "2026-11-30", in: shanghai, today: today))
        #expect(period.start == date(2026, 11, 1))
        #expect(period.end == date(2026, 12, 1))
        #expect(try ReportPeriod.days(from: "2026-11-01", to: nil, in: shanghai, today: today)?.end == date(2026, 11, 30))
        #expect(throws: ReportPeriodError.toWithoutFrom("2026-11-30")) {
            try ReportPeriod.days(from: nil, to: "2026-11-30", in: shanghai, today: today)
        }
        #expect(throws: ReportPeriodError.badDate("2026-11-31")) {
            try ReportPeriod.days(from: "2026-11-31", to: nil, in: shanghai, today: today)
        }
        #expect(throws: ReportPeriodError.toBeforeFrom("2026-11-02", "2026-11-01")) {
            try ReportPeriod.days(from: "2026-11-02", to: "2026-11-01", in: shanghai, today: today)
        }
    }
}
