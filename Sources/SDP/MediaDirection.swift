/// The direction attributes of RFC 3264 §5.1 (`a=sendrecv` and friends).
public enum MediaDirection: String, Sendable, Equatable, CaseIterable {
    /// Both ways; the default when no attribute is present.
    case sendrecv
    /// The describing side only sends.
    case sendonly
    /// The describing side only receives.
    case recvonly
    /// No media either way.
    case inactive

    /// The direction an answerer takes for this offered direction (RFC 3264 §6.1):
    /// sendonly becomes recvonly and vice versa.
    public var reversed: MediaDirection {
        switch self {
        case .sendrecv: .sendrecv
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        case .inactive: .inactive
        }
    }

    /// Whether this side sends media.
    public var sends: Bool { self == .sendrecv || self == .sendonly }

    /// Whether this side receives media.
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// The direction that sends only if both `self` and `other` send, and
    /// receives only if both receive.
    public func intersection(_ other: MediaDirection) -> MediaDirection {
        MediaDirection(sends: sends && other.sends, receives: receives && other.receives)
    }

    /// The direction with the given capabilities.
    public init(sends: Bool, receives: Bool) {
        switch (sends, receives) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    /// The attribute for this direction (`a=sendrecv`...).
    public var attribute: SDPAttribute { SDPAttribute(name: rawValue) }

    /// The first direction attribute in `attributes`; the last one would be
    /// equally defensible, but RFC 3264 allows only one so the choice is moot.
    static func first(in attributes: [SDPAttribute]) -> MediaDirection? {
        for attribute in attributes where attribute.value == nil {
            if let direction = MediaDirection(rawValue: attribute.name) {
                return direction
            }
        }
        return nil
    }
}
