import WorkCalendar

/// How a `say` node reads a value aloud, by stringing recorded fragments together
/// (`digit_3`, `num_100`, `month_12`, ...). Readers exist for Mandarin (`zh`) and English (`en`);
/// the loader refuses a `say` node in a dialplan declaring any other language.
///
/// | format | value | Mandarin | English |
/// |---|---|---|---|
/// | `digits` | any text; digits are read, the rest skipped | 一 二 三 | one two three |
/// | `number` | a whole number, 0 to 999 999 999 | 一千零五 | one thousand five |
/// | `date` | `YYYY-MM-DD`, or an ISO date-time such as `${time}` | 二零二六年十二月一日 | December first twenty twenty six |
/// | `time` | `HH:MM`, or an ISO date-time | 二十点三十分 (24-hour) | eight thirty p.m. |
/// | `weekday` | a date as for `date` | 星期二 | Tuesday |
public enum SayFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case digits
    case number
    case date
    case time
    case weekday

    public var description: String { rawValue }

    /// Languages with a reader.
    public static let languages: [Language] = [.zh, .en]

    /// The largest value `number` reads.
    public static let maxNumber = 999_999_999

    /// Why a value could not be read.
    public enum ReadError: Error, Equatable, Sendable, CustomStringConvertible {
        case notANumber(String)
        case notADate(String)
        case notATime(String)
        case noReader(Language)

        public var description: String {
            switch self {
            case .notANumber(let value): "'\(value)' is not a whole number from 0 to \(SayFormat.maxNumber)"
            case .notADate(let value): "'\(value)' is not a date (YYYY-MM-DD)"
            case .notATime(let value): "'\(value)' is not a time (HH:MM)"
            case .noReader(let language): "no reader for language '\(language)'"
            }
        }
    }

    /// The fragment prompts that read `value` in `language`, in order.
    public func fragments(for value: String, in language: Language) -> Result<[String], ReadError> {
        guard language == .zh || language == .en else { return .failure(.noReader(language)) }
        let zh = language == .zh
        switch self {
        case .digits:
            return .success(value.compactMap { $0.isASCIIDigit ? "digit_\($0)" : nil })
        case .number:
            let trimmed = value.trimmingWhitespace
            guard !trimmed.isEmpty, trimmed.count <= 12, trimmed.allSatisfy(\.isASCIIDigit), let number = Int(trimmed),
                number <= SayFormat.maxNumber
            else { return .failure(.notANumber(value)) }
            return .success(zh ? SayFormat.mandarin(number) : SayFormat.english(number))
        case .date, .weekday:
            guard let date = SayFormat.date(in: value) else { return .failure(.notADate(value)) }
            if self == .weekday { return .success(["weekday_\(date.weekday.rawValue)"]) }
            let (year, month, day) = (date.year, date.month, date.day)
            if zh {
                return .success(String(year).map { "digit_\($0)" } + ["date_year", "month_\(month)"]
                    + SayFormat.mandarin(day) + ["date_day"])
            }
            return .success(["month_\(month)"] + SayFormat.englishOrdinal(day) + SayFormat.englishYear(year))
        case .time:
            guard let (hour, minute) = SayFormat.time(in: value) else { return .failure(.notATime(value)) }
            if zh {
                var words = hour == 2 ? ["num_liang"] : SayFormat.mandarin(hour)
                words.append("time_oclock")
                if minute > 0 {
                    if minute < 10 { words.append("digit_0") }
                    words += SayFormat.mandarin(minute) + ["time_minute"]
                }
                return .success(words)
            }
            let twelve = hour % 12 == 0 ? 12 : hour % 12
            var words = SayFormat.english(twelve)
            if minute == 0 {
                words.append("time_oclock")
            } else if minute < 10 {
                words += ["time_oh", "digit_\(minute)"]
            } else {
                words += SayFormat.english(minute)
            }
            words.append(hour < 12 ? "time_am" : "time_pm")
            return .success(words)
        }
    }

    /// Every fragment this format may need in `language`: what the prompt check demands.
    public func requiredFragments(in language: Language) -> [String] {
        let digits = (0...9).map { "digit_\($0)" }
        let mandarinNumber = digits + ["num_10", "num_100", "num_1000", "num_10000", "num_100000000", "num_liang"]
        let englishNumber = digits + (10...19).map { "num_\($0)" } + stride(from: 20, through: 90, by: 10).map { "num_\($0)" }
            + ["num_100", "num_1000", "num_1000000"]
        let months = (1...12).map { "month_\($0)" }
        switch (self, language) {
        case (.digits, _): return digits
        case (.weekday, _): return (1...7).map { "weekday_\($0)" }
        case (.number, .zh): return mandarinNumber
        case (.number, _): return englishNumber
        case (.date, .zh): return mandarinNumber + months + ["date_year", "date_day"]
        case (.date, _): return englishNumber + months + (1...19).map { "ord_\($0)" } + ["ord_20", "ord_30", "time_oh"]
        case (.time, .zh): return mandarinNumber + ["time_oclock", "time_minute"]
        case (.time, _): return englishNumber + ["time_oclock", "time_oh", "time_am", "time_pm"]
        }
    }

    // MARK: - Mandarin

    /// Mandarin cardinal: 十二, 一百零五, 两千, 一万零五百, 十万零一十二, 两亿.
    static func mandarin(_ number: Int) -> [String] {
        if number == 0 { return ["digit_0"] }
        let groups = [(number / 100_000_000, "num_100000000"), (number / 10_000 % 10_000, "num_10000"), (number % 10_000, nil)]
        var words: [String] = []
        var pendingZero = false
        for (value, unit) in groups {
            if value == 0 {
                if !words.isEmpty { pendingZero = true }
                continue
            }
            if !words.isEmpty, pendingZero || value < 1000 { words.append("digit_0") }
            pendingZero = false
            if unit != nil, value == 2, words.isEmpty {
                words.append("num_liang")  // 两万, 两亿
            } else {
                words += mandarinGroup(value, leading: words.isEmpty)
            }
            if let unit { words.append(unit) }
        }
        return words
    }

    /// One group of four digits (1...9999). `leading`: the first group of the whole number, where
    /// `一十` is said `十` and a leading 2 before 千 or 百 is said `两`.
    private static func mandarinGroup(_ value: Int, leading: Bool) -> [String] {
        let digits = [value / 1000, value / 100 % 10, value / 10 % 10, value % 10]
        let units: [String?] = ["num_1000", "num_100", "num_10", nil]
        var words: [String] = []
        var zeroPending = false
        for (index, digit) in digits.enumerated() {
            if digit == 0 {
                if !words.isEmpty { zeroPending = true }
                continue
            }
            if zeroPending { words.append("digit_0") }
            zeroPending = false
            let first = words.isEmpty && leading
            if first, index == 2, digit == 1 {
                // 十二, not 一十二, at the start of a number.
            } else if first, index < 2, digit == 2 {
                words.append("num_liang")  // 两千, 两百
            } else {
                words.append("digit_\(digit)")
            }
            if let unit = units[index] { words.append(unit) }
        }
        return words
    }

    // MARK: - English

    /// English cardinal: twelve, one hundred five, two thousand, one million two hundred thousand.
    static func english(_ number: Int) -> [String] {
        if number == 0 { return ["digit_0"] }
        var words: [String] = []
        let millions = number / 1_000_000, thousands = number / 1000 % 1000, rest = number % 1000
        if millions > 0 { words += englishGroup(millions) + ["num_1000000"] }
        if thousands > 0 { words += englishGroup(thousands) + ["num_1000"] }
        if rest > 0 { words += englishGroup(rest) }
        return words
    }

    /// 1...999.
    private static func englishGroup(_ value: Int) -> [String] {
        var words: [String] = []
        if value >= 100 { words += ["digit_\(value / 100)", "num_100"] }
        let tens = value % 100
        if tens >= 20 {
            words.append("num_\(tens / 10 * 10)")
            if tens % 10 > 0 { words.append("digit_\(tens % 10)") }
        } else if tens >= 10 {
            words.append("num_\(tens)")
        } else if tens > 0 {
            words.append("digit_\(tens)")
        }
        return words
    }

    /// first ... nineteenth, twentieth, twenty first, thirtieth, thirty first.
    static func englishOrdinal(_ day: Int) -> [String] {
        switch day {
        case 1...19: ["ord_\(day)"]
        case 20, 30: ["ord_\(day)"]
        default: ["num_\(day / 10 * 10)", "ord_\(day % 10)"]
        }
    }

    /// twenty twenty six, two thousand five, nineteen hundred, nineteen oh five.
    static func englishYear(_ year: Int) -> [String] {
        if year % 1000 == 0 || (2000...2009).contains(year) { return english(year) }
        let high = year / 100, low = year % 100
        if low == 0 { return english(high) + ["num_100"] }
        if low < 10 { return english(high) + ["time_oh", "digit_\(low)"] }
        return english(high) + english(low)
    }

    // MARK: - Values

    /// `YYYY-MM-DD` at the start of `value` (so `2026-12-01T20:00:00+08:00` reads its date as
    /// written); the calendar arithmetic (month lengths, weekday) is WorkCalendar's.
    static func date(in value: String) -> LocalDate? {
        let text = Array(value.trimmingWhitespace)
        guard text.count >= 10, text[4] == "-", text[7] == "-", text.count == 10 || text[10] == "T" || text[10] == " ",
            text[0..<4].allSatisfy(\.isASCIIDigit), text[5..<7].allSatisfy(\.isASCIIDigit), text[8..<10].allSatisfy(\.isASCIIDigit),
            let year = Int(String(text[0..<4])), let month = Int(String(text[5..<7])), let day = Int(String(text[8..<10]))
        else { return nil }
        return LocalDate(year: year, month: month, day: day)
    }

    /// `HH:MM` alone, or after the `T` of an ISO date-time.
    static func time(in value: String) -> (hour: Int, minute: Int)? {
        let trimmed = value.trimmingWhitespace
        let clock: Substring
        if let t = trimmed.firstIndex(of: "T") { clock = trimmed[trimmed.index(after: t)...] } else { clock = Substring(trimmed) }
        let text = Array(clock)
        guard text.count >= 5, text[2] == ":", text.count == 5 || !text[5].isASCIIDigit,
            text[0..<2].allSatisfy(\.isASCIIDigit), text[3..<5].allSatisfy(\.isASCIIDigit),
            let hour = Int(String(text[0..<2])), let minute = Int(String(text[3..<5])), hour < 24, minute < 60
        else { return nil }
        return (hour, minute)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
