import NIOCore

/// The RFC 4733 §2.3 telephone-event payload.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |     event     |E|R| volume    |          duration             |
/// ```
public struct TelephoneEvent: Sendable, Equatable {
    /// The payload size.
    public static let size = 4
    /// The event code of hook flash (RFC 4733 §3.2).
    public static let flashEventCode: UInt8 = 16

    /// The event code (RFC 4733 §3.2): 0–15 DTMF, 16 flash.
    public var event: UInt8
    /// E: this packet ends the event; the last one is sent three times (RFC 4733 §2.5.1.4).
    public var isEnd: Bool
    /// Power level in −dBm0, 0–63 (RFC 4733 §2.3.4).
    public var volume: UInt8
    /// Duration so far in timestamp units, from the event's RTP timestamp (RFC 4733 §2.3.5).
    public var duration: UInt16

    /// Creates a payload.
    public init(event: UInt8, isEnd: Bool = false, volume: UInt8 = 10, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.volume = volume
        self.duration = duration
    }

    /// Creates the payload for a DTMF key.
    public init(key: DTMFKey, isEnd: Bool = false, volume: UInt8 = 10, duration: UInt16) {
        self.init(event: key.eventCode, isEnd: isEnd, volume: volume, duration: duration)
    }

    /// Decodes the first 4 readable bytes of `buffer`, without consuming them.
    /// Bytes beyond 4 (RFC 2198 redundancy is not negotiated by us) are ignored.
    public init(decoding buffer: ByteBuffer) throws(RTPParseError) {
        guard let (event, flags, duration) = buffer.getMultipleIntegers(at: buffer.readerIndex, as: (UInt8, UInt8, UInt16).self) else {
            throw .truncated(needed: Self.size, available: buffer.readableBytes)
        }
        // The R bit is reserved: ignored on receipt (RFC 4733 §2.3).
        self.init(event: event, isEnd: flags & 0x80 != 0, volume: flags & 0x3F, duration: duration)
    }

    /// The key, if the event is DTMF 0–15.
    public var key: DTMFKey? { DTMFKey(eventCode: event) }

    /// Appends the 4-byte payload; returns 4.
    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        buffer.writeMultipleIntegers(event, (isEnd ? 0x80 : 0) | (volume & 0x3F), duration)
    }
}
