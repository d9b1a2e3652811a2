import Codecs
import NIOCore
import Testing
@testable import Media
@testable import RTP

/// The path a call's prompt player will take: frame N of a cached prompt
/// straight into one reused packet buffer, behind an RTP header.
@Suite struct PromptSenderPathTests {
    @Test func framesGoFromTheCacheIntoOneReusedPacketBuffer() throws {
        let samples = (0..<8000).map { Int16(truncatingIfNeeded: $0 &* 97) }  // 1 s, 50 frames
        let prompt = EncodedPrompt(name: "welcome", language: "zh", samples: samples)
        var packetizer = RTPPacketizer(ssrc: 0xABCD, initialSequenceNumber: 65530, initialTimestamp: 123)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(RTPHeader.fixedSize + PromptCache.samplesPerFrame)
        let capacity = buffer.capacity
        let storage = buffer.withUnsafeReadableBytes { $0.baseAddress }

        for index in 0..<prompt.frameCount {
            buffer.clear()
            prompt.withFrame(index, law: .aLaw) { frame in
                _ = packetizer.writePacket(payloadType: .pcma, samples: UInt32(frame.count), payload: frame, into: &buffer)
            }
            #expect(buffer.capacity == capacity)
            #expect(buffer.withUnsafeReadableBytes { $0.baseAddress } == storage)

            let layout = try RTPPacketLayout(parsing: buffer)
            #expect(layout.header.marker == (index == 0))
            #expect(layout.header.sequenceNumber == UInt16(truncatingIfNeeded: 65530 + index))
            #expect(layout.header.timestamp == UInt32(123 + 160 * index))
            #expect(Array(buffer: layout.payload(in: buffer)) == Array(prompt.frame(index, law: .aLaw)))
        }
        #expect(prompt.frameCount == 50)
    }
}
