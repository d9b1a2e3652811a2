/// RFC 3264 offer/answer for one audio stream, against our ``LocalMediaCapabilities``.
///
/// Sans-IO: descriptions in, descriptions and ``NegotiatedMedia`` out. The
/// caller turns ``SDPNegotiationError/noCommonCodec(offered:)`` into a 488.
public struct SDPNegotiator: Sendable, Equatable {
    /// What we support, most preferred first.
    public var capabilities: LocalMediaCapabilities
    /// The `o=` username of our descriptions.
    public var originUsername: String
    /// The `s=` line of our descriptions.
    public var sessionName: String

    /// Creates a negotiator.
    public init(capabilities: LocalMediaCapabilities = .default, originUsername: String = "hotline", sessionName: String = "Hotline") {
        self.capabilities = capabilities
        self.originUsername = originUsername
        self.sessionName = sessionName
    }

    /// The plain RTP profiles. RTP/SAVP(F) is taken with SDES keys under a policy that
    /// allows SRTP (``security(of:encryption:)``); DTLS-SRTP and others are rejected with port 0.
    static func isSupportedProfile(_ proto: String) -> Bool {
        let upper = proto.uppercased()
        return upper == "RTP/AVP" || upper == "RTP/AVPF"
    }

    /// Whether an offered stream can be taken under `encryption`, and with which of its
    /// crypto lines (the first we run, in the offerer's order; RFC 4568 §7.1.1).
    static func security(of media: MediaDescription, encryption: MediaEncryption) -> (usable: Bool, crypto: SDPCrypto?) {
        let plain = isSupportedProfile(media.proto)
        guard plain || media.isSecureProfile else { return (false, nil) }
        if encryption == .none { return (plain, nil) } // SAVP declined, best-effort crypto ignored
        let crypto = media.cryptos.first
        if media.isSecureProfile { return (crypto != nil, crypto) }
        return (crypto != nil || encryption != .required, crypto)
    }

    /// A chosen codec (and telephone-event format) within one m-line.
    struct Selection {
        var codec: RTPMap
        var localCodec: SDPCodec
        var telephoneEvent: RTPMap?
    }

    /// The first format of `media`, in its own order, that we support, plus
    /// its telephone-event format. The telephone-event clock rate must equal
    /// the codec's (RFC 4733 §2.1: events share the audio's timestamp clock).
    func select(in media: MediaDescription) -> Selection? {
        let maps = media.payloadTypes.compactMap { media.rtpMap(for: $0) }
        for map in maps where !capabilities.isTelephoneEvent(map) {
            guard let local = capabilities.codec(matching: map) else { continue }
            let event = maps.first { candidate in
                guard let telephoneEvent = capabilities.telephoneEvent else { return false }
                return candidate.encodingName.lowercased() == telephoneEvent.rtpMap.encodingName.lowercased()
                    && candidate.clockRate == map.clockRate
            }
            return Selection(codec: map, localCodec: local, telephoneEvent: event)
        }
        return nil
    }

    static func isUsableAudio(_ media: MediaDescription) -> Bool {
        media.media.lowercased() == "audio" && media.port != 0 && (isSupportedProfile(media.proto) || media.isSecureProfile)
    }

