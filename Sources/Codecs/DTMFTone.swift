/// A DTMF key as a pair of tones (ITU-T Q.23): one from the low (row) group
/// 697/770/852/941 Hz and one from the high (column) group 1209/1336/1477/1633 Hz.
///
/// The RTP module has its own `DTMFKey` for RFC 4733 events; the two share
/// raw values (`DTMFKey(rawValue: tone.rawValue)`), and Codecs stays free of RTP.
public enum DTMFTone: Character, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case one = "1", two = "2", three = "3", a = "A"
    case four = "4", five = "5", six = "6", b = "B"
    case seven = "7", eight = "8", nine = "9", c = "C"
    case star = "*", zero = "0", pound = "#", d = "D"

    /// The low-group frequencies in Hz (Q.23 Table 1), by row.
    public static let lowFrequencies: [Double] = [697, 770, 852, 941]
    /// The high-group frequencies in Hz (Q.23 Table 1), by column.
    public static let highFrequencies: [Double] = [1209, 1336, 1477, 1633]

    /// Row (0–3) and column (0–3) of the keypad: the case order is row-major.
    var position: (row: Int, column: Int) {
        let index = Self.allCases.firstIndex(of: self)!
        return (index / 4, index % 4)
    }

    /// The tone for a keypad row and column.
    init(row: Int, column: Int) {
        self = Self.allCases[row * 4 + column]
    }

    /// The low-group frequency in Hz.
    public var lowFrequency: Double { Self.lowFrequencies[position.row] }
    /// The high-group frequency in Hz.
    public var highFrequency: Double { Self.highFrequencies[position.column] }

    /// The key's character.
    public var description: String { String(rawValue) }
}
