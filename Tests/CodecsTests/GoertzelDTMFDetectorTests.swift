import Foundation
import Testing
@testable import Codecs

@Suite struct GoertzelDTMFDetectorTests {
    @Test func detectsEverySixteenKeysOnceEach() {
        var detector = GoertzelDTMFDetector()
        let signal = DTMFToneGenerator.samples(for: DTMFTone.allCases, toneMilliseconds: 80, gapMilliseconds: 60)
        #expect(detector.process(signal) == DTMFTone.allCases)
    }

    @Test func aLongPressIsOneKeyAndARepeatAfterAGapIsTwo() {
        var detector = GoertzelDTMFDetector()
        let long = DTMFToneGenerator.samples(for: .five, milliseconds: 800)
        #expect(detector.process(long) == [.five])
        // Straight on, with no gap, the same key is still the same press.
        #expect(detector.process(DTMFToneGenerator.samples(for: .five, milliseconds: 100)).isEmpty)
        let silence = [Int16](repeating: 0, count: 800)
        #expect(detector.process(silence + DTMFToneGenerator.samples(for: [.five, .five])) == [.five, .five])
    }

    @Test func detectsThroughG711AndFramedInput() {
        var detector = GoertzelDTMFDetector()
        let pcm = DTMFToneGenerator.samples(for: [.one, .pound, .d], amplitude: 3000)
        let companded = G711.decode(G711.encode(pcm, law: .aLaw), law: .aLaw)
        var keys: [DTMFTone] = []
        for start in stride(from: 0, to: companded.count, by: 160) {
            companded[start..<min(start + 160, companded.count)].withUnsafeBufferPointer { frame in
                detector.process(frame) { keys.append($0) }
            }
        }
        #expect(keys == [.one, .pound, .d])
    }

    @Test func rejectsSingleTones() {
        for frequency in DTMFTone.lowFrequencies + DTMFTone.highFrequencies + [1000, 2100] {
            var detector = GoertzelDTMFDetector()
            let tone = TestSignals.sine(frequency: frequency, sampleRate: 8000, count: 4000, amplitude: 12000)
            #expect(detector.process(tone).isEmpty, "\(frequency) Hz")
        }
    }

    @Test func rejectsSpeechLikeSignalsAndNoise() {
        // A voiced sound: 120 Hz pitch with harmonics shaped by formants near 700 and 1200 Hz,
        // plus noise; and plain white noise. Deterministic generator.
        var state: UInt64 = 12345
        func noise() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(Int64(bitPattern: state) >> 11) / Double(1 << 52)
        }
        var voiced: [Int16] = []
        for n in 0..<16000 {
            var value = 0.0
            let pitch = 120 + 20 * sin(2 * .pi * 3 * Double(n) / 8000)  // intonation
            for h in 1...25 {
                let f = pitch * Double(h)
                let formant = exp(-pow((f - 700) / 150, 2)) + exp(-pow((f - 1200) / 200, 2)) + 0.05
                value += 3000 * formant * sin(2 * .pi * f * Double(n) / 8000)
            }
            voiced.append(Int16(max(-32768, min(32767, value + 500 * noise()))))
        }
        var detector = GoertzelDTMFDetector()
        #expect(detector.process(voiced).isEmpty)
        let white = (0..<16000).map { _ in Int16(8000 * noise()) }
        #expect(detector.process(white).isEmpty)
    }

    @Test func respectsLevelAndTwistLimits() {
        var detector = GoertzelDTMFDetector()
        #expect(detector.process(DTMFToneGenerator.samples(for: [.seven], amplitude: 50)).isEmpty)  // too quiet
        #expect(detector.process(DTMFToneGenerator.samples(for: .seven, milliseconds: 200, twistDecibels: 6)) == [.seven])
        #expect(detector.process([Int16](repeating: 0, count: 800)).isEmpty)
        #expect(detector.process(DTMFToneGenerator.samples(for: .eight, milliseconds: 200, twistDecibels: 12)).isEmpty)
        #expect(detector.process([Int16](repeating: 0, count: 800)).isEmpty)
        #expect(detector.process(DTMFToneGenerator.samples(for: .nine, milliseconds: 200, twistDecibels: -6)).isEmpty)
        #expect(detector.process(DTMFToneGenerator.samples(for: .nine, milliseconds: 20)).isEmpty)  // shorter than Q.24's 40 ms
    }

    @Test func tonesMapToQ23Frequencies() {
        #expect(DTMFTone.one.lowFrequency == 697 && DTMFTone.one.highFrequency == 1209)
        #expect(DTMFTone.pound.lowFrequency == 941 && DTMFTone.pound.highFrequency == 1477)
        #expect(DTMFTone.d.lowFrequency == 941 && DTMFTone.d.highFrequency == 1633)
        #expect(DTMFTone.zero.highFrequency == 1336)
    }
}
