/// A RIFF/WAVE file of 16-bit little-endian PCM: what prompts are (8 kHz mono)
/// and what recordings will be.
///
/// Reads `WAVE_FORMAT_PCM` and `WAVE_FORMAT_EXTENSIBLE` with the PCM sub-format,
/// skips chunks it does not need (`LIST`, `fact`...), and refuses anything else
/// with an error that names the file.
public struct WAVFile: Sendable, Equatable {
    /// Samples per second per channel.
    public var sampleRate: Int
    /// Interleaved channels.
    public var channels: Int
    /// Interleaved samples.
    public var samples: [Int16]

    /// Bits per sample: always 16 here.
    public var bitsPerSample: Int { 16 }

    /// Samples per channel.
    public var frameCount: Int { channels == 0 ? 0 : samples.count / channels }

    /// The duration in seconds.
    public var duration: Double { sampleRate == 0 ? 0 : Double(frameCount) / Double(sampleRate) }

    /// Creates a file in memory.
    public init(sampleRate: Int, channels: Int = 1, samples: [Int16]) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.samples = samples
    }

    /// Reads the file at `path`.
    public init(contentsOf path: String) throws(WAVError) {
        let bytes = try FileIO.read(path).get()
        try self.init(bytes: bytes, fileName: path)
    }

    /// Parses WAV bytes; `fileName` goes into errors.
    public init(bytes: [UInt8], fileName: String) throws(WAVError) {
        func fail(_ reason: WAVError.Reason) -> WAVError { WAVError(path: fileName, reason: reason) }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        func fourCC(_ at: Int) -> String { String(decoding: bytes[at..<at + 4], as: UTF8.self) }

        guard bytes.count >= 12, fourCC(0) == "RIFF", fourCC(8) == "WAVE" else { throw fail(.notRIFFWAVE) }

        var format: (tag: UInt16, channels: Int, rate: Int, blockAlign: Int, bits: Int)?
        var data: Range<Int>?
        var offset = 12
        while offset + 8 <= bytes.count {
            let id = fourCC(offset)
            let declared = Int(u32(offset + 4))
            let body = offset + 8
            switch id {
            case "fmt ":
                guard declared >= 16, body + 16 <= bytes.count else {
                    throw fail(.truncated(expectedBytes: max(declared, 16), availableBytes: bytes.count - body))
                }
                var tag = u16(body)
                if tag == 0xFFFE, declared >= 40, body + 40 <= bytes.count {
                    // WAVE_FORMAT_EXTENSIBLE: the real format code leads the sub-format GUID.
                    tag = u16(body + 24)
                }
                format = (tag, Int(u16(body + 2)), Int(u32(body + 4)), Int(u16(body + 12)), Int(u16(body + 14)))
            case "data":
                // 0xFFFFFFFF (or 0) is what streaming writers leave when they cannot seek back:
                // the data runs to the end of the file.
                let available = bytes.count - body
                if declared == 0xFFFF_FFFF || (declared == 0 && available > 0) {
                    data = body..<bytes.count
                } else {
                    guard declared <= available else {
                        throw fail(.truncated(expectedBytes: declared, availableBytes: available))
                    }
                    data = body..<body + declared
                }
            default:
                break
            }
            if data != nil && format != nil { break }
            offset = body + declared + (declared & 1)  // chunks are padded to even lengths
        }

        guard let format else { throw fail(.missingChunk("fmt ")) }
        guard format.tag == 1 else { throw fail(.notPCM(formatTag: format.tag)) }
        guard format.bits == 16 else { throw fail(.unsupportedBitDepth(format.bits)) }
        guard format.channels > 0 else { throw fail(.invalidFormat("0 channels")) }
        guard format.rate > 0 else { throw fail(.invalidFormat("sample rate 0")) }
        guard format.blockAlign == 2 * format.channels else {
            throw fail(.invalidFormat("block alignment \(format.blockAlign) for \(format.channels) channel(s) of 16 bits"))
        }
        guard let data else { throw fail(.missingChunk("data")) }
        guard data.count % format.blockAlign == 0 else {
            throw fail(.truncated(expectedBytes: (data.count / format.blockAlign + 1) * format.blockAlign, availableBytes: data.count))
        }

        let count = data.count / 2
        samples = [Int16](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                let at = data.lowerBound + 2 * i
                buffer[i] = Int16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)
            }
            initialized = count
        }
        sampleRate = format.rate
        channels = format.channels
    }

    /// The file as bytes: a canonical 44-byte header (`fmt ` with PCM, 16 bits), then the data.
    public func encoded() -> [UInt8] {
        let dataSize = samples.count * 2
        var bytes: [UInt8] = []
        bytes.reserveCapacity(44 + dataSize)
        func append(_ text: String) { bytes.append(contentsOf: Array(text.utf8)) }
        func append16(_ value: Int) { bytes.append(UInt8(value & 0xFF)); bytes.append(UInt8((value >> 8) & 0xFF)) }
        func append32(_ value: Int) { append16(value & 0xFFFF); append16((value >> 16) & 0xFFFF) }
        append("RIFF")
        append32(36 + dataSize)
        append("WAVE")
        append("fmt ")
        append32(16)
        append16(1)  // WAVE_FORMAT_PCM
        append16(channels)
        append32(sampleRate)
        append32(sampleRate * channels * 2)
        append16(channels * 2)
        append16(16)
        append("data")
        append32(dataSize)
        for sample in samples {
            append16(Int(UInt16(bitPattern: sample)))
        }
        return bytes
    }

    /// Writes the file to `path`, replacing any existing one.
    public func write(to path: String) throws(WAVError) {
        try FileIO.write(encoded(), to: path).get()
    }
}
