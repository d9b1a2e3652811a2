import Foundation
import Synchronization
import Testing
@testable import Tickets

@Suite struct TicketIDTests {
    @Test func parsesCanonicalNumbers() throws {
        let id = try TicketID(parsing: "20261129-000042")
        #expect(id.dayStamp == 20_261_129)
        #expect(id.sequence == 42)
        #expect(id.rawValue == "20261129-000042")
        #expect(id.description == "20261129-000042")
        #expect(TicketID(rawValue: "20261129-000042") == id)
        #expect(try TicketID(year: 2026, month: 11, day: 29, sequence: 42) == id)

        let big = try TicketID(parsing: "20261129-1000000")
        #expect(big.sequence == 1_000_000)
        #expect(try TicketID(year: 2026, month: 11, day: 29, sequence: 1_000_000) == big)
        #expect(try TicketID(parsing: "20240229-000001").dayStamp == 20_240_229)
    }

    @Test(arguments: [
        ("20261129-42", TicketIDError.Reason.badLength),
        ("", .badLength),
        ("20261129-0000000001", .badLength),
        ("20261129_000042", .missingSeparator),
        ("2026112a-000042", .badDate),
        ("20261329-000042", .badDate),
        ("20250229-000042", .badDate),
        ("20261100-000042", .badDate),
        ("20261129-000000", .badSequence),
        ("20261129-0000042", .badSequence),
        ("20261129-00004x", .badSequence),
        ("20261129--00042", .badSequence),
    ])
    func rejectsOtherText(text: String, reason: TicketIDError.Reason) {
        #expect(throws: TicketIDError(input: text, reason: reason)) {
            try TicketID(parsing: text)
        }
        #expect(TicketID(rawValue: text) == nil)
    }

    @Test func rejectsImpossibleComponents() {
        #expect(throws: TicketIDError.self) { try TicketID(year: 2026, month: 2, day: 29, sequence: 1) }
        #expect(throws: TicketIDError.self) { try TicketID(year: 2026, month: 11, day: 29, sequence: 0) }
        #expect(throws: TicketIDError.self) {
            try TicketID(year: 2026, month: 11, day: 29, sequence: TicketID.maximumSequence + 1)
        }
    }

    @Test func ordersByDayThenNumericSequence() throws {
        let ids = try ["20261130-000001", "20261129-1000000", "20261129-999999", "20261129-000002"]
            .map { try TicketID(parsing: $0) }
        #expect(ids.sorted().map(\.rawValue)
            == ["20261129-000002", "20261129-999999", "20261129-1000000", "20261130-000001"])
    }

    @Test func codesAsAString() throws {
        let id = try TicketID(parsing: "20261129-000042")
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["20261129-000042"]"#)
        #expect(try JSONDecoder().decode([TicketID].self, from: data) == [id])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([TicketID].self, from: Data(#"["20261129-42"]"#.utf8))
        }
    }

    @Test func allocatesPerLocalDayAcrossMidnight() {
        let allocator = TicketIDAllocator(timeZone: shanghai, lastSequences: [:])
        let beforeMidnight = date(2026, 11, 29, 23, 59, 59)
        let afterMidnight = date(2026, 11, 30, 0, 0, 1)
        #expect(allocator.allocate(at: beforeMidnight).rawValue == "20261129-000001")
        #expect(allocator.allocate(at: beforeMidnight).rawValue == "20261129-000002")
        #expect(allocator.allocate(at: afterMidnight).rawValue == "20261130-000001")
        #expect(allocator.allocate(at: afterMidnight).rawValue == "20261130-000002")
        // A late event for the previous day continues that day's numbering.
        #expect(allocator.allocate(at: beforeMidnight.addingTimeInterval(0.5)).rawValue == "20261129-000003")
    }

    @Test func numbersTheDayOfTheStoredMillisecond() {
        let allocator = TicketIDAllocator(timeZone: shanghai, lastSequences: [:])
        // Stored as 2026-11-30 00:00:00.000 local, so numbered on the 30th.
        let instant = date(2026, 11, 29, 23, 59, 59).addingTimeInterval(0.9996)
        #expect(allocator.allocate(at: instant).rawValue == "20261130-000001")
        #expect(allocator.allocate(at: instant.addingTimeInterval(-0.0002)).rawValue == "20261129-000001")
    }

    @Test func usesTheConfiguredTimeZone() {
        // 00:00:01 in Shanghai is 16:00:01 the day before in UTC.
        let instant = date(2026, 11, 30, 0, 0, 1)
        let utc = TicketIDAllocator(timeZone: TimeZone(identifier: "UTC")!, lastSequences: [:])
        let beijing = TicketIDAllocator(timeZone: shanghai, lastSequences: [:])
        #expect(utc.allocate(at: instant).rawValue == "20261129-000001")
        #expect(beijing.allocate(at: instant).rawValue == "20261130-000001")
    }

    @Test func continuesFromSeededSequences() {
        let allocator = TicketIDAllocator(timeZone: shanghai, lastSequences: [20_261_129: 41, 20_261_128: 999_999])
        #expect(allocator.allocate(at: date(2026, 11, 29, 12)).rawValue == "20261129-000042")
        #expect(allocator.allocate(at: date(2026, 11, 28, 12)).rawValue == "20261128-1000000")
        #expect(allocator.allocate(at: date(2026, 11, 30, 12)).rawValue == "20261130-000001")
    }

    @Test func allocatesUniqueNumbersFromManyThreads() {
        let allocator = TicketIDAllocator(timeZone: shanghai, lastSequences: [:])
        let noon = date(2026, 11, 29, 12)
        let collected = Collector<TicketID>()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1000 {
                collected.append(allocator.allocate(at: noon))
            }
        }
        let ids = collected.all
        #expect(ids.count == 8000)
        #expect(Set(ids).count == 8000)
        #expect(ids.map(\.sequence).max() == 8000)
    }
}

