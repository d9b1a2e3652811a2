import Testing
@testable import Codecs

@Suite struct ResamplerTests {
    @Test func upsamplesATonePreservingAmplitudeWithoutImages() throws {
        var resampler = try Resampler(inputRate: 8000, outputRate: 48000)
        let input = TestSignals.sine(frequency: 1000, sampleRate: 8000, count: 8000)
        let output = resampler.process(input)
        #expect(output.count == 48000)
        let steady = output[4800...]  // past the filter delay
        let tone = TestSignals.amplitude(of: 1000, in: steady, sampleRate: 48000)
        #expect(abs(tone - 10000) < 300, "1 kHz amplitude \(tone)")
        // Zero-stuffing images at 8k ± 1 kHz must be gone (≥ 60 dB down).
        for image in [7000.0, 9000, 15000, 17000] {
            let leak = TestSignals.amplitude(of: image, in: steady, sampleRate: 48000)
            #expect(leak < 10, "image at \(image) Hz: \(leak)")
        }
    }

    @Test func downsamplesATonePreservingAmplitude() throws {
        var resampler = try Resampler(inputRate: 48000, outputRate: 8000)
        let output = resampler.process(TestSignals.sine(frequency: 1000, sampleRate: 48000, count: 48000))
        #expect(output.count == 8000)
        let tone = TestSignals.amplitude(of: 1000, in: output[800...], sampleRate: 8000)
        #expect(abs(tone - 10000) < 300, "1 kHz amplitude \(tone)")
    }

    @Test(arguments: [6000.0, 5000, 4500, 12000])
    func downsamplingDoesNotAlias(frequency: Double) throws {
        var resampler = try Resampler(inputRate: 48000, outputRate: 8000)
        let output = resampler.process(TestSignals.sine(frequency: frequency, sampleRate: 48000, count: 48000))
        // A naive decimator would fold these into 2000, 3000, 3500 and 4000 Hz at full amplitude.
        let rms = TestSignals.rms(output[800...])
        #expect(rms < 70, "\(frequency) Hz leaks with rms \(rms) (input rms 7071)")
    }

    @Test func streamingInFramesMatchesOneShot() throws {
        let input = TestSignals.sine(frequency: 700, sampleRate: 8000, count: 1600)
        var whole = try Resampler(inputRate: 8000, outputRate: 48000)
        let expected = whole.process(input)
        var framed = try Resampler(inputRate: 8000, outputRate: 48000)
        var output = [Int16](repeating: 0, count: 960)
        var joined: [Int16] = []
        for frame in 0..<10 {
            let n = input[frame * 160..<(frame + 1) * 160].withUnsafeBufferPointer { chunk in
                output.withUnsafeMutableBufferPointer { framed.process(chunk, into: $0) }
            }
            #expect(n == 960)
            joined += output
        }
        #expect(joined == expected)

        var down = try Resampler(inputRate: 48000, outputRate: 8000)
        #expect(down.outputCount(forInputCount: 5) == 0)
        #expect(down.process([Int16](repeating: 1000, count: 5)).isEmpty)
        #expect(down.outputCount(forInputCount: 7) == 2)  // 5 pending + 7 = 12 inputs
        #expect(down.process([Int16](repeating: 1000, count: 7)).count == 2)
    }

    @Test func roundTripKeepsTheTelephoneBand() throws {
        var up = try Resampler(inputRate: 8000, outputRate: 48000)
        var down = try Resampler(inputRate: 48000, outputRate: 8000)
        for frequency in [300.0, 1000, 3300] {
            let back = down.process(up.process(TestSignals.sine(frequency: frequency, sampleRate: 8000, count: 4000)))
            let amplitude = TestSignals.amplitude(of: frequency, in: back[800...], sampleRate: 8000)
            #expect(amplitude > 9000 && amplitude < 11000, "\(frequency) Hz → \(amplitude)")
        }
    }

    @Test func rejectsNonIntegerRatios() {
        #expect(throws: ResamplerError.unsupportedRatio(inputRate: 8000, outputRate: 44100)) {
            try Resampler(inputRate: 8000, outputRate: 44100)
        }
        #expect(throws: ResamplerError.self) { try Resampler(inputRate: 0, outputRate: 8000) }
    }
}
