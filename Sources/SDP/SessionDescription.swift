// SDP: the RFC 4566 session description model and RFC 3264 offer/answer negotiation.
// Pure value types, no I/O: the SIP layer hands us body text, we hand back a model,
// an answer and the media parameters that the RTP session needs.

/// A parsed SDP session description (RFC 4566 §5).
///
/// Fields appear in the order RFC 4566 §5 prescribes for serialization. Lines of
/// a known type are all kept so that a parsed description serializes back to an
/// equivalent text; lines of an unknown type are skipped, as RFC 4566 §5 asks
/// ("parsers MUST ignore" unknown types).
public struct SessionDescription: Sendable, Equatable {
    /// `v=`: protocol version, always 0 (RFC 4566 §5.1).
    public var version: Int
    /// `o=`: originator and session identifier (RFC 4566 §5.2).
    public var origin: SDPOrigin
    /// `s=`: session name (RFC 4566 §5.3); `-` when there is none.
    public var sessionName: String
    /// `i=`: session information (RFC 4566 §5.4).
    public var information: String?
    /// `u=`: URI of a description of the session (RFC 4566 §5.5).
    public var uri: String?
    /// `e=` lines (RFC 4566 §5.6).
    public var emailAddresses: [String]
    /// `p=` lines (RFC 4566 §5.6).
    public var phoneNumbers: [String]
    /// Session-level `c=`: applies to every media description without its own (RFC 4566 §5.7).
    public var connection: SDPConnection?
    /// Session-level `b=` lines (RFC 4566 §5.8).
    public var bandwidths: [SDPBandwidth]
    /// `t=` lines, each with its `r=` lines (RFC 4566 §5.9, §5.10). At least one on the wire.
    public var timing: [SDPTiming]
    /// `z=`: time zone adjustments, kept verbatim (RFC 4566 §5.11).
    public var timeZones: String?
    /// Session-level `k=` (RFC 4566 §5.12), kept verbatim.
    public var encryptionKey: String?
    /// Session-level `a=` lines in their original order (RFC 4566 §5.13).
    public var attributes: [SDPAttribute]
    /// The `m=` sections, in order (RFC 4566 §5.14).
    public var media: [MediaDescription]

    /// Creates a description; everything but the origin has the usual defaults.
    public init(
        version: Int = 0,
        origin: SDPOrigin,
        sessionName: String = "-",
        information: String? = nil,
        uri: String? = nil,
        emailAddresses: [String] = [],
        phoneNumbers: [String] = [],
        connection: SDPConnection? = nil,
        bandwidths: [SDPBandwidth] = [],
        timing: [SDPTiming] = [SDPTiming()],
        timeZones: String? = nil,
        encryptionKey: String? = nil,
        attributes: [SDPAttribute] = [],
        media: [MediaDescription] = []
    ) {
        self.version = version
        self.origin = origin
        self.sessionName = sessionName
        self.information = information
        self.uri = uri
        self.emailAddresses = emailAddresses
        self.phoneNumbers = phoneNumbers
        self.connection = connection
        self.bandwidths = bandwidths
        self.timing = timing
        self.timeZones = timeZones
        self.encryptionKey = encryptionKey
        self.attributes = attributes
        self.media = media
    }

    /// The session-level direction attribute, if one is present (RFC 3264 §5.1).
    public var direction: MediaDirection? {
        MediaDirection.first(in: attributes)
    }

    /// The direction that applies to `media`: its own attribute, else the
    /// session-level one, else `sendrecv` (RFC 3264 §5.1).
    public func effectiveDirection(of media: MediaDescription) -> MediaDirection {
        media.direction ?? direction ?? .sendrecv
    }

    /// The connection that applies to `media`: its own `c=` line, else the
    /// session-level one (RFC 4566 §5.7).
    public func effectiveConnection(of media: MediaDescription) -> SDPConnection? {
        media.connection ?? connection
    }

    /// The packet time that applies to `media` in milliseconds: media-level
    /// `a=ptime`, else a session-level one (RFC 4566 §6).
    public func effectivePtime(of media: MediaDescription) -> Int? {
        media.ptime ?? SDPAttribute.integerValue(named: "ptime", in: attributes)
    }
}
