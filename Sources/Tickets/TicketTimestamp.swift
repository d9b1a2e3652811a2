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
        guard inFourDigitYears(ms) else { return paddedFormat(ms) }
        return String(unsafeUninitializedCapacity: width) { buffer in
            write(ms, into: buffer)
            return width
        }
    }

    /// Calls `body` with the text of ``format(_:)`` in a buffer on the stack: what the SQLite
    /// writer binds, without a String (and its heap allocation) per timestamp.
    public static func withFormatted<Result>(_ date: Date,
                                             _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        let ms = milliseconds(of: date)
        guard inFourDigitYears(ms) else {
            var text = paddedFormat(ms)
            return try text.withUTF8(body)
        }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: width) { buffer in
            write(ms, into: buffer)
            return try body(UnsafeBufferPointer(buffer))
        }
    }

    /// The length of the text, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static let width = 24

    /// 0000-01-01T00:00:00.000Z ... 9999-12-31T23:59:59.999Z: the dates the fixed width holds.
    private static func inFourDigitYears(_ ms: Int64) -> Bool {
        (-62_167_219_200_000 ... 253_402_300_799_999).contains(ms)
    }

    /// Writes the text of a date of four-digit years into the first ``width`` bytes of `buffer`.
    private static func write(_ ms: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        let (days, msOfDay) = floorDivide(ms, 86_400_000)
        let (year, month, day) = CivilDate.fromDays(days)
        func put(_ value: Int, at start: Int, width: Int) {
            var value = value
            for index in stride(from: start + width - 1, through: start, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10)
                value /= 10
            }
        }
        put(year, at: 0, width: 4)
        buffer[4] = UInt8(ascii: "-")
        put(month, at: 5, width: 2)
        buffer[7] = UInt8(ascii: "-")
        put(day, at: 8, width: 2)
        buffer[10] = UInt8(ascii: "T")
        put(Int(msOfDay / 3_600_000), at: 11, width: 2)
        buffer[13] = UInt8(ascii: ":")
        put(Int(msOfDay / 60_000 % 60), at: 14, width: 2)
        buffer[16] = UInt8(ascii: ":")
        put(Int(msOfDay / 1000 % 60), at: 17, width: 2)
        buffer[19] = UInt8(ascii: ".")
        put(Int(msOfDay % 1000), at: 20, width: 3)
        buffer[23] = UInt8(ascii: "Z")
    }

    /// Any other date, as it always was: each field zero-padded to its width, wider if it must.
    /// (The schema refuses these; they still format the same way in errors and JSON.)
    private static func paddedFormat(_ ms: Int64) -> String {
        let (days, msOfDay) = floorDivide(ms, 86_400_000)
        let (year, month, day) = CivilDate.fromDays(days)
        var text = ""
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

    private static func appendPadded(_ text: inout String, _ value: Int, width: Int) {
        let digits = String(value)
        if digits.count < width {
            text.append(String(repeating: "0", count: width - digits.count))
        }
        text.append(digits)
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
