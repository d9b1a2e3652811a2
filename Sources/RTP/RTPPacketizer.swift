import NIOCore

/// Sender-side RTP state for one SSRC (RFC 3550 §5.1, RFC 3551 §4.1): a value
/// type that hands out consecutive headers.
///
/// The random initial SSRC, sequence number and timestamp (RFC 3550 §5.1
/// asks for random starts) are the caller's, so tests are deterministic.
public struct RTPPacketizer: Sendable, Equatable {
    /// The synchronization source of every packet.
    public let ssrc: UInt32
    /// The sequence number of the next packet.
    public private(set) var nextSequenceNumber: UInt16
    /// The RTP timestamp of the next packet.
    public private(set) var nextTimestamp: UInt32
    /// Packets sent so far (the sender report's packet count, RFC 3550 §6.4.1).
    public private(set) var packetCount: UInt32 = 0
    /// Payload octets sent so far (the sender report's octet count).
    public private(set) var octetCount: UInt32 = 0
    /// Whether the next packet starts a talkspurt and so carries the marker.
    public private(set) var startsTalkspurt = true

    /// Creates the state; the first packet will start a talkspurt.
    public init(ssrc: UInt32, initialSequenceNumber: UInt16, initialTimestamp: UInt32) {
        self.ssrc = ssrc
        self.nextSequenceNumber = initialSequenceNumber
        self.nextTimestamp = initialTimestamp
    }

    /// The header for the next packet, whose payload holds `samples` samples
    /// (timestamp units); advances the sequence number by one (wrapping) and
    /// the timestamp by `samples`.
    ///
    /// The marker is set on the first packet of a talkspurt: the first packet
    /// sent and the first after ``skip(samples:)`` (RFC 3551 §4.1), or when
    /// the caller asks for it with `marker`.
    public mutating func nextHeader(payloadType: RTPPayloadType, samples: UInt32, marker: Bool = false) -> RTPHeader {
        let header = RTPHeader(
            marker: marker || startsTalkspurt,
            payloadType: payloadType,
            sequenceNumber: nextSequenceNumber,
            timestamp: nextTimestamp,
            ssrc: ssrc
        )
        startsTalkspurt = false
        nextSequenceNumber &+= 1
        nextTimestamp &+= samples
        packetCount &+= 1
        return header
    }

    /// A gap in sending (silence suppression, a pause between prompts, hold):
    /// the timestamp advances by the `samples` not sent, the sequence number
    /// does not (RFC 3550 §5.1), and the next packet carries the marker.
    public mutating func skip(samples: UInt32) {
        nextTimestamp &+= samples
        startsTalkspurt = true
    }

    /// Appends a whole packet, header then `payload`, at `buffer`'s writer
    /// index and returns its header. With a buffer that has room (a reused
    /// one, after `clear()`), no allocation happens.
    @discardableResult
    public mutating func writePacket(
        payloadType: RTPPayloadType,
        samples: UInt32,
        payload: UnsafeRawBufferPointer,
        into buffer: inout ByteBuffer,
        marker: Bool = false
    ) -> RTPHeader {
        let header = nextHeader(payloadType: payloadType, samples: samples, marker: marker)
        header.write(to: &buffer)
        buffer.writeBytes(payload)
        octetCount &+= UInt32(truncatingIfNeeded: payload.count)
        return header
    }
}
