// RTP: RFC 3550 packets and reception statistics, RFC 3551 payload types and
// RFC 4733 telephone events, over NIOCore's ByteBuffer. Pure: no sockets, no
// clocks; arrival times and sending decisions are the caller's inputs.

/// An RTP payload type number, 0–127 (RFC 3550 §5.1). An open set: the
/// static assignments of RFC 3551 are constants, dynamic ones (96–127) come
/// from SDP.
public struct RTPPayloadType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The 7-bit number.
    public var rawValue: UInt8

    /// Wraps a number; only the low seven bits go on the wire.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Wraps a number, as `init(rawValue:)`.
    public init(_ rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// G.711 µ-law, 8 kHz (RFC 3551 §6, Table 4).
    public static let pcmu = RTPPayloadType(0)
    /// G.711 A-law, 8 kHz (RFC 3551 §6, Table 4).
    public static let pcma = RTPPayloadType(8)
    /// G.722, RTP clock 8 kHz (RFC 3551 §4.5.2).
    public static let g722 = RTPPayloadType(9)
    /// Comfort noise (RFC 3389).
    public static let comfortNoise = RTPPayloadType(13)
    /// G.729 (RFC 3551 §4.5.6).
    public static let g729 = RTPPayloadType(18)

    /// Whether the number lies in the dynamic range 96–127 (RFC 3551 §3).
    public var isDynamic: Bool { (96...127).contains(rawValue) }

    /// The number.
    public var description: String { String(rawValue) }
}
