/// G.711 as an ``AudioCodec``: 8 kHz mono, one byte per sample, 160-byte frames.
public struct G711Codec: AudioCodec, Sendable, Equatable {
    /// µ-law or A-law.
    public let law: G711.Law

    /// Creates a codec for `law`.
    public init(law: G711.Law) {
        self.law = law
    }

    /// PCMU, payload type 0.
    public static let pcmu = G711Codec(law: .muLaw)
    /// PCMA, payload type 8.
    public static let pcma = G711Codec(law: .aLaw)

    /// `PCMU` or `PCMA`.
    public var encodingName: String { law.encodingName }
    /// The static payload type: 0 or 8 (RFC 3551 §6).
    public var payloadType: UInt8 { law.payloadType }
    /// 8000 Hz.
    public var clockRate: Int { 8000 }
    /// Mono.
    public var channels: Int { 1 }
    /// 160 samples per 20 ms.
    public var samplesPerFrame: Int { 160 }
    /// One byte per sample: 160.
    public var maximumEncodedFrameSize: Int { 160 }

    /// Encodes any number of samples, one byte each.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(AudioCodecError) -> Int {
        guard output.count >= pcm.count else { throw .outputTooSmall(needed: pcm.count, available: output.count) }
        G711.encode(pcm, law: law, into: output)
        return pcm.count
    }

    /// Decodes any number of bytes, one sample each.
    public func decode(_ payload: UnsafeRawBufferPointer, into pcm: UnsafeMutableBufferPointer<Int16>) throws(AudioCodecError) -> Int {
        guard pcm.count >= payload.count else { throw .outputTooSmall(needed: payload.count, available: pcm.count) }
        G711.decode(payload, law: law, into: pcm)
        return payload.count
    }
}
