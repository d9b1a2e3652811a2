// WorkCalendar: opening hours, public holidays, make-up working days and seasons — the
// calendar a 12345 centre works by. Pure values and arithmetic, shared by the dialplan's time
// branches and the tickets' SLA clocks. Time zone explicit everywhere; no clock is read.
import Foundation

/// ISO weekday numbering: Monday is 1, Sunday 7.
public enum Weekday: Int, CaseIterable, Sendable, Comparable, CustomStringConvertible {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }

    /// `mon`, `tue`, ... as written in configuration.
    public var shortName: String { ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][rawValue - 1] }
    public var description: String { shortName }

    public init?(shortName: String) {
        guard let index = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].firstIndex(of: shortName.lowercased()) else { return nil }
        self.init(rawValue: index + 1)
    }

    public var isWeekend: Bool { self == .saturday || self == .sunday }
}

/// A calendar day with no time and no zone (`2026-10-01`).
public struct LocalDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...LocalDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The local day of `date` in `timeZone`.
    public init(_ date: Date, in timeZone: TimeZone) {
        let c = Calendar.gregorian(timeZone).dateComponents([.year, .month, .day], from: date)
        self.year = c.year!
        self.month = c.month!
        self.day = c.day!
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// Zeller-free weekday via days since 1970-01-01 (a Thursday).
    public var weekday: Weekday {
        let offset = ((daysSinceEpoch % 7) + 7) % 7 // 0 = Thursday
        return Weekday(rawValue: (offset + 3) % 7 + 1)!
    }

    public var next: LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch + 1) }
    public var previous: LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch - 1) }

    /// The instant this day is at `time` in `timeZone` (24:00 is the next day's midnight).
    public func at(_ time: ClockTime, in timeZone: TimeZone) -> Date {
        var c = DateComponents()
        c.year = year
        c.month = month
        c.day = day
        c.hour = 0
        c.minute = 0
        c.second = 0
        let midnight = Calendar.gregorian(timeZone).date(from: c)!
        return Calendar.gregorian(timeZone).date(byAdding: .second, value: time.secondsSinceMidnight, to: midnight)!
    }

    /// Days since 1970-01-01 (civil-from-days arithmetic, proleptic Gregorian).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(daysSinceEpoch z0: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A time of day, `HH:MM`; `24:00` is allowed as the end of a range.
public struct ClockTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int

    public init?(hour: Int, minute: Int) {
        guard (0...24).contains(hour), (0...59).contains(minute), hour < 24 || minute == 0 else { return nil }
        self.hour = hour
        self.minute = minute
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]) else { return nil }
        self.init(hour: h, minute: m)
    }

    public static let midnight = ClockTime(hour: 0, minute: 0)!
    public static let endOfDay = ClockTime(hour: 24, minute: 0)!

    public var secondsSinceMidnight: Int { hour * 3600 + minute * 60 }
    public static func < (a: ClockTime, b: ClockTime) -> Bool { a.secondsSinceMidnight < b.secondsSinceMidnight }
    public var description: String { String(format: "%02d:%02d", hour, minute) }
}

/// `09:00-12:00`: from `start` (included) to `end` (excluded), within one day.
public struct ClockRange: Hashable, Sendable, CustomStringConvertible {
    public var start: ClockTime
    public var end: ClockTime

    public init?(start: ClockTime, end: ClockTime) {
        guard start < end else { return nil }
        self.start = start
        self.end = end
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let s = ClockTime(parsing: String(parts[0]).trimmingCharacters(in: .whitespaces)),
              let e = ClockTime(parsing: String(parts[1]).trimmingCharacters(in: .whitespaces)) else { return nil }
        self.init(start: s, end: e)
    }

    public func contains(secondsSinceMidnight s: Int) -> Bool {
        s >= start.secondsSinceMidnight && s < end.secondsSinceMidnight
    }

    public var description: String { "\(start)-\(end)" }
}

/// A month and day (`11-15`), for seasons that recur every year.
public struct MonthDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var month: Int
    public var day: Int

    public init?(month: Int, day: Int) {
        guard (1...12).contains(month), (1...LocalDate.daysIn(month: month, year: 2024)).contains(day) else { return nil }
        self.month = month
        self.day = day
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let m = Int(parts[0]), let d = Int(parts[1]) else { return nil }
        self.init(month: m, day: d)
    }

    public static func < (a: MonthDay, b: MonthDay) -> Bool { (a.month, a.day) < (b.month, b.day) }
    public var description: String { String(format: "%02d-%02d", month, day) }
}

/// A season such as the northern heating season `11-15..03-15`: both ends included, and a
/// range whose start is after its end wraps over the new year.
public struct SeasonalRange: Hashable, Sendable, CustomStringConvertible {
    public var from: MonthDay
    public var to: MonthDay

    public init(from: MonthDay, to: MonthDay) {
        self.from = from
        self.to = to
    }

    /// `MM-DD..MM-DD`.
    public init?(parsing text: String) {
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2, let f = MonthDay(parsing: parts[0]), let t = MonthDay(parsing: parts[1]) else { return nil }
        self.init(from: f, to: t)
    }

    public func contains(_ date: LocalDate) -> Bool {
        // MonthDay validates against a leap year, so every real date (Feb 29 too) fits.
        let md = MonthDay(month: date.month, day: date.day)!
        return from <= to ? (from <= md && md <= to) : (md >= from || md <= to)
    }

    public func contains(_ date: Date, in timeZone: TimeZone) -> Bool {
        contains(LocalDate(date, in: timeZone))
    }

    public var description: String { "\(from)..\(to)" }
}

extension Calendar {
    static func gregorian(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
}
