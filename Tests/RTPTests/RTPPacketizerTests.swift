import NIOCore
import Testing
@testable import RTP

@Suite struct RTPPacketizerTests {
    @Test func sequenceAndTimestampAdvanceAndWrap() {
        var packetizer = RTPPacketizer(ssrc: 0xCAFE, initialSequenceNumber: 65534, initialTimestamp: 0xFFFF_FF60)
        let headers = (0..<4).map { _ in packetizer.nextHeader(payloadType: .pcmu, samples: 160) }
        #expect(headers.map(\.sequenceNumber) == [65534, 65535, 0, 1])
        #expect(headers.map(\.timestamp) == [0xFFFF_FF60, 0, 160, 320])
        #expect(headers.map(\.marker) == [true, false, false, false])
        #expect(headers.allSatisfy { $0.ssrc == 0xCAFE && $0.payloadType == .pcmu })
        #expect(packetizer.packetCount == 4)
    }

    @Test func markerStartsEachTalkspurt() {
        var packetizer = RTPPacketizer(ssrc: 1, initialSequenceNumber: 0, initialTimestamp: 1000)
        let first = packetizer.nextHeader(payloadType: .pcma, samples: 160)
        let second = packetizer.nextHeader(payloadType: .pcma, samples: 160)
        packetizer.skip(samples: 800)  // 100 ms pause between prompts
        let afterGap = packetizer.nextHeader(payloadType: .pcma, samples: 160)
        let next = packetizer.nextHeader(payloadType: .pcma, samples: 160)
        let forced = packetizer.nextHeader(payloadType: .pcma, samples: 160, marker: true)
        #expect([first, second, afterGap, next, forced].map(\.marker) == [true, false, true, false, true])
        // The gap moves the timestamp, not the sequence number (RFC 3550 §5.1).
        #expect(afterGap.sequenceNumber == 2)
        #expect(afterGap.timestamp == 1000 + 320 + 800)
    }

    /// 1000 packets of 12 + 160 bytes written into one reused buffer: the
    /// capacity never grows and the storage never moves, so nothing is
    /// allocated or copied per packet. (How checked: capacity and base
    /// address are compared after every packet; a reallocation or a
    /// copy-on-write would change the address.)
    @Test func reusedBufferNeverGrows() throws {
        var packetizer = RTPPacketizer(ssrc: 0x1234_5678, initialSequenceNumber: 65000, initialTimestamp: 0)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(RTPHeader.fixedSize + 160)
        let capacity = buffer.capacity
        let storage = buffer.withUnsafeReadableBytes { $0.baseAddress }
        let payload = [UInt8](repeating: 0xFF, count: 160)
        for i in 0..<1000 {
            buffer.clear()
            payload.withUnsafeBytes { bytes in
                _ = packetizer.writePacket(payloadType: .pcmu, samples: 160, payload: bytes, into: &buffer)
            }
            #expect(buffer.readableBytes == 172)
            #expect(buffer.capacity == capacity)
            #expect(buffer.withUnsafeReadableBytes { $0.baseAddress } == storage)
            if i == 999 {
                let layout = try RTPPacketLayout(parsing: buffer)
                #expect(layout.header.sequenceNumber == UInt16(truncatingIfNeeded: 65000 + 999))
                #expect(layout.header.timestamp == 999 * 160)
                #expect(layout.payloadLength == 160)
            }
        }
        #expect(packetizer.octetCount == 160_000)
    }
}