@Suite struct TicketTimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(TicketTimestamp.format(date(2026, 11, 29, 15, 5, 3, milliseconds: 42)) == "2026-11-29T07:05:03.042Z")
        #expect(TicketTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(TicketTimestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(TicketTimestamp.format(date(2024, 2, 29, 23, 59, 59, milliseconds: 999, in: .gmt))
            == "2024-02-29T23:59:59.999Z")
        // Rounded to the nearest millisecond.
        #expect(TicketTimestamp.format(Date(timeIntervalSince1970: 1.0426)) == "1970-01-01T00:00:01.043Z")
    }

    @Test func theStackBufferFormIsTheSameText() {
        // The last two fall outside four-digit years: padded field by field, wider if need be.
        for seconds in [0, 1_796_000_000.042, -0.001, 253_402_300_799.999, -62_167_219_200, 253_402_300_800, -62_167_219_200.001] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(TicketTimestamp.withFormatted(date) { String(decoding: $0, as: UTF8.self) } == TicketTimestamp.format(date))
        }
        #expect(TicketTimestamp.format(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
        #expect(TicketTimestamp.format(Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999Z")
        #expect(TicketTimestamp.format(Date(timeIntervalSince1970: -62_167_219_200)) == "0000-01-01T00:00:00.000Z")
    }

    @Test func parsesWhatItFormats() {
        let instants = [date(2026, 11, 29, 15, 5, 3, milliseconds: 42), Date(timeIntervalSince1970: -86_400.5),
                        date(2000, 2, 29, 0, 0, 0, milliseconds: 1, in: .gmt)]
        for instant in instants {
            let normalized = TicketTimestamp.normalized(instant)
            #expect(TicketTimestamp.parse(TicketTimestamp.format(instant)) == normalized)
            #expect(TicketTimestamp.normalized(normalized) == normalized)
        }
        #expect(TicketTimestamp.parse("2026-11-29T07:05:03Z") == date(2026, 11, 29, 15, 5, 3))
        for bad in ["2026-11-29 07:05:03.042Z", "2026-11-29T07:05:03.042", "2026-02-30T07:05:03.042Z",
                    "2026-11-29T24:00:00.000Z", "2026-11-29T07:05:03.04aZ"] {
            #expect(TicketTimestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
