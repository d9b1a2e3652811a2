import Codecs
import NIOCore
import RTP
import SDP

/// Converts one leg's audio to the other's codec: decode, re-frame into 20 ms, encode.
/// Scratch buffers are allocated once per bridge, not per packet.
///
/// The only transcoding is G.711 ↔ Opus, so the PCM in between is 8 kHz: libopus encodes and
/// decodes at 8 kHz itself (narrowband, which is all a G.711 caller can carry or hear), so no
/// resampler runs and the encoder works on a sixth of the samples. The Opus RTP clock stays
/// 48 kHz (RFC 7587 §4.1), so Opus frame durations are counted ×6.
final class AudioTranscoder {
    enum Format: Equatable {
        case g711(G711.Law)
        case opus
        /// The RTP timestamp clock.
        var clockRate: Int { self == .opus ? 48000 : 8000 }
    }

    /// The PCM rate between decoder and encoder.
    static let pcmRate = 8000
    /// libopus complexity for agent legs: 5 costs half of the default 9 (measured in
    /// BENCHMARKS.md) with no audible difference on narrowband speech.
    static let opusComplexity = 5

    let from: Format
    let to: Format
    private var decoder: OpusDecoder?
    private var encoder: OpusEncoder?
    /// Decoded audio waiting to fill a 20 ms frame of the target codec.
    private var fifo: [Int16] = []
    private var decoded: [Int16]
    private var encoded: [UInt8]
    /// 20 ms of PCM.
    private let frameSamples = AudioTranscoder.pcmRate / 50
    /// 20 ms in the target's RTP timestamp units.
    private let frameTimestampUnits: UInt32

    init(from: Format, to: Format) throws {
        self.from = from
        self.to = to
        if from == .opus { decoder = try OpusDecoder(sampleRate: Self.pcmRate, channels: 1) }
        if to == .opus {
            let encoder = try OpusEncoder(sampleRate: Self.pcmRate, channels: 1, application: .voip, bitrate: 16000,
                                          inbandFEC: true, expectedPacketLossPercent: 5)
            try encoder.setComplexity(Self.opusComplexity)
            self.encoder = encoder
        }
        frameTimestampUnits = UInt32(to.clockRate / 50)
        decoded = [Int16](repeating: 0, count: Self.pcmRate * 120 / 1000) // the longest Opus frame, 120 ms
        encoded = [UInt8](repeating: 0, count: OpusEncoder.maximumPacketSize)
        fifo.reserveCapacity(frameSamples * 8)
    }

    /// Feeds one received payload; calls `emit` with each complete encoded frame of the
    /// target codec and its duration in the target's timestamp units.
    func transcode(_ payload: ByteBuffer, emit: (UnsafeRawBufferPointer, UInt32) -> Void) {
        // 1. Decode to 8 kHz PCM.
        var count = 0
        switch from {
        case .g711(let law):
            count = min(payload.readableBytes, decoded.count)
            payload.withUnsafeReadableBytes { bytes in
                for i in 0..<count { decoded[i] = law == .aLaw ? G711.decodeALaw(bytes[i]) : G711.decodeMuLaw(bytes[i]) }
            }
        case .opus:
            guard let decoder else { return }
            count = payload.withUnsafeReadableBytes { bytes in
                decoded.withUnsafeMutableBufferPointer { pcm in (try? decoder.decode(bytes, into: pcm)) ?? 0 }
            }
        }
        guard count > 0 else { return }
        fifo.append(contentsOf: decoded[0..<count])
        // 2. Encode every complete 20 ms frame.
        var offset = 0
        while fifo.count - offset >= frameSamples {
            switch to {
            case .g711(let law):
                for i in 0..<frameSamples {
                    let s = fifo[offset + i]
                    encoded[i] = law == .aLaw ? G711.encodeALaw(s) : G711.encodeMuLaw(s)
                }
                encoded.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[0..<frameSamples]), frameTimestampUnits) }
            case .opus:
                guard let encoder else { break }
                let length = fifo.withUnsafeBufferPointer { pcm in
                    encoded.withUnsafeMutableBytes { out in
                        (try? encoder.encode(UnsafeBufferPointer(rebasing: pcm[offset..<(offset + frameSamples)]), into: out)) ?? 0
                    }
                }
                if length > 0 { encoded.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[0..<length]), frameTimestampUnits) } }
            }
            offset += frameSamples
        }
        if offset > 0 { fifo.removeFirst(offset) }
    }
}

