// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the one timestamp format tickets use on disk and in JSON, ISO 8601 UTC with
// milliseconds, done by integer arithmetic so it is exact, locale-free and allocation-light.

import Foundation

/// Converts between `Date` and the ticket timestamp text `YYYY-MM-DDTHH:MM:SS.mmmZ`.
///
/// Fixed width and UTC, so text order is time order: `ORDER BY arrived_at` and
/// `arrived_at >= ?` work on the text column, and `sqlite3` shows readable times.
/// Dates are rounded to the nearest millisecond, the precision the store keeps.
public enum TicketTimestamp {
    /// Milliseconds since 1970, rounded to the nearest millisecond.
    public static func milliseconds(of date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The `Date` for a whole number of milliseconds since 1970.
    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// `date` rounded to the millisecond, so that a value equals itself after a trip
    /// through the database or JSON. Idempotent.
    public static func normalized(_ date: Date) -> Date {
        self.date(milliseconds: milliseconds(of: date))
    }

    /// `2026-11-29T07:05:03.042Z`.
    public static func format(_ date: Date) -> String {
        let ms = milliseconds(of: date)
        let (days, msOfDay) = floorDivide(ms, 86_400_000)
        let (year, month, day) = CivilDate.fromDays(days)
        var text = ""
        text.reserveCapacity(24)
        appendPadded(&text, year, width: 4)
        text.append("-")
        appendPadded(&text, month, width: 2)
        text.append("-")
        appendPadded(&text, day, width: 2)
        text.append("T")
        appendPadded(&text, Int(msOfDay / 3_600_000), width: 2)
        text.append(":")
        appendPadded(&text, Int(msOfDay / 60_000 % 60), width: 2)
        text.append(":")
        appendPadded(&text, Int(msOfDay / 1000 % 60), width: 2)
        text.append(".")
        appendPadded(&text, Int(msOfDay % 1000), width: 3)
        text.append("Z")
        return text
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS.mmmZ`, or the same without `.mmm`; nil for anything else.
    public static func parse(_ text: some StringProtocol) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24 || bytes.count == 20 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for byte in bytes[start..<start + count] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, is character: Unicode.Scalar) -> Bool {
            bytes[index] == UInt8(ascii: character)
        }
        guard byte(4, is: "-"), byte(7, is: "-"), byte(10, is: "T"), byte(13, is: ":"), byte(16, is: ":"),
              byte(bytes.count - 1, is: "Z"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...CivilDate.daysInMonth(year: year, month: month)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var millisecond = 0
        if bytes.count == 24 {
            guard byte(19, is: "."), let fraction = number(20, 3) else { return nil }
            millisecond = fraction
        }
        let days = Int64(CivilDate.days(year: year, month: month, day: day))
        let ms = days * 86_400_000 + Int64(hour * 3_600_000 + minute * 60_000 + second * 1000 + millisecond)
        return date(milliseconds: ms)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int, remainder: Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (Int(quotient), remainder)
    }

    private static func appendPadded(_ text: inout String, _ value: Int, width: Int) {
        let digits = String(value)
        if digits.count < width {
            text.append(String(repeating: "0", count: width - digits.count))
        }
        text.append(digits)
    }
}

/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01),
/// after Howard Hinnant's `days_from_civil` / `civil_from_days`.
public enum CivilDate {
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func fromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }
}
