import Foundation

/// Signal helpers shared by the codec tests.
enum TestSignals {
    static func sine(frequency: Double, sampleRate: Double, count: Int, amplitude: Double = 10000, phase: Double = 0) -> [Int16] {
        (0..<count).map { n in Int16((amplitude * sin(2 * .pi * frequency * Double(n) / sampleRate + phase)).rounded()) }
    }

    static func rms<C: Collection>(_ samples: C) -> Double where C.Element == Int16 {
        guard !samples.isEmpty else { return 0 }
        let sum = samples.reduce(0.0) { $0 + Double($1) * Double($1) }
        return (sum / Double(samples.count)).squareRoot()
    }

    /// The amplitude of the `frequency` component (single-bin DFT).
    static func amplitude<C: Collection>(of frequency: Double, in samples: C, sampleRate: Double) -> Double where C.Element == Int16 {
        var re = 0.0
        var im = 0.0
        for (n, sample) in samples.enumerated() {
            let angle = 2 * .pi * frequency * Double(n) / sampleRate
            re += Double(sample) * cos(angle)
            im -= Double(sample) * sin(angle)
        }
        return 2 * (re * re + im * im).squareRoot() / Double(samples.count)
    }

    /// Sign changes: 2 per period of a clean tone.
    static func zeroCrossings<C: Collection>(_ samples: C) -> Int where C.Element == Int16 {
        var count = 0
        var previous: Int16?
        for sample in samples where sample != 0 {
            if let previous, (previous < 0) != (sample < 0) { count += 1 }
            previous = sample
        }
        return count
    }
}
