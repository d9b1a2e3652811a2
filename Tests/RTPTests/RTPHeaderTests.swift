import NIOCore
import Randomness
import Testing
@testable import RTP

@Suite struct RTPHeaderTests {
    /// The first packet of SIPp's dtmf_2833_3.pcap: marker, PT 101, seq 0x1f97, ts 0x7940.
    static let sippEventPacket: [UInt8] = [
        0x80, 0xE5, 0x1F, 0x97, 0x00, 0x00, 0x79, 0x40, 0x0E, 0x05, 0x38, 0x4E,
        0x03, 0x0A, 0x00, 0x00,
    ]

    @Test func parsesARealPacket() throws {
        let buffer = ByteBuffer(bytes: Self.sippEventPacket)
        let layout = try RTPPacketLayout(parsing: buffer)
        #expect(layout.header == RTPHeader(marker: true, payloadType: RTPPayloadType(101), sequenceNumber: 0x1F97,
                                           timestamp: 0x7940, ssrc: 0x0E05_384E))
        #expect(layout.payloadOffset == 12)
        #expect(layout.payloadLength == 4)
        #expect(layout.paddingLength == 0)
        #expect(layout.extensionProfile == nil)
        #expect(Array(buffer: layout.payload(in: buffer)) == [0x03, 0x0A, 0x00, 0x00])
        #expect(buffer.readerIndex == 0)  // not consumed
    }

    @Test func writeAndParseRoundTrip() throws {
        let header = RTPHeader(marker: true, payloadType: .pcma, sequenceNumber: 65535, timestamp: 0xFFFF_FF00, ssrc: 0xDEAD_BEEF)
        var buffer = ByteBuffer()
        #expect(header.write(to: &buffer) == 12)
        #expect(Array(buffer: buffer) == [0x80, 0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xDE, 0xAD, 0xBE, 0xEF])
        buffer.writeBytes([1, 2, 3])
        let layout = try RTPPacketLayout(parsing: buffer)
        #expect(layout.header == header)
        #expect(layout.payloadLength == 3)
    }

    @Test func setPatchesInPlaceWithoutMovingIndices() throws {
        var buffer = ByteBuffer(repeating: 0, count: 20)
        buffer.moveReaderIndex(forwardBy: 4)
        let header = RTPHeader(payloadType: .pcmu, sequenceNumber: 7, timestamp: 160, ssrc: 1)
        header.set(at: 4, in: &buffer)
        #expect(buffer.readerIndex == 4)
        #expect(buffer.writerIndex == 20)
        #expect(try RTPPacketLayout(parsing: buffer).header == header)
    }

    @Test func parsesCSRCsExtensionAndPadding() throws {
        var buffer = ByteBuffer()
        buffer.writeBytes([0x80 | 0x20 | 0x10 | 0x02, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 9])
        buffer.writeInteger(UInt32(0x1111_1111))  // CSRC 0
        buffer.writeInteger(UInt32(0x2222_2222))  // CSRC 1
        buffer.writeInteger(UInt16(0xBEDE))       // extension profile
        buffer.writeInteger(UInt16(1))            // one 32-bit word
        buffer.writeInteger(UInt32(0xAABB_CCDD))
        buffer.writeBytes([0x42, 0x43])            // payload
        buffer.writeBytes([0, 0, 3])               // 3 bytes of padding, count last
        // Parse from a non-zero reader index, as after a datagram header.
        var framed = ByteBuffer(bytes: [0xFF, 0xFF])
        framed.writeImmutableBuffer(buffer)
        framed.moveReaderIndex(forwardBy: 2)

        let layout = try RTPPacketLayout(parsing: framed)
        #expect(layout.header.csrcCount == 2)
        #expect(layout.csrc(at: 0, in: framed) == 0x1111_1111)
        #expect(layout.csrc(at: 1, in: framed) == 0x2222_2222)
        #expect(layout.csrc(at: 2, in: framed) == nil)
        #expect(layout.extensionProfile == 0xBEDE)
        #expect(layout.extensionOffset == 24)
        #expect(layout.extensionLength == 4)
        #expect(layout.payloadOffset == 28)
        #expect(layout.payloadLength == 2)
        #expect(layout.paddingLength == 3)
        #expect(Array(buffer: layout.payload(in: framed)) == [0x42, 0x43])
    }

    @Test func rejectsOtherVersions() {
        #expect(throws: RTPParseError.unsupportedVersion(1)) {
            try RTPPacketLayout(parsing: ByteBuffer(bytes: [0x40] + Array(repeating: 0, count: 15)))
        }
        #expect(throws: RTPParseError.unsupportedVersion(0)) {  // e.g. a STUN packet on the RTP port
            try RTPPacketLayout(parsing: ByteBuffer(bytes: [0x00, 0x01] + Array(repeating: 0, count: 18)))
        }
    }

    @Test func rejectsTruncatedPackets() {
        #expect(throws: RTPParseError.truncated(needed: 12, available: 11)) {
            try RTPPacketLayout(parsing: ByteBuffer(bytes: Array(Self.sippEventPacket.prefix(11))))
        }
        var csrcs = Self.sippEventPacket
        csrcs[0] = 0x83  // claims three CSRCs in a 16-byte packet
        #expect(throws: RTPParseError.truncated(needed: 24, available: 16)) {
            try RTPPacketLayout(parsing: ByteBuffer(bytes: csrcs))
        }
        var extended = Array(Self.sippEventPacket.prefix(12))
        extended[0] = 0x90
        #expect(throws: RTPParseError.truncated(needed: 16, available: 14)) {
            try RTPPacketLayout(parsing: ByteBuffer(bytes: extended + [0xBE, 0xDE]))
        }
        #expect(throws: RTPParseError.truncated(needed: 24, available: 20)) {  // extension says 2 words, has 1
            try RTPPacketLayout(parsing: ByteBuffer(bytes: extended + [0xBE, 0xDE, 0x00, 0x02, 1, 2, 3, 4]))
        }
    }

    @Test func rejectsImpossiblePadding() {
        var packet = Self.sippEventPacket
        packet[0] = 0xA0
        packet[15] = 5  // five bytes of padding but only four after the header
        #expect(throws: RTPParseError.invalidPadding(count: 5, available: 4)) {
            try RTPPacketLayout(parsing: ByteBuffer(bytes: packet))
        }
        packet[15] = 0
        #expect(throws: RTPParseError.invalidPadding(count: 0, available: 4)) {
            try RTPPacketLayout(parsing: ByteBuffer(bytes: packet))
        }
    }

    @Test func parserNeverTrapsOnArbitraryBytes() {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 40)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if !bytes.isEmpty { bytes[0] = 0x80 | (bytes[0] & 0x3F) }  // mostly version 2, to reach the deeper checks
            if let layout = try? RTPPacketLayout(parsing: ByteBuffer(bytes: bytes)) {
                #expect(layout.payloadOffset + layout.payloadLength + layout.paddingLength == count)
                #expect(layout.payloadLength >= 0)
            }
        }
    }
}
