import Testing
@testable import Codecs

@Suite struct G711Tests {
    @Test func knownCodePoints() {
        #expect(G711.encodeMuLaw(0) == 0xFF)
        #expect(G711.encodeALaw(0) == 0xD5)
        #expect(G711.decodeMuLaw(0xFF) == 0)
        #expect(G711.decodeMuLaw(0x7F) == 0)  // µ-law's negative zero
        #expect(G711.decodeMuLaw(0x80) == 32124)
        #expect(G711.decodeMuLaw(0x00) == -32124)
        #expect(G711.encodeMuLaw(.max) == 0x80)
        #expect(G711.encodeMuLaw(.min) == 0x00)
        #expect(G711.decodeALaw(0xD5) == 8)
        #expect(G711.decodeALaw(0x55) == -8)
        #expect(G711.decodeALaw(0xAA) == 32256)
        #expect(G711.decodeALaw(0x2A) == -32256)
        #expect(G711.encodeALaw(.max) == 0xAA)
        #expect(G711.encodeALaw(.min) == 0x2A)
        #expect(G711.Law.muLaw.silence == G711.encodeMuLaw(0))
        #expect(G711.Law.aLaw.silence == G711.encodeALaw(0))
        #expect(G711.Law(encodingName: "pcma") == .aLaw)
        #expect(G711.Law(encodingName: "G729") == nil)
    }

    @Test func aLawDecodeEncodeIsIdentityForAll256Codes() {
        for code in 0...255 {
            #expect(G711.encodeALaw(G711.decodeALaw(UInt8(code))) == UInt8(code))
        }
    }

    @Test func muLawDecodeEncodeIsIdentityExceptNegativeZero() {
        for code in 0...255 {
            let back = G711.encodeMuLaw(G711.decodeMuLaw(UInt8(code)))
            // 0x7F and 0xFF both decode to 0, which encodes as 0xFF.
            #expect(back == (code == 0x7F ? 0xFF : UInt8(code)), "code \(code)")
        }
    }

    /// Every 16-bit sample survives companding within half the quantisation
    /// step around its code (plus the reference's pre-shift of 2–3 bits),
    /// and within one step where the largest codes clip.
    @Test(arguments: G711.Law.allCases)
    func quantisationErrorIsBounded(law: G711.Law) {
        func decode(_ byte: UInt8) -> Int16 { law == .muLaw ? G711.decodeMuLaw(byte) : G711.decodeALaw(byte) }
        func encode(_ sample: Int16) -> UInt8 { law == .muLaw ? G711.encodeMuLaw(sample) : G711.encodeALaw(sample) }
        let levels = Set((0...255).map { Int(decode(UInt8($0))) }).sorted()
        var worstRatio = 0.0
        for x in Int(Int16.min)...Int(Int16.max) {
            let y = Int(decode(encode(Int16(x))))
            let index = levels.firstIndex(of: y)!
            // The step of y's interval: at a segment edge, the wider neighbour gap.
            let below = index > 0 ? y - levels[index - 1] : 0
            let above = index < levels.count - 1 ? levels[index + 1] - y : 0
            let step = max(below, above)
            let error = abs(x - y)
            if abs(y) < levels.last! {
                worstRatio = max(worstRatio, Double(error) / Double(step))
                #expect(Double(error) <= Double(step) / 2 + 4, "x=\(x) y=\(y) step=\(step)")
            } else {
                #expect(error <= step, "clipped x=\(x) y=\(y) step=\(step)")
            }
        }
        #expect(worstRatio > 0.4)  // the bound is tight, not vacuous
    }
}
