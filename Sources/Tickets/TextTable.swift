// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: plain-text tables for the command line, aligned even with Chinese unit names.

/// Columns padded to the widest cell, counting East Asian wide characters as two columns
/// (as terminals draw them).
struct TextTable {
    var rows: [[String]] = []

    mutating func append(_ cells: [String]) { rows.append(cells) }

    /// The rows, two spaces between columns, trailing spaces trimmed, `indent` before each.
    func render(indent: String = "") -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], Self.width(of: cell)) }
        }
        return rows.map { row in
            var line = indent
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 { line += String(repeating: " ", count: widths[index] - Self.width(of: cell) + 2) }
            }
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// Terminal columns of `text`: two for CJK ideographs, Hangul, kana and full-width forms.
    static func width(of text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            switch scalar.value {
            case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
                 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6:
                total + 2
            default:
                total + 1
            }
        }
    }
}
