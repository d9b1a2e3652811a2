// Each KPI against a fixture computed by hand. The fixture is built through the public API
// only (calls as the server writes them, events as the admin API appends them), in November
// 2026, with a work order in October for the comparison and one in December outside the
// period. Times are Shanghai; deadlines by `testPolicy` (sign in 2 h, complete in 3 days;
// the move_car line 10 min and 1 h).
//
//  call  arrived        answer  length  line/category              what it became
//  C11   10-15 10:00    1 s     40 s    complaints/complaint       W5 (October)
//  C1    11-02 10:00    2 s     60 s    complaints/complaint       W1
//  C2    11-03 10:00    20 s    100 s   policy/consultation        W2, answered directly
//  C3    11-04 10:00    —       5 s     cancelled                  short abandon
//  C4    11-05 10:00    —       30 s    cancelled                  abandon
//  C5    11-05 11:00    —       0       rejected 404               not offered
//  C6    11-06 09:00    —       0       rejected_capacity 503      offered, not answered
//  C8    11-06 10:00    3 s     33 s    complaints/complaint       repeat call, linked to W1
//  C7    11-07 11:00    1 s     41 s    no line (no_input)         no work order
//  C9    11-10 10:00    4 s     64 s    enterprise/complaint       W3
//  C10   11-12 10:00    5 s     25 s    move_car/help              W4
//  —     11-20 09:00 (web)              suggestion "street lights" W7
//  C12   12-05 10:00    1 s     40 s    enterprise/complaint       W6 (December)
//
//  W1  dispatched xingqing 11-02 11:00 (sign by 13:00, complete by 11-05 11:00), signed 12:00,
//      handled 11-04 09:00, feedback 11-04 10:00, [C8], return visit 5 on 11-07, closed.
//  W2  return visit 3 on 11-04 11:00, closed.
//  W3  dispatched jinfeng 11-10 11:00 (sign by 13:00), re-dispatched at 14:00 unsigned to
//      market_regulation (sign by 16:00, complete by 11-13 14:00), signed 15:00, handled
//      11-14 10:00 (late), feedback, return visit 4 on 11-16.
//  W4  dispatched traffic_police 11-12 10:01 (sign by 10:11, complete by 11:01), signed 10:20
//      (late), never handled.
//  W7  dispatched xingqing 12-10 11:00 (sign by 13:00): still running at the report, 12-10 12:00.

import Foundation
import Testing
import WorkCalendar
import Tickets
import TicketsTestSupport

@Suite struct KPITests {
    let asOf = date(2026, 12, 10, 12)
    let november = ReportPeriod(from: LocalDate(year: 2026, month: 11, day: 1)!,
                                through: LocalDate(year: 2026, month: 11, day: 30)!, in: shanghai)!

    struct Fixture {
        var w1, w2, w3, w4, w5, w6, w7: TicketID
    }

