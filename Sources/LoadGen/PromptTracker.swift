#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs

/// A prompt recognised in a call's received audio.
public struct HeardPrompt: Sendable, Equatable {
    public var name: String
    public var language: String
    /// Other prompts with audio identical over what was heard (e.g. the same recording in two
    /// languages, or a prompt cut off during words it shares with others).
    public var alternatives: [String]
    /// Stream positions (samples from the first received packet) where the prompt's sample 0
    /// lay and where the audio stopped matching it (or it ended).
    public var start: Int
    public var end: Int
    /// When the packet holding the prompt's first sample arrived (monotonic ns).
    public var startArrival: UInt64
    /// Played to its end rather than cut off (by a key, a hangup, or other audio).
    public var completed: Bool
}

/// Follows one call's received G.711 and names the prompts in it, as they play.
///
/// Sans-IO: fed 20 ms frames with their stream position (from the RTP timestamp) and arrival
/// time. Keeps the last second of audio in a ring (G.711 bytes, about 8 KB), scans it for a
/// speech onset after a pause, asks ``PromptReferences`` which prompts start like that, then
/// checks each following frame against the candidates: a byte-for-byte frame match first (what
/// a server playing the prompt from sample 0 sends), else the waveform correlation. Three
/// frames in a row that do not match end a candidate; the one that lasted longest is the prompt
/// heard, and scanning resumes where it stopped matching (a new prompt after a key, say).
public struct PromptTracker {
    public static let frameSize = 160
    static let slots = 48
    static let failuresToDrop = 3
    /// Speech a prompt cut short must have matched to count as heard (300 ms).
    static let minimumSpeechMatched = 2400
    /// Unknown speech separated by this much quiet counts as two stretches (100 ms).
    static let pauseBetweenUnknowns = 800
    /// How far back from where a prompt stopped matching the next one's leading quiet is sought.
    static let rescanBack = 800

    struct Candidate {
        var match: PromptReferences.Match
        var failures = 0
        /// Stream position after the last frame that matched.
        var lastGood: Int
        /// When the frame holding the prompt's sample 0 arrived.
        var startArrival: UInt64 = 0
        var completed = false
    }

    let references: PromptReferences
    let law: G711.Law
    private var ring: [UInt8]
    private var slotPosition: [Int]
    private var slotArrival: [UInt64]
    private var latestEnd = 0
    private var earliest: Int?

    private var candidates: [Candidate] = []
    private var segmentStart = 0
    private var scanPosition = 0
    private var quietRun = PromptReferences.quietBeforeOnset
    private var pauseEnd: Int?
    private var onsetTaken = false
    private var onsetOfSegment = 0
    private var pendingOnset: Int?
    /// No onset before this position (it would lie inside the prompt just heard).
    private var minimumOnset = Int.min
    private var inUnidentifiedStretch = false

    /// Every prompt heard so far, in order.
    public private(set) var heard: [HeardPrompt] = []
    /// Stretches of speech that matched no prompt.
    public private(set) var unidentified = 0
    /// Frames that matched a candidate byte for byte, and by correlation.
    public private(set) var exactFrames = 0
    public private(set) var correlatedFrames = 0

    public init(references: PromptReferences, law: G711.Law) {
        self.references = references
        self.law = law
        ring = [UInt8](repeating: law.silence, count: PromptTracker.slots * PromptTracker.frameSize)
        slotPosition = [Int](repeating: -1, count: PromptTracker.slots)
        slotArrival = [UInt64](repeating: 0, count: PromptTracker.slots)
    }

    /// Whether a prompt is being followed now.
    public var isTracking: Bool { !candidates.isEmpty }

