import Foundation
import Testing
@testable import AudioDevice

@Suite struct ALSAPlaybackTests {
    /// The `null` device exists wherever libasound2 is installed, sound card or not.
    @Test func playsIntoTheNullDevice() throws {
        let playback = try ALSAPlayback(device: "null", sampleRate: 8000, channels: 1)
        let tone = (0..<8000).map { n in Int16(8000 * sin(2 * Double.pi * 440 * Double(n) / 8000)) }
        try playback.write(tone)
        try playback.drain()
        #expect(playback.framesWritten == 8000, "every frame was taken")
        #expect(!playback.isClosed)
        playback.close()
        #expect(playback.isClosed)
        playback.close()  // twice is harmless
        #expect(throws: ALSAError(device: "null", operation: "write", message: "device is closed")) {
            try playback.write([0, 0])
        }
    }

    @Test func stereoNeedsWholeFrames() throws {
        let playback = try ALSAPlayback(device: "null", sampleRate: 48000, channels: 2)
        try playback.write([Int16](repeating: 0, count: 960 * 2))
        #expect(playback.framesWritten == 960, "two samples make one stereo frame")
        #expect(throws: ALSAError.self) { try playback.write([1, 2, 3]) }
        #expect(playback.framesWritten == 960, "a refused write plays nothing")
    }

    @Test func unknownDeviceGivesAClearError() {
        do {
            _ = try ALSAPlayback(device: "no-such-device-hotline")
            Issue.record("opened a device that does not exist")
        } catch {
            #expect(error.device == "no-such-device-hotline")
            #expect(error.operation == "open")
            #expect(error.code < 0)
            #expect(error.isNoSuchDevice)
            #expect(error.message == "No such file or directory")
            #expect(error.description.hasPrefix("ALSA playback device 'no-such-device-hotline': open failed: No such file or directory (no sound card"))
        }
    }

    /// On a machine with no sound card (CI, servers) a hardware device fails
    /// with the same clear text; with a card it opens and plays 20 ms of silence.
    @Test func hardwareDeviceOpensAndPlaysOrExplainsWhyNot() throws {
        let playback: ALSAPlayback
        do {
            playback = try ALSAPlayback(device: "plughw:0")
        } catch {
            #expect(error.device == "plughw:0")
            #expect(error.operation == "open" || error.operation.hasPrefix("set parameters"))
            #expect(error.code < 0)
            #expect(!error.message.isEmpty)
            #expect(error.description.hasPrefix("ALSA playback device 'plughw:0': "))
            return
        }
        try playback.write([Int16](repeating: 0, count: 160))
        try playback.drain()
        #expect(playback.framesWritten == 160)
        playback.close()
        #expect(playback.isClosed)
        #expect(throws: ALSAError.self) { try playback.write([0]) }
    }
}

@Suite struct ALSACaptureTests {
    /// The `null` device captures silence, at once, sound card or not.
    @Test func capturesSilenceFromTheNullDevice() throws {
        let capture = try ALSACapture(device: "null", sampleRate: 8000, channels: 1)
        let samples = try capture.read(frames: 160)
        #expect(samples.count == 160)
        #expect(samples.allSatisfy { $0 == 0 })
        capture.close()
        #expect(capture.isClosed)
        capture.close()
        #expect(throws: ALSAError.self) { try capture.read(frames: 1) }
    }

    @Test func unknownDeviceGivesAClearError() {
        do {
            _ = try ALSACapture(device: "no-such-device-hotline")
            Issue.record("opened a device that does not exist")
        } catch {
            #expect(error.operation == "open for capture")
            #expect(error.isNoSuchDevice)
        }
    }
}
