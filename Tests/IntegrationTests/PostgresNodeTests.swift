import Foundation
import Testing
import Tickets
import TicketsTestSupport

/// One node on a PostgreSQL server of its own, which the test stops: the node answers while
/// its queue has room, refuses new calls with 503 past it, and writes everything once the
/// server is back.
@Suite struct PostgresNodeTests {
    @Test("PostgreSQL away: calls answered while the write queue has room, 503 ticket_store past it, every answered call's ticket written when it is back")
    func outagePastTheQueueBoundRefusesCalls() async throws {
        let postgres = try PrivatePostgresServer()
        let server = try await ServerProcess(database: postgres.url.description, extra: ["--node", "pg1", "--store-queue", "4"])
        let before = try await server.sipp("cluster-call", calls: 2, rate: 5, extra: ["-d", "100"])
        #expect(before.status == 0, "\(before.stderr.suffix(1000))")
        try postgres.run("stop")
        // Each call is two writes (open, finish): the first calls are answered and queued,
        // then the queue is full and INVITEs get 503.
        var answered = 0, refused = 0
        for _ in 0..<6 {
            let call = try await server.sipp("ivr-key3-info-or-503", calls: 1, rate: 1, extra: ["-timeout", "10s"])
            #expect(call.status == 0, "\(call.stderr.suffix(500))")
            let metrics = try await server.http("/metrics")
            let rejected = prometheusValue(metrics, #"hotline_admission_rejections_total{node="pg1",reason="ticket_store"}"#) ?? 0
            if Int(rejected) > refused { refused = Int(rejected) } else { answered += 1 }
        }
        #expect(answered >= 1, "calls were answered while the queue had room")
        #expect(refused >= 1, "past the bound, new calls got 503 ticket_store")
        let health = try await server.http("/health")
        #expect(health.contains("\"status\":\"degraded\"") && health.contains("\"admission\":\"refusing\""), "\(health)")
        #expect(health.contains("\"connected\":false"), "\(health)")
        try postgres.run("start")
        // Back: the queue drains and calls are answered again.
        let deadline = ContinuousClock.now + .seconds(20)
        while !(try await server.http("/health")).contains("\"admission\":\"accepting\""), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let after = try await server.sipp("cluster-call", calls: 2, rate: 5, extra: ["-d", "100"])
        #expect(after.status == 0, "answered again once PostgreSQL is back: \(after.stderr.suffix(1000))")
        #expect(await server.stop() == 0)
        let tickets = try server.tickets()
        #expect(tickets.filter { $0.answeredAt != nil }.count == 2 + answered + 2, "every answered call's ticket: \(tickets.count)")
        #expect(tickets.filter { $0.answeredAt != nil }.allSatisfy { $0.disposition != nil })
    }
}
