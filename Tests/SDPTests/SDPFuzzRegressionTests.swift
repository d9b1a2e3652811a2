import Testing
@testable import SDP

/// Inputs the fuzz targets (Benchmarks/Fuzz, Benchmarks/fuzz.sh) found, kept so the bugs stay
/// fixed. Each input is also in the target's seed corpus (Benchmarks/Fuzz/Corpus/FuzzSDP/regression-*).
@Suite struct SDPFuzzRegressionTests {
    /// FuzzSDP, 2026-12-06: a space followed by a combining mark is one Character, so fields
    /// split on Characters did not separate there. An offer's m-line `... 8<TAB>\u{0736}x`
    /// (a tab does not combine) gave the formats "8" and "\u{0736}x"; our answer rejects that
    /// line echoing them joined by a space, and its text parsed back as the single format
    /// "8 \u{0736}x": the answer we send was not the answer we built.
    @Test func aSpaceBeforeACombiningMarkStillSeparatesFields() throws {
        let direct = try SessionDescription.parse("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 \u{0301}8\r\n")
        #expect(direct.media[0].formats == ["0", "\u{0301}8"])

        let offer = try SessionDescription.parse(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
                + "m=audio 40000 RTP/AVP 0\r\nm=audio 40002 RTP/AVP 8\t\u{0736}x\r\n")
        #expect(offer.media[1].formats == ["8", "\u{0736}x"])
        let (answer, _) = try SDPNegotiator().answer(to: offer, localAddress: "192.0.2.1", localPort: 20000,
                                                      sessionID: 1, sessionVersion: 1)
        #expect(try SessionDescription.parse(answer.serialize()) == answer)
    }
}
