/// Opus as an ``AudioCodec``: 48 kHz PCM in and out, a dynamic payload type
/// from SDP (RFC 7587: always `opus/48000/2` in SDP, whatever is sent).
public final class OpusCodec: AudioCodec {
    /// The encoder of our outgoing stream.
    public let encoder: OpusEncoder
    /// The decoder of the incoming stream.
    public let decoder: OpusDecoder
    /// The dynamic payload type negotiated in SDP (96–127, often 111).
    public let payloadType: UInt8

    /// Creates a codec pair.
    public init(payloadType: UInt8, channels: Int = 1, bitrate: Int? = nil, inbandFEC: Bool = true, expectedPacketLossPercent: Int = 5) throws(OpusError) {
        self.payloadType = payloadType
        self.encoder = try OpusEncoder(sampleRate: 48000, channels: channels, application: .voip, bitrate: bitrate,
                                       inbandFEC: inbandFEC, expectedPacketLossPercent: expectedPacketLossPercent)
        self.decoder = try OpusDecoder(sampleRate: 48000, channels: channels)
    }

    /// `opus`.
    public var encodingName: String { "opus" }
    /// 48000 Hz, always, for Opus over RTP (RFC 7587 §4.1).
    public var clockRate: Int { 48000 }
    /// The PCM channels of this instance (the SDP still says 2).
    public var channels: Int { encoder.channels }
    /// 960 samples per channel per 20 ms.
    public var samplesPerFrame: Int { 960 }
    /// 1275 bytes (RFC 6716 §3.2.1).
    public var maximumEncodedFrameSize: Int { OpusEncoder.maximumPacketSize }

    /// Encodes one 20 ms frame (960 samples per channel).
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(AudioCodecError) -> Int {
        guard pcm.count == samplesPerFrame * channels else { throw .invalidInputLength(pcm.count) }
        do {
            return try encoder.encode(pcm, into: output)
        } catch {
            throw .opus(error)
        }
    }

    /// Decodes one packet; an empty payload is treated as a lost packet (PLC).
    public func decode(_ payload: UnsafeRawBufferPointer, into pcm: UnsafeMutableBufferPointer<Int16>) throws(AudioCodecError) -> Int {
        do {
            return try decoder.decode(payload.isEmpty ? nil : payload, into: pcm)
        } catch {
            throw .opus(error)
        }
    }
}
