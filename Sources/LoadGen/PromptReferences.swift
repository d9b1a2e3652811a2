#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs
import Foundation
import Media

/// The prompts a caller may hear, prepared once for identification from received audio: the
/// samples of every `<root>/<language>/<name>.wav`, their amplitude envelope, where speech
/// starts, and the G.711 frames a server playing them from sample 0 would send.
///
/// Identification (``PromptTracker``) aligns the received audio's first speech onset with
/// each prompt's, picks candidates by envelope correlation (cheap, tolerant of a few ms of
/// misalignment), confirms them by normalised cross-correlation of the waveform at
/// sample-exact shifts, then follows the winner frame by frame until the audio stops
/// matching. Immutable and shared by every call of a run.
public final class PromptReferences: Sendable {
    /// One prompt.
    public struct Reference: Sendable {
        public let name: String
        public let language: String
        let samples: [Float]
        /// Mean |x| over ``PromptReferences/envelopeWindow`` samples every ``PromptReferences/envelopeHop``.
        let envelope: [Float]
        /// Prefix sums of the envelope and its squares (count + 1 entries), for window statistics.
        let envelopeSum: [Double]
        let envelopeSquareSum: [Double]
        /// Sample index of the first loud envelope window: where speech starts.
        let onset: Int
        /// The frames a server sends for this prompt, 160 bytes each from sample 0.
        let muLaw: [UInt8]
        let aLaw: [UInt8]

        public var sampleCount: Int { samples.count }
        public var duration: Duration { .nanoseconds(Int64(samples.count) * 125_000) }
    }

    public let references: [Reference]
    /// Every speech frame of every prompt as a server sends it (160 G.711 bytes from a
    /// multiple of 160 samples), by content: a received frame found here names its prompt and
    /// position at once, without a search. Frames shared by several prompts list them all.
    let frameIndex: [G711.Law: [UInt64: [FrameLocation]]]

    struct FrameLocation: Sendable, Equatable {
        var reference: Int32
        var sample: Int32
    }

    // Tuning, in 8 kHz samples and linear 16-bit amplitude.
    static let envelopeWindow = 80
    static let envelopeHop = 20
    /// An envelope window this loud is speech (about −32 dBFS mean amplitude).
    static let loud: Float = 800
    /// Below this it is a pause (noise included).
    static let quiet: Float = 400
    /// A speech onset needs this much quiet (or nothing received) before it: every prompt
    /// begins with at least 50 ms of silence.
    static let quietBeforeOnset = 320
    /// Received samples compared, envelope-wise, from 20 ms before the onset.
    static let searchLead = 160
    static let searchEnvelopeSpan = 1600 + 2 * 160
    /// Envelope lags tried each way, in hops (±40 ms).
    static let envelopeLags = 16
    /// Waveform samples compared from the onset (every `fineStride`-th of them: the first
    /// consonant of a word can be faint, so the span reaches into the vowel), and the shifts
    /// tried each way.
    static let fineSpan = 1280
    static let fineStride = 2
    static let fineShifts = 24
    /// Candidates confirmed by waveform. Many Mandarin prompts open alike (您…), so the
    /// envelope alone ranks a dozen of them close together: 8 let the right one drop out.
    static let shortlist = 16
    /// Samples needed after an onset before the search runs.
    static var samplesNeededAfterOnset: Int { searchEnvelopeSpan - searchLead }
    static let minimumMatch: Float = 0.75
    /// How long after a pause the envelope may take to rise from quiet to loud (an initial
    /// fricative, as in "six" or "sorry", stays between the two for 100 ms and more).
    static let maximumRise = 2400
    static let tieMargin: Float = 0.05

    /// Prompts given as samples (tests, or prompts decoded elsewhere).
    public init(prompts: [(name: String, language: String, samples: [Int16])]) {
        let references = prompts.map { PromptReferences.prepare(name: $0.name, language: $0.language, samples: $0.samples) }
        self.references = references
        var index: [G711.Law: [UInt64: [FrameLocation]]] = [:]
        let size = PromptTracker.frameSize
        for law in G711.Law.allCases {
            var table: [UInt64: [FrameLocation]] = [:]
            for (r, reference) in references.enumerated() {
                let encoded = law == .muLaw ? reference.muLaw : reference.aLaw
                for frame in 0..<(reference.samples.count / size) {
                    // Speech only: quiet frames are alike across prompts and name nothing.
                    var level: Float = 0
                    for i in frame * size..<(frame + 1) * size { level += abs(reference.samples[i]) }
                    guard level / Float(size) >= PromptReferences.loud else { continue }
                    let key = encoded.withUnsafeBytes { PromptReferences.frameKey(UnsafeRawBufferPointer(rebasing: $0[frame * size..<(frame + 1) * size])) }
                    table[key, default: []].append(FrameLocation(reference: Int32(r), sample: Int32(frame * size)))
                }
            }
            index[law] = table
        }
        frameIndex = index
    }

