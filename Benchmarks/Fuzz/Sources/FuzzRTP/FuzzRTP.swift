// Fuzz target: RTP packets (RFC 3550) and RFC 4733 telephone-events, as RTPSession reads them.
//
// Input: a sequence of datagrams, each one length byte then that many bytes (the last one
// may be cut short). Every datagram goes through RTPPacketLayout, read from a buffer whose
// reader index is not 0 (offsets must be relative to it); payload type 101 goes to the
// telephone-event decoder and two DTMF detectors (the default one and one with a one-event
// memory), and every parsed packet to the reception statistics.
//
// Invariants, besides never trapping:
// - the layout covers the packet exactly: header + extension, payload and padding add up to
//   the datagram's size, and the payload slice has the payload's length;
// - the fixed header written back is the datagram's first 12 bytes; the CSRC list is
//   readable exactly for indices below CC;
// - a telephone-event written back decodes to the same event;
// - a detector reports no key for a packet with the timestamp of the event packet before
//   it, and only the packet's own key (none for flash and beyond).
import Foundation
import NIOCore
import RTP

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    FileHandle.standardError.write(Data("invariant failed: \(message())\n".utf8))
    abort()
}

let allocator = ByteBufferAllocator()
let telephoneEventType = RTPPayloadType(101)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    var detectors = [DTMFEventDetector(), DTMFEventDetector(memory: 1, staleWindow: 800)]
    var previousEventTimestamp: UInt32?
    var statistics = RTPReceptionStatistics()
    var trusting = RTPReceptionStatistics(minimumSequential: 1)
    var offset = 0, index: UInt32 = 0
    while offset < size {
        let length = Int(input[offset])
        let start = offset + 1
        let end = min(size, start + length)
        offset = end
        index &+= 1

        // Two bytes before the packet, skipped: the layout's offsets are from the reader index.
        var buffer = allocator.buffer(capacity: end - start + 2)
        buffer.writeBytes([0xEE, 0xEE])
        buffer.writeBytes(UnsafeBufferPointer(rebasing: input[start..<end]))
        buffer.moveReaderIndex(forwardBy: 2)
        let datagram = Array(input[start..<end])

        guard let layout = try? RTPPacketLayout(parsing: buffer) else { continue }
        let header = layout.header
        require(layout.payloadOffset >= RTPHeader.fixedSize + 4 * Int(header.csrcCount), "payload inside the CSRC list")
        require(layout.payloadLength >= 0 && layout.paddingLength >= 0 && layout.extensionLength >= 0, "negative length")
        require(layout.payloadOffset + layout.payloadLength + layout.paddingLength == datagram.count,
                "layout \(layout) does not add up to \(datagram.count) bytes")
        let payload = layout.payload(in: buffer)
        require(payload.readableBytes == layout.payloadLength, "payload slice of \(payload.readableBytes) bytes, layout says \(layout.payloadLength)")
        require(Array(payload.readableBytesView) == Array(datagram[layout.payloadOffset..<(layout.payloadOffset + layout.payloadLength)]),
                "payload slice is not the payload's bytes")
        var written = allocator.buffer(capacity: 12)
        header.write(to: &written)
        require(Array(written.readableBytesView) == Array(datagram.prefix(12)), "the header written back differs")
        for i in 0...Int(header.csrcCount) {
            require((layout.csrc(at: i, in: buffer) != nil) == (i < Int(header.csrcCount)), "csrc(at: \(i)) with CC \(header.csrcCount)")
        }

        statistics.receivedPacket(sequenceNumber: header.sequenceNumber, rtpTimestamp: header.timestamp, arrivalTime: index &* 160)
        trusting.receivedPacket(sequenceNumber: header.sequenceNumber, rtpTimestamp: header.timestamp, arrivalTime: index &* 160 &+ UInt32(length))
        if index % 8 == 0 {
            _ = statistics.makeFractionLost(); _ = statistics.cumulativeLost; _ = statistics.interarrivalJitter
            _ = trusting.makeFractionLost(); _ = trusting.cumulativeLost; _ = trusting.interarrivalJitter
            _ = statistics.extendedHighestSequenceNumber; _ = statistics.expectedPackets
        }

        guard header.payloadType == telephoneEventType else { continue }
        let decoded = try? TelephoneEvent(decoding: payload)
        if let event = decoded {
            var encoded = allocator.buffer(capacity: 4)
            event.write(to: &encoded)
            require((try? TelephoneEvent(decoding: encoded)) == event, "telephone-event \(event) does not survive a round trip")
        }
        let repeated = previousEventTimestamp == header.timestamp
        for i in detectors.indices {
            let key = detectors[i].receivedPacket(rtpTimestamp: header.timestamp, marker: header.marker, payload: payload)
            if key != nil {
                require(!repeated, "a key reported twice for timestamp \(header.timestamp)")
                require(decoded?.key == key, "reported key is not the packet's")
            }
        }
        // A payload too short to decode is ignored by the detectors: it is not "the packet before".
        if decoded != nil { previousEventTimestamp = header.timestamp }
        if header.ssrc == 0 { for i in detectors.indices { detectors[i].reset() }; previousEventTimestamp = nil }
    }
    _ = statistics.makeFractionLost(); _ = statistics.cumulativeLost
    return 0
}
