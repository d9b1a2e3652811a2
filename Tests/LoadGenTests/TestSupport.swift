import Codecs
import Foundation
@testable import LoadGen

/// The repository root, found from this file.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let prompts = root.appendingPathComponent("Prompts").path
    static func prompt(_ language: String, _ name: String) -> [Int16] {
        try! WAVFile(contentsOf: "\(prompts)/\(language)/\(name).wav").samples
    }
    /// Every prompt of the repository, loaded once.
    static let references: PromptReferences = try! PromptReferences(directory: prompts)
}

/// A deterministic generator (SplitMix64), so noisy tests always see the same noise.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    /// A seed from text that is the same in every process (unlike `hashValue`): FNV-1a.
    static func seed(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A standard normal draw (Box–Muller).
    mutating func gaussian() -> Double {
        let u1 = max(Double.leastNonzeroMagnitude, Double.random(in: 0..<1, using: &self))
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

enum Signal {
    /// `samples` with white noise of RMS `noise` added, clipped to 16 bits.
    static func noisy(_ samples: [Int16], noise: Double, rng: inout SeededGenerator) -> [Int16] {
        samples.map { Int16(clamping: Int((Double($0) + noise * rng.gaussian()).rounded())) }
    }

    /// Feeds 160-sample frames of G.711 to a tracker, as a server's RTP stream would arrive.
    static func feed(_ samples: [Int16], law: G711.Law = .muLaw, to tracker: inout PromptTracker, startPosition: Int = 0,
                     scratch: inout PromptScratch) -> [HeardPrompt] {
        var started: [HeardPrompt] = []
        let encoded = G711.encode(samples, law: law)
        var position = startPosition
        var i = 0
        while i + 160 <= encoded.count {
            let arrival = UInt64(position) * 125_000
            let event = encoded[i..<i + 160].withUnsafeBytes { tracker.frame(position: position, payload: $0, arrival: arrival, scratch: &scratch) }
            if let event { started.append(event) }
            i += 160
            position += 160
        }
        return started
    }
}