    /// One received frame of `frameSize` G.711 bytes at stream `position` (a multiple of the
    /// frame size: servers send whole 20 ms frames and count silence in whole frames).
    /// - Returns: a prompt that has just been recognised as starting (its name may still be
    ///   refined while it plays; ``heard`` has the final word).
    @discardableResult
    public mutating func frame(position: Int, payload: UnsafeRawBufferPointer, arrival: UInt64, scratch: inout PromptScratch) -> HeardPrompt? {
        let size = PromptTracker.frameSize
        guard payload.count == size, position >= 0, position % size == 0 else { return nil }
        if let earliest, position + size <= latestEnd - PromptTracker.slots * size || position < earliest { return nil } // too old
        let slot = (position / size) % PromptTracker.slots
        ring.withUnsafeMutableBytes { r in
            _ = memcpy(r.baseAddress! + slot * size, payload.baseAddress!, size)
        }
        slotPosition[slot] = position
        slotArrival[slot] = arrival
        if earliest == nil { earliest = position; scanPosition = position }
        latestEnd = max(latestEnd, position + size)

        if !candidates.isEmpty {
            track(position: position, slot: slot, scratch: &scratch)
            if !candidates.isEmpty { return nil }
        }
        if position >= minimumOnset, let started = exactStart(position: position, payload: payload) { return started }
        return scan(scratch: &scratch)
    }

    /// The call is over: closes the prompt being followed.
    public mutating func finish() {
        if !candidates.isEmpty { closeSegment() }
    }

    // MARK: tracking

    private mutating func track(position: Int, slot: Int, scratch: inout PromptScratch) {
        let size = PromptTracker.frameSize
        var decoded = false
        for i in candidates.indices where !candidates[i].completed && candidates[i].failures < PromptTracker.failuresToDrop {
            let reference = references.references[candidates[i].match.reference]
            let q = position + candidates[i].match.offset
            if q + size > reference.sampleCount {
                // The frame reaches past the recording's end (the last one is padded): the
                // prompt has played out.
                candidates[i].completed = true
                if q < reference.sampleCount { candidates[i].lastGood = position + size }
                continue
            }
            if q < 0 { continue }
            var pass = false
            if q % size == 0 {
                let encoded = law == .muLaw ? reference.muLaw : reference.aLaw
                pass = ring.withUnsafeBytes { r in
                    encoded.withUnsafeBytes { e in memcmp(r.baseAddress! + slot * size, e.baseAddress! + q, size) == 0 }
                }
                if pass { exactFrames += 1 }
            }
            if !pass {
                if !decoded {
                    decode(slot: slot, into: &scratch.frame)
                    decoded = true
                }
                pass = PromptTracker.frameMatches(received: scratch.frame, reference: reference.samples, at: q)
                if pass { correlatedFrames += 1 }
            }
            if pass {
                candidates[i].failures = 0
                candidates[i].lastGood = position + size
                if q + size >= reference.sampleCount { candidates[i].completed = true }
            } else {
                candidates[i].failures += 1
            }
        }
        let alive = candidates.contains { !$0.completed && $0.failures < PromptTracker.failuresToDrop }
        if !alive { closeSegment() }
    }

    /// A frame matches when a quiet stretch of the prompt meets a quiet frame, or when the
    /// waveforms correlate.
    static func frameMatches(received: [Float], reference: [Float], at q: Int) -> Bool {
        let n = frameSize
        var rAbs: Float = 0, xAbs: Float = 0
        var dot: Float = 0, xSum: Float = 0, rSum: Float = 0, xSquares: Float = 0, rSquares: Float = 0
        received.withUnsafeBufferPointer { x in
            reference.withUnsafeBufferPointer { r in
                for i in 0..<n {
                    let a = x[i], b = r[q + i]
                    xAbs += abs(a)
                    rAbs += abs(b)
                    dot += a * b
                    xSum += a
                    rSum += b
                    xSquares += a * a
                    rSquares += b * b
                }
            }
        }
        let count = Float(n)
        if rAbs / count < 300 { return xAbs / count < 1000 }
        let xVariance = xSquares - xSum * xSum / count
        let rVariance = rSquares - rSum * rSum / count
        guard xVariance > 0, rVariance > 0 else { return false }
        return (dot - xSum * rSum / count) / (xVariance * rVariance).squareRoot() >= 0.5
    }

