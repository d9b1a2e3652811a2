import Foundation
import SIPAuth
import Testing
@testable import HotlineServer

/// Where the key of digest nonces comes from: a shared file, or the system's secure random source.
@Suite struct NonceSecretTests {
    static func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nonce-\(UUID().uuidString)").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aSecretFileKeysNoncesWithTheSHA256OfItsContents() throws {
        let contents = "8f3c2b1a9e7d6c5b4a39281706f5e4d3\n"
        let path = try Self.temporaryFile(contents)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = ServerConfiguration()
        configuration.nonceSecretPath = path
        let secret = try HotlineServer.nonceSecret(configuration)
        #expect(secret == DigestHashing.sha256(Array(contents.utf8)))
        // Two servers reading the same file accept each other's nonces.
        #expect(try HotlineServer.nonceSecret(configuration) == secret)
        var issuer = DigestAuthenticator(secret: secret)
        let nonce = issuer.makeNonce(now: UnixTime(milliseconds: 1_000))
        let peer = DigestAuthenticator(secret: try HotlineServer.nonceSecret(configuration))
        #expect(peer.nonceStamp(nonce) != nil)
    }

    @Test func aMissingOrShortSecretFileStopsStartUp() throws {
        var configuration = ServerConfiguration()
        configuration.nonceSecretPath = "/nonexistent/hotline-nonce-secret"
        #expect(throws: HotlineServer.StartError.self) { try HotlineServer.nonceSecret(configuration) }
        let path = try Self.temporaryFile("fifteen-bytes!!")
        defer { try? FileManager.default.removeItem(atPath: path) }
        configuration.nonceSecretPath = path
        let error = #expect(throws: HotlineServer.StartError.self) { try HotlineServer.nonceSecret(configuration) }
        #expect(error?.description.contains("at least 16") == true)
    }

    @Test func serversWithoutAFileDrawDifferentRandomSecrets() throws {
        let configuration = ServerConfiguration()
        #expect(configuration.nonceSecretPath == nil)
        let first = try HotlineServer.nonceSecret(configuration)
        let second = try HotlineServer.nonceSecret(configuration)
        #expect(first.count == 32 && second.count == 32)
        #expect(first != second)
        // A nonce of one is not accepted by the other (it would be, were the key fixed).
        var issuer = DigestAuthenticator(secret: first)
        let nonce = issuer.makeNonce(now: UnixTime(milliseconds: 1_000))
        #expect(DigestAuthenticator(secret: second).nonceStamp(nonce) == nil)
        #expect(DigestAuthenticator(secret: first).nonceStamp(nonce) != nil)
    }
}
