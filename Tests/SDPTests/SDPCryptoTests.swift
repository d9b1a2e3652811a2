import Testing
@testable import SDP

/// SDES (RFC 4568) lines and SRTP offer/answer under each media_encryption policy.
@Suite struct SDPCryptoTests {
    let negotiator = SDPNegotiator()
    /// 30 bytes (key 16 + salt 14) and their base64.
    static let key: [UInt8] = Array(1...30)
    static let keyBase64 = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e"
    static let ours: [UInt8] = Array(repeating: 0xA5, count: 30)

    static func offer(proto: String = "RTP/SAVP", cryptos: [String]) -> String {
        var text = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=audio 40000 \(proto) 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        for crypto in cryptos { text += "a=crypto:\(crypto)\r\n" }
        return text
    }

    func answer(_ text: String, _ encryption: MediaEncryption) throws(SDPNegotiationError) -> (answer: SessionDescription, media: NegotiatedMedia) {
        let offer = try! SessionDescription.parse(text)
        return try negotiator.answer(to: offer, localAddress: "192.0.2.1", localPort: 20000, sessionID: 1, sessionVersion: 1,
                                     encryption: encryption, localKeyMaterial: Self.ours)
    }

    @Test func parsesAnInlineKeyAndRoundTrips() throws {
        let crypto = try #require(SDPCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)|2^31"))
        #expect(crypto.tag == 1 && crypto.suite == .aesCM128HMACSHA1_80 && crypto.keyMaterial == Self.key)
        #expect(crypto.attributeValue == "1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)")
        #expect(SDPCrypto.parse(crypto.attributeValue) == crypto)
        #expect(SDPCrypto.parse("7 AES_CM_128_HMAC_SHA1_32 inline:\(Self.keyBase64)")?.suite == .aesCM128HMACSHA1_32)
    }

    @Test func declinesLinesItCannotRun() {
        // Unknown suite, MKI, a short key, session parameters, a second key, not inline.
        #expect(SDPCrypto.parse("1 AEAD_AES_256_GCM inline:\(Self.keyBase64)") == nil)
        #expect(SDPCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)|2^20|1:4") == nil)
        #expect(SDPCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:AQIDBA==") == nil)
        #expect(SDPCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64) UNENCRYPTED_SRTP") == nil)
        #expect(SDPCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64);inline:\(Self.keyBase64)") == nil)
        #expect(SDPCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 uri:\(Self.keyBase64)") == nil)
        #expect(SDPCrypto.parse("x AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)") == nil)
    }

    @Test func neverPrintsKeyMaterial() throws {
        let crypto = try #require(SDPCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)"))
        let keys = SRTPKeys(suite: .aesCM128HMACSHA1_80, local: Self.ours, remote: Self.key)
        for text in ["\(crypto)", "\(keys)", String(describing: crypto), String(reflecting: keys)] {
            #expect(!text.contains(Self.keyBase64) && !text.contains("165") && !text.contains("[1, 2"), "\(text)")
        }
    }

    @Test func answersASAVPOfferWithTheFirstLineWeRunAndOurKey() throws {
        let text = Self.offer(cryptos: ["1 AEAD_AES_256_GCM inline:\(Self.keyBase64)", "2 AES_CM_128_HMAC_SHA1_32 inline:\(Self.keyBase64)",
                                        "3 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)"])
        for policy in [MediaEncryption.optional, .required] {
            let (answer, media) = try answer(text, policy)
            let m = try #require(answer.media.first)
            #expect(m.proto == "RTP/SAVP")
            #expect(m.cryptos == [SDPCrypto(tag: 2, suite: .aesCM128HMACSHA1_32, keyMaterial: Self.ours)])
            #expect(media.srtp == SRTPKeys(suite: .aesCM128HMACSHA1_32, local: Self.ours, remote: Self.key))
        }
    }

