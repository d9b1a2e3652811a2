// ConfigFiles: reading admin-edited files with located issues.
// This file: durations as people write them, in files and on the command line.

/// Reading and writing durations: `500ms`, `2s`, `1.5s`, `1m`.
///
/// One number (digits, optionally one decimal point) and one unit, no spaces. Parsing is done on
/// the decimal digits rather than through `Double`, so `0.1s` is exactly 100 ms. Files (dialplans,
/// queues.yaml) use ``Dialect/file``; options of the CLI (``Dialect/commandLine``) also take
/// `us`, `h`, bare seconds (`3`), any case and surrounding spaces.
public enum DurationSyntax {
    public enum Dialect: Sendable {
        /// `<number><ms|s|m>`, a whole number of milliseconds.
        case file
        /// Also `us`/`µs` and `h`, bare seconds and surrounding white space; nanosecond precision.
        case commandLine
    }

    /// The duration, or `nil` when `text` is not one in `dialect` (or overflows).
    public static func parse(_ text: String, _ dialect: Dialect = .file) -> Duration? {
        var units: [(suffix: String, nanoseconds: Int64)] = [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000)]
        var text = Substring(text)
        if dialect == .commandLine {
            units = [("ms", 1_000_000), ("us", 1000), ("µs", 1000), ("s", 1_000_000_000), ("m", 60_000_000_000),
                     ("h", 3_600_000_000_000)]
            while let first = text.first, first.isWhitespace { text = text.dropFirst() }
            while let last = text.last, last.isWhitespace { text = text.dropLast() }
            text = Substring(text.lowercased())
        }
        let unit = units.first { text.hasSuffix($0.suffix) } ?? (dialect == .commandLine ? ("", 1_000_000_000) : nil)
        guard let unit else { return nil }
        let number = text.dropLast(unit.suffix.count)
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        let (whole, overflow) = Int64(parts[0])!.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !overflow else { return nil }
        var nanoseconds = whole
        if parts.count == 2 {
            var scale: Int64 = 1
            for _ in parts[1] { scale *= 10 }
            let (scaled, overflow) = Int64(parts[1])!.multipliedReportingOverflow(by: unit.nanoseconds)
            guard !overflow, scaled % scale == 0 else { return nil }
            nanoseconds += scaled / scale
        }
        if dialect == .file, nanoseconds % 1_000_000 != 0 { return nil }
        return .nanoseconds(nanoseconds)
    }

    /// Whole milliseconds in `duration`, rounded toward zero.
    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The shortest spelling that parses back to the same value: `1m`, `90s`, `1.5s`, `500ms`;
    /// below a millisecond, whole microseconds (`250us`, command line only).
    public static func format(_ duration: Duration) -> String {
        let ms = milliseconds(duration)
        let (_, attoseconds) = duration.components
        if ms == 0, attoseconds >= 1_000_000_000_000 { return "\(attoseconds / 1_000_000_000_000)us" }
        if ms != 0, ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        if ms > 1000 {
            var fraction = String(ms % 1000)
            fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            return "\(ms / 1000).\(fraction)s"
        }
        return "\(ms)ms"
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
