import COpus

/// An Opus encoder (RFC 6716) on libopus, for 20 ms frames of 16-bit PCM.
///
/// One per call and per direction; not `Sendable`, as libopus state must
/// not be shared between threads.
public final class OpusEncoder {
    /// The coding mode libopus optimises for.
    public enum Application: Sendable {
        /// Speech: best for the hotline.
        case voip
        /// Music and mixed content.
        case audio
        /// Lowest delay, no speech-specific modes.
        case restrictedLowDelay

        var code: Int32 {
            switch self {
            case .voip: OPUS_APPLICATION_VOIP
            case .audio: OPUS_APPLICATION_AUDIO
            case .restrictedLowDelay: OPUS_APPLICATION_RESTRICTED_LOWDELAY
            }
        }
    }

    /// Input sample rate: 8000, 12000, 16000, 24000 or 48000.
    public let sampleRate: Int
    /// Interleaved input channels, 1 or 2.
    public let channels: Int
    let state: OpaquePointer

    /// Samples per channel in a 20 ms frame at ``sampleRate``.
    public var samplesPerFrame: Int { sampleRate / 50 }

    /// The largest packet we ask libopus for; RFC 6716 §3.2.1 allows 1275 bytes per frame.
    public static let maximumPacketSize = 1275

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - bitrate: bits per second, or nil for libopus's automatic choice.
    ///   - inbandFEC: embed low-bitrate redundancy of the previous frame (RFC 7587 `useinbandfec`).
    ///   - expectedPacketLossPercent: tells the encoder how much FEC is worth; FEC needs it above 0.
    public init(
        sampleRate: Int = 48000,
        channels: Int = 1,
        application: Application = .voip,
        bitrate: Int? = nil,
        inbandFEC: Bool = false,
        expectedPacketLossPercent: Int = 0
    ) throws(OpusError) {
        var error: Int32 = OPUS_OK
        guard let state = opus_encoder_create(Int32(sampleRate), Int32(channels), application.code, &error), error == OPUS_OK else {
            throw OpusError(operation: "opus_encoder_create(\(sampleRate) Hz, \(channels) ch)", code: error == OPUS_OK ? OPUS_ALLOC_FAIL : error)
        }
        self.state = state
        self.sampleRate = sampleRate
        self.channels = channels
        if let bitrate {
            try setBitrate(bitrate)
        }
        if inbandFEC || expectedPacketLossPercent > 0 {
            try setInbandFEC(inbandFEC, expectedPacketLossPercent: expectedPacketLossPercent)
        }
    }

    deinit {
        opus_encoder_destroy(state)
    }

    /// Sets the target bitrate in bits per second (`OPUS_SET_BITRATE`).
    public func setBitrate(_ bitsPerSecond: Int) throws(OpusError) {
        try OpusControl.set(state, OPUS_SET_BITRATE_REQUEST, Int32(clamping: bitsPerSecond), operation: "OPUS_SET_BITRATE(\(bitsPerSecond))")
    }

    /// The bitrate in effect (`OPUS_GET_BITRATE`).
    public func bitrate() throws(OpusError) -> Int {
        Int(try OpusControl.get(state, OPUS_GET_BITRATE_REQUEST, operation: "OPUS_GET_BITRATE"))
    }

    /// Turns in-band FEC on or off and sets the expected loss (`OPUS_SET_INBAND_FEC`,
    /// `OPUS_SET_PACKET_LOSS_PERC`).
    public func setInbandFEC(_ enabled: Bool, expectedPacketLossPercent: Int) throws(OpusError) {
        try OpusControl.set(state, OPUS_SET_INBAND_FEC_REQUEST, enabled ? 1 : 0, operation: "OPUS_SET_INBAND_FEC")
        try OpusControl.set(state, OPUS_SET_PACKET_LOSS_PERC_REQUEST, Int32(clamping: expectedPacketLossPercent),
                            operation: "OPUS_SET_PACKET_LOSS_PERC(\(expectedPacketLossPercent))")
    }

    /// Sets the computational complexity, 0–10 (`OPUS_SET_COMPLEXITY`; libopus defaults to 9).
    public func setComplexity(_ complexity: Int) throws(OpusError) {
        try OpusControl.set(state, OPUS_SET_COMPLEXITY_REQUEST, Int32(clamping: complexity), operation: "OPUS_SET_COMPLEXITY(\(complexity))")
    }

    /// The complexity in effect (`OPUS_GET_COMPLEXITY`).
    public func complexity() throws(OpusError) -> Int {
        Int(try OpusControl.get(state, OPUS_GET_COMPLEXITY_REQUEST, operation: "OPUS_GET_COMPLEXITY"))
    }

    /// Whether in-band FEC is on (`OPUS_GET_INBAND_FEC`).
    public func isInbandFECEnabled() throws(OpusError) -> Bool {
        try OpusControl.get(state, OPUS_GET_INBAND_FEC_REQUEST, operation: "OPUS_GET_INBAND_FEC") != 0
    }

    /// Encodes one frame of interleaved PCM (2.5–60 ms; 20 ms in practice)
    /// into `output`; returns the packet length. Allocation-free.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(OpusError) -> Int {
        let frameSize = pcm.count / channels
        guard let input = pcm.baseAddress, let packet = output.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw OpusError(operation: "opus_encode", code: OPUS_BAD_ARG)
        }
        let result = opus_encode(state, input, Int32(frameSize), packet, Int32(clamping: output.count))
        guard result >= 0 else { throw OpusError(operation: "opus_encode(\(frameSize) samples)", code: result) }
        return Int(result)
    }

    /// Encodes one frame into a new array (tests, start-up work).
    public func encode(_ pcm: [Int16]) throws(OpusError) -> [UInt8] {
        var packet = [UInt8](repeating: 0, count: Self.maximumPacketSize)
        let result: Result<Int, OpusError> = pcm.withUnsafeBufferPointer { input in
            packet.withUnsafeMutableBytes { output in Result { () throws(OpusError) in try encode(input, into: output) } }
        }
        packet.removeSubrange(try result.get()...)
        return packet
    }
}