    func buildFixture(_ store: any HotlineStore) async throws -> Fixture {
        let a = "13800000001"
        let w5 = try await store.call(TestCall(caller: "13800000011", arrivedAt: date(2026, 10, 15, 10), duration: 40,
                                               businessLine: "complaints", category: .complaint))
        let w1 = try await store.call(TestCall(caller: a, arrivedAt: date(2026, 11, 2, 10), answerAfter: 2, duration: 60,
                                               businessLine: "complaints", category: .complaint))
        try await store.event(.dispatched(to: "xingqing"), to: w1, at: date(2026, 11, 2, 11))
        try await store.event(.signed(by: "xingqing"), to: w1, at: date(2026, 11, 2, 12), actor: "unit:xingqing")
        let w2 = try await store.call(TestCall(caller: "13800000002", arrivedAt: date(2026, 11, 3, 10), answerAfter: 20,
                                               duration: 100, businessLine: "policy", category: .consultation))
        try await store.event(.handled, to: w1, at: date(2026, 11, 4, 9), actor: "unit:xingqing")
        try await store.event(.fedBack, to: w1, at: date(2026, 11, 4, 10))
        try await store.call(TestCall(caller: "13800000003", arrivedAt: date(2026, 11, 4, 10), answerAfter: nil, duration: 5,
                                      disposition: .cancelled))
        try await store.event(.returnVisited(score: 3), to: w2, at: date(2026, 11, 4, 11))
        try await store.event(.closed, to: w2, at: date(2026, 11, 4, 11, 5))
        try await store.call(TestCall(caller: "13800000004", arrivedAt: date(2026, 11, 5, 10), answerAfter: nil, duration: 30,
                                      disposition: .cancelled))
        try await store.call(TestCall(caller: "13800000005", arrivedAt: date(2026, 11, 5, 11), answerAfter: nil, duration: 0,
                                      disposition: .rejected, sipStatus: 404))
        try await store.call(TestCall(caller: "13800000006", arrivedAt: date(2026, 11, 6, 9), answerAfter: nil, duration: 0,
                                      disposition: .rejectedCapacity, sipStatus: 503))
        let c8 = try await store.call(TestCall(caller: a, arrivedAt: date(2026, 11, 6, 10), answerAfter: 3, duration: 33,
                                               businessLine: "complaints", category: .complaint))
        #expect(try store.workOrders(ofCall: c8) == [w1])
        try await store.event(.returnVisited(score: 5), to: w1, at: date(2026, 11, 7, 10))
        try await store.event(.closed, to: w1, at: date(2026, 11, 7, 10, 5))
        try await store.call(TestCall(caller: "13800000007", arrivedAt: date(2026, 11, 7, 11), answerAfter: 1, duration: 41,
                                      disposition: .noInput))
        let w3 = try await store.call(TestCall(caller: "13800000009", arrivedAt: date(2026, 11, 10, 10), answerAfter: 4,
                                               duration: 64, businessLine: "enterprise", category: .complaint))
        try await store.event(.dispatched(to: "jinfeng"), to: w3, at: date(2026, 11, 10, 11))
        try await store.event(.dispatched(to: "market_regulation"), to: w3, at: date(2026, 11, 10, 14))
        try await store.event(.signed(by: "market_regulation"), to: w3, at: date(2026, 11, 10, 15))
        let w4 = try await store.call(TestCall(caller: "13800000010", arrivedAt: date(2026, 11, 12, 10), answerAfter: 5,
                                               duration: 25, businessLine: "move_car", category: .help))
        try await store.event(.dispatched(to: "traffic_police"), to: w4, at: date(2026, 11, 12, 10, 1))
        try await store.event(.signed(by: "traffic_police"), to: w4, at: date(2026, 11, 12, 10, 20))
        try await store.event(.handled, to: w3, at: date(2026, 11, 14, 10))
        try await store.event(.fedBack, to: w3, at: date(2026, 11, 15, 10))
        try await store.event(.returnVisited(score: 4), to: w3, at: date(2026, 11, 16, 10))
        let w7 = try await store.createWorkOrder(WorkOrderIntake(
            channel: .web, caller: "13800000077", category: .suggestion, subject: "street lights",
            acceptedAt: date(2026, 11, 20, 9), actor: "web")).id
        let w6 = try await store.call(TestCall(caller: "13800000012", arrivedAt: date(2026, 12, 5, 10), duration: 40,
                                               businessLine: "enterprise", category: .complaint))
        try await store.event(.dispatched(to: "xingqing"), to: w7, at: date(2026, 12, 10, 11))
        return Fixture(w1: w1, w2: w2, w3: w3, w4: w4, w5: w5, w6: w6, w7: w7)
    }

