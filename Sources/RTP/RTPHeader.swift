import NIOCore

/// The RTP fixed header (RFC 3550 §5.1).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
/// |                           timestamp                           |
/// |           synchronization source (SSRC) identifier            |
/// |            contributing source (CSRC) identifiers             |
/// ```
public struct RTPHeader: Sendable, Equatable {
    /// The size of the fixed header without CSRCs.
    public static let fixedSize = 12

    /// The version, 2 for every packet we accept or send.
    public var version: UInt8
    /// P: the payload is followed by padding whose length is the last octet.
    public var padding: Bool
    /// X: a header extension follows the CSRC list (RFC 3550 §5.3.1).
    public var hasExtension: Bool
    /// M: for audio, the first packet of a talkspurt (RFC 3551 §4.1).
    public var marker: Bool
    /// PT: the payload format.
    public var payloadType: RTPPayloadType
    /// Incremented by one per packet sent, wrapping at 2^16.
    public var sequenceNumber: UInt16
    /// The sampling instant of the first payload octet, in clock-rate units.
    public var timestamp: UInt32
    /// The synchronization source.
    public var ssrc: UInt32
    /// CC: how many 32-bit CSRC identifiers follow the fixed header.
    public var csrcCount: UInt8

    /// Creates a header; version 2, no padding, extension or CSRCs by default.
    public init(
        version: UInt8 = 2,
        padding: Bool = false,
        hasExtension: Bool = false,
        marker: Bool = false,
        payloadType: RTPPayloadType,
        sequenceNumber: UInt16,
        timestamp: UInt32,
        ssrc: UInt32,
        csrcCount: UInt8 = 0
    ) {
        self.version = version
        self.padding = padding
        self.hasExtension = hasExtension
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcCount = csrcCount
    }

    /// The first two octets as they go on the wire.
    @usableFromInline
    var firstOctets: (UInt8, UInt8) {
        let first = (version & 0x03) << 6 | (padding ? 0x20 : 0) | (hasExtension ? 0x10 : 0) | (csrcCount & 0x0F)
        let second = (marker ? 0x80 : 0) | (payloadType.rawValue & 0x7F)
        return (first, second)
    }

    /// Appends the 12-byte fixed header at the writer index and returns 12.
    ///
    /// CSRC identifiers and a header extension, if the flags announce them,
    /// are the caller's to append. Allocation-free when the buffer has room.
    @discardableResult
    @inlinable
    public func write(to buffer: inout ByteBuffer) -> Int {
        let (first, second) = firstOctets
        return buffer.writeMultipleIntegers(first, second, sequenceNumber, timestamp, ssrc)
    }

    /// Overwrites 12 bytes at `index` with the fixed header, leaving the
    /// reader and writer indices alone: for patching a prepared packet in place.
    @inlinable
    public func set(at index: Int, in buffer: inout ByteBuffer) {
        let (first, second) = firstOctets
        buffer.setMultipleIntegers(first, second, sequenceNumber, timestamp, ssrc, at: index)
    }
}
