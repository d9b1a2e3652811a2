import SIPAuth
import Testing

@Suite("MD5, SHA-256 and HMAC-SHA-256 against their published vectors")
struct HashingTests {
    func md5(_ s: String) -> String { DigestHashing.hex(DigestHashing.md5(Array(s.utf8))) }
    func sha256(_ s: String) -> String { DigestHashing.hex(DigestHashing.sha256(Array(s.utf8))) }

    @Test("RFC 1321 §A.5 test suite")
    func md5Suite() {
        #expect(md5("") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(md5("a") == "0cc175b9c0f1b6a831c399e269772661")
        #expect(md5("abc") == "900150983cd24fb0d6963f7d28e17f72")
        #expect(md5("message digest") == "f96b697d7cb7938d525a2f31aaf161d0")
        #expect(md5("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b")
        #expect(md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == "d174ab98d277d9f5a5611c2c9f419d9f")
        #expect(md5(String(repeating: "1234567890", count: 8)) == "57edf4a22be3c955ac49da2e2107b67a")
    }

    @Test("FIPS 180-2 appendix B vectors, and block-boundary lengths")
    func sha256Vectors() {
        #expect(sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(sha256(String(repeating: "a", count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // 55, 56 and 64 bytes straddle the padding boundary.
        #expect(sha256(String(repeating: "a", count: 55)) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        #expect(sha256(String(repeating: "a", count: 56)) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
        #expect(sha256(String(repeating: "a", count: 64)) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }

    @Test("RFC 4231 HMAC-SHA-256 test cases 1, 2, 6 and 7")
    func hmacVectors() {
        func hmac(_ key: [UInt8], _ data: [UInt8]) -> String { DigestHashing.hex(DigestHashing.hmacSHA256(key: key, message: data)) }
        #expect(hmac([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8))
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(hmac(Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(hmac([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(hmac([UInt8](repeating: 0xaa, count: 131),
                     Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8))
            == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    }

    @Test("hex round trip and constant-time comparison")
    func hexAndCompare() {
        #expect(DigestHashing.bytes(fromHex: "00ff10Ab") == [0, 255, 16, 171])
        #expect(DigestHashing.bytes(fromHex: "0g") == nil)
        #expect(DigestHashing.bytes(fromHex: "abc") == nil)
        #expect(DigestHashing.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!DigestHashing.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!DigestHashing.constantTimeEquals([1, 2], [1, 2, 3]))
    }
}