    private mutating func closeSegment() {
        // The candidate that matched furthest wins; a completed one beats one cut short.
        let ranked = candidates.sorted {
            ($0.completed ? 1 : 0, $0.lastGood, $0.match.score) > ($1.completed ? 1 : 0, $1.lastGood, $1.match.score)
        }
        guard let best = ranked.first else { return }
        let reference = references.references[best.match.reference]
        if !best.completed, best.lastGood - onsetOfSegment < PromptTracker.minimumSpeechMatched {
            // A few words in common with a prompt is not hearing it.
            unidentified += 1
            candidates = []
            minimumOnset = onsetOfSegment + PromptReferences.envelopeHop
            scanPosition = max(earliest ?? 0, onsetOfSegment + PromptReferences.envelopeHop)
            scanPosition -= scanPosition % PromptReferences.envelopeHop
            quietRun = 0
            pauseEnd = nil
            pendingOnset = nil
            inUnidentifiedStretch = true
            return
        }
        let ties = ranked.dropFirst().filter { $0.lastGood == best.lastGood && $0.completed == best.completed }
        let alternatives = ties.map { references.references[$0.match.reference] }
            .filter { $0.name != reference.name }.map(\.name)
        heard.append(HeardPrompt(name: reference.name, language: reference.language, alternatives: Array(Set(alternatives)).sorted(),
                                 start: -best.match.offset, end: best.lastGood, startArrival: best.startArrival, completed: best.completed))
        candidates = []
        // Look for the next prompt where this one stopped matching: its onset is there or
        // later, and the quiet before it (the next prompt's leading silence, which may have
        // matched a pause of this one) is measured from 100 ms back.
        minimumOnset = best.lastGood
        scanPosition = max(earliest ?? 0, best.lastGood - PromptTracker.rescanBack)
        scanPosition -= scanPosition % PromptReferences.envelopeHop
        quietRun = 0
        pauseEnd = nil
        onsetTaken = false
        pendingOnset = nil
        inUnidentifiedStretch = false
    }

    // MARK: searching

    /// A speech frame found byte for byte in the prompts (what a server sends): follow the
    /// prompts it belongs to from here, no search needed.
    private mutating func exactStart(position: Int, payload: UnsafeRawBufferPointer) -> HeardPrompt? {
        let found = references.locate(payload, law: law)
        guard let first = found.first else { return nil }
        candidates = found.map { location in
            let match = PromptReferences.Match(reference: Int(location.reference), offset: Int(location.sample) - position, score: 1)
            return Candidate(match: match, failures: 0, lastGood: position + PromptTracker.frameSize,
                             startArrival: arrival(at: -match.offset))
        }
        exactFrames += 1
        onsetOfSegment = position
        pendingOnset = nil
        inUnidentifiedStretch = false
        let reference = references.references[Int(first.reference)]
        return HeardPrompt(name: reference.name, language: reference.language, alternatives: [], start: position - Int(first.sample),
                           end: position + PromptTracker.frameSize, startArrival: arrival(at: position - Int(first.sample)), completed: false)
    }

