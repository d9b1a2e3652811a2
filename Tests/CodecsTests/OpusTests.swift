import COpus
import Testing
@testable import Codecs

@Suite struct OpusTests {
    /// One second of 440 Hz through encoder and decoder, 20 ms at a time.
    @Test func sineSurvivesEncodeDecode() throws {
        let encoder = try OpusEncoder(sampleRate: 48000, channels: 1, application: .voip, bitrate: 32000)
        let decoder = try OpusDecoder(sampleRate: 48000, channels: 1)
        let input = TestSignals.sine(frequency: 440, sampleRate: 48000, count: 48000)
        var output: [Int16] = []
        var packetBytes = 0
        for frame in 0..<50 {
            let packet = try encoder.encode(Array(input[frame * 960..<(frame + 1) * 960]))
            #expect(!packet.isEmpty && packet.count <= OpusEncoder.maximumPacketSize)
            packetBytes += packet.count
            output += try decoder.decode(packet)
        }
        #expect(output.count == input.count)
        // Skip the first 100 ms: encoder look-ahead and start-up.
        let steady = output[4800...]
        let inputRMS = TestSignals.rms(input[4800...])
        #expect(abs(TestSignals.rms(steady) - inputRMS) < 0.25 * inputRMS)
        // 440 Hz crosses zero 880 times a second: 792 in 0.9 s.
        let crossings = TestSignals.zeroCrossings(steady)
        #expect(abs(crossings - 792) <= 16, "crossings \(crossings)")
        // ~32 kbit/s: 4000 bytes a second, give or take the rate control.
        #expect(packetBytes > 2000 && packetBytes < 6000, "bytes \(packetBytes)")
    }

    @Test func encoderControlsReachLibopus() throws {
        let encoder = try OpusEncoder(bitrate: 24000, inbandFEC: true, expectedPacketLossPercent: 10)
        #expect(try encoder.bitrate() == 24000)
        #expect(try encoder.isInbandFECEnabled())
        try encoder.setBitrate(16000)
        #expect(try encoder.bitrate() == 16000)
        try encoder.setInbandFEC(false, expectedPacketLossPercent: 0)
        #expect(try !encoder.isInbandFECEnabled())
        #expect(try encoder.complexity() == 9, "libopus's default")
        try encoder.setComplexity(5)
        #expect(try encoder.complexity() == 5)
        #expect(throws: OpusError.self) { try encoder.setComplexity(11) }
    }

    @Test func concealsALostPacketAndRecoversOneWithFEC() throws {
        let encoder = try OpusEncoder(bitrate: 24000, inbandFEC: true, expectedPacketLossPercent: 20)
        let decoder = try OpusDecoder()
        let input = TestSignals.sine(frequency: 440, sampleRate: 48000, count: 960 * 30)
        let packets = try (0..<30).map { try encoder.encode(Array(input[$0 * 960..<($0 + 1) * 960])) }
        for packet in packets[0..<20] { _ = try decoder.decode(packet) }
        // Packet 20 lost: concealment keeps the tone going instead of silence.
        let concealed = try decoder.decode(nil)
        #expect(concealed.count == 960)
        #expect(TestSignals.rms(concealed) > 0.2 * TestSignals.rms(input))
        // Packet 22 lost, 23 arrives: its FEC data rebuilds 22.
        _ = try decoder.decode(packets[21])
        let recovered = try decoder.decode(packets[23], decodeFEC: true)
        #expect(recovered.count == 960)
        let amplitude = TestSignals.amplitude(of: 440, in: recovered, sampleRate: 48000)
        #expect(amplitude > 3000, "FEC frame 440 Hz amplitude \(amplitude)")
    }

    @Test func errorsCarryLibopusText() throws {
        #expect(throws: OpusError(operation: "opus_encoder_create(44100 Hz, 1 ch)", code: OPUS_BAD_ARG)) {
            try OpusEncoder(sampleRate: 44100)
        }
        #expect(OpusError(operation: "x", code: OPUS_BAD_ARG).message == "invalid argument")
        let encoder = try OpusEncoder()
        let packet = try encoder.encode(TestSignals.sine(frequency: 440, sampleRate: 48000, count: 960))
        let decoder = try OpusDecoder()
        var small = [Int16](repeating: 0, count: 100)  // 960 needed
        do {
            _ = try packet.withUnsafeBytes { input in try small.withUnsafeMutableBufferPointer { try decoder.decode(input, into: $0) } }
            Issue.record("decoding into 100 samples should fail")
        } catch let error as OpusError {
            #expect(error.code == OPUS_BUFFER_TOO_SMALL)
            #expect(error.description.contains("buffer too small"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
