// SLA clocks in calendar time and in working time, across weekends, public holidays and
// make-up working days (the 2026 National Day week: holidays 1-7 October, make-up working
// days Sunday 20 September and Saturday 10 October).

import Foundation
import Testing
import WorkCalendar
@testable import Tickets

@Suite struct SLAPolicyTests {
    static let hours = [ClockRange(parsing: "09:00-12:00")!, ClockRange(parsing: "13:30-17:30")!]
    static let calendar = WorkCalendar.weekdays(
        hours, timeZone: shanghai,
        holidays: Set((1...7).map { LocalDate(year: 2026, month: 10, day: $0)! }),
        makeUpWorkingDays: [LocalDate(year: 2026, month: 9, day: 20)!, LocalDate(year: 2026, month: 10, day: 10)!])

    static func deadline(_ text: String, from start: Date) -> Date {
        SLADuration(parsing: text)!.deadline(from: start, calendar: calendar)
    }

    @Test func parsesLimits() {
        #expect(SLADuration(parsing: "2 working hours") == SLADuration(2, .workingHours))
        #expect(SLADuration(parsing: "1 working day") == SLADuration(1, .workingDays))
        #expect(SLADuration(parsing: "30 minutes") == SLADuration(30, .minutes))
        #expect(SLADuration(parsing: "1 hour") == SLADuration(1, .hours))
        #expect(SLADuration(parsing: "3  Days") == SLADuration(3, .days))
        for bad in ["", "2", "two hours", "0 hours", "-1 days", "2 weeks", "2 working", "2 hours working"] {
            #expect(SLADuration(parsing: bad) == nil, "\(bad)")
        }
        #expect(SLADuration(1, .workingDays).description == "1 working day")
        #expect(SLADuration(5, .workingDays).description == "5 working days")
    }

    // MARK: - Calendar time

    @Test func calendarTimeIgnoresWeekendsAndHolidays() {
        let friday = date(2026, 10, 2, 16, 30)  // in the National Day holiday
        #expect(Self.deadline("24 hours", from: friday) == date(2026, 10, 3, 16, 30))
        #expect(Self.deadline("3 days", from: friday) == date(2026, 10, 5, 16, 30))
        #expect(Self.deadline("10 minutes", from: friday) == date(2026, 10, 2, 16, 40))
    }

    // MARK: - Working hours

    @Test func workingHoursStopOverTheWeekend() {
        // Friday 16:30: one hour left that day, the other on Monday from 09:00.
        #expect(Self.deadline("2 working hours", from: date(2026, 11, 27, 16, 30)) == date(2026, 11, 30, 10))
        // Saturday: nothing counts until Monday 09:00.
        #expect(Self.deadline("2 working hours", from: date(2026, 11, 28, 10)) == date(2026, 11, 30, 11))
    }

    @Test func workingHoursSkipTheLunchBreak() {
        #expect(Self.deadline("2 working hours", from: date(2026, 11, 30, 11)) == date(2026, 11, 30, 14, 30))
        #expect(Self.deadline("1 working hour", from: date(2026, 11, 30, 12, 15)) == date(2026, 11, 30, 14, 30))
    }

    @Test func workingHoursSkipPublicHolidays() {
        // Wednesday 30 September 16:00: 1.5 hours that day, then 1-7 October are holidays
        // (the weekend 3-4 October among them), so the last half hour is Thursday 8 October.
        #expect(Self.deadline("2 working hours", from: date(2026, 9, 30, 16)) == date(2026, 10, 8, 9, 30))
        // Dispatched during the holiday: the clock starts when work does.
        #expect(Self.deadline("1 working hour", from: date(2026, 10, 3, 10)) == date(2026, 10, 8, 10))
    }

    @Test func workingHoursCountMakeUpWorkingDays() {
        // Friday 9 October 17:00: half an hour, then Saturday 10 October is a working day.
        #expect(Self.deadline("2 working hours", from: date(2026, 10, 9, 17)) == date(2026, 10, 10, 10, 30))
        // Saturday 19 September is a weekend; Sunday 20 September is worked.
        #expect(Self.deadline("1 working hour", from: date(2026, 9, 19, 10)) == date(2026, 9, 20, 10))
    }

    // MARK: - Working days

    @Test func workingDaysEndAtCloseOfBusinessAndTheFirstDayDoesNotCount() {
        // Monday: 1 working day is Tuesday's close.
        #expect(Self.deadline("1 working day", from: date(2026, 11, 30, 10)) == date(2026, 12, 1, 17, 30))
        // Friday: Monday's close, whatever the hour on Friday.
        #expect(Self.deadline("1 working day", from: date(2026, 11, 27, 8)) == date(2026, 11, 30, 17, 30))
        #expect(Self.deadline("1 working day", from: date(2026, 11, 27, 23)) == date(2026, 11, 30, 17, 30))
        // Saturday: Monday too.
        #expect(Self.deadline("1 working day", from: date(2026, 11, 28, 12)) == date(2026, 11, 30, 17, 30))
    }

