import Codecs
import NIOCore
import RTP
import Testing
@testable import LoadGen

@Suite struct CallerMediaTests {
    static let payloads = CallerPayloads()

    static func sender(_ audio: AudioMode, events: Bool = true) -> CallerRTPSender {
        CallerRTPSender(ssrc: 0x1234, initialSequence: 65_534, initialTimestamp: 1000, audio: audio,
                        audioPayloadType: .pcmu, eventPayloadType: events ? RTPPayloadType(101) : nil)
    }

    /// Runs a sender for `ticks` ticks and returns its packets with their bytes.
    static func run(_ sender: inout CallerRTPSender, ticks: ClosedRange<UInt64>, law: G711.Law = .muLaw,
                    keys: [UInt64: [(DTMFKey, DTMFMode)]] = [:]) -> [(CallerRTPSender.Packet, [UInt8])] {
        var out: [(CallerRTPSender.Packet, [UInt8])] = []
        for n in ticks {
            for (key, mode) in keys[n] ?? [] { sender.send(key, mode: mode) }
            guard let packet = sender.tick(n) else { continue }
            let bytes = payloads.withBytes(packet.payload, law: law) { Array($0) }
            out.append((packet, bytes))
        }
        return out
    }

    /// In-band DTMF end to end: the caller's tone frames, G.711-encoded as sent, decoded and
    /// fed to the Goertzel detector, give back exactly the keys pressed, in either law, through
    /// the caller's own silence in between, and with noise added.
    @Test(arguments: [G711.Law.muLaw, .aLaw])
    func inbandKeysSurviveG711AndAreDetected(law: G711.Law) {
        var sender = Self.sender(.silence)
        let keys: [DTMFKey] = [.one, .two, .three, .four, .five, .six, .seven, .eight, .nine, .star, .zero, .pound, .a, .b, .c, .d]
        var schedule: [UInt64: [(DTMFKey, DTMFMode)]] = [:]
        for (i, key) in keys.enumerated() { schedule[UInt64(10 + i * 12)] = [(key, .inband)] }
        let packets = Self.run(&sender, ticks: 0...220, law: law, keys: schedule)
        #expect(packets.count == 221, "one packet every tick: tones replace the silence")
        #expect(packets.filter(\.0.startsKey).count == keys.count)
        var rng = SeededGenerator(seed: 4)
        var pcm: [Int16] = []
        for (_, bytes) in packets {
            pcm += G711.decode(bytes, law: law).map { Int16(clamping: Int($0) + Int(150 * rng.gaussian())) }
        }
        var detector = GoertzelDTMFDetector()
        let heard = detector.process(pcm)
        #expect(heard.map(\.rawValue) == keys.map(\.rawValue))
    }

    /// RFC 4733: one timestamp per event, the marker on its first packet, the duration growing
    /// by 160 each packet, the end packet three times; the server's detector reports each key
    /// once.
    @Test func rfc4733EventsFollowTheRFCAndAreReportedOnce() throws {
        var sender = Self.sender(.none)
        let packets = Self.run(&sender, ticks: 0...40, keys: [3: [(.three, .rfc4733)], 20: [(.pound, .rfc4733)]])
        #expect(packets.count == 16, "8 packets per key, nothing between keys with --audio none")
        let first = packets.prefix(8)
        #expect(first.allSatisfy { $0.0.header.payloadType == RTPPayloadType(101) })
        #expect(first.allSatisfy { $0.0.header.timestamp == first.first!.0.header.timestamp })
        #expect(first.map(\.0.header.marker) == [true, false, false, false, false, false, false, false])
        let events = try first.map { try TelephoneEvent(decoding: ByteBuffer(bytes: $0.1)) }
        #expect(events.map(\.duration) == [160, 320, 480, 640, 800, 800, 800, 800])
        #expect(events.map(\.isEnd) == [false, false, false, false, false, true, true, true])
        #expect(events.allSatisfy { $0.key == .three })
        #expect(packets.map(\.0.header.sequenceNumber) == (0..<16).map { UInt16(truncatingIfNeeded: 65_534 + $0) }, "wraps")
        // The second event starts at its own tick's timestamp: 1000 + 20 × 160.
        #expect(packets[8].0.header.timestamp == 1000 + 20 * 160)

        var detector = DTMFEventDetector()
        var keys: [DTMFKey] = []
        for (packet, bytes) in packets {
            if let key = detector.receivedPacket(rtpTimestamp: packet.header.timestamp, marker: packet.header.marker, payload: ByteBuffer(bytes: bytes)) {
                keys.append(key)
            }
        }
        #expect(keys == [.three, .pound])
    }

