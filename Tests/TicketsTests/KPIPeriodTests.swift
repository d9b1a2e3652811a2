// Report periods and KPI ratios, without a store. (The KPIs themselves are in TicketStoreTests.)

import Foundation
import Testing
import WorkCalendar
@testable import Tickets

@Suite struct KPIPeriodTests {
    let november = ReportPeriod(from: LocalDate(year: 2026, month: 11, day: 1)!,
                                through: LocalDate(year: 2026, month: 11, day: 30)!, in: shanghai)!

    @Test func periodsAndTheirPreviousPeriods() {
        func day(_ y: Int, _ m: Int, _ d: Int) -> LocalDate { LocalDate(year: y, month: m, day: d)! }
        #expect(november.start == date(2026, 11, 1))
        #expect(november.end == date(2026, 12, 1))
        #expect(november.previous == ReportPeriod(from: day(2026, 10, 1), through: day(2026, 10, 31), in: shanghai))
        let january = ReportPeriod(from: day(2026, 1, 1), through: day(2026, 1, 31), in: shanghai)!
        #expect(january.previous == ReportPeriod(from: day(2025, 12, 1), through: day(2025, 12, 31), in: shanghai))
        let quarter = ReportPeriod(from: day(2026, 10, 1), through: day(2026, 12, 31), in: shanghai)!
        #expect(quarter.previous == ReportPeriod(from: day(2026, 7, 1), through: day(2026, 9, 30), in: shanghai))
        let week = ReportPeriod(from: day(2026, 11, 3), through: day(2026, 11, 9), in: shanghai)!
        #expect(week.previous == ReportPeriod(from: day(2026, 10, 27), through: day(2026, 11, 2), in: shanghai))
        let hours = ReportPeriod(start: date(2026, 11, 3, 9), end: date(2026, 11, 3, 12))!
        #expect(hours.previous == ReportPeriod(start: date(2026, 11, 3, 6), end: date(2026, 11, 3, 9)))
        #expect(ReportPeriod(from: day(2026, 11, 2), through: day(2026, 11, 1), in: shanghai) == nil)
    }

    @Test func ratiosPrint() {
        #expect(KPIRatio(959, of: 1000).description == "95.90% (959/1000)")
        #expect(KPIRatio(0, of: 0).description == "- (0/0)")
    }
}
