import Foundation
import Codecs
import RTP

/// What callers send, encoded once for the whole run: G.711 silence, a quiet 400 Hz tone
/// (20 samples a period, so every 20 ms frame is the same), and 100 ms of each DTMF key's dual
/// tone (ITU-T Q.23) for in-band keys.
public final class CallerPayloads: Sendable {
    public static let frameSize = 160
    /// Frames of one key's tone (100 ms), followed by ``dtmfGapFrames`` of silence (Q.24 asks
    /// for at least 40 ms of each).
    public static let dtmfToneFrames = 5
    public static let dtmfGapFrames = 3

    let silence: [G711.Law: [UInt8]]
    let tone: [G711.Law: [UInt8]]
    let dtmf: [G711.Law: [DTMFKey: [UInt8]]]

    public init() {
        var silence: [G711.Law: [UInt8]] = [:]
        var tone: [G711.Law: [UInt8]] = [:]
        var dtmf: [G711.Law: [DTMFKey: [UInt8]]] = [:]
        var toneSamples: [Int16] = []
        for n in 0..<CallerPayloads.frameSize {
            let phase: Double = 2 * Double.pi * 400 * Double(n) / 8000
            toneSamples.append(Int16((2000 * sin(phase)).rounded()))
        }
        for law in G711.Law.allCases {
            silence[law] = [UInt8](repeating: law.silence, count: CallerPayloads.frameSize)
            tone[law] = G711.encode(toneSamples, law: law)
            var keys: [DTMFKey: [UInt8]] = [:]
            for key in DTMFKey.allCases {
                guard let dualTone = DTMFTone(rawValue: key.rawValue) else { continue }
                let samples = DTMFToneGenerator.samples(for: dualTone, milliseconds: CallerPayloads.dtmfToneFrames * 20)
                keys[key] = G711.encode(samples, law: law)
            }
            dtmf[law] = keys
        }
        self.silence = silence
        self.tone = tone
        self.dtmf = dtmf
    }

    /// The bytes of `payload` for `law` (160, or 4 for an event).
    func withBytes<R>(_ payload: CallerRTPSender.Payload, law: G711.Law, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch payload {
        case .silence: return silence[law]!.withUnsafeBytes(body)
        case .tone: return tone[law]!.withUnsafeBytes(body)
        case .dtmfTone(_, let frame) where frame >= CallerPayloads.dtmfToneFrames:
            return silence[law]!.withUnsafeBytes(body) // the pause after the tone
        case .dtmfTone(let key, let frame):
            return dtmf[law]![key]!.withUnsafeBytes { all in
                body(UnsafeRawBufferPointer(rebasing: all[frame * CallerPayloads.frameSize..<(frame + 1) * CallerPayloads.frameSize]))
            }
        case .event(let event):
            return withUnsafeBytes(of: (event.event, (event.isEnd ? 0x80 : 0) | (event.volume & 0x3F), event.duration.bigEndian)) {
                body(UnsafeRawBufferPointer(rebasing: $0[0..<TelephoneEvent.size]))
            }
        }
    }
}

/// A caller's outgoing RTP (RFC 3550) on the run's 20 ms tick: audio frames as its behaviour
/// says, keys as RFC 4733 events (RFC 4733 §2.5: one timestamp per event, the duration growing
/// every packet, the end packet sent three times) or as in-band tones replacing the audio.
/// Sans-IO: ``tick(_:)`` says what to send at tick `n`; the caller of it writes the bytes.
public struct CallerRTPSender: Sendable {
    public enum Payload: Sendable, Equatable {
        case silence
        case tone
        /// Frame `frame` of the key's tone, or silence after it (frame ≥ ``CallerPayloads/dtmfToneFrames``).
        case dtmfTone(DTMFKey, frame: Int)
        case event(TelephoneEvent)
    }

    public struct Packet: Sendable, Equatable {
        public var header: RTPHeader
        public var payload: Payload
        /// This packet is the first of a key: the moment the key "leaves".
        public var startsKey: Bool
    }

    let ssrc: UInt32
    let audio: AudioMode
    let audioPayloadType: RTPPayloadType
    let eventPayloadType: RTPPayloadType?
    private let timestampBase: UInt32
    private var sequence: UInt16
    private var firstTick: UInt64?
    private var pending: [(DTMFKey, DTMFMode)] = []
    private var current: (key: DTMFKey, mode: DTMFMode, startTick: UInt64, timestamp: UInt32)?
    private var talkspurtStart = true

    public init(ssrc: UInt32, initialSequence: UInt16, initialTimestamp: UInt32, audio: AudioMode,
                audioPayloadType: RTPPayloadType, eventPayloadType: RTPPayloadType?) {
        self.ssrc = ssrc
        self.sequence = initialSequence
        self.timestampBase = initialTimestamp
        self.audio = audio
        self.audioPayloadType = audioPayloadType
        self.eventPayloadType = eventPayloadType
    }

    /// Queues a key; keys go one after the other. An RFC 4733 key without a negotiated
    /// telephone-event payload type goes in-band instead.
    public mutating func send(_ key: DTMFKey, mode: DTMFMode) {
        pending.append((key, mode == .rfc4733 && eventPayloadType == nil ? .inband : mode))
    }

    /// Whether a key is being sent or waits.
    public var isSendingKeys: Bool { current != nil || !pending.isEmpty }

    /// Whether this sender has anything to send at all (audio, or keys).
    public var isActive: Bool { audio != .none || isSendingKeys }

