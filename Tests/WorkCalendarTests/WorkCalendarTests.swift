import Foundation
import Testing
@testable import WorkCalendar

let shanghai = TimeZone(identifier: "Asia/Shanghai")!

/// An instant given as Beijing local time.
func bj(_ text: String) -> Date {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = shanghai
    f.dateFormat = "yyyy-MM-dd HH:mm"
    return f.date(from: text)!
}

func day(_ s: String) -> LocalDate { LocalDate(parsing: s)! }

/// A 12345 centre's office: 09:00-12:00 and 13:30-17:30 on weekdays, the 2026 National Day
/// week off, and Sunday 2026-09-27 worked instead.
let office = WorkCalendar.weekdays(
    [ClockRange(parsing: "09:00-12:00")!, ClockRange(parsing: "13:30-17:30")!], timeZone: shanghai,
    holidays: Set(["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"].map(day)),
    makeUpWorkingDays: [day("2026-09-27")])

@Suite struct LocalDateTests {
    @Test func parsesAndRejects() {
        #expect(LocalDate(parsing: "2026-10-01")?.description == "2026-10-01")
        #expect(LocalDate(parsing: "2026-02-29") == nil, "2026 is not a leap year")
        #expect(LocalDate(parsing: "2028-02-29") != nil)
        #expect(LocalDate(parsing: "2026-13-01") == nil)
        #expect(LocalDate(parsing: "26-10-01") == nil)
    }

    @Test func weekdaysAndDayArithmetic() {
        #expect(day("2026-11-29").weekday == .sunday)
        #expect(day("2026-10-01").weekday == .thursday)
        #expect(day("1970-01-01").weekday == .thursday)
        #expect(day("2026-12-31").next == day("2027-01-01"))
        #expect(day("2028-03-01").previous == day("2028-02-29"))
        for n in stride(from: -100_000, through: 100_000, by: 997) {
            #expect(LocalDate(daysSinceEpoch: n).daysSinceEpoch == n)
        }
    }

    @Test func theLocalDayDependsOnTheTimeZone() {
        let instant = bj("2026-10-01 07:00") // 2026-09-30 23:00 UTC
        #expect(LocalDate(instant, in: shanghai) == day("2026-10-01"))
        #expect(LocalDate(instant, in: TimeZone(identifier: "UTC")!) == day("2026-09-30"))
    }
}

@Suite struct OpeningHoursTests {
    @Test func openOnlyInWorkingHoursOfWorkingDays() {
        #expect(office.isOpen(at: bj("2026-11-27 09:00")), "Friday, opening minute")
        #expect(!office.isOpen(at: bj("2026-11-27 12:00")), "lunch")
        #expect(office.isOpen(at: bj("2026-11-27 17:29")))
        #expect(!office.isOpen(at: bj("2026-11-27 17:30")), "the end is excluded")
        #expect(!office.isOpen(at: bj("2026-11-28 10:00")), "Saturday")
        #expect(!office.isOpen(at: bj("2026-10-01 10:00")), "National Day")
        #expect(office.isOpen(at: bj("2026-09-27 10:00")), "the make-up Sunday works Monday's hours")
        #expect(office.isHoliday(bj("2026-10-02 20:00")))
        #expect(office.isWorkingDay(day("2026-09-27")) && !office.isWorkingDay(day("2026-10-07")))
    }

    @Test func nextOpeningSkipsNightsWeekendsAndHolidays() {
        #expect(office.nextOpening(atOrAfter: bj("2026-11-27 18:00")) == bj("2026-11-30 09:00"))
        #expect(office.nextOpening(atOrAfter: bj("2026-09-30 17:45")) == bj("2026-10-08 09:00"))
        #expect(office.nextOpening(atOrAfter: bj("2026-11-27 12:10")) == bj("2026-11-27 13:30"))
        #expect(office.nextOpening(atOrAfter: bj("2026-11-27 10:00")) == bj("2026-11-27 10:00"))
    }
}