extension RTPSession {
    /// The audio format of this leg's negotiated codec, if we can transcode it.
    var audioFormat: AudioTranscoder.Format? {
        switch encodingName.uppercased() {
        case "PCMU": .g711(.muLaw)
        case "PCMA": .g711(.aLaw)
        case "OPUS": .opus
        default: nil
        }
    }

    /// Connects two legs (a caller and an agent): each one's audio goes to the other as it
    /// arrives — payloads passed through untouched when both legs use the same codec,
    /// transcoded (G.711 ↔ Opus) when not — and RFC 4733 key events are relayed with the
    /// other leg's payload type and clock. Both legs stop their own playback.
    public func bridge(to other: RTPSession) throws {
        stopPlayback()
        other.stopPlayback()
        try attach(to: other)
        try other.attach(to: self)
    }

    /// Disconnects the legs; each may play prompts again.
    public func unbridge() {
        peer?.detach()
        detach()
    }

    private func attach(to other: RTPSession) throws {
        peer = other
        if let mine = audioFormat, let theirs = other.audioFormat, mine != theirs {
            transcoder = try AudioTranscoder(from: mine, to: theirs)
        } else {
            transcoder = nil
        }
        relayedEvents = [:]
        // RFC 4733 §2.5.1.4: an event's end packet is sent three times, and a long key press
        // keeps sending updates; those of a key pressed before the bridge (the menu choice
        // that queued the caller) must not reach the agent as a fresh tone.
        relayEventsAfter = newestReceivedTimestamp
    }

    /// Keeps the newest timestamp seen on this leg, and forgets the pre-bridge mark once
    /// the audio is ten seconds past it: no old event can arrive any more, and timestamp
    /// comparisons must not wrap on a bridge that lasts for days.
    func noteReceived(timestamp: UInt32) {
        if let newest = newestReceivedTimestamp, Int32(bitPattern: timestamp &- newest) <= 0 { return }
        newestReceivedTimestamp = timestamp
        if let mark = relayEventsAfter, Int32(bitPattern: timestamp &- mark) > Int32(clockRate * 10) {
            relayEventsAfter = nil
        }
    }

    private func detach() {
        peer = nil
        transcoder = nil
    }

    /// Audio received on this leg while bridged.
    func relayAudio(_ payload: ByteBuffer, timestamp: UInt32) {
        guard let peer else { return }
        if let transcoder {
            transcoder.transcode(payload) { frame, samples in peer.sendRelayed(frame, samples: samples) }
        } else {
            // Same codec: the payload as is; its duration from the sender's timestamps.
            var samples = UInt32(peer.samplesPerFrameValue)
            if let last = lastRelayedTimestamp {
                let delta = timestamp &- last
                if delta > 0, delta <= UInt32(peer.samplesPerFrameValue * 10) { samples = delta }
            }
            lastRelayedTimestamp = timestamp
            payload.withUnsafeReadableBytes { peer.sendRelayed($0, samples: samples) }
        }
    }

    /// A key event received on this leg while bridged: relayed as the same event on the
    /// other leg (RFC 4733 §2.5: every packet of an event carries the event's start timestamp;
    /// the duration is rescaled to the other leg's clock).
    func relayEvent(_ payload: ByteBuffer, timestamp: UInt32, marker: Bool) {
        guard let peer, let pt = peer.telephoneEventType, var event = try? TelephoneEvent(decoding: payload) else { return }
        // RFC 4733 §2.5: the timestamp is the event's start; one that began before the bridge stays behind.
        if let mark = relayEventsAfter, Int32(bitPattern: timestamp &- mark) <= 0 { return }
        let scale = Double(peer.clockRate) / Double(max(1, clockRate))
        event.duration = UInt16(clamping: Int(Double(event.duration) * scale))
        let start = relayedEvents[timestamp] ?? peer.currentTimestamp
        let isNew = relayedEvents[timestamp] == nil
        if isNew {
            if relayedEvents.count > 8 { relayedEvents.removeAll(keepingCapacity: true) }
            relayedEvents[timestamp] = start
        }
        peer.sendEvent(event, payloadType: pt, timestamp: start, marker: isNew)
    }
}
