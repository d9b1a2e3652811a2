import Testing
@testable import SDP

@Suite struct SessionDescriptionParsingTests {
    @Test func parsesSIPpOffer() throws {
        let sdp = try SessionDescription.parse(SDPFixtures.sipp)
        #expect(sdp.version == 0)
        #expect(sdp.origin == SDPOrigin(username: "user1", sessionID: "53655765", sessionVersion: 2353687637,
                                        netType: "IN", addressType: "IP4", address: "127.0.0.1"))
        #expect(sdp.sessionName == "-")
        #expect(sdp.connection == SDPConnection(netType: "IN", addressType: "IP4", address: "127.0.0.1"))
        #expect(sdp.timing == [SDPTiming(start: 0, stop: 0)])
        #expect(sdp.media.count == 1)
        let audio = sdp.media[0]
        #expect(audio.media == "audio")
        #expect(audio.port == 6000)
        #expect(audio.portCount == nil)
        #expect(audio.proto == "RTP/AVP")
        #expect(audio.formats == ["0", "101"])
        #expect(audio.rtpmaps == [
            RTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000),
            RTPMap(payloadType: 101, encodingName: "telephone-event", clockRate: 8000),
        ])
        #expect(audio.fmtp(for: 101) == "0-16")
        #expect(audio.fmtp(for: 0) == nil)
        #expect(audio.ptime == nil)
        #expect(sdp.effectiveDirection(of: audio) == .sendrecv)
    }

    @Test func parsesBaresipOfferWithSeveralMediaLines() throws {
        let sdp = try SessionDescription.parse(SDPFixtures.baresip)
        #expect(sdp.attributes == [SDPAttribute(name: "tool", value: "baresip 3.10.1")])
        #expect(sdp.media.map(\.media) == ["audio", "video"])
        let audio = sdp.media[0]
        #expect(audio.bandwidths == [SDPBandwidth(type: "AS", value: 64)])
        #expect(audio.rtpMap(for: 111) == RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(audio.fmtp(for: 111) == "stereo=1;sprop-stereo=1")
        #expect(audio.attributeValue("rtcp") == "10113")
        #expect(audio.hasAttribute("label"))
        #expect(sdp.media[1].rtpMap(for: 96)?.encodingName == "H264")
    }

    @Test func keepsUnknownAttributesAndICECandidatesInOrder() throws {
        let sdp = try SessionDescription.parse(SDPFixtures.linphone)
        let names = sdp.media[0].attributes.map(\.name)
        #expect(names.filter { $0 == "candidate" }.count == 2)
        #expect(names.last == "rtcp-fb")
        #expect(sdp.media[0].attributeValue("rtcp-fb") == "* trr-int 1000")
        #expect(sdp.attributes.map(\.name) == ["ice-pwd", "ice-ufrag", "rtcp-xr", "record"])
        #expect(sdp.media[0].connection?.address == "203.0.113.5")
        #expect(sdp.effectiveConnection(of: sdp.media[0])?.address == "203.0.113.5")
    }

    @Test(arguments: [SDPFixtures.sipp, SDPFixtures.baresip, SDPFixtures.linphone, SDPFixtures.asterisk])
    func serializesCanonicalOffersByteForByte(_ text: String) throws {
        let sdp = try SessionDescription.parse(text)
        #expect(sdp.serialize() == text)
        #expect(try SessionDescription.parse(sdp.serialize()) == sdp)
    }

    @Test func lineFeedsAndTrailingWhitespaceParseLikeCRLF() throws {
        let sloppy = SDPFixtures.sipp
            .replacingCRLF(with: "  \n")  // LF only, trailing spaces
        let lenient = try SessionDescription.parse("\n" + sloppy + "\n\n")
        #expect(lenient == (try SessionDescription.parse(SDPFixtures.sipp)))
        #expect(lenient.serialize() == SDPFixtures.sipp)
    }

    @Test func serializesInRFC4566OrderWhateverTheInputOrder() throws {
        let scrambled = "v=0\na=recvonly\nt=0 0\nc=IN IP4 10.1.1.1\ns=call\nb=CT:128\no=- 7 9 IN IP4 10.1.1.1\nm=audio 4000/2 RTP/AVP 8\na=ptime:30\nc=IN IP4 10.1.1.2\nb=AS:80\ni=voice\n"
        let sdp = try SessionDescription.parse(scrambled)
        #expect(sdp.serialize() == SDPFixtures.crlf("""
        v=0
        o=- 7 9 IN IP4 10.1.1.1
        s=call
        c=IN IP4 10.1.1.1
        b=CT:128
        t=0 0
        a=recvonly
        m=audio 4000/2 RTP/AVP 8
        i=voice
        c=IN IP4 10.1.1.2
        b=AS:80
        a=ptime:30

        """))
        #expect(sdp.media[0].portCount == 2)
        #expect(sdp.media[0].ptime == 30)
    }

    @Test func skipsUnknownLineTypesAndSupplementsMissingSessionNameAndTiming() throws {
        let sdp = try SessionDescription.parse("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nx=vendor-extension\r\nm=audio 5000 RTP/AVP 0\r\ny=ignored\r\n")
        #expect(sdp.sessionName == "-")
        #expect(sdp.timing == [SDPTiming()])
        #expect(sdp.media[0].attributes.isEmpty)
        #expect(!sdp.serialize().contains("x="))
    }

    @Test func keepsOptionalSessionLines() throws {
        let text = SDPFixtures.crlf("""
        v=0
        o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5
        s=SDP Seminar
        i=A Seminar on the session description protocol
        u=http://www.example.com/seminars/sdp.pdf
        e=j.doe@example.com (Jane Doe)
        p=+86 10 12345
        c=IN IP4 224.2.17.12/127
        t=2873397496 2873404696
        r=7d 1h 0 25h
        z=2882844526 -1h 2898848070 0
        k=prompt
        a=recvonly
        m=audio 49170 RTP/AVP 0
        k=clear:secret
        m=video 51372 RTP/AVP 99
        a=rtpmap:99 h263-1998/90000

        """)
        let sdp = try SessionDescription.parse(text)
        #expect(sdp.information == "A Seminar on the session description protocol")
        #expect(sdp.uri == "http://www.example.com/seminars/sdp.pdf")
        #expect(sdp.emailAddresses == ["j.doe@example.com (Jane Doe)"])
        #expect(sdp.phoneNumbers == ["+86 10 12345"])
        #expect(sdp.timing == [SDPTiming(start: 2873397496, stop: 2873404696, repeats: ["7d 1h 0 25h"])])
        #expect(sdp.timeZones == "2882844526 -1h 2898848070 0")
        #expect(sdp.encryptionKey == "prompt")
        #expect(sdp.media[0].encryptionKey == "clear:secret")
        #expect(sdp.serialize() == text)
    }

    @Test func staticPayloadTypesNeedNoRtpmap() throws {
        let sdp = try SessionDescription.parse(SDPFixtures.offer("m=audio 4000 RTP/AVP 0 8 18"))
        let audio = sdp.media[0]
        #expect(audio.rtpmaps.isEmpty)
        #expect(audio.rtpMap(for: 0) == .pcmu)
        #expect(audio.rtpMap(for: 8) == .pcma)
        #expect(audio.rtpMap(for: 18)?.encodingName == "G729")
        #expect(audio.rtpMap(for: 96) == nil)
    }

    @Test func mediaLevelDirectionOverridesSessionLevel() throws {
        let sdp = try SessionDescription.parse(SDPFixtures.offer(sessionLines: "c=IN IP4 1.1.1.1\na=sendonly", """
        m=audio 4000 RTP/AVP 0
        m=audio 4002 RTP/AVP 0
        a=inactive
        """))
        #expect(sdp.direction == .sendonly)
        #expect(sdp.effectiveDirection(of: sdp.media[0]) == .sendonly)
        #expect(sdp.effectiveDirection(of: sdp.media[1]) == .inactive)
    }

    @Test func rtpmapParsing() {
        #expect(RTPMap(attributeValue: "111 opus/48000/2") == RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(RTPMap(attributeValue: " 0 PCMU/8000 ") == .pcmu)
        #expect(RTPMap(attributeValue: "0 PCMU") == nil)
        #expect(RTPMap(attributeValue: "200 PCMU/8000") == nil)
        #expect(RTPMap(attributeValue: "96 opus/48000/0") == nil)
        #expect(RTPMap(attributeValue: "x PCMU/8000") == nil)
        #expect(RTPMap.pcmu.isSameEncoding(as: RTPMap(payloadType: 99, encodingName: "pcmu", clockRate: 8000)))
        #expect(!RTPMap.pcmu.isSameEncoding(as: .pcma))
    }

    @Test func versionMustComeFirst() {
        #expect(throws: SDPParseError(line: 1, kind: .versionNotFirst, message: "the first line must be 'v=0'")) {
            try SessionDescription.parse("o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n")
        }
        #expect(throws: SDPParseError.self) { try SessionDescription.parse("v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n") }
        #expect(throws: SDPParseError(line: 0, kind: .empty, message: "empty session description")) {
            try SessionDescription.parse(" \r\n\r\n")
        }
    }

    @Test func errorsCarryTheLineNumber() {
        func failure(_ text: String) -> SDPParseError? {
            do {
                _ = try SessionDescription.parse(text)
                return nil
            } catch {
                return error
            }
        }
        let badMedia = failure(SDPFixtures.offer("m=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\nm=audio port RTP/AVP 0"))
        #expect(badMedia?.line == 8)
        #expect(badMedia?.kind == .malformedMedia)
        #expect(badMedia?.description.hasPrefix("SDP line 8:") == true)
        #expect(failure(SDPFixtures.offer("m=audio 4000 RTP/AVP"))?.kind == .malformedMedia)
        #expect(failure(SDPFixtures.offer("m=audio 70000 RTP/AVP 0"))?.kind == .malformedMedia)
        #expect(failure(SDPFixtures.offer("m=audio 4000/x RTP/AVP 0"))?.kind == .malformedMedia)
        #expect(failure("v=0\r\no=- 1 IN IP4 1.2.3.4\r\n")?.kind == .malformedOrigin)
        #expect(failure("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN 1.2.3.4\r\n")?.line == 3)
        #expect(failure("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=now\r\n")?.kind == .malformedTiming)
        #expect(failure("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nb=AS\r\n")?.kind == .malformedBandwidth)
        #expect(failure("v=0\r\ns=-\r\nt=0 0\r\n")?.kind == .missingOrigin)
        let garbage = failure("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nhello world\r\n")
        #expect(garbage?.kind == .malformedLine)
        #expect(garbage?.line == 3)
    }

    @Test func rejectedMediaLineWithoutFormatsIsTolerated() throws {
        let sdp = try SessionDescription.parse(SDPFixtures.offer("m=video 0 RTP/AVP"))
        #expect(sdp.media[0].port == 0)
        #expect(sdp.media[0].formats.isEmpty)
    }
}

extension String {
    func replacingCRLF(with separator: String) -> String {
        split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: separator)
    }
}