    @Test func workingDaysSkipHolidaysAndCountMakeUpDays() {
        // Friday 25 September: 28, 29, 30 September, then 8, 9 October (1-7 are holidays).
        #expect(Self.deadline("5 working days", from: date(2026, 9, 25, 10)) == date(2026, 10, 9, 17, 30))
        // Six: Saturday 10 October is a make-up working day.
        #expect(Self.deadline("6 working days", from: date(2026, 9, 25, 10)) == date(2026, 10, 10, 17, 30))
        // Friday 18 September: Sunday 20 September is worked, then 21-24.
        #expect(Self.deadline("5 working days", from: date(2026, 9, 18, 10)) == date(2026, 9, 24, 17, 30))
    }

    @Test func aCalendarWithoutWorkingTimeNeverRunsOut() {
        let closed = WorkCalendar(timeZone: shanghai, weeklyHours: [:])
        #expect(SLADuration(1, .workingDays).deadline(from: date(2026, 11, 2), calendar: closed) == .distantFuture)
    }

    // MARK: - Policy

    @Test func businessLinesThenCategoriesThenTheDefault() {
        let policy = SLAPolicy(
            calendar: Self.calendar, defaultRule: SLARule(signIn: SLADuration(2, .workingHours), completion: SLADuration(5, .workingDays)),
            categories: [.help: SLARule(signIn: SLADuration(1, .hours), completion: SLADuration(1, .days))],
            businessLines: ["move_car": SLARule(signIn: SLADuration(10, .minutes), completion: SLADuration(1, .hours))])
        #expect(policy.rule(category: .help, businessLine: "move_car").signIn == SLADuration(10, .minutes))
        #expect(policy.rule(category: .help, businessLine: "enterprise").signIn == SLADuration(1, .hours))
        #expect(policy.rule(category: .complaint, businessLine: nil) == policy.defaultRule)
        let deadlines = policy.deadlines(category: .complaint, businessLine: nil, dispatchedAt: date(2026, 11, 27, 16, 30))
        #expect(deadlines.signIn == date(2026, 11, 30, 10))
        #expect(deadlines.completion == date(2026, 12, 4, 17, 30))
    }

    @Test func theShippedPolicyFileLoads() throws {
        let path = UnitDirectoryTests.root.appendingPathComponent("Dialplans/tickets/sla.yaml").path
        let policy = try WorkOrderPolicy.load(contentsOf: path)
        #expect(policy.sla.calendar.timeZone == shanghai)
        #expect(policy.sla.calendar.isHoliday(LocalDate(year: 2026, month: 10, day: 5)!))
        #expect(policy.sla.calendar.isWorkingDay(LocalDate(year: 2026, month: 10, day: 10)!))
        #expect(policy.sla.defaultRule == SLARule(signIn: SLADuration(2, .workingHours), completion: SLADuration(5, .workingDays)))
        #expect(policy.sla.businessLines["enterprise"]?.completion == SLADuration(1, .workingDays))
        #expect(policy.sla.categories[.help]?.signIn == SLADuration(1, .hours))
        #expect(policy.intake.directAnswerCategories == [.consultation])
        #expect(policy.intake.repeatCallWindow == .seconds(30 * 86_400))
        // The same file, with the calendar given from elsewhere (the dialplan's).
        let given = WorkCalendar.always(timeZone: shanghai)
        #expect(try WorkOrderPolicy.load(contentsOf: path, calendar: given).sla.calendar == given)
    }

    @Test func policyFileIssuesAreLocated() {
        let yaml = """
            time_zone: Mars/Olympus
            calendar:
              hours:
                mon-fry: ["09:00-12:00"]
                sat: ["9-12"]
              holidays: [2026-13-01]
            default: {sign_in: 2 working hours}
            categories:
              help: {sign_in: two hours, completion: 1 day}
            intake:
              repeat_call_window: 2 working days
            deadline: 3
            """
        #expect {
            try WorkOrderPolicy.parse(yaml: yaml, file: "sla.yaml")
        } throws: { error in
            let issues = (error as? TicketsConfigError)?.issues.map(\.description) ?? []
            return issues == [
                "sla.yaml:12:1: error: unknown key 'deadline' [deadline]",
                "sla.yaml:1:12: error: unknown time zone 'Mars/Olympus' [time_zone] (an IANA name such as Asia/Shanghai)",
                "sla.yaml:4:5: error: 'mon-fry' is not a weekday or a range of weekdays [calendar.hours.mon-fry] (mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri)",
                "sla.yaml:5:11: error: '9-12' is not a range of hours [calendar.hours.sat.0] (HH:MM-HH:MM, e.g. 09:00-12:00)",
                "sla.yaml:6:14: error: '2026-13-01' is not a date or a range of dates [calendar.holidays.0] (YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)",
                "sla.yaml:7:10: error: missing key 'completion' [default]",
                "sla.yaml:9:19: error: 'two hours' is not a time limit [categories.help.sign_in] (a whole number and minutes, hours, days, working hours or working days, e.g. '2 working hours')",
                "sla.yaml:11:23: error: '2 working days' is not a window [intake.repeat_call_window] (minutes, hours or days, e.g. '30 days', or 'off')",
            ]
        }
    }
}
