// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the human-readable ticket number a caller can be told and an operator can type.

/// A ticket number: the local date the call arrived and a per-day sequence, `YYYYMMDD-NNNNNN`,
/// for example `20261129-000042`.
///
/// The sequence is zero-padded to six digits. A day with more than 999,999 tickets (a load
/// test, say) gets longer numbers (`20261129-1000000`) rather than failing; ``sequence`` and
/// `Comparable` compare numerically, so ordering stays right even when widths differ.
public struct TicketID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The canonical text, `YYYYMMDD-NNNNNN`.
    public let rawValue: String
    /// The local date as the number `YYYYMMDD`, e.g. `20261129`.
    public let dayStamp: Int
    /// The per-day sequence, starting at 1.
    public let sequence: Int

    /// The largest sequence a ticket number may carry (nine digits).
    public static let maximumSequence = 999_999_999

    /// Validates `rawValue`; nil unless it is a canonical ticket number.
    public init?(rawValue: String) {
        guard let id = try? TicketID(parsing: rawValue) else { return nil }
        self = id
    }

    /// Parses a ticket number, saying what is wrong with it if it is not one.
    ///
    /// Accepts only the canonical spelling: a real calendar date, `-`, and a sequence of
    /// at least six digits that is at least 1 and has no extra leading zeros.
    public init(parsing text: String) throws(TicketIDError) {
        let bytes = Array(text.utf8)
        func fail(_ reason: TicketIDError.Reason) -> TicketIDError { TicketIDError(input: text, reason: reason) }
        guard bytes.count >= 15, bytes.count <= 18 else { throw fail(.badLength) }
        guard bytes[8] == UInt8(ascii: "-") else { throw fail(.missingSeparator) }
        func number(_ slice: ArraySlice<UInt8>) -> Int? {
            var value = 0
            for byte in slice {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let day = number(bytes[0..<8]) else { throw fail(.badDate) }
        guard let sequence = number(bytes[9...]) else { throw fail(.badSequence) }
        let year = day / 10_000, month = day / 100 % 100, dayOfMonth = day % 100
        guard year >= 1, (1...12).contains(month),
              (1...CivilDate.daysInMonth(year: year, month: month)).contains(dayOfMonth)
        else { throw fail(.badDate) }
        guard sequence >= 1 else { throw fail(.badSequence) }
        // One spelling per number: "20261129-0000042" would otherwise be a second name for 42.
        guard bytes.count == 15 || bytes[9] != UInt8(ascii: "0") else { throw fail(.badSequence) }
        self.init(unchecked: text, dayStamp: day, sequence: sequence)
    }

    /// The ticket number for a local calendar date and a sequence.
    public init(year: Int, month: Int, day: Int, sequence: Int) throws(TicketIDError) {
        let stamp = year * 10_000 + month * 100 + day
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CivilDate.daysInMonth(year: year, month: month)).contains(day)
        else { throw TicketIDError(input: "\(year)-\(month)-\(day)", reason: .badDate) }
        guard (1...Self.maximumSequence).contains(sequence) else {
            throw TicketIDError(input: String(sequence), reason: .badSequence)
        }
        self.init(dayStamp: stamp, sequence: sequence)
    }

    /// Composes the canonical text; callers guarantee a valid date stamp and sequence.
    init(dayStamp: Int, sequence: Int) {
        var digits = String(sequence)
        if digits.count < 6 {
            digits = String(repeating: "0", count: 6 - digits.count) + digits
        }
        var stamp = String(dayStamp)
        if stamp.count < 8 {
            stamp = String(repeating: "0", count: 8 - stamp.count) + stamp
        }
        self.init(unchecked: stamp + "-" + digits, dayStamp: dayStamp, sequence: sequence)
    }

    /// Takes `rawValue` as given, without validation. Internal so that tests can hand the
    /// schema an ID the Swift type would refuse, and see the schema refuse it too.
    init(unchecked rawValue: String, dayStamp: Int, sequence: Int) {
        self.rawValue = rawValue
        self.dayStamp = dayStamp
        self.sequence = sequence
    }

    public var description: String { rawValue }

    public static func < (lhs: TicketID, rhs: TicketID) -> Bool {
        (lhs.dayStamp, lhs.sequence) < (rhs.dayStamp, rhs.sequence)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try TicketID(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Why a text is not a ticket number.
public struct TicketIDError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong; a closed set because each case is a distinct parsing rule.
    public enum Reason: String, Sendable {
        case badLength = "must be YYYYMMDD-NNNNNN (15 to 18 characters)"
        case missingSeparator = "the ninth character must be '-'"
        case badDate = "YYYYMMDD must be a calendar date"
        case badSequence = "the sequence must be at least 1, six to nine digits, without extra leading zeros"
    }

    /// The rejected text.
    public var input: String
    /// The rule it broke.
    public var reason: Reason

    public var description: String { "invalid ticket number '\(input)': \(reason.rawValue)" }
}
