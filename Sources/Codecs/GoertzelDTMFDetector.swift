#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// In-band DTMF detection on 8 kHz PCM with the Goertzel algorithm (ITU-T Q.24).
///
/// Works in blocks of 205 samples (25.6 ms), whose bins fall close to the
/// eight DTMF frequencies. A block holds a key when:
/// - the signal is loud enough,
/// - the strongest row and column tones carry most of the block's energy
///   (rejects speech and noise, whose energy is spread),
/// - each is clearly stronger than the others of its group (rejects chords),
/// - the twist between them is within +8 dB / −4 dB (Q.24 limits),
/// and a key is reported once when seen in two blocks in a row (≥ 40 ms,
/// Q.24's minimum), then not again until a block without it.
///
/// Sans-IO value type; allocation-free after creation.
public struct GoertzelDTMFDetector: Sendable {
    /// Samples per analysis block.
    public static let blockSize = 205
    /// The sample rate this detector expects.
    public let sampleRate: Int
    /// Minimum mean power per sample (about −50 dBFS by default).
    public var minimumMeanPower: Double = 100 * 100
    /// Minimum share of the block's energy in the two tones.
    public var minimumToneShare: Double = 0.6
    /// How much stronger (power ratio) the winning tone must be than the
    /// runner-up of its group: 6 dB.
    public var minimumPeakRatio: Double = 4
    /// Largest allowed high-group deficit, dB (normal twist, Q.24: 8 dB).
    public var maximumNormalTwist: Double = 8
    /// Largest allowed high-group excess, dB (reverse twist, Q.24: 4 dB).
    public var maximumReverseTwist: Double = 4

    let coefficients: [Double]
    var s1 = [Double](repeating: 0, count: 8)
    var s2 = [Double](repeating: 0, count: 8)
    var energy = 0.0
    var filled = 0
    var candidate: DTMFTone?
    var reported: DTMFTone?

    /// Creates a detector for `sampleRate` (8000 for telephony).
    public init(sampleRate: Int = 8000) {
        self.sampleRate = sampleRate
        coefficients = (DTMFTone.lowFrequencies + DTMFTone.highFrequencies).map {
            2 * cos(2 * Double.pi * $0 / Double(sampleRate))
        }
    }

    /// Feeds samples; calls `onKey` once per detected key press.
    public mutating func process(_ samples: UnsafeBufferPointer<Int16>, onKey: (DTMFTone) -> Void) {
        for sample in samples {
            let x = Double(sample)
            energy += x * x
            for i in 0..<8 {
                let s = x + coefficients[i] * s1[i] - s2[i]
                s2[i] = s1[i]
                s1[i] = s
            }
            filled += 1
            if filled == Self.blockSize {
                let tone = analyseBlock()
                if let tone, tone == candidate, tone != reported {
                    reported = tone
                    onKey(tone)
                } else if tone == nil {
                    reported = nil
                }
                candidate = tone
                for i in 0..<8 {
                    s1[i] = 0
                    s2[i] = 0
                }
                energy = 0
                filled = 0
            }
        }
    }

    /// Feeds an array and returns the keys found in it (tests, tools).
    public mutating func process(_ samples: [Int16]) -> [DTMFTone] {
        var keys: [DTMFTone] = []
        samples.withUnsafeBufferPointer { process($0) { keys.append($0) } }
        return keys
    }

    /// The Goertzel power of bin `i` for the block just completed.
    func power(_ i: Int) -> Double {
        let a: Double = s1[i]
        let b: Double = s2[i]
        return a * a + b * b - coefficients[i] * a * b
    }

    /// The strongest bin of `bins` and the power of the runner-up.
    func strongest(_ bins: Range<Int>) -> (index: Int, power: Double, runnerUp: Double) {
        var best = bins.lowerBound
        var bestPower = -Double.infinity
        var second = -Double.infinity
        for i in bins {
            let p = power(i)
            if p > bestPower {
                second = bestPower
                bestPower = p
                best = i
            } else if p > second {
                second = p
            }
        }
        return (best, bestPower, second)
    }

    /// The key of the block just completed, if it holds one.
    func analyseBlock() -> DTMFTone? {
        let n = Double(Self.blockSize)
        guard energy / n >= minimumMeanPower else { return nil }
        let row = strongest(0..<4)
        let column = strongest(4..<8)
        // A pure tone of energy E in a block of N samples gives a Goertzel power of about E·N/2.
        let toneShare: Double = (row.power + column.power) / (energy * n / 2)
        guard toneShare >= minimumToneShare else { return nil }
        guard row.power >= minimumPeakRatio * row.runnerUp, column.power >= minimumPeakRatio * column.runnerUp else { return nil }
        let twist: Double = 10 * log10(row.power / column.power)  // > 0: high group weaker
        guard twist <= maximumNormalTwist, -twist <= maximumReverseTwist else { return nil }
        return DTMFTone(row: row.index, column: column.index - 4)
    }
}
