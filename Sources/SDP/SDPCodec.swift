/// A codec we can send and receive, as it appears in SDP.
public struct SDPCodec: Sendable, Equatable, Hashable {
    /// The encoding as we offer it: the payload type is the number we use in
    /// our own offers; in an answer the offerer's number wins (RFC 3264 §6.1).
    public var rtpMap: RTPMap
    /// `a=fmtp` parameters we add when we offer or accept this codec.
    public var formatParameters: String?

    /// Creates a codec description.
    public init(_ rtpMap: RTPMap, formatParameters: String? = nil) {
        self.rtpMap = rtpMap
        self.formatParameters = formatParameters
    }

    /// G.711 µ-law, static payload type 0 (RFC 3551).
    public static let pcmu = SDPCodec(.pcmu)
    /// G.711 A-law, static payload type 8 (RFC 3551).
    public static let pcma = SDPCodec(.pcma)
    /// Opus, always advertised as `opus/48000/2` whatever is sent (RFC 7587 §7);
    /// in-band FEC asked for, since prompts cross lossy mobile networks.
    public static let opus = SDPCodec(RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2),
                                      formatParameters: "useinbandfec=1")
    /// RFC 4733 telephone events at 8 kHz, DTMF 0–15 and flash (16).
    public static let telephoneEvent = SDPCodec(RTPMap(payloadType: 101, encodingName: "telephone-event", clockRate: 8000),
                                                formatParameters: "0-16")
}
