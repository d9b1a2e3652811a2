import Codecs
import NIOCore
import RTP
import SDP

/// Converts one leg's audio to the other's codec: decode, resample, re-frame into 20 ms,
/// encode. Scratch buffers are allocated once per bridge, not per packet.
final class AudioTranscoder {
    enum Format: Equatable {
        case g711(G711.Law)
        case opus
        var clockRate: Int { self == .opus ? 48000 : 8000 }
    }

    let from: Format
    let to: Format
    private var decoder: OpusDecoder?
    private var encoder: OpusEncoder?
    private var resampler: Resampler?
    /// Decoded (and resampled) audio waiting to fill a 20 ms frame of the target codec.
    private var fifo: [Int16] = []
    private var decoded: [Int16]
    private var resampled: [Int16]
    private var encoded: [UInt8]
    private let frameSamples: Int

    init(from: Format, to: Format) throws {
        self.from = from
        self.to = to
        if from == .opus { decoder = try OpusDecoder(sampleRate: 48000, channels: 1) }
        if to == .opus { encoder = try OpusEncoder(sampleRate: 48000, channels: 1, application: .voip, bitrate: 24000, inbandFEC: true, expectedPacketLossPercent: 5) }
        if from.clockRate != to.clockRate { resampler = try Resampler(inputRate: from.clockRate, outputRate: to.clockRate) }
        frameSamples = to.clockRate / 50
        decoded = [Int16](repeating: 0, count: 5760) // the longest Opus frame (120 ms at 48 kHz)
        resampled = [Int16](repeating: 0, count: 5760 * 6)
        encoded = [UInt8](repeating: 0, count: OpusEncoder.maximumPacketSize)
        fifo.reserveCapacity(frameSamples * 8)
    }

    /// Feeds one received payload; calls `emit` with each complete encoded frame of the
    /// target codec and its duration in the target's timestamp units.
    func transcode(_ payload: ByteBuffer, emit: (UnsafeRawBufferPointer, UInt32) -> Void) {
        // 1. Decode to PCM at the source rate.
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
        // 2. Resample to the target rate.
        if var r = resampler {
            let produced = decoded.withUnsafeBufferPointer { input in
                resampled.withUnsafeMutableBufferPointer { output in
                    r.process(UnsafeBufferPointer(rebasing: input[0..<count]), into: output)
                }
            }
            resampler = r
            fifo.append(contentsOf: resampled[0..<produced])
        } else {
            fifo.append(contentsOf: decoded[0..<count])
        }
        // 3. Encode every complete 20 ms frame.
        var offset = 0
        while fifo.count - offset >= frameSamples {
            switch to {
            case .g711(let law):
                for i in 0..<frameSamples {
                    let s = fifo[offset + i]
                    encoded[i] = law == .aLaw ? G711.encodeALaw(s) : G711.encodeMuLaw(s)
                }
                encoded.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[0..<frameSamples]), UInt32(frameSamples)) }
            case .opus:
                guard let encoder else { break }
                let length = fifo.withUnsafeBufferPointer { pcm in
                    encoded.withUnsafeMutableBytes { out in
                        (try? encoder.encode(UnsafeBufferPointer(rebasing: pcm[offset..<(offset + frameSamples)]), into: out)) ?? 0
                    }
                }
                if length > 0 { encoded.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[0..<length]), UInt32(frameSamples)) } }
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