@Suite struct WorkingTimeArithmeticTests {
    @Test func deadlinesCountOnlyWorkingHours() {
        // Friday 16:00 + 2 h: 1.5 h left on Friday, then half an hour on Monday → 09:30.
        #expect(office.addingWorkingTime(.seconds(2 * 3600), to: bj("2026-11-27 16:00")) == bj("2026-11-30 09:30"))
        // Across lunch: 11:00 + 2 h → 14:30.
        #expect(office.addingWorkingTime(.seconds(2 * 3600), to: bj("2026-11-27 11:00")) == bj("2026-11-27 14:30"))
        // Across the National Day week: Wednesday 30 Sep 17:00 + 1 h → Thursday 8 Oct 09:30.
        #expect(office.addingWorkingTime(.seconds(3600), to: bj("2026-09-30 17:00")) == bj("2026-10-08 09:30"))
        // Starting at night counts from the next opening.
        #expect(office.addingWorkingTime(.seconds(1800), to: bj("2026-11-26 22:00")) == bj("2026-11-27 09:30"))
        #expect(office.addingWorkingTime(.zero, to: bj("2026-11-26 22:00")) == bj("2026-11-26 22:00"))
    }

    @Test func workingTimeIsTheInverse() {
        let starts = ["2026-11-27 16:00", "2026-09-30 17:00", "2026-11-26 22:00", "2026-09-26 08:00"].map(bj)
        for start in starts {
            for hours in [1, 5, 7, 13, 40] {
                let end = office.addingWorkingTime(.seconds(hours * 3600), to: start)
                #expect(office.workingTime(from: start, to: end) == .seconds(hours * 3600), "\(start) + \(hours) h")
            }
        }
        #expect(office.workingTime(from: bj("2026-11-28 09:00"), to: bj("2026-11-29 18:00")) == .zero, "a weekend")
        #expect(office.workingTime(from: bj("2026-11-27 10:00"), to: bj("2026-11-27 09:00")) == .zero)
    }

    @Test func calendarTimeIsRoundTheClock() {
        let always = WorkCalendar.always(timeZone: shanghai)
        #expect(always.addingWorkingTime(.seconds(48 * 3600), to: bj("2026-11-27 16:00")) == bj("2026-11-29 16:00"))
        #expect(always.isOpen(at: bj("2026-10-01 03:00")))
    }

    @Test func aCalendarWithNoWorkingTimeNeverReachesTheDeadline() {
        let closed = WorkCalendar(timeZone: shanghai, weeklyHours: [:])
        #expect(closed.addingWorkingTime(.seconds(60), to: bj("2026-11-27 16:00")) == .distantFuture)
        #expect(closed.nextOpening(atOrAfter: bj("2026-11-27 16:00")) == nil)
    }
}

@Suite struct SeasonTests {
    @Test func theHeatingSeasonWrapsTheNewYear() {
        let heating = SeasonalRange(parsing: "11-15..03-15")!
        #expect(heating.contains(day("2026-11-15")) && heating.contains(day("2027-03-15")), "both ends included")
        #expect(heating.contains(day("2027-01-10")))
        #expect(!heating.contains(day("2026-11-14")) && !heating.contains(day("2027-03-16")))
        #expect(heating.contains(day("2028-02-29")))
        #expect(heating.contains(bj("2026-11-15 00:30"), in: shanghai))
        #expect(!heating.contains(bj("2026-11-15 00:30"), in: TimeZone(identifier: "UTC")!), "still the 14th in UTC")
    }

    @Test func aSummerSeasonDoesNotWrap() {
        let summer = SeasonalRange(parsing: "06-01..08-31")!
        #expect(summer.contains(day("2026-07-01")) && !summer.contains(day("2026-12-01")))
        #expect(SeasonalRange(parsing: "13-01..02-01") == nil)
        #expect(ClockRange(parsing: "17:00-09:00") == nil, "a range runs forward within a day")
        #expect(ClockTime(parsing: "24:00") == .endOfDay && ClockTime(parsing: "24:30") == nil)
    }
}
