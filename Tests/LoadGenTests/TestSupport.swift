import Codecs
import Foundation
@testable import LoadGen
import Randomness

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

/// Noisy tests always see the same noise.
typealias SeededGenerator = SplitMix64

extension SplitMix64 {
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
