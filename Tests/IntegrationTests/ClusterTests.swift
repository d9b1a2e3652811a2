import Foundation
import Testing
import Tickets

/// Suites run one at a time (the trait applies to nested suites): those that start a loopback
/// cluster (they share fixed ports) and the floods whose counts depend on having the cores to
/// themselves (the conformance kit's flood, twice the admitted rate).
@Suite(.serialized) enum LoopbackClusterSuites {}

extension LoopbackClusterSuites {
/// Real Kamailio (deploy/kamailio/kamailio.cfg) in front of real `hotline serve` nodes, real
/// SIPp callers, loopback only.
@Suite struct ClusterTests {
    @Test("a flood through the front is spread over three nodes; every answered call has its ticket in the shared PostgreSQL; /api/cluster lists the nodes")
    func floodIsSpread() async throws {
        let cluster = try await Cluster()
        let sipp = try await cluster.sipp(calls: 60, rate: 20, hold: 500, logs: "spread")
        #expect(sipp.status == 0, "every call answered and hung up through the front: \(sipp.stderr.suffix(2000))")
        let view = try await cluster.clusterView(from: 2)
        #expect(view.keys.sorted() == ["node1", "node2", "node3"], "\(view)")
        #expect(view.values.allSatisfy { $0.state == "active" }, "\(view)")
        let health = try await cluster.node(0).http("/health")
        #expect(health.contains("\"backend\":\"postgresql\",\"connected\":true,\"admission\":\"accepting\""), "\(health)")
        await cluster.stop()
        let byNode = try await cluster.answeredByNode()
        for (index, calls) in byNode.enumerated() {
            #expect(calls.count >= 10, "node\(index + 1) answered a share: \(byNode.map(\.count))")
        }
        let ticketed = Set(byNode.joined().map(\.callID))
        let answered = cluster.answeredCallIDs("spread")
        #expect(answered.count == 60)
        #expect(answered.isSubset(of: ticketed), "calls without a ticket: \(answered.subtracting(ticketed).prefix(5))")
        // The ACK and BYE reached the node that answered (record-routing): every call ended
        // with the caller's BYE, none by the node's ACK timeout or a shutdown.
        for call in byNode.joined() {
            #expect(call.disposition == "caller_hangup", "\(call.callID) on \(call.node): \(String(describing: call.disposition))")
        }
        // Stopped nodes leave the cluster at once.
        let after = try await cluster.calls()
        #expect(after.allSatisfy { $0.disposition != nil })
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
        // The other nodes see it draining in the shared node table.
        let deadline2 = ContinuousClock.now + .seconds(10)
        while try await cluster.clusterView(from: 0)["node2"]?.state != "draining", ContinuousClock.now < deadline2 {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await cluster.clusterView(from: 0)["node2"]?.state == "draining")
        try await cluster.waitUntilProbed(1) // the front has seen a 503 by now
        let metrics = try await node2.http("/metrics")
        #expect((prometheusValue(metrics, #"hotline_sip_responses_total{node="node2",direction="out",status="503"}"#) ?? 0) >= 2,
                "the probes were answered 503")
        let before = try await cluster.answeredByNode()[1].count
        let sipp = try await cluster.sipp(calls: 30, rate: 20, hold: 200, logs: "drain")
        #expect(sipp.status == 0, "\(sipp.stderr.suffix(2000))")
        #expect(try await cluster.answeredByNode()[1].count == before, "the draining node took no new call")
        _ = try await long
        #expect(await node2.waitForExit(timeout: .seconds(20)) == 0, "drained node exits 0 once its call ended")
        #expect(try await cluster.clusterView(from: 0)["node2"]?.state == "gone", "a node that stopped has left")
        let served = try await cluster.answeredByNode()
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
        let ticketed = Set(try await cluster.answeredByNode().joined().map(\.callID))
        #expect(answered.isSubset(of: ticketed), "answered calls without a ticket: \(answered.subtracting(ticketed).prefix(5))")
    }

