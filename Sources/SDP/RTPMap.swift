/// An `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]` mapping
/// (RFC 4566 §6), or the equivalent static assignment of RFC 3551 §6.
public struct RTPMap: Sendable, Equatable, Hashable {
    /// The RTP payload type number, 0–127.
    public var payloadType: UInt8
    /// The encoding name as written, e.g. `PCMU`, `opus`, `telephone-event`.
    /// Compare case-insensitively (RFC 4566 §6: names are case-insensitive).
    public var encodingName: String
    /// The RTP clock rate in Hz.
    public var clockRate: UInt32
    /// The number of audio channels; 1 when the rtpmap omits it.
    public var channels: Int

    /// Creates a mapping.
    public init(payloadType: UInt8, encodingName: String, clockRate: UInt32, channels: Int = 1) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    /// Parses the value of an `a=rtpmap` attribute, e.g. `111 opus/48000/2`.
    public init?(attributeValue: String) {
        let trimmed = attributeValue.trimmingSDPWhitespace()
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }),
              let payloadType = UInt8(trimmed[..<space]), payloadType < 128
        else { return nil }
        let encoding = trimmed[space...].trimmingSDPWhitespace().split(separator: "/", omittingEmptySubsequences: false)
        guard encoding.count == 2 || encoding.count == 3, !encoding[0].isEmpty,
              let clockRate = UInt32(encoding[1])
        else { return nil }
        var channels = 1
        if encoding.count == 3 {
            guard let parsed = Int(encoding[2]), parsed > 0 else { return nil }
            channels = parsed
        }
        self.init(payloadType: payloadType, encodingName: String(encoding[0]), clockRate: clockRate, channels: channels)
    }

    /// The attribute value, channels omitted when 1 (RFC 4566 §6 allows either).
    public var attributeValue: String {
        let base = "\(payloadType) \(encodingName)/\(clockRate)"
        return channels == 1 ? base : "\(base)/\(channels)"
    }

    /// Whether this mapping names the same encoding as `other`, ignoring the
    /// payload type number: the name case-insensitively (RFC 4566 §6), the clock
    /// rate and the channel count.
    public func isSameEncoding(as other: RTPMap) -> Bool {
        encodingName.lowercased() == other.encodingName.lowercased()
            && clockRate == other.clockRate
            && channels == other.channels
    }

    /// PCMU: G.711 µ-law, static payload type 0 (RFC 3551 §6).
    public static let pcmu = RTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000)
    /// PCMA: G.711 A-law, static payload type 8 (RFC 3551 §6).
    public static let pcma = RTPMap(payloadType: 8, encodingName: "PCMA", clockRate: 8000)

    /// The audio payload types statically assigned by RFC 3551 §6, Table 4.
    /// They apply even when the offer carries no `a=rtpmap` for them.
    public static func staticPayloadType(_ payloadType: UInt8) -> RTPMap? {
        switch payloadType {
        case 0: .pcmu
        case 3: RTPMap(payloadType: 3, encodingName: "GSM", clockRate: 8000)
        case 4: RTPMap(payloadType: 4, encodingName: "G723", clockRate: 8000)
        case 5: RTPMap(payloadType: 5, encodingName: "DVI4", clockRate: 8000)
        case 6: RTPMap(payloadType: 6, encodingName: "DVI4", clockRate: 16000)
        case 7: RTPMap(payloadType: 7, encodingName: "LPC", clockRate: 8000)
        case 8: .pcma
        case 9: RTPMap(payloadType: 9, encodingName: "G722", clockRate: 8000)
        case 10: RTPMap(payloadType: 10, encodingName: "L16", clockRate: 44100, channels: 2)
        case 11: RTPMap(payloadType: 11, encodingName: "L16", clockRate: 44100)
        case 12: RTPMap(payloadType: 12, encodingName: "QCELP", clockRate: 8000)
        case 13: RTPMap(payloadType: 13, encodingName: "CN", clockRate: 8000)
        case 14: RTPMap(payloadType: 14, encodingName: "MPA", clockRate: 90000)
        case 15: RTPMap(payloadType: 15, encodingName: "G728", clockRate: 8000)
        case 16: RTPMap(payloadType: 16, encodingName: "DVI4", clockRate: 11025)
        case 17: RTPMap(payloadType: 17, encodingName: "DVI4", clockRate: 22050)
        case 18: RTPMap(payloadType: 18, encodingName: "G729", clockRate: 8000)
        default: nil
        }
    }
}