    @Test func audioModes() {
        var silent = Self.sender(.silence)
        let s = Self.run(&silent, ticks: 0...4)
        #expect(s.count == 5)
        #expect(s.map(\.0.header.marker) == [true, false, false, false, false])
        #expect(s.allSatisfy { $0.1 == [UInt8](repeating: 0xFF, count: 160) })
        #expect(s.map(\.0.header.timestamp) == [1000, 1160, 1320, 1480, 1640])

        var tone = Self.sender(.tone)
        let t = Self.run(&tone, ticks: 0...1)
        let pcm = G711.decode(t[0].1, law: .muLaw)
        #expect(pcm.map { abs(Int($0)) }.max()! > 1500, "a tone, not silence")

        var none = Self.sender(.none)
        #expect(Self.run(&none, ticks: 0...10).isEmpty)
        #expect(!none.isActive)
    }

    /// Audio after an RFC 4733 event starts a new talkspurt (marker), with timestamps that
    /// kept counting through the event.
    @Test func audioResumesAfterAnEventWithAMarker() {
        var sender = Self.sender(.silence)
        let packets = Self.run(&sender, ticks: 0...12, keys: [2: [(.five, .rfc4733)]])
        #expect(packets.count == 13)
        #expect(packets[10].0.payload == .silence)
        #expect(packets[10].0.header.marker)
        #expect(packets[10].0.header.timestamp == 1000 + 10 * 160)
    }

    @Test func rfc4733WithoutANegotiatedEventTypeGoesInband() {
        var sender = Self.sender(.none, events: false)
        let packets = Self.run(&sender, ticks: 0...10, keys: [0: [(.seven, .rfc4733)]])
        #expect(packets.first?.0.payload == .dtmfTone(.seven, frame: 0))
        #expect(packets.first?.0.header.payloadType == .pcmu)
    }

    // MARK: receiving

    static func header(_ seq: UInt16, _ ts: UInt32, marker: Bool = false, ssrc: UInt32 = 7) -> RTPHeader {
        RTPHeader(marker: marker, payloadType: .pcmu, sequenceNumber: seq, timestamp: ts, ssrc: ssrc)
    }

    @Test func receiverMeasuresGapsWithinTalkspurtsOnly() {
        var r = CallerRTPReceiver()
        let ms: UInt64 = 1_000_000
        #expect(r.received(Self.header(10, 5000, marker: true), samples: 160, arrival: 100 * ms) == .init(position: 0, gap: nil))
        #expect(r.received(Self.header(11, 5160), samples: 160, arrival: 120 * ms) == .init(position: 160, gap: 20 * ms))
        #expect(r.received(Self.header(12, 5320), samples: 160, arrival: 141 * ms) == .init(position: 320, gap: 21 * ms))
        // Silence: the timestamp jumps 1 s, the marker starts a talkspurt; no gap is recorded.
        #expect(r.received(Self.header(13, 13_480, marker: true), samples: 160, arrival: 1141 * ms) == .init(position: 8480, gap: nil))
        #expect(r.talkspurtStarts == [1141 * ms])
        // A lost packet (14): the next is not contiguous, no gap; the loss is counted.
        _ = r.received(Self.header(15, 13_800), samples: 160, arrival: 1181 * ms)
        #expect(r.packets == 5)
        #expect(r.lost == 1)
        #expect(r.firstArrival == 100 * ms)
    }

    @Test func jitterFollowsRFC3550() {
        var r = CallerRTPReceiver()
        // Perfectly paced packets: no jitter. Then one packet 8 ms late.
        for i in 0..<50 { _ = r.received(Self.header(UInt16(i), UInt32(i * 160)), samples: 160, arrival: UInt64(i) * 20_000_000) }
        #expect(r.jitterMicroseconds == 0)
        _ = r.received(Self.header(50, 50 * 160), samples: 160, arrival: 50 * 20_000_000 + 8_000_000)
        #expect(r.jitterMicroseconds == 500, "J += (8 ms − 0) / 16")
    }
}
