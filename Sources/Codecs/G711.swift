// Codecs: G.711 in Swift, Opus on libopus, WAV files and in-band DTMF (Goertzel). Per-frame
// calls work in caller-provided buffers and do not allocate.

/// ITU-T G.711 companding, table-driven, after the reference algorithm of
/// Sun Microsystems' public-domain g711.c (the one every open-source stack
/// reuses), so our bytes match theirs.
///
/// Encoding uses a lookup on the top 14 (µ-law) or 13 (A-law) bits of the
/// sample, which is exactly what the reference discards the rest of;
/// decoding is a 256-entry table.
public enum G711 {
    /// The two companding laws.
    public enum Law: Sendable, Hashable, CaseIterable {
        /// µ-law (North America, Japan; and most of China's VoIP trunks): PCMU.
        case muLaw
        /// A-law (Europe, China's PSTN): PCMA.
        case aLaw

        /// The SDP encoding name (RFC 3551 §4.5.14).
        public var encodingName: String { self == .muLaw ? "PCMU" : "PCMA" }
        /// The static RTP payload type (RFC 3551 §6): 0 or 8.
        public var payloadType: UInt8 { self == .muLaw ? 0 : 8 }
        /// The byte that decodes to silence: 0xFF for µ-law, 0xD5 for A-law.
        public var silence: UInt8 { self == .muLaw ? 0xFF : 0xD5 }

        /// The law for an SDP encoding name, case-insensitively (`pcmu`, `PCMA`).
        public init?(encodingName: String) {
            switch encodingName.uppercased() {
            case "PCMU": self = .muLaw
            case "PCMA": self = .aLaw
            default: return nil
            }
        }
    }

    // MARK: reference algorithm (used to build the tables)

    static let muLawBias = 0x84
    static let muLawClip = 8159
    static let muLawSegmentEnds = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]
    static let aLawSegmentEnds = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]

    static func segment(_ value: Int, _ ends: [Int]) -> Int {
        ends.firstIndex { value <= $0 } ?? ends.count
    }

    /// µ-law of a sample already shifted right by 2 (14-bit), as `linear2ulaw`.
    static func referenceMuLaw(shifted: Int) -> UInt8 {
        var value = shifted
        let mask: Int
        if value < 0 {
            value = -value
            mask = 0x7F
        } else {
            mask = 0xFF
        }
        value = min(value, muLawClip) + (muLawBias >> 2)
        let seg = segment(value, muLawSegmentEnds)
        if seg >= 8 { return UInt8(0x7F ^ mask) }
        return UInt8(((seg << 4) | ((value >> (seg + 1)) & 0xF)) ^ mask)
    }

    /// A-law of a sample already shifted right by 3 (13-bit), as `linear2alaw`.
    static func referenceALaw(shifted: Int) -> UInt8 {
        var value = shifted
        let mask: Int
        if value >= 0 {
            mask = 0xD5
        } else {
            mask = 0x55
            value = -value - 1
        }
        let seg = segment(value, aLawSegmentEnds)
        if seg >= 8 { return UInt8(0x7F ^ mask) }
        let quantised = seg < 2 ? (value >> 1) & 0xF : (value >> seg) & 0xF
        return UInt8(((seg << 4) | quantised) ^ mask)
    }

    static func referenceMuLawDecode(_ byte: UInt8) -> Int16 {
        let u = Int(~byte)
        var t = ((u & 0x0F) << 3) + muLawBias
        t <<= (u & 0x70) >> 4
        return Int16(u & 0x80 != 0 ? muLawBias - t : t - muLawBias)
    }

    static func referenceALawDecode(_ byte: UInt8) -> Int16 {
        let a = Int(byte ^ 0x55)
        var t = (a & 0x0F) << 4
        let seg = (a & 0x70) >> 4
        switch seg {
        case 0: t += 8
        case 1: t += 0x108
        default: t = (t + 0x108) << (seg - 1)
        }
        return Int16(a & 0x80 != 0 ? t : -t)
    }

    // MARK: tables

    /// µ-law byte for each 14-bit value (sample >> 2), offset by 8192.
    @usableFromInline static let muLawEncodeTable: [UInt8] = (-8192..<8192).map { referenceMuLaw(shifted: $0) }
    /// A-law byte for each 13-bit value (sample >> 3), offset by 4096.
    @usableFromInline static let aLawEncodeTable: [UInt8] = (-4096..<4096).map { referenceALaw(shifted: $0) }
    @usableFromInline static let muLawDecodeTable: [Int16] = (0...255).map { referenceMuLawDecode(UInt8($0)) }
    @usableFromInline static let aLawDecodeTable: [Int16] = (0...255).map { referenceALawDecode(UInt8($0)) }

    // MARK: public API

    /// One sample to µ-law. `encodeMuLaw(0) == 0xFF`.
    @inlinable
    public static func encodeMuLaw(_ sample: Int16) -> UInt8 {
        muLawEncodeTable[Int(sample >> 2) + 8192]
    }

    /// One sample to A-law. `encodeALaw(0) == 0xD5`.
    @inlinable
    public static func encodeALaw(_ sample: Int16) -> UInt8 {
        aLawEncodeTable[Int(sample >> 3) + 4096]
    }

    /// One µ-law byte to a linear sample.
    @inlinable
    public static func decodeMuLaw(_ byte: UInt8) -> Int16 {
        muLawDecodeTable[Int(byte)]
    }

    /// One A-law byte to a linear sample.
    @inlinable
    public static func decodeALaw(_ byte: UInt8) -> Int16 {
        aLawDecodeTable[Int(byte)]
    }

    /// Encodes `pcm` into the first `pcm.count` bytes of `output`.
    /// - Precondition: `output.count >= pcm.count`.
    public static func encode(_ pcm: UnsafeBufferPointer<Int16>, law: Law, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= pcm.count, "G.711 output buffer too small")
        let (table, shift, offset) = law == .muLaw ? (muLawEncodeTable, 2, 8192) : (aLawEncodeTable, 3, 4096)
        table.withUnsafeBufferPointer { table in
            for i in 0..<pcm.count {
                output[i] = table[Int(pcm[i] >> shift) + offset]
            }
        }
    }

    /// Decodes `payload` into the first `payload.count` samples of `pcm`.
    /// - Precondition: `pcm.count >= payload.count`.
    public static func decode(_ payload: UnsafeRawBufferPointer, law: Law, into pcm: UnsafeMutableBufferPointer<Int16>) {
        precondition(pcm.count >= payload.count, "G.711 PCM buffer too small")
        (law == .muLaw ? muLawDecodeTable : aLawDecodeTable).withUnsafeBufferPointer { table in
            for i in 0..<payload.count {
                pcm[i] = table[Int(payload[i])]
            }
        }
    }

    /// Encodes a whole array: for start-up work such as prompt encoding.
    public static func encode(_ pcm: [Int16], law: Law) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pcm.count) { output, count in
            pcm.withUnsafeBufferPointer { encode($0, law: law, into: UnsafeMutableRawBufferPointer(output)) }
            count = pcm.count
        }
    }

    /// Decodes a whole array.
    public static func decode(_ payload: [UInt8], law: Law) -> [Int16] {
        [Int16](unsafeUninitializedCapacity: payload.count) { pcm, count in
            payload.withUnsafeBytes { decode($0, law: law, into: pcm) }
            count = payload.count
        }
    }
}
