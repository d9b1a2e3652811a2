/// One `m=` section with the lines that follow it (RFC 4566 §5.14).
public struct MediaDescription: Sendable, Equatable {
    /// `audio`, `video`, `application`, ... kept as written.
    public var media: String
    /// The transport port; 0 means the stream is rejected or disabled (RFC 3264 §6).
    public var port: UInt16
    /// The `/<number of ports>` suffix, when present.
    public var portCount: Int?
    /// The transport protocol, e.g. `RTP/AVP` (RFC 4566 §5.14).
    public var proto: String
    /// The media formats: RTP payload type numbers for `RTP/AVP`, in the
    /// sender's order of preference (RFC 3264 §5.1).
    public var formats: [String]
    /// Media-level `i=`.
    public var information: String?
    /// Media-level `c=`; overrides the session-level one (RFC 4566 §5.7).
    public var connection: SDPConnection?
    /// Media-level `b=` lines.
    public var bandwidths: [SDPBandwidth]
    /// Media-level `k=`, kept verbatim.
    public var encryptionKey: String?
    /// Media-level `a=` lines in their original order; unknown ones are kept.
    public var attributes: [SDPAttribute]

    /// Creates a media description.
    public init(
        media: String,
        port: UInt16,
        portCount: Int? = nil,
        proto: String = "RTP/AVP",
        formats: [String],
        information: String? = nil,
        connection: SDPConnection? = nil,
        bandwidths: [SDPBandwidth] = [],
        encryptionKey: String? = nil,
        attributes: [SDPAttribute] = []
    ) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.information = information
        self.connection = connection
        self.bandwidths = bandwidths
        self.encryptionKey = encryptionKey
        self.attributes = attributes
    }

    /// The formats that are RTP payload type numbers (0–127), in offer order.
    public var payloadTypes: [UInt8] {
        formats.compactMap { format in
            guard let number = UInt8(format), number < 128 else { return nil }
            return number
        }
    }

    /// Every parseable `a=rtpmap` line, in order. Static payload types without
    /// an rtpmap line are not listed here; see ``rtpMap(for:)``.
    public var rtpmaps: [RTPMap] {
        attributes.compactMap { attribute in
            guard attribute.name == "rtpmap", let value = attribute.value else { return nil }
            return RTPMap(attributeValue: value)
        }
    }

    /// The encoding for `payloadType`: its `a=rtpmap`, else the RFC 3551 static
    /// assignment (so `m=audio 4000 RTP/AVP 0` means PCMU without any rtpmap).
    public func rtpMap(for payloadType: UInt8) -> RTPMap? {
        rtpmaps.first { $0.payloadType == payloadType } ?? RTPMap.staticPayloadType(payloadType)
    }

    /// The `a=fmtp` parameters for `payloadType`, without the payload type
    /// number (RFC 4566 §6).
    public func fmtp(for payloadType: UInt8) -> String? {
        for attribute in attributes where attribute.name == "fmtp" {
            guard let value = attribute.value else { continue }
            let trimmed = value.trimmingSDPWhitespace()
            let number = trimmed.prefix { $0.isASCII && $0.isNumber }
            guard UInt8(number) == payloadType else { continue }
            return String(trimmed.dropFirst(number.count)).trimmingSDPWhitespace()
        }
        return nil
    }

    /// Media-level `a=ptime` in milliseconds (RFC 4566 §6).
    public var ptime: Int? {
        SDPAttribute.integerValue(named: "ptime", in: attributes)
    }

    /// The media-level direction attribute, if present (RFC 3264 §5.1).
    /// ``SessionDescription/effectiveDirection(of:)`` applies the session-level default.
    public var direction: MediaDirection? {
        MediaDirection.first(in: attributes)
    }

    /// The value of the first attribute called `name` (`nil` if absent or a property).
    public func attributeValue(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// Whether a property or value attribute called `name` is present.
    public func hasAttribute(_ name: String) -> Bool {
        attributes.contains { $0.name == name }
    }
}