    /// A 64-bit digest of a 160-byte frame (multiply–xor over its words); collisions are
    /// settled by comparing the bytes.
    static func frameKey(_ frame: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        var i = 0
        while i + 8 <= frame.count {
            let word = frame.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        return h
    }

    /// Where a frame of exactly these bytes lies in the prompts, if anywhere.
    func locate(_ frame: UnsafeRawBufferPointer, law: G711.Law) -> [FrameLocation] {
        guard frame.count == PromptTracker.frameSize, let found = frameIndex[law]?[PromptReferences.frameKey(frame)] else { return [] }
        return found.filter { location in
            let reference = references[Int(location.reference)]
            let encoded = law == .muLaw ? reference.muLaw : reference.aLaw
            return encoded.withUnsafeBytes { memcmp($0.baseAddress! + Int(location.sample), frame.baseAddress!, frame.count) == 0 }
        }
    }

    /// Why prompts could not be loaded.
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Loads every `<root>/<language>/<name>.wav` (8 kHz mono 16-bit), optionally only some
    /// languages.
    public convenience init(directory root: String, languages: [String]? = nil) throws(LoadError) {
        var prompts: [(String, String, [Int16])] = []
        let files = FileManager.default
        guard let entries = try? files.contentsOfDirectory(atPath: root) else {
            throw LoadError(description: "\(root): cannot list the prompt directory")
        }
        for language in entries.sorted() where !language.hasPrefix(".") {
            if let languages, !languages.contains(language) { continue }
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: root + "/" + language, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let names = (try? files.contentsOfDirectory(atPath: root + "/" + language)) ?? []
            for file in names.sorted() where file.lowercased().hasSuffix(".wav") && !file.hasPrefix(".") {
                let path = root + "/" + language + "/" + file
                do {
                    let wav = try WAVFile(contentsOf: path)
                    guard wav.sampleRate == 8000, wav.channels == 1, !wav.samples.isEmpty else {
                        throw LoadError(description: "\(path): prompts must be 8000 Hz mono and not empty")
                    }
                    prompts.append((String(file.dropLast(4)), language, wav.samples))
                } catch let error as LoadError {
                    throw error
                } catch {
                    throw LoadError(description: "\(error)")
                }
            }
        }
        guard !prompts.isEmpty else { throw LoadError(description: "\(root): no prompts found (expected <language>/<name>.wav)") }
        self.init(prompts: prompts)
    }

    /// How many prompts.
    public var count: Int { references.count }

    static func prepare(name: String, language: String, samples: [Int16]) -> Reference {
        let floats = samples.map(Float.init)
        let envelope = PromptReferences.envelope(of: floats)
        var sum = [Double](repeating: 0, count: envelope.count + 1)
        var squares = [Double](repeating: 0, count: envelope.count + 1)
        for (i, e) in envelope.enumerated() {
            sum[i + 1] = sum[i] + Double(e)
            squares[i + 1] = squares[i] + Double(e) * Double(e)
        }
        let onsetHop = envelope.firstIndex { $0 > loud } ?? 0
        let encoded = EncodedPrompt(name: name, language: language, samples: samples)
        return Reference(name: name, language: language, samples: floats, envelope: envelope, envelopeSum: sum,
                         envelopeSquareSum: squares, onset: onsetHop * envelopeHop,
                         muLaw: encoded.payload(.muLaw), aLaw: encoded.payload(.aLaw))
    }

    static func envelope(of samples: [Float]) -> [Float] {
        guard samples.count >= envelopeWindow else { return [] }
        let count = (samples.count - envelopeWindow) / envelopeHop + 1
        var out = [Float](repeating: 0, count: count)
        samples.withUnsafeBufferPointer { x in
            envelope(x, into: &out)
        }
        return out
    }

    /// Mean |x| per window, `out.count` windows from the start of `x`.
    static func envelope(_ x: UnsafeBufferPointer<Float>, into out: inout [Float]) {
        let n = out.count
        out.withUnsafeMutableBufferPointer { e in
            for i in 0..<n {
                var s: Float = 0
                let base = i * envelopeHop
                for j in base..<(base + envelopeWindow) { s += abs(x[j]) }
                e[i] = s / Float(envelopeWindow)
            }
        }
    }

    /// A prompt the received audio matches, and where: reference sample = stream position + offset.
    struct Match: Sendable, Equatable {
        var reference: Int
        var offset: Int
        var score: Float
    }

    /// Matches received samples around a speech onset against every prompt.
    ///
    /// - Parameters:
    ///   - window: received samples from `onset - searchLead`, `searchEnvelopeSpan` long.
    ///   - onset: the stream position of the onset (for the offsets returned).
    /// - Returns: the candidates within ``tieMargin`` of the best, best first; empty when
    ///   nothing matches well enough.
    func search(window: UnsafeBufferPointer<Float>, onset: Int, scratch: inout PromptScratch) -> [Match] {
        let hop = PromptReferences.envelopeHop
        let points = (PromptReferences.searchEnvelopeSpan - PromptReferences.envelopeWindow) / hop + 1
        if scratch.envelope.count != points { scratch.envelope = [Float](repeating: 0, count: points) }
        PromptReferences.envelope(window, into: &scratch.envelope)
        var eSum = 0.0, eSquares = 0.0
        for v in scratch.envelope {
            eSum += Double(v)
            eSquares += Double(v) * Double(v)
        }
        let n = Double(points)
        let eVariance = eSquares - eSum * eSum / n
        guard eVariance > 0 else { return [] }

        // 1. Envelope correlation at hop-sized lags around the onsets' alignment.
        scratch.shortlist.removeAll(keepingCapacity: true)
        scratch.envelope.withUnsafeBufferPointer { received in
            for (index, reference) in references.enumerated() {
                let base = (reference.onset - PromptReferences.searchLead) / hop
                var best: (score: Float, lag: Int) = (-2, 0)
                reference.envelope.withUnsafeBufferPointer { r in
                    for lag in -PromptReferences.envelopeLags...PromptReferences.envelopeLags {
                        let start = base + lag
                        guard start >= 0, start + points <= r.count else { continue }
                        var dot: Float = 0
                        for i in 0..<points { dot += received[i] * r[start + i] }
                        let rSum = reference.envelopeSum[start + points] - reference.envelopeSum[start]
                        let rSquares = reference.envelopeSquareSum[start + points] - reference.envelopeSquareSum[start]
                        let rVariance = rSquares - rSum * rSum / n
                        guard rVariance > 0 else { continue }
                        let score = Float((Double(dot) - eSum * rSum / n) / (eVariance * rVariance).squareRoot())
                        if score > best.score { best = (score, lag) }
                    }
                }
                if best.score > 0.5 { scratch.shortlist.append(Match(reference: index, offset: best.lag, score: best.score)) }
            }
        }
        scratch.shortlist.sort { $0.score > $1.score }
        if scratch.shortlist.count > PromptReferences.shortlist { scratch.shortlist.removeLast(scratch.shortlist.count - PromptReferences.shortlist) }

        // 2. Waveform correlation at sample shifts around each shortlisted lag.
        let span = PromptReferences.fineSpan
        let lead = PromptReferences.searchLead
        let stride = PromptReferences.fineStride
        var xSum: Float = 0, xSquares: Float = 0
        for i in Swift.stride(from: 0, to: span, by: stride) {
            xSum += window[lead + i]
            xSquares += window[lead + i] * window[lead + i]
        }
        let m = Float(span / stride)
        let xVariance = xSquares - xSum * xSum / m
        guard xVariance > 0 else { return [] }
        var confirmed: [Match] = []
        for candidate in scratch.shortlist {
            let reference = references[candidate.reference]
            let centre = reference.onset + candidate.offset * hop
            var best = Match(reference: candidate.reference, offset: 0, score: -2)
            reference.samples.withUnsafeBufferPointer { r in
                for shift in -PromptReferences.fineShifts...PromptReferences.fineShifts {
                    let start = centre + shift
                    guard start >= 0, start + span <= r.count else { continue }
                    var dot: Float = 0, rSum: Float = 0, rSquares: Float = 0
                    for i in Swift.stride(from: 0, to: span, by: stride) {
                        let b = r[start + i]
                        dot += window[lead + i] * b
                        rSum += b
                        rSquares += b * b
                    }
                    let rVariance = rSquares - rSum * rSum / m
                    guard rVariance > 0 else { continue }
                    let score = (dot - xSum * rSum / m) / (xVariance * rVariance).squareRoot()
                    if score > best.score { best = Match(reference: candidate.reference, offset: start - onset, score: score) }
                }
            }
            if best.score >= PromptReferences.minimumMatch { confirmed.append(best) }
        }
        guard let top = confirmed.max(by: { $0.score < $1.score }) else { return [] }
        return confirmed.filter { $0.score >= top.score - PromptReferences.tieMargin }.sorted { $0.score > $1.score }
    }
}

/// Work buffers for identification, one per event loop (never shared between threads).
public struct PromptScratch {
    var envelope: [Float] = []
    var window: [Float] = []
    var frame: [Float] = []
    var shortlist: [PromptReferences.Match] = []
    public init() {}
}
