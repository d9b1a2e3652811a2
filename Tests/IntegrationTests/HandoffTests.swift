// The 110 linkage end to end, between two real `hotline serve` processes on 127.0.0.1: one
// is 12345, the other plays 110 (both Hotline, each the other's partner, one shared key). A
// call keyed 9 is transferred; its hand-off waits in 12345's outbox while 110 is down, is
// delivered signed once 110 is up, and both work orders show it with the other's number. A
// hand-off the other way, a status report, and forged, stale, replayed and malformed requests.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Handoffs
import NIOCore
import NIOPosix
import Testing
import Tickets

@Suite(.serialized) struct HandoffTests {
    static let dialplan = Repo.root.appendingPathComponent("Tests/IntegrationTests/Dialplans/handoff.yaml").path
    static let key = HandoffKey(id: "it-2026", secret: Array("integration-test-shared-secret-0123456789".utf8))

    /// A directory with the shared key's file and a handoffs.yaml naming one partner.
    func configure(localName: String, partner: String, webhook: String, targets: [String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-handoff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try Self.writeConfiguration(in: directory, localName: localName, partner: partner, webhook: webhook, targets: targets)
        return directory
    }

    /// Writes `handoffs.yaml` and the key's file into `directory`; returns the YAML's URL.
    static func writeConfiguration(in directory: URL, localName: String, partner: String, webhook: String,
                                   targets: [String]) throws -> URL {
        let secret = directory.appendingPathComponent("partner.key")
        try Data(Self.key.secret + Array("\n".utf8)).write(to: secret)
        try """
            local_name: "\(localName)"
            partners:
              - name: "\(partner)"
                transfer_targets: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))]
                webhook_url: "\(webhook)"
                keys: [{id: "\(Self.key.id)", secret_file: "\(secret.path)"}]
                clock_skew: 2m
                timeout: 2s
                retry: {first: 200ms, max: 500ms, attempts: 1000}
            """.write(to: directory.appendingPathComponent("handoffs.yaml"), atomically: true, encoding: .utf8)
        return directory.appendingPathComponent("handoffs.yaml")
    }

    /// A loopback port nothing listens on now (the partner that is down, started on it later).
    func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    func workOrders(_ server: ServerProcess) async throws -> [[String: Any]] {
        let (status, body) = try await server.http("GET", "/api/tickets")
        #expect(status == 200, "\(body)")
        return try json(body)["items"] as? [[String: Any]] ?? []
    }

    func handoffs(_ server: ServerProcess, _ id: String) async throws -> [[String: Any]] {
        let (status, body) = try await server.http("GET", "/api/tickets/\(id)")
        #expect(status == 200, "\(body)")
        return try json(body)["handoffs"] as? [[String: Any]] ?? []
    }

    /// Polls the work order (the outbox has no push to wait on) until `done`, at most 30 s.
    func awaitHandoff(_ server: ServerProcess, _ id: String, _ done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let handoff = try await handoffs(server, id).first, done(handoff) { return handoff }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the hand-off of \(id) did not get there: \(try await handoffs(server, id))\n\(server.log.suffix(3000))")
        throw CancellationError()
    }

    /// A request signed as the partner signs (or not at all), with its status and body.
    func post(_ server: ServerProcess, _ path: String, body: String, key: HandoffKey? = key, at: Date = Date(),
              nonce: String = UUID().uuidString, headers extra: [(String, String)] = []) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.httpPort)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let key {
            let signature = HandoffSigner.sign(method: "POST", path: path, body: Array(body.utf8), key: key, now: at, nonce: nonce)
            for (name, value) in signature.headers { request.setValue(value, forHTTPHeaderField: name) }
        }
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await testHTTPSession.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func aTransferTo110RoundTripsSignedOnceThePartnerIsUpAndBothWorkOrdersShowIt() async throws {
        // 110 is down: 12345's webhook points at a port nobody listens on yet.
        let port110 = try freePort()
        let home = try configure(localName: "12345", partner: "110", webhook: "http://127.0.0.1:\(port110)/api/handoffs",
                                 targets: ["sip:110@127.0.0.1:5999"])
        let centre = try await ServerProcess(directory: home, dialplan: Self.dialplan,
                                             extra: ["--handoffs", home.appendingPathComponent("handoffs.yaml").path])
        let result = try await centre.sipp("transfer-accepted")
        #expect(result.status == 0, "sipp: \(result.stderr.suffix(2000))")
        let order = try #require(try await workOrders(centre).first)
        let id = try #require(order["id"] as? String)
        #expect(order["business_line"] as? String == "police_linkage")
        #expect(order["subject"] as? String == "police assistance")
        #expect(try await workOrders(centre).count == 1, "the call's end opened no second work order")

        // Retried while 110 is down (the REFER succeeded regardless).
        let failing = try await awaitHandoff(centre, id) { ($0["attempts"] as? Int ?? 0) >= 2 }
        #expect(failing["state"] as? String == "pending")
        #expect(failing["direction"] as? String == "out")
        #expect(failing["last_error"] as? String != nil)

        // 110 comes up on that port; the next attempt is delivered and acknowledged.
        let police = try configure(localName: "110", partner: "12345",
                                   webhook: "http://127.0.0.1:\(centre.httpPort)/api/handoffs",
                                   targets: ["sip:110@127.0.0.1:5999"])
        let partner = try await ServerProcess(directory: police, dialplan: Self.dialplan,
                                              extra: ["--http", "127.0.0.1:\(port110)",
                                                      "--handoffs", police.appendingPathComponent("handoffs.yaml").path])
        #expect(partner.httpPort == port110)
        let delivered = try await awaitHandoff(centre, id) { $0["state"] as? String == "delivered" }
        let theirs = try #require(try await workOrders(partner).first)
        let theirID = try #require(theirs["id"] as? String)
        #expect(delivered["partner_reference"] as? String == theirID, "110's acknowledgement names its work order")
        #expect((delivered["attempts"] as? Int ?? 0) >= 3)
        #expect(theirs["channel"] as? String == "handoff")
        #expect(theirs["category"] as? String == "help")
        #expect(theirs["subject"] as? String == "police assistance")
        let received = try #require(try await handoffs(partner, theirID).first)
        #expect(received["direction"] as? String == "in")
        #expect(received["partner"] as? String == "12345")
        #expect(received["state"] as? String == "received")
        #expect(received["partner_reference"] as? String == id, "110's work order names ours")
        #expect(received["id"] as? String == delivered["id"] as? String)

        // 110 reports it handled the matter, signed the same way: it shows on our work order.
        let handoffID = try #require(delivered["id"] as? String)
        let (reported, reportBody) = try await post(centre, "/api/handoffs/\(handoffID)/status",
                                                    body: #"{"status": "handled", "note": "officers on scene"}"#)
        #expect(reported == 200, "\(reportBody)")
        let shown = try #require(try await handoffs(centre, id).first)
        #expect(shown["partner_status"] as? String == "handled")
        #expect(shown["partner_note"] as? String == "officers on scene")

        // The other way: a call at 110 transferred to 12345 reaches us the same way.
        let back = try await partner.sipp("transfer-accepted")
        #expect(back.status == 0, "sipp: \(back.stderr.suffix(2000))")
        let theirCall = try #require(try await workOrders(partner).first { $0["channel"] as? String == "phone" })
        let theirCallID = try #require(theirCall["id"] as? String)
        let sentBack = try await awaitHandoff(partner, theirCallID) { $0["state"] as? String == "delivered" }
        let ours = try #require(try await workOrders(centre).first { $0["channel"] as? String == "handoff" })
        #expect(sentBack["partner_reference"] as? String == ours["id"] as? String)

        #expect(await partner.stop() == 0)
        #expect(await centre.stop() == 0)
    }

    @Test func forgedStaleReplayedAndMalformedHandOffsAreRefusedAndNothingIsStored() async throws {
        let home = try configure(localName: "12345", partner: "110", webhook: "http://127.0.0.1:9/api/handoffs",
                                 targets: ["sip:110@127.0.0.1:5999"])
        let centre = try await ServerProcess(directory: home, dialplan: Self.dialplan,
                                             extra: ["--handoffs", home.appendingPathComponent("handoffs.yaml").path])
        let matter = HandoffMatter(handoffID: "110-h-1", from: "110", workOrder: "110-0042", call: nil, caller: "13900139000",
                                   businessLine: "noise", category: "complaint", subject: "noise at night",
                                   details: "construction after 22:00", acceptedAt: Date(), handedOffAt: Date()).encoded()

        func refused(_ answer: (Int, String), _ status: Int, _ code: String) throws {
            #expect(answer.0 == status, "\(answer.1)")
            #expect(try json(answer.1)["code"] as? String == code, "\(answer.1)")
        }
        try refused(try await post(centre, "/api/handoffs", body: matter, key: nil), 401, "signature_missing")
        let forger = HandoffKey(id: Self.key.id, secret: Array("someone-else's-secret-of-32-bytes!!".utf8))
        try refused(try await post(centre, "/api/handoffs", body: matter, key: forger), 401, "bad_signature")
        try refused(try await post(centre, "/api/handoffs", body: matter, key: HandoffKey(id: "guess", secret: Self.key.secret)),
                    401, "unknown_key")
        try refused(try await post(centre, "/api/handoffs", body: matter, at: Date().addingTimeInterval(-600)), 401,
                    "stale_timestamp")
        // An admin's token is no partner's signature.
        try refused(try await post(centre, "/api/handoffs", body: matter, key: nil,
                                   headers: [("Authorization", "Bearer anything")]), 401, "signature_missing")
        try refused(try await post(centre, "/api/handoffs", body: #"{"handoff_id": "x"}"#), 400, "invalid_request")
        #expect(try await workOrders(centre).isEmpty, "nothing stored")

        // The genuine one, then its exact replay (same nonce), then the partner's retry (new nonce).
        let (created, createdBody) = try await post(centre, "/api/handoffs", body: matter, nonce: "once")
        #expect(created == 201, "\(createdBody)")
        let workOrder = try #require(try json(createdBody)["work_order"] as? String)
        try refused(try await post(centre, "/api/handoffs", body: matter, nonce: "once"), 401, "replayed")
        let (again, againBody) = try await post(centre, "/api/handoffs", body: matter)
        #expect(again == 200, "\(againBody)")
        #expect(try json(againBody)["work_order"] as? String == workOrder)
        #expect(try json(againBody)["duplicate"] as? Bool == true)
        #expect(try await workOrders(centre).count == 1, "one work order for one hand-off id")
        let handoff = try #require(try await handoffs(centre, workOrder).first)
        #expect(handoff["partner_reference"] as? String == "110-0042")

        // A status report on a hand-off we do not have.
        try refused(try await post(centre, "/api/handoffs/nope/status", body: #"{"status": "handled"}"#), 404, "not_found")
        #expect(await centre.stop() == 0)
    }
}
