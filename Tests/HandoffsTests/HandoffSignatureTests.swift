import ConfigFiles
import Foundation
import Testing
import Handoffs

/// The hand-off signature: made and checked as docs/handoffs.md says, refused when anything
/// about the request changes, its key is unknown, its time is stale or its nonce is reused.
@Suite struct HandoffSignatureTests {
    static let key = HandoffKey(id: "2026-01", secret: Array("0123456789abcdef0123456789abcdef".utf8))
    static let previous = HandoffKey(id: "2025-07", secret: Array("fedcba9876543210fedcba9876543210".utf8))
    static let body = Array(#"{"handoff_id":"h-1"}"#.utf8)
    /// 2026-01-01T00:00:00Z.
    static let signedAt = Date(timeIntervalSince1970: 1_767_225_600)

    func sign(_ body: [UInt8] = body, key: HandoffKey = key, at: Date = signedAt) -> HandoffSignature {
        HandoffSigner.sign(method: "POST", path: "/api/handoffs", body: body, key: key, now: at, nonce: "nonce-1")
    }

    func verify(_ signature: HandoffSignature, body: [UInt8] = body, path: String = "/api/handoffs",
                keys: [HandoffKey] = [key], at: Date = signedAt) -> Result<HandoffKey, HandoffSignatureError> {
        HandoffSigner.verify(signature, method: "POST", path: path, body: body, keys: keys, now: at, skew: .seconds(300))
    }

    @Test func theSignatureIsTheHMACOfTheCanonicalStringAsDocumented() {
        // Computed independently (Python's hmac) over "v1\nPOST\n/api/handoffs\n1767225600\nnonce-1\n" + body.
        let signature = sign()
        #expect(signature.signature == "v1=862f0cb656d7e763f626ea34206044aee71a412bf00205afe22094888968dc2a")
        #expect(signature.timestamp == 1_767_225_600)
        #expect(signature.keyID == "2026-01")
        #expect(signature.headers.map(\.0) == ["X-Hotline-Key-Id", "X-Hotline-Timestamp", "X-Hotline-Nonce", "X-Hotline-Signature"])
        #expect(verify(signature) == .success(Self.key))
    }

    @Test func aTamperedBodyPathTimestampOrNonceIsRefused() {
        let signature = sign()
        #expect(verify(signature, body: Array(#"{"handoff_id":"h-2"}"#.utf8)) == .failure(.badSignature))
        #expect(verify(signature, path: "/api/handoffs/h-1/status") == .failure(.badSignature))
        var moved = signature
        moved.timestamp += 1
        #expect(verify(moved) == .failure(.badSignature))
        var renonced = signature
        renonced.nonce = "nonce-2"
        #expect(verify(renonced) == .failure(.badSignature))
        var garbled = signature
        garbled.signature = "v1=zz"
        #expect(verify(garbled) == .failure(.badSignature))
        garbled.signature = String(signature.signature.dropFirst(3)) // no scheme
        #expect(verify(garbled) == .failure(.badSignature))
    }

    @Test func aWrongSecretOrAnUnknownKeyIdIsRefused() {
        let forged = sign(key: HandoffKey(id: "2026-01", secret: Array("not the shared secret, but 32 by".utf8)))
        #expect(verify(forged) == .failure(.badSignature))
        let unknown = sign(key: HandoffKey(id: "guess", secret: Self.key.secret))
        #expect(verify(unknown) == .failure(.unknownKey("guess")))
    }

    @Test func thePreviousKeyIsAcceptedDuringARotation() {
        let signature = sign(key: Self.previous)
        #expect(verify(signature, keys: [Self.key, Self.previous]) == .success(Self.previous))
        #expect(verify(signature, keys: [Self.key]) == .failure(.unknownKey("2025-07")), "once retired, refused")
    }

    @Test func aTimestampOutsideTheSkewIsRefusedEitherWay() {
        let signature = sign()
        #expect(verify(signature, at: Self.signedAt.addingTimeInterval(300)) == .success(Self.key))
        #expect(verify(signature, at: Self.signedAt.addingTimeInterval(301))
            == .failure(.stale(timestamp: 1_767_225_600, now: 1_767_225_901, skewSeconds: 300)))
        #expect(verify(signature, at: Self.signedAt.addingTimeInterval(-301))
            == .failure(.stale(timestamp: 1_767_225_600, now: 1_767_225_299, skewSeconds: 300)))
    }

    @Test func aReplayedNonceIsRefusedWithinTheWindowAndForgottenAfter() {
        var guardian = HandoffReplayGuard(skew: .seconds(300))
        let first = guardian.admit(keyID: "2026-01", nonce: "n", timestamp: 1_767_225_600, now: Self.signedAt)
        let replayed = guardian.admit(keyID: "2026-01", nonce: "n", timestamp: 1_767_225_600, now: Self.signedAt.addingTimeInterval(10))
        let otherKey = guardian.admit(keyID: "2025-07", nonce: "n", timestamp: 1_767_225_600, now: Self.signedAt)
        #expect(first)
        #expect(!replayed)
        #expect(otherKey, "per key")
        // Past timestamp + skew the request is stale anyway: the nonce is forgotten.
        let later = guardian.admit(keyID: "2026-01", nonce: "m", timestamp: 1_767_225_900, now: Self.signedAt.addingTimeInterval(301))
        #expect(later)
        #expect(guardian.count == 1)
    }

    @Test func theHeadersAreReadWhateverTheirCaseAndMissingOnesAreNamed() {
        let headers = ["x-hotline-key-id": "2026-01", "x-hotline-timestamp": "1767225600", "x-hotline-nonce": "nonce-1",
                       "x-hotline-signature": sign().signature]
        #expect(HandoffSignature.parse({ headers[$0.lowercased()] }) == .success(sign()))
        #expect(HandoffSignature.parse({ _ in nil }) == .failure(.missingHeader("X-Hotline-Key-Id")))
        var bad = headers
        bad["x-hotline-timestamp"] = "yesterday"
        #expect(HandoffSignature.parse({ bad[$0.lowercased()] }) == .failure(.malformedHeader("X-Hotline-Timestamp")))
    }

    @Test func retriesBackOffExponentiallyUpToTheMaximumThenGiveUp() {
        let policy = HandoffRetryPolicy(first: .seconds(2), maximum: .seconds(10), attempts: 5)
        let t = Self.signedAt
        #expect(policy.nextAttempt(after: 1, failedAt: t) == t.addingTimeInterval(2))
        #expect(policy.nextAttempt(after: 2, failedAt: t) == t.addingTimeInterval(4))
        #expect(policy.nextAttempt(after: 3, failedAt: t) == t.addingTimeInterval(8))
        #expect(policy.nextAttempt(after: 4, failedAt: t) == t.addingTimeInterval(10))
        #expect(policy.nextAttempt(after: 5, failedAt: t) == nil)
    }
}
