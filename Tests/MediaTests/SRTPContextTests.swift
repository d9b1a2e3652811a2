import NIOCore
import RTP
import SDP
import Testing
@testable import Media

/// libsrtp2 through SRTPContext: what one side protects the other unprotects; tampering,
/// replays and a wrong key are refused.
@Suite struct SRTPContextTests {
    static let keyA: [UInt8] = Array(1...30)
    static let keyB: [UInt8] = Array(101...130)

    static func packet(sequence: UInt16, payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 12 + payload.count + SRTPContext.maximumTrailer)
        var packetizer = RTPPacketizer(ssrc: 0x1234_5678, initialSequenceNumber: sequence, initialTimestamp: 1000)
        _ = payload.withUnsafeBytes { bytes in
            packetizer.writePacket(payloadType: RTPPayloadType(8), samples: 160, payload: bytes, into: &buffer)
        }
        return buffer
    }

    @Test(arguments: SRTPCryptoSuite.allCases)
    func whatOneSideProtectsTheOtherUnprotects(suite: SRTPCryptoSuite) throws {
        let sender = try SRTPContext(suite: suite, keyMaterial: Self.keyA, direction: .outbound)
        let receiver = try SRTPContext(suite: suite, keyMaterial: Self.keyA, direction: .inbound)
        let payload = [UInt8](repeating: 0xD5, count: 160) // A-law silence: easy to spot in clear
        var wire = Self.packet(sequence: 7, payload: payload)
        let plain = wire
        #expect(sender.protect(&wire))
        let tag = suite == .aesCM128HMACSHA1_80 ? 10 : 4
        #expect(wire.readableBytes == plain.readableBytes + tag)
        // The header stays readable (RFC 3711 §3.1); the payload does not.
        #expect(Array(wire.readableBytesView.prefix(12)) == Array(plain.readableBytesView.prefix(12)))
        #expect(Array(wire.readableBytesView.dropFirst(12).prefix(160)) != payload)
        var received = wire
        #expect(receiver.unprotect(&received))
        #expect(received == plain)
        // The same packet again is a replay.
        var replay = wire
        #expect(!receiver.unprotect(&replay))
    }

    @Test func tamperedOrForeignPacketsAreRefused() throws {
        let sender = try SRTPContext(suite: .aesCM128HMACSHA1_80, keyMaterial: Self.keyA, direction: .outbound)
        let receiver = try SRTPContext(suite: .aesCM128HMACSHA1_80, keyMaterial: Self.keyA, direction: .inbound)
        let stranger = try SRTPContext(suite: .aesCM128HMACSHA1_80, keyMaterial: Self.keyB, direction: .inbound)
        var wire = Self.packet(sequence: 100, payload: Array(repeating: 0x55, count: 160))
        #expect(sender.protect(&wire))
        var flipped = wire
        flipped.setInteger(flipped.getInteger(at: 20, as: UInt8.self)! ^ 0x01, at: 20)
        #expect(!receiver.unprotect(&flipped), "a flipped payload bit fails authentication")
        var foreign = wire
        #expect(!stranger.unprotect(&foreign), "another key fails authentication")
        var plain = Self.packet(sequence: 101, payload: Array(repeating: 0x55, count: 160))
        #expect(!receiver.unprotect(&plain), "plain RTP is not SRTP")
        var good = wire
        #expect(receiver.unprotect(&good), "the untouched packet still passes")
    }

    @Test func keyMaterialMustBeThirtyBytes() {
        #expect(throws: SRTPContext.SRTPError.badKeyLength(16)) {
            try SRTPContext(suite: .aesCM128HMACSHA1_80, keyMaterial: Array(Self.keyA.prefix(16)), direction: .outbound)
        }
    }
}
