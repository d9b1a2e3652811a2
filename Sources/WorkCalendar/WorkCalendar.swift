import Foundation

/// When a centre works: weekly hours per weekday (a lunch break is two ranges), public
/// holidays, and make-up working days — in China a weekend day worked to bridge a holiday
/// (e.g. Sunday 2026-09-27 before National Day), which keeps the hours of a normal workday.
public struct WorkCalendar: Sendable, Equatable {
    public var timeZone: TimeZone
    public var weeklyHours: [Weekday: [ClockRange]]
    public var holidays: Set<LocalDate>
    public var makeUpWorkingDays: Set<LocalDate>
    /// The hours of a make-up working day: those of `makeUpDayHoursFrom` (Monday by default).
    public var makeUpDayHoursFrom: Weekday

    public init(timeZone: TimeZone, weeklyHours: [Weekday: [ClockRange]], holidays: Set<LocalDate> = [],
                makeUpWorkingDays: Set<LocalDate> = [], makeUpDayHoursFrom: Weekday = .monday) {
        self.timeZone = timeZone
        self.weeklyHours = weeklyHours.mapValues { $0.sorted { $0.start < $1.start } }
        self.holidays = holidays
        self.makeUpWorkingDays = makeUpWorkingDays
        self.makeUpDayHoursFrom = makeUpDayHoursFrom
    }

    /// Round the clock, every day: SLA clocks in calendar time.
    public static func always(timeZone: TimeZone) -> WorkCalendar {
        let all = [ClockRange(start: .midnight, end: .endOfDay)!]
        return WorkCalendar(timeZone: timeZone, weeklyHours: Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, all) }))
    }

    /// The same hours Monday to Friday.
    public static func weekdays(_ hours: [ClockRange], timeZone: TimeZone, holidays: Set<LocalDate> = [],
                                makeUpWorkingDays: Set<LocalDate> = []) -> WorkCalendar {
        let days: [Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday]
        return WorkCalendar(timeZone: timeZone, weeklyHours: Dictionary(uniqueKeysWithValues: days.map { ($0, hours) }),
                            holidays: holidays, makeUpWorkingDays: makeUpWorkingDays)
    }

    // MARK: days

    /// The working hours of a day: none on a holiday, a workday's on a make-up day.
    public func hours(on day: LocalDate) -> [ClockRange] {
        if holidays.contains(day) { return [] }
        if makeUpWorkingDays.contains(day) { return weeklyHours[makeUpDayHoursFrom] ?? [] }
        return weeklyHours[day.weekday] ?? []
    }

    public func isHoliday(_ date: Date) -> Bool { holidays.contains(LocalDate(date, in: timeZone)) }
    public func isHoliday(_ day: LocalDate) -> Bool { holidays.contains(day) }

    /// A day with working hours: a weekday that is not a holiday, or a make-up day.
    public func isWorkingDay(_ date: Date) -> Bool { !hours(on: LocalDate(date, in: timeZone)).isEmpty }
    public func isWorkingDay(_ day: LocalDate) -> Bool { !hours(on: day).isEmpty }

    /// Within the working hours at this instant.
    public func isOpen(at date: Date) -> Bool {
        let day = LocalDate(date, in: timeZone)
        let seconds = Int(date.timeIntervalSince(day.at(.midnight, in: timeZone)))
        return hours(on: day).contains { $0.contains(secondsSinceMidnight: seconds) }
    }

    /// The working intervals of a day as instants, in order.
    func intervals(on day: LocalDate) -> [(start: Date, end: Date)] {
        hours(on: day).map { (day.at($0.start, in: timeZone), day.at($0.end, in: timeZone)) }
    }

    /// The next instant the centre opens at or after `date`, within `searchDays`; nil if the
    /// calendar has no working time in that window.
    public func nextOpening(atOrAfter date: Date, searchDays: Int = 370) -> Date? {
        var day = LocalDate(date, in: timeZone)
        for _ in 0..<searchDays {
            for interval in intervals(on: day) where interval.end > date {
                return max(interval.start, date)
            }
            day = day.next
        }
        return nil
    }

    // MARK: arithmetic

    /// The instant at which `duration` of working time has passed since `start` (an SLA
    /// deadline "within 2 working days"). Time outside working hours does not count. If the
    /// calendar has no working time for ten years ahead, returns `Date.distantFuture`.
    public func addingWorkingTime(_ duration: Duration, to start: Date) -> Date {
        var remaining = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        guard remaining > 0 else { return start }
        var day = LocalDate(start, in: timeZone)
        for _ in 0..<3660 {
            for interval in intervals(on: day) where interval.end > start {
                let from = max(interval.start, start)
                let available = interval.end.timeIntervalSince(from)
                if remaining <= available { return from.addingTimeInterval(remaining) }
                remaining -= available
            }
            day = day.next
        }
        return .distantFuture
    }

    /// Working time between two instants (zero if `end` is not after `start`).
    public func workingTime(from start: Date, to end: Date) -> Duration {
        guard end > start else { return .zero }
        var total = 0.0
        var day = LocalDate(start, in: timeZone)
        let last = LocalDate(end, in: timeZone)
        while day <= last {
            for interval in intervals(on: day) {
                let from = max(interval.start, start), to = min(interval.end, end)
                if to > from { total += to.timeIntervalSince(from) }
            }
            day = day.next
        }
        return .milliseconds(Int64((total * 1000).rounded()))
    }
}
