/// The outcome of an offer/answer exchange: everything the RTP session needs.
public struct NegotiatedMedia: Sendable, Equatable {
    /// The codec, with the payload type number to put in packets (the
    /// offer's number when we answered, the answer's when we offered).
    public var codec: RTPMap
    /// The remote side's `a=fmtp` parameters for the codec (e.g. Opus `useinbandfec=1`).
    public var codecParameters: String?
    /// The RFC 4733 telephone-event payload type, with the remote's number
    /// (101, 96...), or nil if it was not negotiated.
    public var telephoneEventPayloadType: UInt8?
    /// Where to send RTP: media-level `c=` over session-level (RFC 4566 §5.7).
    /// `0.0.0.0` when the remote put us on hold the RFC 2543 way.
    public var remoteAddress: String
    /// The remote RTP port.
    public var remotePort: UInt16
    /// Packet time in milliseconds: the remote's `a=ptime`, else 20.
    public var ptime: Int
    /// Our direction (RFC 3264 §6.1): whether we send and whether we receive.
    public var direction: MediaDirection
    /// Index of the negotiated `m=` line in the description.
    public var mediaIndex: Int
    /// SRTP's keys when the stream is encrypted (SDES, RFC 4568); nil for plain RTP.
    public var srtp: SRTPKeys?

    /// Creates a result.
    public init(codec: RTPMap, codecParameters: String? = nil, telephoneEventPayloadType: UInt8?,
                remoteAddress: String, remotePort: UInt16, ptime: Int, direction: MediaDirection, mediaIndex: Int,
                srtp: SRTPKeys? = nil) {
        self.srtp = srtp
        self.codec = codec
        self.codecParameters = codecParameters
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.ptime = ptime
        self.direction = direction
        self.mediaIndex = mediaIndex
    }

    /// Whether the remote side has put the call on hold: it will not receive
    /// (sendonly/inactive offer, or `c=0.0.0.0` per RFC 3264 §8.4).
    public var isRemoteHold: Bool {
        !direction.sends
    }

    /// RTP timestamp units per packet: clock rate × ptime. 160 for G.711 at 20 ms.
    public var samplesPerPacket: Int {
        Int(codec.clockRate) * ptime / 1000
    }
}