    /// Answers `offer` (RFC 3264 §6): accepts the first audio stream that has a
    /// codec we support, choosing the first such codec in the OFFER's order
    /// (the offerer's preference, RFC 3264 §6.1) with the offer's payload type
    /// number; every other m-line is answered with port 0, so the answer has as
    /// many m-lines as the offer (RFC 3264 §6).
    ///
    /// - Throws: ``SDPNegotiationError/noAudioMedia`` when there is no usable
    ///   audio m-line, ``SDPNegotiationError/noCommonCodec(offered:)`` when
    ///   there is one but we support none of its codecs.
    ///
    /// `encryption` says what this party allows; SRTP is answered with `localKeyMaterial`
    /// (30 bytes, ``SDPCrypto/randomKeyMaterial(using:)``), and a `required` party whose offer
    /// has no usable crypto gets ``SDPNegotiationError/encryptionRequired``.
    public func answer(
        to offer: SessionDescription,
        localAddress: String,
        localPort: UInt16,
        sessionID: UInt64,
        sessionVersion: UInt64,
        encryption: MediaEncryption = .none,
        localKeyMaterial: [UInt8] = []
    ) throws(SDPNegotiationError) -> (answer: SessionDescription, media: NegotiatedMedia) {
        let encryption = localKeyMaterial.count == SRTPCryptoSuite.keyMaterialLength ? encryption : .none
        var chosen: (index: Int, selection: Selection, crypto: SDPCrypto?)?
        var firstUnsupportedAudio: MediaDescription?
        var refusedForSecurity = false
        for (index, media) in offer.media.enumerated() where Self.isUsableAudio(media) {
            let security = Self.security(of: media, encryption: encryption)
            guard security.usable else {
                refusedForSecurity = true
                continue
            }
            if let selection = select(in: media) {
                chosen = (index, selection, security.crypto)
                break
            }
            if firstUnsupportedAudio == nil { firstUnsupportedAudio = media }
        }
        guard let (index, selection, crypto) = chosen else {
            if refusedForSecurity, encryption == .required { throw .encryptionRequired }
            if let media = firstUnsupportedAudio {
                throw .noCommonCodec(offered: media.payloadTypes.map { pt in
                    media.rtpMap(for: pt).map { "\($0.encodingName)/\($0.clockRate)" } ?? String(pt)
                })
            }
            throw .noAudioMedia
        }

        let offered = offer.media[index]
        guard let connection = offer.effectiveConnection(of: offered) else {
            throw .missingConnection(mediaIndex: index)
        }
        // RFC 3264 §6.1: the answer's direction mirrors the offer's. A c=0.0.0.0
        // (RFC 3264 §8.4, RFC 2543 hold) means the offerer will not receive.
        var direction = offer.effectiveDirection(of: offered).reversed
        if connection.isHoldAddress {
            direction = direction.intersection(.recvonly)
        }
        let ptime = offer.effectivePtime(of: offered) ?? capabilities.ptime

        var formats = [String(selection.codec.payloadType)]
        var attributes = [SDPAttribute.rtpmap(selection.codec)]
        if let parameters = selection.localCodec.formatParameters {
            attributes.append(.fmtp(payloadType: selection.codec.payloadType, parameters))
        }
        if let event = selection.telephoneEvent {
            formats.append(String(event.payloadType))
            attributes.append(.rtpmap(event))
            if let parameters = capabilities.telephoneEvent?.formatParameters {
                attributes.append(.fmtp(payloadType: event.payloadType, parameters))
            }
        }
        attributes.append(.ptime(ptime))
        attributes.append(direction.attribute)
        var keys: SRTPKeys?
        if let crypto {
            // RFC 4568 §7.1.1: the chosen line's tag and suite, with our own key.
            attributes.append(SDPCrypto(tag: crypto.tag, suite: crypto.suite, keyMaterial: localKeyMaterial).attribute)
            keys = SRTPKeys(suite: crypto.suite, local: localKeyMaterial, remote: crypto.keyMaterial)
        }

        var answerMedia: [MediaDescription] = []
        answerMedia.reserveCapacity(offer.media.count)
        for (i, media) in offer.media.enumerated() {
            if i == index {
                answerMedia.append(MediaDescription(media: media.media, port: localPort, proto: media.proto,
                                                    formats: formats, attributes: attributes))
            } else {
                answerMedia.append(Self.rejected(media))
            }
        }

        let answer = SessionDescription(
            origin: origin(localAddress: localAddress, sessionID: sessionID, sessionVersion: sessionVersion),
            sessionName: sessionName,
            connection: SDPConnection(address: localAddress),
            media: answerMedia
        )
        let negotiated = NegotiatedMedia(
            codec: selection.codec,
            codecParameters: offered.fmtp(for: selection.codec.payloadType),
            telephoneEventPayloadType: selection.telephoneEvent?.payloadType,
            remoteAddress: connection.address,
            remotePort: offered.port,
            ptime: ptime,
            direction: direction,
            mediaIndex: index,
            srtp: keys
        )
        return (answer, negotiated)
    }

    /// A rejected stream (RFC 3264 §6): port 0, same media and protocol, and the
    /// offered formats, because the m-line grammar needs at least one.
    static func rejected(_ media: MediaDescription) -> MediaDescription {
        MediaDescription(media: media.media, port: 0, proto: media.proto,
                         formats: media.formats.isEmpty ? ["0"] : media.formats)
    }

    func origin(localAddress: String, sessionID: UInt64, sessionVersion: UInt64) -> SDPOrigin {
        SDPOrigin(username: originUsername, sessionID: String(sessionID), sessionVersion: sessionVersion,
                  addressType: localAddress.contains(":") ? "IP6" : "IP4", address: localAddress)
    }