    /// The packet to send at tick `n` (20 ms apart, increasing), if any.
    public mutating func tick(_ n: UInt64) -> Packet? {
        if firstTick == nil { firstTick = n }
        let timestamp = timestampBase &+ UInt32(truncatingIfNeeded: (n - firstTick!) * 160)
        if current == nil, !pending.isEmpty {
            let (key, mode) = pending.removeFirst()
            current = (key, mode, n, timestamp)
        }
        if let digit = current {
            let k = Int(n - digit.startTick)
            let toneFrames = CallerPayloads.dtmfToneFrames
            let total = toneFrames + CallerPayloads.dtmfGapFrames
            if k < total {
                if k == total - 1 { current = nil }
                switch digit.mode {
                case .rfc4733:
                    // §2.5.1.2–4: updates every 20 ms, then the final duration three times with E.
                    let duration = UInt16(min(k + 1, toneFrames) * 160)
                    let event = TelephoneEvent(key: digit.key, isEnd: k >= toneFrames, volume: 10, duration: duration)
                    let packet = makePacket(payloadType: eventPayloadType!, timestamp: digit.timestamp, marker: k == 0,
                                            payload: .event(event), startsKey: k == 0)
                    if k == total - 1 { talkspurtStart = true } // audio after an event starts a talkspurt
                    return packet
                case .inband, .info:
                    return makePacket(payloadType: audioPayloadType, timestamp: timestamp, marker: takeTalkspurtStart(),
                                      payload: .dtmfTone(digit.key, frame: k), startsKey: k == 0)
                }
            }
            current = nil
        }
        switch audio {
        case .none:
            talkspurtStart = true
            return nil
        case .silence:
            return makePacket(payloadType: audioPayloadType, timestamp: timestamp, marker: takeTalkspurtStart(), payload: .silence, startsKey: false)
        case .tone:
            return makePacket(payloadType: audioPayloadType, timestamp: timestamp, marker: takeTalkspurtStart(), payload: .tone, startsKey: false)
        }
    }

    private mutating func takeTalkspurtStart() -> Bool {
        defer { talkspurtStart = false }
        return talkspurtStart
    }

    private mutating func makePacket(payloadType: RTPPayloadType, timestamp: UInt32, marker: Bool, payload: Payload, startsKey: Bool) -> Packet {
        let header = RTPHeader(marker: marker, payloadType: payloadType, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc)
        sequence &+= 1
        return Packet(header: header, payload: payload, startsKey: startsKey)
    }
}

/// A caller's view of the server's RTP: RFC 3550 reception statistics (loss, jitter), the gap
/// between consecutive packets of a talkspurt, when audio first came, and where each packet
/// lies in the stream (for prompt identification). Sans-IO: arrival times are inputs.
public struct CallerRTPReceiver: Sendable {
    public private(set) var statistics = RTPReceptionStatistics(minimumSequential: 1)
    public private(set) var packets = 0
    public private(set) var firstArrival: UInt64?
    /// Talkspurt starts (marker bit, or a timestamp jump) after the first packet, with their
    /// arrival times: the fallback "next prompt" when prompts are not identified.
    public private(set) var talkspurtStarts: [UInt64] = []
    private var ssrc: UInt32?
    private var firstTimestamp: UInt32 = 0
    private var lastSequence: UInt16 = 0
    private var lastTimestamp: UInt32 = 0
    private var lastArrival: UInt64 = 0
    private var lastPosition = 0

    public init() {}

    public struct Reception: Sendable, Equatable {
        /// Samples from the first packet's timestamp to this one's (nil: before it, reordered).
        public var position: Int?
        /// Nanoseconds since the previous packet when both belong to one talkspurt.
        public var gap: UInt64?
    }

    /// One audio packet of the server's stream; `arrival` in monotonic nanoseconds.
    public mutating func received(_ header: RTPHeader, samples: Int, arrival: UInt64) -> Reception {
        if ssrc != header.ssrc {
            // A new source (or the first): start over, as after a re-INVITE.
            if ssrc != nil { talkspurtStarts.append(arrival) }
            ssrc = header.ssrc
            statistics = RTPReceptionStatistics(minimumSequential: 1)
            firstTimestamp = header.timestamp &- UInt32(truncatingIfNeeded: lastPosition + samples)
            if packets == 0 { firstTimestamp = header.timestamp }
            lastSequence = header.sequenceNumber &- 1
            lastTimestamp = header.timestamp &- UInt32(samples)
        }
        packets += 1
        if firstArrival == nil { firstArrival = arrival }
        statistics.receivedPacket(sequenceNumber: header.sequenceNumber, rtpTimestamp: header.timestamp,
                                  arrivalTime: UInt32(truncatingIfNeeded: arrival / 125_000))
        let inOrder = header.sequenceNumber == lastSequence &+ 1
        let contiguous = inOrder && header.timestamp == lastTimestamp &+ UInt32(samples)
        var gap: UInt64?
        if packets > 1 {
            if contiguous && !header.marker {
                gap = arrival &- lastArrival
            } else if header.marker || (inOrder && !contiguous) {
                talkspurtStarts.append(arrival)
                if talkspurtStarts.count > 64 { talkspurtStarts.removeFirst(32) }
            }
        }
        let offset = Int(Int32(bitPattern: header.timestamp &- firstTimestamp))
        if Int16(bitPattern: header.sequenceNumber &- lastSequence) > 0 || packets == 1 {
            lastSequence = header.sequenceNumber
            lastTimestamp = header.timestamp
            lastArrival = arrival
            lastPosition = offset
        }
        return Reception(position: offset >= 0 ? offset : nil, gap: gap)
    }

    /// Packets lost (RFC 3550 A.3), never negative.
    public var lost: Int { max(0, Int(statistics.cumulativeLost)) }
    /// The interarrival jitter in microseconds (RFC 3550 A.8, 8 kHz clock).
    public var jitterMicroseconds: UInt64 { UInt64(statistics.jitter * 125) }
}
