import Foundation
import Testing
@testable import Codecs

@Suite struct WAVFileTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "wav-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// A header with the given fields, then `data` bytes under a data chunk declaring `declared`.
    static func wav(formatTag: UInt16 = 1, channels: UInt16 = 1, rate: UInt32 = 8000, bits: UInt16 = 16,
                    extraChunks: [UInt8] = [], declared: UInt32? = nil, data: [UInt8]) -> [UInt8] {
        func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }
        let blockAlign = channels * bits / 8
        var fmt = le16(formatTag) + le16(channels) + le32(rate) + le32(rate * UInt32(blockAlign)) + le16(blockAlign) + le16(bits)
        fmt = Array("fmt ".utf8) + le32(UInt32(fmt.count)) + fmt
        let body = Array("WAVE".utf8) + fmt + extraChunks + Array("data".utf8) + le32(declared ?? UInt32(data.count)) + data
        return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
    }

    @Test func writesAndReadsBack() throws {
        let samples: [Int16] = [0, 1, -1, 32767, -32768, 1234, -4321]
        let path = directory + "/prompt.wav"
        try WAVFile(sampleRate: 8000, samples: samples).write(to: path)
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(bytes.count == 44 + 14)
        #expect(Array(bytes.prefix(4)) == Array("RIFF".utf8))
        let read = try WAVFile(contentsOf: path)
        #expect(read == WAVFile(sampleRate: 8000, channels: 1, samples: samples))
        #expect(read.frameCount == 7)
        let stereo = WAVFile(sampleRate: 48000, channels: 2, samples: [1, 2, 3, 4])
        #expect(try WAVFile(bytes: stereo.encoded(), fileName: "s.wav") == stereo)
        #expect(stereo.duration == 2.0 / 48000)
    }

    @Test func skipsUnknownChunksIncludingOddSizedOnes() throws {
        let list = Array("LIST".utf8) + [3, 0, 0, 0] + [0x61, 0x62, 0x63, 0x00]  // 3 bytes + pad byte
        let file = try WAVFile(bytes: Self.wav(extraChunks: list, data: [0x01, 0x00, 0xFF, 0xFF]), fileName: "x.wav")
        #expect(file.samples == [1, -1])
    }

    @Test func acceptsExtensibleFormatWithPCMSubformat() throws {
        func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        var fmt = le16(0xFFFE) + le16(1) + [0x40, 0x1F, 0, 0] + [0x80, 0x3E, 0, 0] + le16(2) + le16(16)
        fmt += le16(22) + le16(16) + [4, 0, 0, 0] + le16(1) + [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        let body = Array("WAVE".utf8) + Array("fmt ".utf8) + [UInt8(fmt.count), 0, 0, 0] + fmt + Array("data".utf8) + [2, 0, 0, 0, 0x10, 0x00]
        let bytes = Array("RIFF".utf8) + [UInt8(body.count), 0, 0, 0] + body
        #expect(try WAVFile(bytes: bytes, fileName: "ext.wav").samples == [16])
    }

    @Test func rejectsNonPCMWithTheFileName() {
        do {
            _ = try WAVFile(bytes: Self.wav(formatTag: 7, bits: 8, data: [0xFF]), fileName: "Prompts/zh/welcome.wav")
            Issue.record("µ-law WAV accepted")
        } catch {
            #expect(error == WAVError(path: "Prompts/zh/welcome.wav", reason: .notPCM(formatTag: 7)))
            #expect(error.description.hasPrefix("Prompts/zh/welcome.wav: not PCM audio (format tag 7)"))
        }
    }

    @Test func rejectsOtherBitDepths() {
        #expect(throws: WAVError(path: "a.wav", reason: .unsupportedBitDepth(8))) {
            try WAVFile(bytes: Self.wav(bits: 8, data: [0x80, 0x80]), fileName: "a.wav")
        }
        #expect(throws: WAVError(path: "a.wav", reason: .unsupportedBitDepth(24))) {
            try WAVFile(bytes: Self.wav(bits: 24, data: [0, 0, 0]), fileName: "a.wav")
        }
    }

    @Test func rejectsTruncatedData() {
        #expect(throws: WAVError(path: "t.wav", reason: .truncated(expectedBytes: 1000, availableBytes: 10))) {
            try WAVFile(bytes: Self.wav(declared: 1000, data: Array(repeating: 0, count: 10)), fileName: "t.wav")
        }
        #expect(throws: WAVError(path: "t.wav", reason: .truncated(expectedBytes: 4, availableBytes: 3))) {
            try WAVFile(bytes: Self.wav(data: [1, 2, 3]), fileName: "t.wav")
        }
        #expect(throws: WAVError(path: "t.wav", reason: .notRIFFWAVE)) {
            try WAVFile(bytes: Array("RIFF".utf8), fileName: "t.wav")
        }
        #expect(throws: WAVError(path: "t.wav", reason: .missingChunk("data"))) {
            try WAVFile(bytes: Array(Self.wav(data: []).dropLast(8)), fileName: "t.wav")
        }
    }

    @Test func streamingWritersUnknownLengthReadsToTheEnd() throws {
        let file = try WAVFile(bytes: Self.wav(declared: 0xFFFF_FFFF, data: [5, 0, 6, 0]), fileName: "pipe.wav")
        #expect(file.samples == [5, 6])
    }

    @Test func missingFileNamesThePathAndTheCause() {
        let path = directory + "/nope.wav"
        do {
            _ = try WAVFile(contentsOf: path)
            Issue.record("missing file read")
        } catch {
            #expect(error.path == path)
            #expect(error.description == "\(path): No such file or directory")
        }
    }
}