    /// Our offer (RFC 3264 §5): one audio m-line listing our codecs in our
    /// order of preference, then telephone-event, with rtpmap and fmtp lines.
    /// Used for a delayed-offer INVITE (answered in the ACK) and by the load generator.
    ///
    /// `optional` encryption offers RTP/AVP with an `a=crypto` line (SRTP if the answer takes
    /// it), `required` offers RTP/SAVP; both with `localKeyMaterial` (30 bytes).
    public func offer(
        localAddress: String,
        localPort: UInt16,
        sessionID: UInt64,
        sessionVersion: UInt64,
        direction: MediaDirection = .sendrecv,
        encryption: MediaEncryption = .none,
        localKeyMaterial: [UInt8] = []
    ) -> SessionDescription {
        var formats: [String] = []
        var attributes: [SDPAttribute] = []
        // RFC 4733 §2.1: events share their codec's clock, so a codec at another rate (Opus at
        // 48 kHz) gets its own telephone-event format, numbered after the first.
        var events: [SDPCodec] = []
        if let event = capabilities.telephoneEvent {
            events.append(event)
            let rates = capabilities.codecs.map(\.rtpMap.clockRate).filter { $0 != event.rtpMap.clockRate }
            for (i, rate) in Array(Set(rates)).sorted().enumerated() {
                var map = event.rtpMap
                map.payloadType = event.rtpMap.payloadType + UInt8(i + 1)
                map.clockRate = rate
                events.append(SDPCodec(map, formatParameters: event.formatParameters))
            }
        }
        for codec in capabilities.codecs + events {
            formats.append(String(codec.rtpMap.payloadType))
            attributes.append(.rtpmap(codec.rtpMap))
            if let parameters = codec.formatParameters {
                attributes.append(.fmtp(payloadType: codec.rtpMap.payloadType, parameters))
            }
        }
        attributes.append(.ptime(capabilities.ptime))
        attributes.append(direction.attribute)
        var proto = "RTP/AVP"
        if encryption != .none, localKeyMaterial.count == SRTPCryptoSuite.keyMaterialLength {
            attributes.append(SDPCrypto(tag: 1, suite: .aesCM128HMACSHA1_80, keyMaterial: localKeyMaterial).attribute)
            if encryption == .required { proto = "RTP/SAVP" }
        }
        return SessionDescription(
            origin: origin(localAddress: localAddress, sessionID: sessionID, sessionVersion: sessionVersion),
            sessionName: sessionName,
            connection: SDPConnection(address: localAddress),
            media: [MediaDescription(media: "audio", port: localPort, proto: proto, formats: formats, attributes: attributes)]
        )
    }

    /// The media negotiated by a remote `answer` to our `offer` (RFC 3264 §7).
    ///
    /// The first audio m-line accepted by the answer (port ≠ 0) is used; the
    /// codec is the first format of the answer we support, with the answer's
    /// payload type number. Our direction is the answer's reversed, limited to
    /// what we offered.
    public func negotiateAnswer(answer: SessionDescription, toOffer offer: SessionDescription) throws(SDPNegotiationError) -> NegotiatedMedia {
        guard answer.media.count == offer.media.count else {
            throw .mediaLineCountMismatch(offer: offer.media.count, answer: answer.media.count)
        }
        var unsupported: MediaDescription?
        for (index, media) in answer.media.enumerated() where Self.isUsableAudio(media) && offer.media[index].port != 0 {
            guard let selection = select(in: media) else {
                if unsupported == nil { unsupported = media }
                continue
            }
            guard let connection = answer.effectiveConnection(of: media) else {
                throw .missingConnection(mediaIndex: index)
            }
            // SRTP when our line's tag comes back with its suite (RFC 4568 §7.1.2); an answer
            // without it to a SAVP offer, or in SAVP without a key, cannot carry media.
            var keys: SRTPKeys?
            if let ours = offer.media[index].cryptos.first {
                if let theirs = media.cryptos.first(where: { $0.tag == ours.tag && $0.suite == ours.suite }) {
                    keys = SRTPKeys(suite: ours.suite, local: ours.keyMaterial, remote: theirs.keyMaterial)
                } else if offer.media[index].isSecureProfile || media.isSecureProfile {
                    throw .encryptionRequired
                }
            } else if media.isSecureProfile {
                throw .encryptionRequired
            }
            var direction = answer.effectiveDirection(of: media).reversed
                .intersection(offer.effectiveDirection(of: offer.media[index]))
            if connection.isHoldAddress {
                direction = direction.intersection(.recvonly)
            }
            return NegotiatedMedia(
                codec: selection.codec,
                codecParameters: media.fmtp(for: selection.codec.payloadType),
                telephoneEventPayloadType: selection.telephoneEvent?.payloadType,
                remoteAddress: connection.address,
                remotePort: media.port,
                ptime: answer.effectivePtime(of: media) ?? capabilities.ptime,
                direction: direction,
                mediaIndex: index,
                srtp: keys
            )
        }
        if let unsupported {
            throw .noCommonCodec(offered: unsupported.formats)
        }
        throw .noAudioMedia
    }
}
