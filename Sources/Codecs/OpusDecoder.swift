import COpus

/// An Opus decoder on libopus, with packet-loss concealment and in-band FEC recovery.
///
/// One per call; not `Sendable`.
public final class OpusDecoder {
    /// Output sample rate: 8000, 12000, 16000, 24000 or 48000.
    public let sampleRate: Int
    /// Interleaved output channels, 1 or 2.
    public let channels: Int
    let state: OpaquePointer

    /// Samples per channel in a 20 ms frame at ``sampleRate``.
    public var samplesPerFrame: Int { sampleRate / 50 }

    /// Creates a decoder.
    public init(sampleRate: Int = 48000, channels: Int = 1) throws(OpusError) {
        var error: Int32 = OPUS_OK
        guard let state = opus_decoder_create(Int32(sampleRate), Int32(channels), &error), error == OPUS_OK else {
            throw OpusError(operation: "opus_decoder_create(\(sampleRate) Hz, \(channels) ch)", code: error == OPUS_OK ? OPUS_ALLOC_FAIL : error)
        }
        self.state = state
        self.sampleRate = sampleRate
        self.channels = channels
    }

    deinit {
        opus_decoder_destroy(state)
    }

    /// Decodes `packet` into `pcm` (interleaved); returns samples per channel.
    ///
    /// - Parameters:
    ///   - packet: the payload, or nil when the packet was lost: libopus then
    ///     conceals the loss (PLC) for as many samples as `pcm` holds per channel,
    ///     which must be a multiple of 2.5 ms.
    ///   - decodeFEC: decode the in-band FEC data of `packet` to recover the
    ///     frame BEFORE it (RFC 7587 §3.3); `pcm` must then be exactly one lost frame long.
    public func decode(_ packet: UnsafeRawBufferPointer?, into pcm: UnsafeMutableBufferPointer<Int16>, decodeFEC: Bool = false) throws(OpusError) -> Int {
        let frameCapacity = pcm.count / channels
        let data = packet.flatMap { $0.isEmpty ? nil : $0.baseAddress?.assumingMemoryBound(to: UInt8.self) }
        guard let output = pcm.baseAddress else { throw OpusError(operation: "opus_decode", code: OPUS_BAD_ARG) }
        let result = opus_decode(state, data, Int32(data == nil ? 0 : packet?.count ?? 0), output, Int32(frameCapacity), decodeFEC ? 1 : 0)
        guard result >= 0 else {
            throw OpusError(operation: data == nil ? "opus_decode(loss concealment)" : "opus_decode(\(packet?.count ?? 0) bytes)", code: result)
        }
        return Int(result)
    }

    /// Decodes a packet (or nil for a lost one) into a new array of one 20 ms frame (tests, tools).
    public func decode(_ packet: [UInt8]?, decodeFEC: Bool = false) throws(OpusError) -> [Int16] {
        var pcm = [Int16](repeating: 0, count: samplesPerFrame * channels)
        let result: Result<Int, OpusError> = pcm.withUnsafeMutableBufferPointer { output in
            if let packet {
                packet.withUnsafeBytes { input in Result { () throws(OpusError) in try decode(input, into: output, decodeFEC: decodeFEC) } }
            } else {
                Result { () throws(OpusError) in try decode(nil, into: output) }
            }
        }
        pcm.removeSubrange((try result.get() * channels)...)
        return pcm
    }
}