    private mutating func scan(scratch: inout PromptScratch) -> HeardPrompt? {
        let hop = PromptReferences.envelopeHop, window = PromptReferences.envelopeWindow
        while pendingOnset == nil, scanPosition + window <= latestEnd {
            if scanPosition < latestEnd - PromptTracker.slots * PromptTracker.frameSize {
                scanPosition = latestEnd - PromptTracker.slots * PromptTracker.frameSize // fell out of the ring
            }
            let level = meanAbs(from: scanPosition, count: window)
            if level < PromptReferences.quiet {
                quietRun += hop
                // A real pause ends a stretch of unknown speech.
                if quietRun >= PromptTracker.pauseBetweenUnknowns { inUnidentifiedStretch = false }
            } else {
                if quietRun >= PromptReferences.quietBeforeOnset {
                    pauseEnd = scanPosition
                    onsetTaken = false
                }
                quietRun = 0
                // Speech after a pause, allowing its rise to take up to 50 ms.
                if level > PromptReferences.loud, !onsetTaken, let pauseEnd, scanPosition - pauseEnd <= PromptReferences.maximumRise,
                   scanPosition >= minimumOnset {
                    pendingOnset = scanPosition
                    onsetTaken = true
                }
            }
            scanPosition += hop
        }
        guard let onset = pendingOnset, latestEnd >= onset + PromptReferences.samplesNeededAfterOnset else { return nil }
        pendingOnset = nil
        let span = PromptReferences.searchEnvelopeSpan
        if scratch.window.count != span { scratch.window = [Float](repeating: 0, count: span) }
        fill(&scratch.window, from: onset - PromptReferences.searchLead)
        let matches = scratch.window.withUnsafeBufferPointer { w in references.search(window: w, onset: onset, scratch: &scratch) }
        guard !matches.isEmpty else {
            if !inUnidentifiedStretch { unidentified += 1 }
            inUnidentifiedStretch = true
            return nil
        }
        inUnidentifiedStretch = false
        candidates = matches.map { Candidate(match: $0, lastGood: onset, startArrival: arrival(at: -$0.offset)) }
        onsetOfSegment = onset
        let best = matches[0]
        let reference = references.references[best.reference]
        segmentStart = -best.offset
        // Catch up: check the frames already received after the onset.
        let size = PromptTracker.frameSize
        var position = (onset / size) * size
        while position < latestEnd, !candidates.isEmpty {
            let slot = (position / size) % PromptTracker.slots
            if slotPosition[slot] == position { track(position: position, slot: slot, scratch: &scratch) }
            position += size
        }
        return HeardPrompt(name: reference.name, language: reference.language, alternatives: [], start: segmentStart,
                           end: segmentStart, startArrival: arrival(at: segmentStart), completed: false)
    }

    /// When the frame holding `position` arrived, or the next frame we have after it.
    private func arrival(at position: Int) -> UInt64 {
        let size = PromptTracker.frameSize
        var p = max(position, earliest ?? 0)
        p -= ((p % size) + size) % size
        while p < latestEnd {
            let slot = (p / size) % PromptTracker.slots
            if slotPosition[slot] == p { return slotArrival[slot] }
            p += size
        }
        return 0
    }

    /// Mean |x| of received samples; missing ones count as silence.
    private func meanAbs(from start: Int, count: Int) -> Float {
        let size = PromptTracker.frameSize
        var sum: Float = 0
        var p = start
        let end = start + count
        while p < end {
            let frameStart = p - ((p % size) + size) % size
            let stop = min(end, frameStart + size)
            let slot = ((frameStart / size) % PromptTracker.slots + PromptTracker.slots) % PromptTracker.slots
            if p >= 0, slotPosition[slot] == frameStart {
                let base = slot * size - frameStart
                for i in p..<stop { sum += abs(Float(G711.decode(ring[base + i], law: law))) }
            }
            p = stop
        }
        return sum / Float(count)
    }

    private func fill(_ out: inout [Float], from start: Int) {
        let size = PromptTracker.frameSize
        for i in out.indices {
            let p = start + i
            guard p >= 0 else { out[i] = 0; continue }
            let frameStart = p - p % size
            let slot = (frameStart / size) % PromptTracker.slots
            out[i] = slotPosition[slot] == frameStart ? Float(G711.decode(ring[slot * size + p % size], law: law)) : 0
        }
    }

    private func decode(slot: Int, into out: inout [Float]) {
        let size = PromptTracker.frameSize
        if out.count != size { out = [Float](repeating: 0, count: size) }
        for i in 0..<size { out[i] = Float(G711.decode(ring[slot * size + i], law: law)) }
    }
}

extension G711 {
    @inline(__always)
    static func decode(_ byte: UInt8, law: Law) -> Int16 {
        law == .muLaw ? decodeMuLaw(byte) : decodeALaw(byte)
    }
}
