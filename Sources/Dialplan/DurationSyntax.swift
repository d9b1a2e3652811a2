/// Reading and writing dialplan durations: `500ms`, `2s`, `1.5s`, `1m`.
///
/// One number (digits, optionally one decimal point) and one unit, no spaces. Parsing is done on
/// the decimal digits rather than through `Double`, so `0.1s` is exactly 100 ms.
enum DurationSyntax {
    /// The duration, or `nil` when `text` is not `<number><ms|s|m>` or is not a whole number of
    /// milliseconds.
    static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) }) else { return nil }
        let number = text.dropLast(unit.suffix.count)
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        let whole = Int64(parts[0])!
        var milliseconds = whole * unit.milliseconds
        if parts.count == 2 {
            let fraction = parts[1]
            var scale: Int64 = 1
            for _ in fraction { scale *= 10 }
            let scaled = Int64(fraction)! * unit.milliseconds
            guard scaled % scale == 0 else { return nil }
            milliseconds += scaled / scale
        }
        return .milliseconds(milliseconds)
    }

    /// Whole milliseconds in `duration`, rounded toward zero.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The shortest spelling that parses back to the same value: `1m`, `90s`, `1.5s`, `500ms`.
    static func format(_ duration: Duration) -> String {
        let ms = milliseconds(duration)
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