    @Test(arguments: StoreBackend.allCases)
    func november(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let fixture = try await buildFixture(store)
        let report = try store.kpis(KPIQuery(period: november, asOf: asOf))

        // Calls: C1-C4, C6-C10 offered (C5 was not a call to the hotline).
        let calls = try #require(report.calls)
        #expect(calls.offered == 9)
        #expect(calls.answered == 6)                        // C1 C2 C7 C8 C9 C10
        #expect(calls.abandoned == 2)                       // C3 C4
        #expect(calls.abandonedShort == 1)                  // C3, 5 s
        #expect(calls.connectRate == KPIRatio(6, of: 9))
        #expect(calls.serviceLevel == KPIRatio(5, of: 9))   // all answered but C2 (20 s)
        #expect(calls.averageSpeedOfAnswer == 35.0 / 6)     // (2 + 20 + 1 + 3 + 4 + 5) / 6
        #expect(calls.averageHandleTime == 48)              // (58 + 80 + 40 + 30 + 60 + 20) / 6

        // Work orders accepted in November: W1 W2 W3 W4 W7.
        let orders = report.workOrders
        #expect(orders.accepted == 5)
        #expect(orders.directAnswerRate == KPIRatio(1, of: 5))      // W2
        #expect(orders.completionRate == KPIRatio(3, of: 5))        // W1 closed, W2 closed, W3 visited
        #expect(orders.open == 2)                                   // W4 signed, W7 dispatched
        // Sign-ins: W1 on time; W3 at jinfeng never signed, withdrawn after its deadline: late;
        // W3 at market_regulation on time; W4 late; W7 still within its deadline: not counted.
        #expect(orders.onTimeSignInRate == KPIRatio(2, of: 4))
        // Completions: W1 on time; W3 at jinfeng withdrawn before its deadline: not counted;
        // W3 at market_regulation late; W4 not handled, past its deadline: late; W7 running.
        #expect(orders.onTimeCompletionRate == KPIRatio(1, of: 3))
        #expect(orders.satisfactionRate == KPIRatio(2, of: 3))      // W1 5, W3 4 of W1 W2 W3
        #expect(orders.overdue == 1)                                // W4
        #expect(orders.repeatCalls == 1)                            // C8

        // The ranking: by on-time completion, then satisfaction.
        #expect(report.units == [
            UnitKPIs(rank: 1, unit: "xingqing", name: "兴庆区", dispatched: 2, handled: 1, onTimeSignInRate: KPIRatio(1, of: 1),
                     onTimeCompletionRate: KPIRatio(1, of: 1), satisfactionRate: KPIRatio(1, of: 1)),
            UnitKPIs(rank: 2, unit: "market_regulation", name: "自治区市场监管厅", dispatched: 1, handled: 1,
                     onTimeSignInRate: KPIRatio(1, of: 1), onTimeCompletionRate: KPIRatio(0, of: 1),
                     satisfactionRate: KPIRatio(1, of: 1)),
            UnitKPIs(rank: 3, unit: "traffic_police", name: "银川市交警支队", dispatched: 1, handled: 0,
                     onTimeSignInRate: KPIRatio(0, of: 1), onTimeCompletionRate: KPIRatio(0, of: 1),
                     satisfactionRate: KPIRatio(0, of: 0)),
            UnitKPIs(rank: 4, unit: "jinfeng", name: "金凤区", dispatched: 1, handled: 0, onTimeSignInRate: KPIRatio(0, of: 1),
                     onTimeCompletionRate: KPIRatio(0, of: 0), satisfactionRate: KPIRatio(0, of: 0)),
        ])

        // Top lists against October (W5).
        #expect(report.topCategories == [
            TopEntry(key: "complaint", count: 2, previousCount: 1), TopEntry(key: "consultation", count: 1, previousCount: 0),
            TopEntry(key: "help", count: 1, previousCount: 0), TopEntry(key: "suggestion", count: 1, previousCount: 0),
        ])
        #expect(report.topCategories[0].change == 1)
        #expect(report.topCategories[0].changeRate == 1.0)
        #expect(report.topCategories[1].changeRate == nil)
        #expect(report.topSubjects.map(\.key) == ["complaints", "enterprise", "move_car", "policy", "street lights"])
        #expect(report.topSubjects[0] == TopEntry(key: "complaints", count: 1, previousCount: 1))
        _ = fixture
    }

    @Test(arguments: StoreBackend.allCases)
    func oneUnitAndTheUnitsUnderIt(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        _ = try await buildFixture(store)
        let report = try store.kpis(KPIQuery(period: november, unit: "yinchuan", asOf: asOf))
        #expect(report.calls == nil, "calls belong to no unit")
        let orders = report.workOrders
        #expect(orders.accepted == 3)                               // W1 xingqing, W4 traffic_police, W7 xingqing
        #expect(orders.directAnswerRate == nil)
        #expect(orders.completionRate == KPIRatio(1, of: 3))        // W1
        #expect(orders.onTimeSignInRate == KPIRatio(1, of: 3))      // W1 on time; W3 at jinfeng, W4 late
        #expect(orders.onTimeCompletionRate == KPIRatio(1, of: 2))  // W1 on time; W4 late
        #expect(orders.satisfactionRate == KPIRatio(1, of: 1))      // W1
        #expect(orders.overdue == 1)
        #expect(report.units.map(\.unit) == ["xingqing", "traffic_police", "jinfeng"])
        #expect(report.topCategories == [
            TopEntry(key: "complaint", count: 1, previousCount: 0), TopEntry(key: "help", count: 1, previousCount: 0),
            TopEntry(key: "suggestion", count: 1, previousCount: 0),
        ])
        let county = try store.kpis(KPIQuery(period: november, unit: "xingqing", asOf: asOf))
        #expect(county.workOrders.accepted == 2)
        #expect(county.units.map(\.unit) == ["xingqing"])
        #expect(throws: TicketStoreError.unknownUnit("atlantis")) {
            try store.kpis(KPIQuery(period: self.november, unit: "atlantis", asOf: self.asOf))
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func everything(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        _ = try await buildFixture(store)
        let report = try store.kpis(KPIQuery(asOf: asOf))
        #expect(report.calls?.offered == 11)                        // + C11, C12
        #expect(report.calls?.answered == 8)
        #expect(report.workOrders.accepted == 7)
        #expect(report.workOrders.completionRate == KPIRatio(3, of: 7))
        #expect(report.topCategories.first == TopEntry(key: "complaint", count: 4, previousCount: nil))
        #expect(report.topCategories.first?.change == nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func theCutOffMovesWithAsOf(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        _ = try await buildFixture(store)
        // At 13:30 W7's sign-in deadline (13:00) has passed without a signature.
        let later = try store.kpis(KPIQuery(period: november, asOf: date(2026, 12, 10, 13, 30)))
        #expect(later.workOrders.onTimeSignInRate == KPIRatio(2, of: 5))
        #expect(later.workOrders.overdue == 2)
    }

    @Test(arguments: StoreBackend.allCases)
    func anEmptyDatabaseReportsNothingWithoutDividingByZero(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        defer { store.close() }
        let report = try store.kpis(KPIQuery(period: november, asOf: asOf))
        #expect(report.calls?.offered == 0)
        #expect(report.calls?.connectRate.value == nil)
        #expect(report.calls?.averageSpeedOfAnswer == nil)
        #expect(report.workOrders.accepted == 0)
        #expect(report.workOrders.completionRate.value == nil)
        #expect(report.units.isEmpty)
        #expect(report.topCategories.isEmpty)
    }

    @Test(arguments: StoreBackend.allCases)
    func theReaderReportsTheSame(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        _ = try await buildFixture(store)
        let fromStore = try store.kpis(KPIQuery(period: november, asOf: asOf))
        store.close()
        let reader = try database.reader()
        #expect(try reader.kpis(KPIQuery(period: november, asOf: asOf)) == fromStore)
    }


}