    @Test func aSAVPOfferIsRefusedWhenSRTPIsNotAllowed() {
        // Under `none` (or over a transport that cannot carry keys), SAVP has no usable audio.
        #expect(throws: SDPNegotiationError.noAudioMedia) {
            try answer(Self.offer(cryptos: ["1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)"]), .none)
        }
        // A SAVP offer without a line we can run is unusable even when SRTP is required.
        #expect(throws: SDPNegotiationError.encryptionRequired) {
            try answer(Self.offer(cryptos: ["1 AEAD_AES_256_GCM inline:\(Self.keyBase64)"]), .required)
        }
    }

    @Test func bestEffortCryptoInAnAVPOffer() throws {
        let text = Self.offer(proto: "RTP/AVP", cryptos: ["1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)"])
        let (secured, media) = try answer(text, .optional)
        #expect(secured.media[0].proto == "RTP/AVP" && secured.media[0].cryptos.count == 1 && media.srtp != nil)
        // `none` answers plain, ignoring the key.
        let (plain, plainMedia) = try answer(text, .none)
        #expect(plain.media[0].cryptos.isEmpty && plainMedia.srtp == nil)
    }

    @Test func aPlainOfferIsRefusedOnlyWhenSRTPIsRequired() throws {
        let text = Self.offer(proto: "RTP/AVP", cryptos: [])
        #expect(try answer(text, .optional).media.srtp == nil)
        #expect(throws: SDPNegotiationError.encryptionRequired) { try answer(text, .required) }
    }

    @Test func offersByPolicy() {
        func offer(_ policy: MediaEncryption) -> MediaDescription {
            negotiator.offer(localAddress: "192.0.2.1", localPort: 20000, sessionID: 1, sessionVersion: 1,
                             encryption: policy, localKeyMaterial: Self.ours).media[0]
        }
        #expect(offer(.none).proto == "RTP/AVP" && offer(.none).cryptos.isEmpty)
        #expect(offer(.optional).proto == "RTP/AVP"
                && offer(.optional).cryptos == [SDPCrypto(tag: 1, suite: .aesCM128HMACSHA1_80, keyMaterial: Self.ours)])
        #expect(offer(.required).proto == "RTP/SAVP" && offer(.required).cryptos.count == 1)
        // Without key material nothing secure is offered.
        #expect(negotiator.offer(localAddress: "192.0.2.1", localPort: 20000, sessionID: 1, sessionVersion: 1,
                                 encryption: .required).media[0].proto == "RTP/AVP")
    }

    @Test func theAnswerToOurOfferCarriesTheKeysOrIsRefused() throws {
        let ours = negotiator.offer(localAddress: "192.0.2.1", localPort: 20000, sessionID: 1, sessionVersion: 1,
                                    encryption: .required, localKeyMaterial: Self.ours)
        let good = try SessionDescription.parse(Self.offer(cryptos: ["1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)"]))
        #expect(try negotiator.negotiateAnswer(answer: good, toOffer: ours).srtp
                == SRTPKeys(suite: .aesCM128HMACSHA1_80, local: Self.ours, remote: Self.key))
        // Another tag, or no crypto at all, cannot carry the SAVP stream we offered.
        let otherTag = try SessionDescription.parse(Self.offer(cryptos: ["9 AES_CM_128_HMAC_SHA1_80 inline:\(Self.keyBase64)"]))
        #expect(throws: SDPNegotiationError.encryptionRequired) { try negotiator.negotiateAnswer(answer: otherTag, toOffer: ours) }
        let plain = try SessionDescription.parse(Self.offer(proto: "RTP/AVP", cryptos: []))
        #expect(throws: SDPNegotiationError.encryptionRequired) { try negotiator.negotiateAnswer(answer: plain, toOffer: ours) }
        // To a best-effort offer, a plain answer is plain RTP.
        let optional = negotiator.offer(localAddress: "192.0.2.1", localPort: 20000, sessionID: 1, sessionVersion: 1,
                                        encryption: .optional, localKeyMaterial: Self.ours)
        #expect(try negotiator.negotiateAnswer(answer: plain, toOffer: optional).srtp == nil)
    }

    @Test func randomKeysAreFullLengthAndDiffer() {
        var generator = SystemRandomNumberGenerator()
        let a = SDPCrypto.randomKeyMaterial(using: &generator), b = SDPCrypto.randomKeyMaterial(using: &generator)
        #expect(a.count == 30 && b.count == 30 && a != b)
    }
}
