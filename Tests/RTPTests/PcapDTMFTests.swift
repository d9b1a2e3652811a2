import Foundation
import NIOCore
import Testing
@testable import RTP

/// A minimal libpcap reader: global header, records, Ethernet/IPv4/UDP.
/// Enough for the captures SIPp ships; anything else is skipped.
struct PcapUDPReader {
    struct Datagram {
        var sourcePort: UInt16
        var destinationPort: UInt16
        var payload: ByteBuffer
    }

    enum Failure: Error, Equatable {
        case notPcap
        case unsupportedLinkType(UInt32)
    }

    static func datagrams(in bytes: [UInt8]) throws -> [Datagram] {
        var buffer = ByteBuffer(bytes: bytes)
        guard let magic = buffer.readInteger(endianness: .little, as: UInt32.self) else { throw Failure.notPcap }
        let endianness: Endianness
        switch magic {
        case 0xA1B2_C3D4, 0xA1B2_3C4D: endianness = .little  // µs or ns timestamps
        case 0xD4C3_B2A1, 0x4D3C_B2A1: endianness = .big
        default: throw Failure.notPcap
        }
        buffer.moveReaderIndex(forwardBy: 16)  // version, thiszone, sigfigs, snaplen
        guard let linkType = buffer.readInteger(endianness: endianness, as: UInt32.self) else { throw Failure.notPcap }
        guard linkType == 1 else { throw Failure.unsupportedLinkType(linkType) }

        var result: [Datagram] = []
        while buffer.readableBytes >= 16 {
            buffer.moveReaderIndex(forwardBy: 8)  // ts_sec, ts_usec
            let captured = Int(buffer.readInteger(endianness: endianness, as: UInt32.self)!)
            buffer.moveReaderIndex(forwardBy: 4)  // orig_len
            guard var frame = buffer.readSlice(length: captured) else { break }
            // Ethernet II: 6 + 6 MAC bytes, then the EtherType.
            frame.moveReaderIndex(forwardBy: 12)
            guard frame.readInteger(as: UInt16.self) == 0x0800,
                  let versionAndLength = frame.getInteger(at: frame.readerIndex, as: UInt8.self),
                  versionAndLength >> 4 == 4,
                  frame.getInteger(at: frame.readerIndex + 9, as: UInt8.self) == 17
            else { continue }
            frame.moveReaderIndex(forwardBy: Int(versionAndLength & 0x0F) * 4)
            guard let (source, destination, length, _) = frame.readMultipleIntegers(as: (UInt16, UInt16, UInt16, UInt16).self),
                  let payload = frame.readSlice(length: Int(length) - 8)
            else { continue }
            result.append(Datagram(sourcePort: source, destinationPort: destination, payload: payload))
        }
        return result
    }
}

@Suite struct PcapDTMFTests {
    static let capture = "/usr/share/sip-tester/dtmf_2833_3.pcap"

    /// SIPp's recording of the key 3 sent as RFC 4733 events, as replayed by
    /// `<exec play_pcap_audio="dtmf_2833_3.pcap"/>` (package sip-tester).
    @Test func sippCaptureOfKeyThreeYieldsExactlyOneThree() throws {
        guard let data = FileManager.default.contents(atPath: Self.capture) else {
            Issue.record("\(Self.capture) is missing: install the sip-tester package")
            return
        }
        let datagrams = try PcapUDPReader.datagrams(in: Array(data))
        #expect(datagrams.count > 3)
        var detector = DTMFEventDetector()
        var keys: [DTMFKey] = []
        var endPackets = 0
        for datagram in datagrams {
            let layout = try RTPPacketLayout(parsing: datagram.payload)
            #expect(layout.header.payloadType == RTPPayloadType(101))
            let payload = layout.payload(in: datagram.payload)
            if try TelephoneEvent(decoding: payload).isEnd { endPackets += 1 }
            if let key = detector.receivedPacket(rtpTimestamp: layout.header.timestamp, marker: layout.header.marker, payload: payload) {
                keys.append(key)
            }
        }
        #expect(keys == [.three])
        #expect(endPackets == 3)  // RFC 4733 §2.5.1.4: the end packet is sent three times
    }

    @Test func readerRejectsNonPcap() {
        #expect(throws: PcapUDPReader.Failure.notPcap) {
            try PcapUDPReader.datagrams(in: [0x00, 0x01, 0x02, 0x03])
        }
    }
}