    @Test("kill -9 of a node mid-flood: new calls go to the survivors, every answered call has its ticket, a survivor closes the dead node's calls as interrupted after the lease")
    func crashedNodeLeavesRotation() async throws {
        let cluster = try await Cluster(lease: "4s")
        // 2 s calls at 10/s: the victim always has calls in progress when it dies.
        async let flood = cluster.sipp(calls: 150, rate: 10, hold: 2000, logs: "crash", timeout: .seconds(120))
        let started = ContinuousClock.now
        while try await cluster.answeredByNode()[1].count < 10 {
            #expect(ContinuousClock.now < started + .seconds(20), "node2 took no calls")
            if ContinuousClock.now >= started + .seconds(20) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let victim = cluster.node(1)
        await victim.kill9()
        let afterKill = try await cluster.answeredByNode()
        let openAtKill = afterKill[1].filter { $0.disposition == nil }.count
        #expect(openAtKill > 0, "node2 died with calls in progress")
        let sipp = try await flood
        // The lease (4 s) has long passed: a survivor has swept node2's calls.
        let deadline = ContinuousClock.now + .seconds(20)
        while try await cluster.answeredByNode()[1].contains(where: { $0.disposition == nil }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let view = try await cluster.clusterView(from: 0)
        #expect(view["node2"]?.state == "gone", "\(view)")
        #expect(view["node1"]?.state == "active" && view["node3"]?.state == "active", "\(view)")
        await cluster.stop()
        let byNode = try await cluster.answeredByNode()
        let answered = cluster.answeredCallIDs("crash")
        let ticketed = Set(byNode.joined().map(\.callID))
        #expect(answered.count >= 120, "the flood went on after the crash: \(answered.count) of 150 answered; \(sipp.stderr.suffix(1000))")
        #expect(answered.isSubset(of: ticketed),
                "every answered call has its ticket (the dead node's were committed before its 200 OK): \(answered.subtracting(ticketed).prefix(5))")
        let interrupted = byNode[1].filter { $0.disposition == "interrupted" }.count
        #expect(interrupted >= openAtKill, "node2's calls in progress were closed as interrupted: \(interrupted) of \(openAtKill)")
        #expect(byNode[1].allSatisfy { $0.disposition != nil }, "no call of the dead node is left open")
        #expect(byNode[0].count + byNode[2].count > afterKill[0].count + afterKill[2].count + 40,
                "new calls went to the survivors: \(afterKill.map(\.count)) -> \(byNode.map(\.count))")
    }

    @Test("PostgreSQL restarted mid-flood: the nodes keep answering (tickets queued, /health degraded), and no ticket is lost")
    func postgresRestartLosesNoTicket() async throws {
        let cluster = try await Cluster(store: .privateServer)
        async let flood = cluster.sipp(calls: 150, rate: 10, hold: 500, logs: "pg-restart", timeout: .seconds(120))
        let started = ContinuousClock.now
        while try await cluster.calls().count < 30 {
            #expect(ContinuousClock.now < started + .seconds(20), "the flood did not start")
            if ContinuousClock.now >= started + .seconds(20) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try cluster.privateServer!.run("stop")
        // Every node notices at its next write, and keeps answering.
        for index in 0..<3 {
            let deadline = ContinuousClock.now + .seconds(10)
            while !(try await cluster.node(index).http("/health")).contains("\"status\":\"degraded\""), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            let health = try await cluster.node(index).http("/health")
            #expect(health.contains("\"connected\":false"), "node\(index + 1): \(health)")
        }
        // A few seconds of outage under the flood, then PostgreSQL is back.
        try await Task.sleep(for: .seconds(3))
        try cluster.privateServer!.run("start")
        let sipp = try await flood
        #expect(sipp.status == 0, "every call was answered through the outage: \(sipp.stderr.suffix(2000))")
        for index in 0..<3 {
            let metrics = try await cluster.node(index).http("/metrics")
            #expect((prometheusValue(metrics, "hotline_store_reconnects_total{node=\"node\(index + 1)\"}") ?? 0) >= 1,
                    "node\(index + 1) reconnected")
            #expect(prometheusValue(metrics, "hotline_store_connected{node=\"node\(index + 1)\"}") == 1)
        }
        await cluster.stop()
        let rows = try await cluster.calls()
        let answered = cluster.answeredCallIDs("pg-restart")
        #expect(answered.count == 150)
        let ticketed = Set(rows.filter(\.answered).map(\.callID))
        #expect(answered.isSubset(of: ticketed), "answered calls without a ticket: \(answered.subtracting(ticketed).prefix(5))")
        #expect(rows.count == Set(rows.map(\.callID)).count, "each call once")
        #expect(rows.allSatisfy { $0.disposition == "caller_hangup" }, "every call finished: \(rows.filter { $0.disposition != "caller_hangup" }.prefix(3))")
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
}
