import Foundation
import Testing
import Tickets

/// Real Kamailio (deploy/kamailio/kamailio.cfg) in front of real `hotline serve` nodes, real
/// SIPp callers, loopback only. Serialized: the clusters share fixed ports.
@Suite(.serialized) struct ClusterTests {
    @Test("a flood through the front is spread over three nodes; every answered call has its ticket on the node that answered")
    func floodIsSpread() async throws {
        let cluster = try await Cluster()
        let sipp = try await cluster.sipp(calls: 60, rate: 20, hold: 500, logs: "spread")
        #expect(sipp.status == 0, "every call answered and hung up through the front: \(sipp.stderr.suffix(2000))")
        await cluster.stop()
        let byNode = try cluster.answeredTickets()
        for (index, tickets) in byNode.enumerated() {
            #expect(tickets.count >= 10, "node\(index + 1) answered a share: \(byNode.map(\.count))")
        }
        let ticketed = Set(byNode.joined().map(\.callID))
        let answered = cluster.answeredCallIDs("spread")
        #expect(answered.count == 60)
        #expect(answered.isSubset(of: ticketed), "calls without a ticket: \(answered.subtracting(ticketed).prefix(5))")
        // The ACK and BYE reached the node that answered (record-routing): every call ended
        // with the caller's BYE, none by the node's ACK timeout.
        for ticket in byNode.joined() {
            #expect(ticket.disposition != nil && ticket.disposition != .serverShutdown, "\(ticket.callID): \(String(describing: ticket.disposition))")
        }
    }

    @Test("a draining node answers the front's OPTIONS with 503 and gets no new call; its call in progress finishes, then it exits 0")
    func drainingNodeLeavesRotation() async throws {
        let cluster = try await Cluster(drainTimeout: "60s")
        // A long call straight to node 2 keeps it draining (not drained) while the flood runs.
        let node2 = cluster.node(1)
        async let long = node2.sipp("cluster-call", calls: 1, rate: 1, extra: ["-d", "10000"])
        let deadline = ContinuousClock.now + .seconds(10)
        while try await node2.http("/health").contains("\"active_calls\":0") {
            #expect(ContinuousClock.now < deadline, "the long call did not start")
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let (status, body) = try await node2.http("POST", "/api/drain")
        #expect(status == 202, "\(body)")
        #expect(try await node2.http("/health").contains("\"state\":\"draining\""))
        try await cluster.waitUntilProbed(1) // the front has seen a 503 by now
        let metrics = try await node2.http("/metrics")
        #expect((prometheusValue(metrics, #"hotline_sip_responses_total{node="node2",direction="out",status="503"}"#) ?? 0) >= 2,
                "the probes were answered 503")
        let before = try node2.tickets().count
        let sipp = try await cluster.sipp(calls: 30, rate: 20, hold: 200, logs: "drain")
        #expect(sipp.status == 0, "\(sipp.stderr.suffix(2000))")
        #expect(try node2.tickets().count == before, "the draining node took no new call")
        _ = try await long
        #expect(await node2.waitForExit(timeout: .seconds(20)) == 0, "drained node exits 0 once its call ended")
        let served = try cluster.answeredTickets()
        #expect(served[0].count + served[2].count == 30, "the others answered every call: \(served.map(\.count))")
        await cluster.stop()
    }

    @Test("a rolling drain of all three nodes under a steady flood drops no call")
    func rollingDrainDropsNoCall() async throws {
        let cluster = try await Cluster(drainTimeout: "20s")
        // About 24 s of calls at 10/s, each 1 s long: a drain always has calls in progress.
        async let flood = cluster.sipp(calls: 240, rate: 10, hold: 1000, logs: "rolling", timeout: .seconds(150))
        try await Task.sleep(for: .seconds(2))
        for index in 0..<3 {
            let node = cluster.node(index)
            kill(node.pid, SIGTERM) // as `hotline drain` or `make cluster-stop` do
            #expect(await node.waitForExit(timeout: .seconds(30)) == 0, "node\(index + 1) drained and exited 0: \(node.log.suffix(1500))")
            try await cluster.restart(index)
            try await cluster.waitUntilProbed(index)
        }
        let sipp = try await flood
        #expect(sipp.status == 0, "no call failed: \(sipp.stderr.suffix(2000))")
        await cluster.stop()
        let answered = cluster.answeredCallIDs("rolling")
        #expect(answered.count == 240)
        let ticketed = Set(try cluster.answeredTickets().joined().map(\.callID))
        #expect(answered.isSubset(of: ticketed), "answered calls without a ticket: \(answered.subtracting(ticketed).prefix(5))")
    }

    @Test("kill -9 of a node mid-flood: new calls go to the survivors, every call answered on them has its ticket")
    func crashedNodeLeavesRotation() async throws {
        let cluster = try await Cluster()
        async let flood = cluster.sipp(calls: 120, rate: 10, hold: 500, logs: "crash", timeout: .seconds(120))
        try await Task.sleep(for: .seconds(4))
        let victim = cluster.node(1)
        await victim.kill9()
        let afterKill = try cluster.answeredTickets()
        let sipp = try await flood
        await cluster.stop()
        let byNode = try cluster.answeredTickets()
        // Calls cut off on the dead node fail in SIPp; the rest of the flood carries on.
        let answered = cluster.answeredCallIDs("crash")
        let survivors = Set((byNode[0] + byNode[2]).map(\.callID))
        let onVictim = Set(byNode[1].map(\.callID))
        #expect(answered.count >= 100, "the flood went on after the crash: \(answered.count) of 120 answered; \(sipp.stderr.suffix(1000))")
        #expect(answered.isSubset(of: survivors.union(onVictim)), "every answered call has its ticket (the dead node's were committed before its 200 OK)")
        #expect(byNode[0].count + byNode[2].count > afterKill[0].count + afterKill[2].count + 40,
                "new calls went to the survivors: \(afterKill.map(\.count)) -> \(byNode.map(\.count))")
    }

    @Test("a source over the pike density is banned at the front; other sources are still answered")
    func floodingSourceIsBanned() async throws {
        let cluster = try await Cluster(nodes: 1, defines: ["PIKE_DENSITY=10"])
        // 60 requests in about 1.2 s from 127.0.0.2: far over 10 per 2 s.
        let flood = try await cluster.probeFront(from: "127.0.0.2", count: 60, rate: 50)
        #expect(flood.status != 0, "some of the flood went unanswered")
        #expect(try await !cluster.frontAnswers(from: "127.0.0.2"), "the flooding source is banned")
        #expect(try await cluster.frontAnswers(from: "127.0.0.3"), "another source is answered")
        #expect(try await cluster.frontAnswers(from: "127.0.0.1"))
        #expect(cluster.kamailioLogText.contains("flood from 127.0.0.2"))
        await cluster.stop()
    }
}
