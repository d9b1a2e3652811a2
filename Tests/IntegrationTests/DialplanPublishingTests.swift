import Foundation
import Testing
import Tickets
import TicketsSQLite

/// Publishing a dialplan while calls are up: checked first, archived, live for new calls,
/// and never disturbing a call in progress.
@Suite(.serialized)
struct DialplanPublishingTests {
    /// A private copy of bench.yaml, since publishing rewrites the live file.
    static func privateBench() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-dp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("bench.yaml").path
        try FileManager.default.copyItem(atPath: Repo.root.appendingPathComponent("Dialplans/bench.yaml").path, toPath: path)
        return path
    }

    @Test func aVersionPublishedUnderLoadTakesNewCallsAndLeavesCallsInProgressAlone() async throws {
        _ = try SIPp.require() // before the flood runs unawaited
        let live = try Self.privateBench()
        let server = try await ServerProcess(dialplan: live)
        let original = try String(contentsOfFile: live, encoding: .utf8)
        // 120 key-3 calls over 6 s; each lasts about 3 s, so calls are always in flight.
        async let flood = server.sipp("ivr-key3-info", calls: 120, rate: 20, timeout: .seconds(120))
        // Publish once calls of the first version are up (their tickets are open), however
        // long the machine's load makes SIPp take to get going.
        try await waitUntil("calls in progress on the first version", timeout: .seconds(30)) {
            let calls = (try? SQLiteTicketReader(path: server.database).list(limit: 10_000, since: nil)) ?? []
            return calls.count { $0.disposition == nil } >= 5
        }
        let (status, body) = try await server.http("PUT", "/api/dialplans/bench", body: original + "\n# version 2: same flow, new words in a comment\n")
        #expect(status == 200, "\(body)")
        let result = try await flood
        #expect(result.status == 0, "zero failed calls: \(result.stderr.suffix(1500))")
        let (_, versions) = try await server.http("GET", "/api/dialplans/bench/versions")
        #expect(versions.components(separatedBy: "\"version\"").count - 1 == 2, "\(versions)")
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        #expect(tickets.count == 120)
        #expect(tickets.allSatisfy { $0.disposition == .completedInIVR })
        let byVersion = Dictionary(grouping: tickets, by: \.dialplanVersion)
        #expect(byVersion.count == 2, "tickets show both versions: \(byVersion.mapValues(\.count))")
        // Every call of the old version arrived before every call of the new one.
        if byVersion.count == 2 {
            let groups = byVersion.values.sorted { $0.map(\.arrivedAt).min()! < $1.map(\.arrivedAt).min()! }
            #expect(groups[0].map(\.arrivedAt).max()! <= groups[1].map(\.arrivedAt).min()!)
        }
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: live).deletingLastPathComponent().path)
    }

    /// A call ringing (12346 rings 2 s before answering) when a new version is published runs
    /// on, and is filed under, the version it started on: the ticket opened at the answer,
    /// after the publish, must not name the new one.
    @Test func aCallRingingAcrossAPublishIsFiledUnderTheVersionItRunsOn() async throws {
        let live = try Self.privateBench()
        let server = try await ServerProcess(dialplan: live)
        let original = try String(contentsOfFile: live, encoding: .utf8)
        let udp = try RawUDP()
        let port = udp.port
        let sdp = "v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        let dialog = "From: <sip:13800000000@127.0.0.1:\(port)>;tag=pub1\r\nCall-ID: ringing-publish@127.0.0.1\r\nMax-Forwards: 70\r\n"
        udp.send("INVITE sip:12346@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(port);branch=z9hG4bKpub1;rport\r\n\(dialog)"
            + "To: <sip:12346@127.0.0.1>\r\nCSeq: 1 INVITE\r\nContact: <sip:raw@127.0.0.1:\(port)>\r\n"
            + "Content-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n\(sdp)", to: server.sipPort)
        #expect(udp.receive(startingWith: "SIP/2.0 180", timeout: .seconds(5)) != nil, "ringing")
        let (status, body) = try await server.http("PUT", "/api/dialplans/bench", body: original + "\n# version 2, published while 12346 rings\n")
        #expect(status == 200, "\(body)")
        let published = try JSONDecoder().decode([String: String].self, from: Data(body.utf8))
        let ok = try #require(udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5)), "answered after the ring")
        let toTag = try #require(ok.sipHeader("To")?.firstMatch(of: /tag=([^;>\s]+)/)).1
        udp.send("ACK sip:raw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(port);branch=z9hG4bKpub2;rport\r\n\(dialog)"
            + "To: <sip:12346@127.0.0.1>;tag=\(toTag)\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n", to: server.sipPort)
        udp.send("BYE sip:raw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(port);branch=z9hG4bKpub3;rport\r\n\(dialog)"
            + "To: <sip:12346@127.0.0.1>;tag=\(toTag)\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n", to: server.sipPort)
        #expect(udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5))?.sipHeader("CSeq") == "2 BYE")
        #expect(await server.stop() == 0, "clean shutdown")
        let ticket = try #require(try server.tickets().first { $0.callID == "ringing-publish@127.0.0.1" })
        #expect(ticket.answeredAt != nil)
        #expect(published["previous"] != published["version"])
        #expect(ticket.dialplanVersion == published["previous"], "filed under \(ticket.dialplanVersion), published \(published)")
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: live).deletingLastPathComponent().path)
    }

    @Test func aBadVersionIsRefusedWithItsLocationsAndTheGoodOneStays() async throws {
        let live = try Self.privateBench()
        let server = try await ServerProcess(dialplan: live)
        let (_, before) = try await server.http("GET", "/api/dialplans")
        let bad = try String(contentsOfFile: live, encoding: .utf8).replacingOccurrences(of: "timeout: 5s", with: "timout: 5s")
        let (status, body) = try await server.http("PUT", "/api/dialplans/bench", body: bad)
        #expect(status == 422)
        #expect(body.contains("\"line\" : 23") && body.contains("unknown_key") && body.contains("timeout"), "\(body)")
        let (_, after) = try await server.http("GET", "/api/dialplans")
        #expect(before == after, "the live version did not change")
        #expect(try String(contentsOfFile: live, encoding: .utf8) != bad, "the file on disk was not replaced")
        // SIGHUP with a broken file on disk: refused too, calls still work.
        try bad.write(toFile: live, atomically: true, encoding: .utf8)
        kill(server.pid, SIGHUP)
        let call = try await server.sipp("ivr-key3-info")
        #expect(call.status == 0, "\(call.stderr)")
        let (_, afterHUP) = try await server.http("GET", "/api/dialplans")
        #expect(before == afterHUP)
        #expect(await server.stop() == 0)
        #expect(server.log.contains("dialplan reload refused"))
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: live).deletingLastPathComponent().path)
    }

    @Test func theReloadCommandPublishesTheFileOnDisk() async throws {
        let live = try Self.privateBench()
        let server = try await ServerProcess(dialplan: live)
        let (_, before) = try await server.http("GET", "/api/dialplans")
        try (try String(contentsOfFile: live, encoding: .utf8) + "\n# edited on disk\n").write(toFile: live, atomically: true, encoding: .utf8)
        let result = try await run(Repo.binary, ["dialplan", "reload", "--http", "127.0.0.1:\(server.httpPort)"])
        #expect(result.status == 0, "\(result.stderr)")
        let (_, after) = try await server.http("GET", "/api/dialplans")
        #expect(before != after)
        #expect(result.stdout.contains("\"previous\""))
        #expect(await server.stop() == 0)
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: live).deletingLastPathComponent().path)
    }

    /// Eight PUTs at once: published one at a time, each replacing the one before (no lost
    /// update), listed in that order, and the last one is live, in memory and on disk.
    @Test func eightConcurrentPublishesGetConsecutiveVersionsAndTheLastIsLive() async throws {
        let live = try Self.privateBench()
        let server = try await ServerProcess(dialplan: live)
        let original = try String(contentsOfFile: live, encoding: .utf8)
        let (_, before) = try await server.http("GET", "/api/dialplans")
        let initial = try #require(before.firstMatch(of: /"version" : "([^"]+)"/)).1
        let texts = (0..<8).map { original + "\n# concurrent version \($0)\n" }
        let answers = try await withThrowingTaskGroup(of: (Int, String, Int).self) { group in
            for (i, text) in texts.enumerated() {
                group.addTask { let (status, body) = try await server.http("PUT", "/api/dialplans/bench", body: text); return (i, body, status) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.allSatisfy { $0.2 == 200 }, "\(answers)")
        struct Published: Decodable { var version: String; var previous: String }
        let published = try answers.map { try JSONDecoder().decode(Published.self, from: Data($0.1.utf8)) }
        #expect(Set(published.map(\.version)).count == 8, "distinct versions")
        let next = Dictionary(published.map { ($0.previous, $0.version) }, uniquingKeysWith: { a, _ in a })
        #expect(next.count == 8, "no two publishes replaced the same version: \(published.map(\.previous))")
        var chain = [String(initial)]
        while let following = next[chain.last!], chain.count <= 8 { chain.append(following) }
        #expect(chain.count == 9, "the initial version, then the eight, each after the one before: \(chain)")

        let (_, versions) = try await server.http("GET", "/api/dialplans/bench/versions")
        struct Listed: Decodable { var version: String; var active: Bool }
        let listed = try JSONDecoder().decode([Listed].self, from: Data(versions.utf8))
        #expect(listed.map(\.version) == chain, "listed in publication order")
        #expect(listed.filter(\.active).map(\.version) == [chain.last!])
        let (_, after) = try await server.http("GET", "/api/dialplans")
        #expect(after.contains("\"\(chain.last!)\""), "the last one is live: \(after)")
        let lastIndex = try #require(zip(published, answers).first { $0.0.version == chain.last }?.1.0)
        #expect(try String(contentsOfFile: live, encoding: .utf8) == texts[lastIndex], "and on disk")
        #expect(await server.stop() == 0)
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: live).deletingLastPathComponent().path)
    }

    @Test func rollbackMakesThePreviousVersionLiveAgain() async throws {
        let live = try Self.privateBench()
        let server = try await ServerProcess(dialplan: live)
        let original = try String(contentsOfFile: live, encoding: .utf8)
        let (_, v1) = try await server.http("GET", "/api/dialplans")
        let (s2, _) = try await server.http("PUT", "/api/dialplans/bench", body: original + "\n# v2\n")
        #expect(s2 == 200)
        let (s3, rolled) = try await server.http("POST", "/api/dialplans/bench/rollback")
        #expect(s3 == 200, "\(rolled)")
        let (_, now) = try await server.http("GET", "/api/dialplans")
        #expect(now == v1)
        #expect(try String(contentsOfFile: live, encoding: .utf8) == original)
        let (missing, _) = try await server.http("GET", "/api/dialplans/nosuch")
        #expect(missing == 404)
        #expect(await server.stop() == 0)
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: live).deletingLastPathComponent().path)
    }
}
