import Codecs

/// One prompt, pre-encoded as 20 ms G.711 frames for PCMU and PCMA.
///
/// Each codec's frames lie back to back in one array; the last frame is
/// padded with the codec's silence. Immutable and `Sendable`: copies share
/// storage, so handing it to thousands of calls copies nothing.
public struct EncodedPrompt: Sendable, Equatable {
    /// The prompt's name (the file name without `.wav`).
    public let name: String
    /// Its language (the directory name).
    public let language: String
    /// Samples in the original recording, before padding.
    public let sampleCount: Int
    /// Number of 20 ms frames.
    public let frameCount: Int
    let muLaw: [UInt8]
    let aLaw: [UInt8]

    /// Encodes 8 kHz mono samples.
    public init(name: String, language: String, samples: [Int16]) {
        let frameSize = PromptCache.samplesPerFrame
        self.name = name
        self.language = language
        self.sampleCount = samples.count
        self.frameCount = (samples.count + frameSize - 1) / frameSize
        muLaw = Self.encode(samples, law: .muLaw, frames: frameCount)
        aLaw = Self.encode(samples, law: .aLaw, frames: frameCount)
    }

    static func encode(_ samples: [Int16], law: G711.Law, frames: Int) -> [UInt8] {
        let total = frames * PromptCache.samplesPerFrame
        return [UInt8](unsafeUninitializedCapacity: total) { output, count in
            let raw = UnsafeMutableRawBufferPointer(output)
            samples.withUnsafeBufferPointer { G711.encode($0, law: law, into: raw) }
            for i in samples.count..<total { output[i] = law.silence }
            count = total
        }
    }

    /// How long the prompt plays: frames × 20 ms.
    public var duration: Duration {
        PromptCache.frameDuration * frameCount
    }

    /// All frames of `law`, back to back (frameCount × 160 bytes).
    public func payload(_ law: G711.Law) -> [UInt8] {
        law == .muLaw ? muLaw : aLaw
    }

    /// Frame `index` as a slice of the shared storage: no copy.
    /// - Precondition: `0 <= index < frameCount`.
    public func frame(_ index: Int, law: G711.Law) -> ArraySlice<UInt8> {
        precondition(index >= 0 && index < frameCount, "frame \(index) outside 0..<\(frameCount)")
        let start = index * PromptCache.samplesPerFrame
        return payload(law)[start..<start + PromptCache.samplesPerFrame]
    }

    /// Calls `body` with frame `index`'s 160 bytes, e.g. to write them into a
    /// packet buffer (`buffer.writeBytes(bytes)`) without an intermediate copy.
    /// - Precondition: `0 <= index < frameCount`.
    public func withFrame<R, E: Error>(_ index: Int, law: G711.Law, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        precondition(index >= 0 && index < frameCount, "frame \(index) outside 0..<\(frameCount)")
        let start = index * PromptCache.samplesPerFrame
        let result: Result<R, E> = payload(law).withUnsafeBytes { bytes in
            let frame = UnsafeRawBufferPointer(rebasing: bytes[start..<start + PromptCache.samplesPerFrame])
            return Result { () throws(E) in try body(frame) }
        }
        return try result.get()
    }
}
