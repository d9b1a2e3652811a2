import NIOCore
import Testing
@testable import RTP

@Suite struct TelephoneEventTests {
    @Test func decodesAndEncodes() throws {
        let event = try TelephoneEvent(decoding: ByteBuffer(bytes: [0x03, 0x8A, 0x03, 0xC0]))
        #expect(event == TelephoneEvent(event: 3, isEnd: true, volume: 10, duration: 960))
        #expect(event.key == .three)
        var buffer = ByteBuffer()
        #expect(event.write(to: &buffer) == 4)
        #expect(Array(buffer: buffer) == [0x03, 0x8A, 0x03, 0xC0])
        // The reserved bit is ignored on receipt.
        #expect(try TelephoneEvent(decoding: ByteBuffer(bytes: [0x0B, 0x4A, 0x00, 0xA0])) == TelephoneEvent(event: 11, volume: 10, duration: 160))
        #expect(throws: RTPParseError.truncated(needed: 4, available: 3)) {
            try TelephoneEvent(decoding: ByteBuffer(bytes: [1, 2, 3]))
        }
    }

    @Test func keysMapToEventCodes() {
        #expect(DTMFKey.allCases.map(\.eventCode) == Array(0...15))
        #expect(String(DTMFKey.allCases.map(\.rawValue)) == "0123456789*#ABCD")
        #expect(DTMFKey(eventCode: 10) == .star)
        #expect(DTMFKey(eventCode: 11) == .pound)
        #expect(DTMFKey(eventCode: 16) == nil)  // flash is not a key
        #expect(DTMFKey(character: "d") == .d)
        #expect(DTMFKey(character: "x") == nil)
    }
}

@Suite struct DTMFEventDetectorTests {
    /// The packets of one RFC 4733 event as a sender emits them: first with
    /// the marker, updates every 160 units, then three identical end packets.
    func packets(_ key: DTMFKey, at timestamp: UInt32, updates: Int = 5) -> [(UInt32, Bool, TelephoneEvent)] {
        var result: [(UInt32, Bool, TelephoneEvent)] = []
        for i in 0..<updates {
            result.append((timestamp, i == 0, TelephoneEvent(key: key, duration: UInt16(160 * (i + 1)))))
        }
        for _ in 0..<3 {
            result.append((timestamp, false, TelephoneEvent(key: key, isEnd: true, duration: UInt16(160 * (updates + 1)))))
        }
        return result
    }

    func feed(_ detector: inout DTMFEventDetector, _ packets: [(UInt32, Bool, TelephoneEvent)]) -> [DTMFKey?] {
        packets.map { detector.receivedPacket(rtpTimestamp: $0.0, marker: $0.1, event: $0.2) }
    }

    @Test func reportsOnceOnTheFirstPacket() {
        var detector = DTMFEventDetector()
        let results = feed(&detector, packets(.five, at: 8000))
        #expect(results.first == .five)
        #expect(results.dropFirst().allSatisfy { $0 == nil })
    }

    @Test func reportsWhenOnlyEndPacketsArrive() {
        var detector = DTMFEventDetector()
        let endOnly = packets(.pound, at: 8000).filter { $0.2.isEnd }
        #expect(feed(&detector, endOnly).compactMap { $0 } == [.pound])
    }

    @Test func sameKeyTwiceIsTwoPresses() {
        var detector = DTMFEventDetector()
        let keys = feed(&detector, packets(.one, at: 1000) + packets(.one, at: 3000) + packets(.two, at: 5000)).compactMap { $0 }
        #expect(keys == [.one, .one, .two])
    }

    @Test func newEventAcrossTimestampWrap() {
        var detector = DTMFEventDetector()
        let keys = feed(&detector, packets(.seven, at: 0xFFFF_FE00) + packets(.eight, at: 0x0000_0400)).compactMap { $0 }
        #expect(keys == [.seven, .eight])
    }

    @Test func staleEndPacketsOfAnOlderEventDoNotRetrigger() {
        var detector = DTMFEventDetector()
        let first = packets(.four, at: 1000)
        let second = packets(.six, at: 2600)
        // Two end packets of the first event arrive late, amid the second event.
        let reordered = Array(first.prefix(6)) + Array(second.prefix(2)) + Array(first.suffix(2)) + Array(second.dropFirst(2))
        #expect(feed(&detector, reordered).compactMap { $0 } == [.four, .six])
        // Even a stale packet of an event older than the remembered ones is ignored.
        var forgetful = DTMFEventDetector(memory: 1)
        let late = feed(&forgetful, first + second + [(1000, false, TelephoneEvent(key: .four, isEnd: true, duration: 960))])
        #expect(late.compactMap { $0 } == [.four, .six])
    }

    @Test func remembersRecentTimestampsEvenAfterAWrap() {
        var detector = DTMFEventDetector()
        let keys = feed(&detector, packets(.a, at: 0xFFFF_FF00) + packets(.b, at: 100) + [(0xFFFF_FF00, false, TelephoneEvent(key: .a, isEnd: true, duration: 960))])
        #expect(keys.compactMap { $0 } == [.a, .b])
    }

    @Test func longEventSegmentsAreOnePress() {
        var detector = DTMFEventDetector()
        // RFC 4733 §2.5.1.3: the duration saturates at 0xFFFF; the sender
        // starts a new segment at timestamp + 0xFFFF without the marker.
        let first: [(UInt32, Bool, TelephoneEvent)] = [
            (5000, true, TelephoneEvent(key: .zero, duration: 160)),
            (5000, false, TelephoneEvent(key: .zero, duration: 0xFFFF)),
        ]
        let continuation: [(UInt32, Bool, TelephoneEvent)] = [
            (5000 + 0xFFFF, false, TelephoneEvent(key: .zero, duration: 160)),
            (5000 + 0xFFFF, false, TelephoneEvent(key: .zero, isEnd: true, duration: 800)),
        ]
        #expect(feed(&detector, first + continuation).compactMap { $0 } == [.zero])
    }

    @Test func flashIsNotAKeyAndResetForgets() {
        var detector = DTMFEventDetector()
        #expect(detector.receivedPacket(rtpTimestamp: 10, marker: true, event: TelephoneEvent(event: 16, duration: 160)) == nil)
        #expect(detector.receivedPacket(rtpTimestamp: 500, marker: true, event: TelephoneEvent(key: .nine, duration: 160)) == .nine)
        detector.reset()
        // After a reset (new remote stream) the same timestamp is a new event.
        #expect(detector.receivedPacket(rtpTimestamp: 500, marker: true, event: TelephoneEvent(key: .nine, duration: 160)) == .nine)
        #expect(detector.receivedPacket(rtpTimestamp: 900, marker: true, payload: ByteBuffer(bytes: [1, 2])) == nil)
    }

    @Test func streamFarBehindIsANewStreamNotStale() {
        var detector = DTMFEventDetector()
        #expect(detector.receivedPacket(rtpTimestamp: 3_000_000, marker: true, event: TelephoneEvent(key: .one, duration: 160)) == .one)
        #expect(detector.receivedPacket(rtpTimestamp: 3_000_000 - 100_000, marker: true, event: TelephoneEvent(key: .two, duration: 160)) == .two)
    }
}
