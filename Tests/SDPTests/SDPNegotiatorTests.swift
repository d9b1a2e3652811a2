import Testing
@testable import SDP

@Suite struct SDPNegotiatorTests {
    let negotiator = SDPNegotiator()

    func answer(_ text: String, negotiator: SDPNegotiator? = nil) throws -> (answer: SessionDescription, media: NegotiatedMedia) {
        let offer = try SessionDescription.parse(text)
        return try (negotiator ?? self.negotiator).answer(to: offer, localAddress: "192.0.2.1", localPort: 20000,
                                                          sessionID: 1001, sessionVersion: 1)
    }

    @Test func answersSIPpOfferWithPCMUAndTelephoneEvent() throws {
        let (answer, media) = try answer(SDPFixtures.sipp)
        #expect(media == NegotiatedMedia(codec: .pcmu, telephoneEventPayloadType: 101, remoteAddress: "127.0.0.1",
                                         remotePort: 6000, ptime: 20, direction: .sendrecv, mediaIndex: 0))
        #expect(media.samplesPerPacket == 160)
        #expect(answer.serialize() == SDPFixtures.crlf("""
        v=0
        o=hotline 1001 1 IN IP4 192.0.2.1
        s=Hotline
        c=IN IP4 192.0.2.1
        t=0 0
        m=audio 20000 RTP/AVP 0 101
        a=rtpmap:0 PCMU/8000
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-16
        a=ptime:20
        a=sendrecv

        """))
    }

    @Test func followsTheOfferersPreferenceNotOurs() throws {
        // Asterisk lists PCMA first; we prefer PCMU, but RFC 3264 §6.1 gives the offerer's order precedence.
        let (answer, media) = try answer(SDPFixtures.asterisk)
        #expect(media.codec == .pcma)
        #expect(media.telephoneEventPayloadType == 101)
        #expect(media.remoteAddress == "10.0.0.5")
        #expect(media.remotePort == 17942)
        #expect(answer.media[0].formats == ["8", "101"])
    }

    @Test func baresipOfferWithVideoGetsOneAcceptedAndOneRejectedLine() throws {
        let (answer, media) = try answer(SDPFixtures.baresip)
        #expect(media.codec == .pcmu)  // opus is not in the default capabilities
        #expect(media.telephoneEventPayloadType == 101)
        #expect(answer.media.count == 2)
        #expect(answer.media[0].port == 20000)
        #expect(answer.media[1].media == "video")
        #expect(answer.media[1].port == 0)
        #expect(answer.media[1].formats == ["96"])
        #expect(answer.media[1].attributes.isEmpty)
        // The answer must itself be valid SDP that parses back.
        #expect(try SessionDescription.parse(answer.serialize()) == answer)
    }

    @Test func choosesOpusWithTheOfferedPayloadTypeWhenWeSupportIt() throws {
        let withOpus = SDPNegotiator(capabilities: LocalMediaCapabilities(codecs: [.pcmu, .pcma, .opus]))
        let (answer, media) = try answer(SDPFixtures.baresip, negotiator: withOpus)
        #expect(media.codec == RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(media.codecParameters == "stereo=1;sprop-stereo=1")
        // telephone-event/8000 does not share opus's 48 kHz clock (RFC 4733 §2.1).
        #expect(media.telephoneEventPayloadType == nil)
        #expect(answer.media[0].rtpMap(for: 111)?.channels == 2)
        #expect(answer.media[0].fmtp(for: 111) == "useinbandfec=1")
    }

    @Test func linphoneOfferUsesMediaLevelAddressAndMatchingEventClock() throws {
        let (answer, media) = try answer(SDPFixtures.linphone)
        #expect(media.codec == .pcmu)
        #expect(media.remoteAddress == "203.0.113.5")  // media-level c= wins over 192.168.0.20
        #expect(media.remotePort == 7078)
        #expect(media.telephoneEventPayloadType == 100)  // the 8 kHz one, offered as 100
        #expect(answer.media[0].formats == ["0", "100"])
        #expect(answer.media[1].port == 0)

        let withOpus = SDPNegotiator(capabilities: LocalMediaCapabilities(codecs: [.pcmu, .opus]))
        let opus = try self.answer(SDPFixtures.linphone, negotiator: withOpus).media
        #expect(opus.codec.payloadType == 96)
        #expect(opus.telephoneEventPayloadType == 101)  // telephone-event/48000
    }

    @Test(arguments: [
        (MediaDirection.sendonly, MediaDirection.recvonly),
        (.recvonly, .sendonly),
        (.inactive, .inactive),
        (.sendrecv, .sendrecv),
    ])
    func answerMirrorsTheOfferedDirection(offered: MediaDirection, expected: MediaDirection) throws {
        let (answer, media) = try answer(SDPFixtures.offer("m=audio 4000 RTP/AVP 0\na=\(offered.rawValue)"))
        #expect(media.direction == expected)
        #expect(answer.media[0].direction == expected)
        #expect(media.isRemoteHold == !expected.sends)
    }

    @Test func sessionLevelSendonlyIsHold() throws {
        let media = try answer(SDPFixtures.offer(sessionLines: "c=IN IP4 1.2.3.4\na=sendonly", "m=audio 4000 RTP/AVP 8")).media
        #expect(media.direction == .recvonly)
        #expect(media.isRemoteHold)
    }

    @Test func zeroAddressHoldIsRecognised() throws {
        let media = try answer(SDPFixtures.offer(sessionLines: "c=IN IP4 0.0.0.0", "m=audio 4000 RTP/AVP 0")).media
        #expect(media.remoteAddress == "0.0.0.0")
        #expect(media.direction == .recvonly)
        #expect(media.isRemoteHold)
    }

    @Test func noCommonCodecIsDistinctFromNoAudio() throws {
        #expect(throws: SDPNegotiationError.noCommonCodec(offered: ["G729/8000", "telephone-event/8000"])) {
            try answer(SDPFixtures.offer("m=audio 4000 RTP/AVP 18 101\na=rtpmap:101 telephone-event/8000"))
        }
        #expect(throws: SDPNegotiationError.noAudioMedia) {
            try answer(SDPFixtures.offer("m=video 4000 RTP/AVP 96\na=rtpmap:96 H264/90000"))
        }
        #expect(throws: SDPNegotiationError.noAudioMedia) {
            try answer(SDPFixtures.offer("m=audio 0 RTP/AVP 0"))
        }
        #expect(throws: SDPNegotiationError.noAudioMedia) {  // SRTP: we cannot encrypt
            try answer(SDPFixtures.offer("m=audio 4000 RTP/SAVP 0"))
        }
    }

    @Test func unsupportedFirstAudioLineIsRejectedAndSecondAccepted() throws {
        let (answer, media) = try answer(SDPFixtures.offer("""
        m=audio 4000 RTP/AVP 18
        m=audio 4002 RTP/AVP 8 0
        m=audio 4004 RTP/AVP 0
        """))
        #expect(media.mediaIndex == 1)
        #expect(media.remotePort == 4002)
        #expect(media.codec == .pcma)
        #expect(answer.media.map(\.port) == [0, 20000, 0])
        #expect(answer.media[0].formats == ["18"])
    }

    @Test func missingConnectionIsAnError() throws {
        #expect(throws: SDPNegotiationError.missingConnection(mediaIndex: 0)) {
            try answer("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
        }
    }

    @Test func offeredPtimeIsUsedAndEchoed() throws {
        let (answer, media) = try answer(SDPFixtures.offer("m=audio 4000 RTP/AVP 0\na=ptime:30"))
        #expect(media.ptime == 30)
        #expect(media.samplesPerPacket == 240)
        #expect(answer.media[0].ptime == 30)
    }

    @Test func withoutTelephoneEventCapabilityItIsNotAnswered() throws {
        let plain = SDPNegotiator(capabilities: LocalMediaCapabilities(codecs: [.pcmu], telephoneEvent: nil))
        let (answer, media) = try answer(SDPFixtures.sipp, negotiator: plain)
        #expect(media.telephoneEventPayloadType == nil)
        #expect(answer.media[0].formats == ["0"])
    }

    @Test func ourOfferListsOurCodecsInPreferenceOrder() throws {
        let offer = negotiator.offer(localAddress: "192.0.2.1", localPort: 30000, sessionID: 7, sessionVersion: 2)
        #expect(offer.serialize() == SDPFixtures.crlf("""
        v=0
        o=hotline 7 2 IN IP4 192.0.2.1
        s=Hotline
        c=IN IP4 192.0.2.1
        t=0 0
        m=audio 30000 RTP/AVP 0 8 101
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-16
        a=ptime:20
        a=sendrecv

        """))
        let v6 = negotiator.offer(localAddress: "2001:db8::1", localPort: 30000, sessionID: 7, sessionVersion: 2)
        #expect(v6.connection == SDPConnection(netType: "IN", addressType: "IP6", address: "2001:db8::1"))
        #expect(v6.origin.addressType == "IP6")
    }

    @Test func negotiatesTheRemoteAnswerToOurOffer() throws {
        let offer = negotiator.offer(localAddress: "192.0.2.1", localPort: 30000, sessionID: 7, sessionVersion: 1)
        // The far end only does A-law and numbers telephone-event 96... as an answerer it must keep
        // our 101, but real gateways do not always: we use whatever number the answer says.
        let remoteAnswer = try SessionDescription.parse(SDPFixtures.offer(sessionLines: "c=IN IP4 198.51.100.9", """
        m=audio 5004 RTP/AVP 8 96
        a=rtpmap:96 telephone-event/8000
        a=recvonly
        """))
        let media = try negotiator.negotiateAnswer(answer: remoteAnswer, toOffer: offer)
        #expect(media == NegotiatedMedia(codec: .pcma, telephoneEventPayloadType: 96, remoteAddress: "198.51.100.9",
                                         remotePort: 5004, ptime: 20, direction: .sendonly, mediaIndex: 0))
    }

    @Test func offerAnswerLoopBetweenTwoNegotiators() throws {
        let loadGenerator = SDPNegotiator(capabilities: LocalMediaCapabilities(codecs: [.pcma, .pcmu]))
        let offer = loadGenerator.offer(localAddress: "127.0.0.2", localPort: 40000, sessionID: 1, sessionVersion: 1)
        let (answer, serverSide) = try negotiator.answer(to: try SessionDescription.parse(offer.serialize()),
                                                         localAddress: "127.0.0.1", localPort: 20000, sessionID: 9, sessionVersion: 1)
        let clientSide = try loadGenerator.negotiateAnswer(answer: try SessionDescription.parse(answer.serialize()), toOffer: offer)
        #expect(serverSide.codec == .pcma)
        #expect(clientSide.codec == .pcma)
        #expect(serverSide.remotePort == 40000)
        #expect(clientSide.remotePort == 20000)
        #expect(clientSide.remoteAddress == "127.0.0.1")
        #expect(clientSide.telephoneEventPayloadType == 101)
        #expect(clientSide.direction == .sendrecv)
    }

    @Test func answerErrors() throws {
        let offer = negotiator.offer(localAddress: "192.0.2.1", localPort: 30000, sessionID: 7, sessionVersion: 1)
        let twoLines = try SessionDescription.parse(SDPFixtures.offer("m=audio 5004 RTP/AVP 0\nm=video 0 RTP/AVP 96"))
        #expect(throws: SDPNegotiationError.mediaLineCountMismatch(offer: 1, answer: 2)) {
            try negotiator.negotiateAnswer(answer: twoLines, toOffer: offer)
        }
        let rejected = try SessionDescription.parse(SDPFixtures.offer("m=audio 0 RTP/AVP 0"))
        #expect(throws: SDPNegotiationError.noAudioMedia) {
            try negotiator.negotiateAnswer(answer: rejected, toOffer: offer)
        }
        let alien = try SessionDescription.parse(SDPFixtures.offer("m=audio 5004 RTP/AVP 18"))
        #expect(throws: SDPNegotiationError.noCommonCodec(offered: ["18"])) {
            try negotiator.negotiateAnswer(answer: alien, toOffer: offer)
        }
    }
}

@Suite struct AgentLegOfferTests {
    @Test func anOpusOfferCarriesATelephoneEventAtEachClockRate() throws {
        let negotiator = SDPNegotiator(capabilities: .agentLeg)
        let offer = negotiator.offer(localAddress: "127.0.0.1", localPort: 20000, sessionID: 1, sessionVersion: 1)
        let text = offer.serialize()
        #expect(text.contains("m=audio 20000 RTP/AVP 111 0 8 101 102\r\n"), "\(text)")
        #expect(text.contains("a=rtpmap:111 opus/48000/2"))
        #expect(text.contains("a=rtpmap:101 telephone-event/8000"))
        #expect(text.contains("a=rtpmap:102 telephone-event/48000"))
        // A phone that takes Opus answers with the 48 kHz events; that is what gets negotiated.
        let answer = try SessionDescription.parse("""
        v=0\r
        o=- 1 1 IN IP4 127.0.0.1\r
        s=-\r
        c=IN IP4 127.0.0.1\r
        t=0 0\r
        m=audio 30000 RTP/AVP 111 102\r
        a=rtpmap:111 opus/48000/2\r
        a=rtpmap:102 telephone-event/48000\r

        """)
        let media = try negotiator.negotiateAnswer(answer: answer, toOffer: offer)
        #expect(media.codec.encodingName == "opus" && media.telephoneEventPayloadType == 102)
    }
}
