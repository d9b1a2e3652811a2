// Codecs: the AudioCodec protocol, G.711 in Swift, Opus on libopus, an
// 8 kHz <-> 48 kHz resampler, WAV files and in-band DTMF (Goertzel). Per-frame
// calls work in caller-provided buffers and do not allocate.

/// An RTP audio codec working on 20 ms frames of 16-bit PCM.
///
/// Encoding and decoding write into buffers the caller owns and reuses, so
/// the per-frame path allocates nothing. Stateful codecs (Opus) are classes
/// and not `Sendable`: one per call, used from that call's event loop.
public protocol AudioCodec {
    /// The SDP encoding name: `PCMU`, `PCMA`, `opus` (RFC 3551, RFC 7587).
    var encodingName: String { get }
    /// The RTP payload type number this instance sends.
    var payloadType: UInt8 { get }
    /// The RTP clock rate in Hz (8000 for G.711, 48000 for Opus).
    var clockRate: Int { get }
    /// Interleaved channels of the PCM this instance takes and gives.
    var channels: Int { get }
    /// Samples per channel in one 20 ms frame of PCM (160 for G.711, 960 for Opus at 48 kHz).
    var samplesPerFrame: Int { get }
    /// An upper bound on the encoded size of one frame, for sizing output buffers.
    var maximumEncodedFrameSize: Int { get }

    /// Encodes one frame of interleaved PCM into `output`; returns the bytes written.
    mutating func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(AudioCodecError) -> Int

    /// Decodes one payload into `pcm`; returns the samples per channel written.
    mutating func decode(_ payload: UnsafeRawBufferPointer, into pcm: UnsafeMutableBufferPointer<Int16>) throws(AudioCodecError) -> Int
}

/// Why a frame could not be encoded or decoded.
public enum AudioCodecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The output buffer cannot hold the result.
    case outputTooSmall(needed: Int, available: Int)
    /// The input is not a whole frame this codec can take.
    case invalidInputLength(Int)
    /// libopus refused.
    case opus(OpusError)

    /// A sentence for logs.
    public var description: String {
        switch self {
        case .outputTooSmall(let needed, let available): "output buffer too small: \(available) < \(needed)"
        case .invalidInputLength(let count): "invalid input length \(count)"
        case .opus(let error): error.description
        }
    }
}
