import Foundation
import Testing
import Tickets
import TicketsSQLite

/// Issue 5's "done when": flood the real server with SIPp, `kill -9` it mid-run, restart it on
/// the same database, and find a ticket for every call SIPp saw answered; the calls cut off
/// are closed as `interrupted` with their last known times.
@Suite(.serialized)
struct TicketFloodTests {
    /// The Call-IDs of the INVITEs SIPp got a 200 OK for, from its `-trace_msg` log.
    static func answeredCallIDs(_ log: String) -> Set<String> {
        var answered = Set<String>()
        // Drop the CRs first: a CRLF is one Character in Swift, so "\n" would not split it.
        let log = String(decoding: log.utf8.filter { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        // Each message starts with a line of dashes and the time, then "UDP message received".
        for block in log.components(separatedBy: "\n----------------------------------------------- ") {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.contains(where: { $0.contains("message received") }),
                  let status = lines.first(where: { $0.hasPrefix("SIP/2.0 ") }), status.hasPrefix("SIP/2.0 200"),
                  let cseq = lines.first(where: { $0.lowercased().hasPrefix("cseq:") }), cseq.hasSuffix("INVITE"),
                  let callID = lines.first(where: { $0.lowercased().hasPrefix("call-id:") })
            else { continue }
            answered.insert(callID.dropFirst("call-id:".count).trimmingCharacters(in: .whitespaces))
        }
        return answered
    }

    @Test func killMinus9MidFloodLosesNoAnsweredCallsTicket() async throws {
        _ = try SIPp.require() // before the flood runs unawaited
        let server = try await ServerProcess() // durability full, the default
        // 300 key-3 calls at 30 calls/s; each lasts about 3.5 s, so ~100 are up at any moment
        // (enough to cut many off, light enough not to starve the suites running beside it).
        // After the kill SIPp's calls in flight time out (8 s at most) and its later INVITEs go
        // unanswered: bounded well under a minute.
        async let flood = server.sipp("ivr-key3-info", calls: 300, rate: 30,
                                      extra: ["-recv_timeout", "8000", "-timeout", "50s"], timeout: .seconds(60))
        // Kill it once calls have both completed and are up (read beside the running server, as
        // the CLI does), whatever the machine's load makes of the timing.
        var midRun = false
        let deadline = ContinuousClock.now + .seconds(30)
        while !midRun, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            guard let calls = try? SQLiteTicketReader(path: server.database).list(limit: 10_000, since: nil) else { continue }
            midRun = calls.count { $0.disposition == .completedInIVR } >= 10 && calls.count { $0.disposition == nil } >= 30
        }
        #expect(midRun, "the flood got under way")
        let killedAt = Date()
        await server.kill9()
        let result = try await flood
        let log = try #require(server.messagesLog("ivr-key3-info").first, "SIPp's message log")
        let answered = Self.answeredCallIDs(log)
        #expect(answered.count >= 40, "the flood was well under way: \(answered.count) answered; sipp: \(result.stderr.suffix(500))")

        // Restart on the same database: it marks the calls cut off as interrupted.
        let restarted = try await ServerProcess(reusing: server)
        #expect(await restarted.stop() == 0)
        let reader = try SQLiteTicketReader(path: server.database)
        let calls = try reader.list(limit: 10_000, since: nil)
        let byCallID = Dictionary(calls.map { ($0.callID, $0) }, uniquingKeysWith: { first, _ in first })
        let missing = answered.filter { byCallID[$0]?.answeredAt == nil }
        #expect(missing.isEmpty, "every call SIPp saw answered has its ticket, answered: \(missing.count) of \(answered.count) missing")
        #expect(calls.allSatisfy { $0.disposition != nil }, "no call is left in progress after the restart")

        let interrupted = calls.filter { $0.disposition == .interrupted }
        #expect(!interrupted.isEmpty, "calls were up when the server was killed")
        #expect(restarted.log.contains("marked tickets of calls cut off by the last shutdown as interrupted")
            && restarted.log.contains("count=\(interrupted.count)"), "\(restarted.log.suffix(1000))")
        for call in interrupted {
            // Their last known times: arrival and answer, both before the kill; no end was known.
            #expect(call.arrivedAt <= killedAt.addingTimeInterval(1))
            if let answeredAt = call.answeredAt {
                #expect(call.arrivedAt <= answeredAt && answeredAt <= killedAt.addingTimeInterval(1))
            }
            #expect(call.endedAt == nil)
        }
        #expect(interrupted.allSatisfy { answered.contains($0.callID) || $0.answeredAt != nil },
                "an interrupted call had been answered (its ticket is written before the 200 OK)")

        print("flood + kill -9: \(calls.count) calls in the database, \(answered.count) answered as SIPp saw, "
            + "\(interrupted.count) interrupted, \(calls.count { $0.disposition == .completedInIVR }) completed")
        // Calls that finished before the kill opened their work orders in the same transaction.
        let completed = calls.filter { $0.disposition == .completedInIVR }
        #expect(!completed.isEmpty)
        for call in completed where call.businessLine == "enterprise" {
            #expect(try !reader.workOrders(ofCall: call.id).isEmpty, "completed call \(call.id) has its work order")
        }
        // The API of the restarted database agrees: one work order per completed key-3 call.
        let orders = try reader.countWorkOrders(WorkOrderQuery(businessLine: "enterprise"))
        #expect(orders == completed.filter { $0.businessLine == "enterprise" }.count)
    }
}
