import NIOCore

/// Where the parts of an RTP packet lie in a buffer, found without copying
/// or allocating (RFC 3550 §5.1, §5.3.1).
///
/// Offsets are relative to the buffer's reader index at parse time, so
/// `buffer.getSlice(at: buffer.readerIndex + layout.payloadOffset, length: layout.payloadLength)`
/// or ``payload(in:)`` yields the payload without copying it.
public struct RTPPacketLayout: Sendable, Equatable {
    /// The header fields.
    public var header: RTPHeader
    /// The header extension's profile-defined 16 bits, when X is set (RFC 3550 §5.3.1).
    public var extensionProfile: UInt16?
    /// Offset of the extension data (after its 4-byte preamble), when X is set.
    public var extensionOffset: Int?
    /// Length of the extension data in bytes (0 when X is clear).
    public var extensionLength: Int
    /// Offset of the first payload byte.
    public var payloadOffset: Int
    /// Payload length, padding excluded.
    public var payloadLength: Int
    /// Number of padding bytes at the end, including the count octet (0 when P is clear).
    public var paddingLength: Int

    /// Parses the packet in `buffer`'s readable bytes without consuming them.
    ///
    /// Follows the validity checks of RFC 3550 A.1: version 2, the CSRC list
    /// and extension within the packet, a padding count that fits.
    public init(parsing buffer: ByteBuffer) throws(RTPParseError) {
        let available = buffer.readableBytes
        let base = buffer.readerIndex
        guard available >= RTPHeader.fixedSize,
              let (first, second, sequenceNumber, timestamp, ssrc) = buffer.getMultipleIntegers(
                  at: base, as: (UInt8, UInt8, UInt16, UInt32, UInt32).self)
        else {
            throw .truncated(needed: RTPHeader.fixedSize, available: available)
        }
        let version = first >> 6
        guard version == 2 else { throw .unsupportedVersion(version) }
        let csrcCount = first & 0x0F
        let header = RTPHeader(
            version: version,
            padding: first & 0x20 != 0,
            hasExtension: first & 0x10 != 0,
            marker: second & 0x80 != 0,
            payloadType: RTPPayloadType(second & 0x7F),
            sequenceNumber: sequenceNumber,
            timestamp: timestamp,
            ssrc: ssrc,
            csrcCount: csrcCount
        )
        var headerLength = RTPHeader.fixedSize + 4 * Int(csrcCount)
        guard available >= headerLength else { throw .truncated(needed: headerLength, available: available) }

        var extensionProfile: UInt16?
        var extensionOffset: Int?
        var extensionLength = 0
        if header.hasExtension {
            guard available >= headerLength + 4,
                  let (profile, words) = buffer.getMultipleIntegers(at: base + headerLength, as: (UInt16, UInt16).self)
            else {
                throw .truncated(needed: headerLength + 4, available: available)
            }
            extensionProfile = profile
            extensionOffset = headerLength + 4
            extensionLength = 4 * Int(words)
            headerLength += 4 + extensionLength
            guard available >= headerLength else { throw .truncated(needed: headerLength, available: available) }
        }

        var paddingLength = 0
        if header.padding {
            // The count octet is the packet's last byte and counts itself (RFC 3550 §5.1).
            let count = Int(buffer.getInteger(at: base + available - 1, as: UInt8.self) ?? 0)
            guard count > 0, count <= available - headerLength else {
                throw .invalidPadding(count: count, available: available - headerLength)
            }
            paddingLength = count
        }

        self.header = header
        self.extensionProfile = extensionProfile
        self.extensionOffset = extensionOffset
        self.extensionLength = extensionLength
        self.payloadOffset = headerLength
        self.payloadLength = available - headerLength - paddingLength
        self.paddingLength = paddingLength
    }

    /// The payload as a slice of `buffer` (the buffer that was parsed, reader
    /// index unchanged). Shares storage: no copy, no allocation.
    public func payload(in buffer: ByteBuffer) -> ByteBuffer {
        buffer.getSlice(at: buffer.readerIndex + payloadOffset, length: payloadLength)!
    }

    /// The CSRC identifier at `index` (0 ..< csrcCount) in `buffer`.
    public func csrc(at index: Int, in buffer: ByteBuffer) -> UInt32? {
        guard index >= 0, index < Int(header.csrcCount) else { return nil }
        return buffer.getInteger(at: buffer.readerIndex + RTPHeader.fixedSize + 4 * index, as: UInt32.self)
    }
}
