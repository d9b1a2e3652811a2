/// An `a=` line: `a=<name>` (a property) or `a=<name>:<value>` (RFC 4566 §5.13).
///
/// Kept as an ordered list of these rather than a dictionary, because order
/// matters (several `rtpmap`s, ICE candidates) and unknown attributes must
/// survive a round trip.
public struct SDPAttribute: Sendable, Equatable {
    /// The attribute name, case preserved.
    public var name: String
    /// The value after the first colon; nil for a property attribute.
    public var value: String?

    /// Creates an attribute.
    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }

    /// `a=rtpmap:<map>`.
    public static func rtpmap(_ map: RTPMap) -> SDPAttribute {
        SDPAttribute(name: "rtpmap", value: map.attributeValue)
    }

    /// `a=fmtp:<pt> <parameters>`.
    public static func fmtp(payloadType: UInt8, _ parameters: String) -> SDPAttribute {
        SDPAttribute(name: "fmtp", value: "\(payloadType) \(parameters)")
    }

    /// `a=ptime:<milliseconds>`.
    public static func ptime(_ milliseconds: Int) -> SDPAttribute {
        SDPAttribute(name: "ptime", value: String(milliseconds))
    }

    /// The integer value of the first attribute called `name`, if any parses.
    static func integerValue(named name: String, in attributes: [SDPAttribute]) -> Int? {
        for attribute in attributes where attribute.name == name {
            if let value = attribute.value, let number = Int(value.trimmingSDPWhitespace()) {
                return number
            }
        }
        return nil
    }
}
