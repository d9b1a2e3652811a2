#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Generates DTMF dual tones as 16-bit PCM (ITU-T Q.23), for the load
/// generator's in-band DTMF and for tests.
public enum DTMFToneGenerator {
    /// The two tones of `tone` for `milliseconds`.
    ///
    /// - Parameters:
    ///   - amplitude: peak amplitude of each of the two sines; the default
    ///     (about −12 dBFS each) stays clear of clipping when summed.
    ///   - twistDecibels: how much weaker the high tone is than the low one
    ///     (positive = normal twist), for testing detector limits.
    public static func samples(
        for tone: DTMFTone,
        milliseconds: Int,
        sampleRate: Int = 8000,
        amplitude: Double = 8000,
        twistDecibels: Double = 0
    ) -> [Int16] {
        let count = sampleRate * milliseconds / 1000
        let highAmplitude = amplitude * pow(10, -twistDecibels / 20)
        let lowStep = 2 * Double.pi * tone.lowFrequency / Double(sampleRate)
        let highStep = 2 * Double.pi * tone.highFrequency / Double(sampleRate)
        return (0..<count).map { n in
            let value = amplitude * sin(lowStep * Double(n)) + highAmplitude * sin(highStep * Double(n))
            return Int16(max(-32768, min(32767, value.rounded())))
        }
    }

    /// A sequence of keys, each `toneMilliseconds` long and followed by
    /// `gapMilliseconds` of silence (Q.24 asks for at least 40 ms of each).
    public static func samples(
        for tones: [DTMFTone],
        toneMilliseconds: Int = 100,
        gapMilliseconds: Int = 100,
        sampleRate: Int = 8000,
        amplitude: Double = 8000
    ) -> [Int16] {
        var result: [Int16] = []
        for tone in tones {
            result += samples(for: tone, milliseconds: toneMilliseconds, sampleRate: sampleRate, amplitude: amplitude)
            result += [Int16](repeating: 0, count: sampleRate * gapMilliseconds / 1000)
        }
        return result
    }
}
