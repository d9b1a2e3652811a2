/// A 16-bit RTP sequence number with wrap-around ordering (RFC 3550 §5.1, A.1).
///
/// `a < b` when `b` lies less than half the number space (32768) ahead of
/// `a`, so `65535 < 0`. The order is only meaningful within that window: it
/// is not transitive across the whole space, so sort only sequence numbers
/// known to be close (a jitter buffer's contents), never arbitrary ones.
public struct RTPSequenceNumber: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number as on the wire.
    public var rawValue: UInt16

    /// Wraps a number.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Wraps a number, as `init(rawValue:)`.
    public init(_ rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// The signed distance from `self` to `other`, in -32768...32767:
    /// positive when `other` is ahead, wrap-around included.
    public func distance(to other: RTPSequenceNumber) -> Int {
        Int(Int16(bitPattern: other.rawValue &- rawValue))
    }

    /// The number `n` packets later (or earlier, negative), wrapping.
    public func advanced(by n: Int) -> RTPSequenceNumber {
        RTPSequenceNumber(rawValue &+ UInt16(truncatingIfNeeded: n))
    }

    /// Whether `lhs` precedes `rhs` within half the number space.
    public static func < (lhs: RTPSequenceNumber, rhs: RTPSequenceNumber) -> Bool {
        lhs.distance(to: rhs) > 0
    }

    /// The number.
    public var description: String { String(rawValue) }
}
