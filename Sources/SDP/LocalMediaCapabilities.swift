/// What our side supports, in our order of preference.
public struct LocalMediaCapabilities: Sendable, Equatable {
    /// Audio codecs, most preferred first; used in that order in our offers.
    public var codecs: [SDPCodec]
    /// The RFC 4733 telephone-event format we accept, or nil to never negotiate it.
    public var telephoneEvent: SDPCodec?
    /// The packet time we send and ask for, in milliseconds.
    public var ptime: Int

    /// Creates a capability set.
    public init(codecs: [SDPCodec], telephoneEvent: SDPCodec? = .telephoneEvent, ptime: Int = 20) {
        self.codecs = codecs
        self.telephoneEvent = telephoneEvent
        self.ptime = ptime
    }

    /// PCMU, then PCMA, with telephone-event: what every phone in China speaks.
    public static let `default` = LocalMediaCapabilities(codecs: [.pcmu, .pcma])

    /// For calls we place to agents' phones: Opus first (home seats on weak links, RFC 7587),
    /// then G.711; the bridge transcodes to the caller's G.711 when the agent takes Opus.
    public static let agentLeg = LocalMediaCapabilities(codecs: [.opus, .pcmu, .pcma])

    /// The first of our codecs that is the same encoding as `map`.
    public func codec(matching map: RTPMap) -> SDPCodec? {
        codecs.first { $0.rtpMap.isSameEncoding(as: map) }
    }

    /// Whether `map` is the telephone-event format we accept.
    func isTelephoneEvent(_ map: RTPMap) -> Bool {
        telephoneEvent.map { $0.rtpMap.isSameEncoding(as: map) } ?? false
    }
}
