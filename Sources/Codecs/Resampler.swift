#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a ``Resampler`` cannot be made.
public enum ResamplerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Only integer up or down factors are supported (8 kHz ↔ 48 kHz is 6).
    case unsupportedRatio(inputRate: Int, outputRate: Int)

    /// A sentence for logs.
    public var description: String {
        switch self {
        case .unsupportedRatio(let input, let output): "cannot resample \(input) Hz to \(output) Hz: not an integer factor"
        }
    }
}

/// A streaming integer-factor resampler (8 kHz ↔ 48 kHz for Opus), with a
/// Kaiser-windowed sinc low-pass FIR at the high rate so that upsampling
/// leaves no images and downsampling does not alias.
///
/// The filter runs polyphase: upsampling computes each output phase from
/// `tapsPerPhase` inputs, downsampling computes only the outputs it keeps.
/// State carries across calls, so 20 ms frames join without clicks. The
/// per-frame path works in caller buffers and allocates nothing.
public struct Resampler: Sendable {
    /// The input sample rate.
    public let inputRate: Int
    /// The output sample rate.
    public let outputRate: Int
    /// The up (> 1 output per input) or down factor.
    public let factor: Int
    let isUpsampling: Bool
    /// Filter length per phase; the prototype has `factor × tapsPerPhase` taps.
    public let tapsPerPhase: Int
    /// Upsampling: phase-major coefficients `[phase][k]`, scaled by the factor.
    /// Downsampling: the prototype filter (symmetric, so no reversal needed).
    let coefficients: [Float]
    /// Delay line stored twice in a row so a window is always contiguous.
    var history: [Float]
    var head = 0
    var phase = 0

    /// Creates a resampler.
    ///
    /// - Parameters:
    ///   - tapsPerPhase: 40 gives a 240-tap prototype at 48 kHz with ~70 dB
    ///     stop-band attenuation (Kaiser β = 7) and a transition of about
    ///     3.4–4.2 kHz, which keeps the telephone band flat.
    public init(inputRate: Int, outputRate: Int, tapsPerPhase: Int = 40) throws(ResamplerError) {
        guard inputRate > 0, outputRate > 0, tapsPerPhase > 0,
              inputRate % outputRate == 0 || outputRate % inputRate == 0
        else { throw .unsupportedRatio(inputRate: inputRate, outputRate: outputRate) }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.isUpsampling = outputRate >= inputRate
        self.factor = isUpsampling ? outputRate / inputRate : inputRate / outputRate
        self.tapsPerPhase = tapsPerPhase

        let highRate = Double(max(inputRate, outputRate))
        let lowRate = Double(min(inputRate, outputRate))
        let length = factor * tapsPerPhase
        // Cut-off a little under the low rate's Nyquist: 3.8 kHz for 8 kHz.
        let prototype = Self.lowPass(length: length, cutoff: 0.475 * lowRate / highRate, beta: 7)
        if factor == 1 {
            coefficients = [1]
        } else if isUpsampling {
            var phased = [Float](repeating: 0, count: length)
            for p in 0..<factor {
                for k in 0..<tapsPerPhase {
                    phased[p * tapsPerPhase + k] = Float(prototype[k * factor + p] * Double(factor))
                }
            }
            coefficients = phased
        } else {
            coefficients = prototype.map { Float($0) }
        }
        let delayLength = factor == 1 ? 1 : (isUpsampling ? tapsPerPhase : length)
        history = [Float](repeating: 0, count: 2 * delayLength)
    }

    /// A Kaiser-windowed sinc low-pass with unit DC gain; `cutoff` is a
    /// fraction of the sample rate.
    static func lowPass(length: Int, cutoff: Double, beta: Double) -> [Double] {
        let center = Double(length - 1) / 2
        var taps = (0..<length).map { n -> Double in
            let x = Double(n) - center
            let sinc = x == 0 ? 2 * cutoff : sin(2 * Double.pi * cutoff * x) / (Double.pi * x)
            let ratio = 2 * Double(n) / Double(length - 1) - 1
            let window = besselI0(beta * (1 - ratio * ratio).squareRoot()) / besselI0(beta)
            return sinc * window
        }
        let sum = taps.reduce(0, +)
        for i in taps.indices { taps[i] /= sum }
        return taps
    }

    /// The zeroth-order modified Bessel function of the first kind, by its series.
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0
        var term = 1.0
        let half = x / 2
        for k in 1..<50 {
            term *= (half / Double(k)) * (half / Double(k))
            sum += term
            if term < 1e-12 * sum { break }
        }
        return sum
    }

    var delayLength: Int { history.count / 2 }

    /// How many samples ``process(_:into:)`` will write for `inputCount` inputs now.
    public func outputCount(forInputCount inputCount: Int) -> Int {
        isUpsampling ? inputCount * factor : (phase + inputCount) / factor
    }

    /// Clears the filter state (a new stream).
    public mutating func reset() {
        for i in history.indices { history[i] = 0 }
        head = 0
        phase = 0
    }


    static func clamp(_ value: Float) -> Int16 {
        Int16(max(-32768, min(32767, value.rounded())))
    }

    /// Resamples `input` into `output`; returns the samples written, which is
    /// ``outputCount(forInputCount:)``. Allocation-free.
    /// - Precondition: `output` has room for that many samples.
    public mutating func process(_ input: UnsafeBufferPointer<Int16>, into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        let needed = outputCount(forInputCount: input.count)
        precondition(output.count >= needed, "resampler output buffer too small")
        let length = delayLength
        let factor = self.factor
        let taps = tapsPerPhase
        let upsampling = isUpsampling
        var written = 0
        var head = self.head
        var phase = self.phase
        coefficients.withUnsafeBufferPointer { coefficients in
            history.withUnsafeMutableBufferPointer { delay in
                for sample in input {
                    head = head == 0 ? length - 1 : head - 1
                    delay[head] = Float(sample)
                    delay[head + length] = Float(sample)
                    if factor == 1 {
                        output[written] = sample
                        written += 1
                    } else if upsampling {
                        // y[nL + p] = L · Σ_k h[kL + p] · x[n − k]
                        for p in 0..<factor {
                            var accumulator: Float = 0
                            let base = p * taps
                            for k in 0..<taps {
                                accumulator += coefficients[base + k] * delay[head + k]
                            }
                            output[written] = Self.clamp(accumulator)
                            written += 1
                        }
                    } else {
                        // Keep one output in `factor`: y[m] = Σ_j h[j] · x[mM − j]
                        phase += 1
                        if phase == factor {
                            phase = 0
                            var accumulator: Float = 0
                            for j in 0..<length {
                                accumulator += coefficients[j] * delay[head + j]
                            }
                            output[written] = Self.clamp(accumulator)
                            written += 1
                        }
                    }
                }
            }
        }
        self.head = head
        self.phase = phase
        return written
    }

    /// Resamples an array into a new one (tests, start-up work).
    public mutating func process(_ input: [Int16]) -> [Int16] {
        let count = outputCount(forInputCount: input.count)
        return [Int16](unsafeUninitializedCapacity: count) { output, initialized in
            initialized = input.withUnsafeBufferPointer { process($0, into: output) }
        }
    }
}
