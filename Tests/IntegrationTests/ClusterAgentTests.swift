import Foundation
import Testing
import Tickets

/// Agents' phones behind the SIP front (RFC 3327 Path): the registration, the lockout and the
/// agent leg all go through real Kamailio to a real node.
extension LoopbackClusterSuites {
@Suite struct ClusterAgentTests {
    static let agentNode = ContactCentreTests.testAgents

    @Test("an agent registered through the front is rung through it (Path) and answers a caller who came through it")
    func agentLegGoesThroughTheFront() async throws {
        let cluster = try await Cluster(nodes: 1, dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", nodeExtra: Self.agentNode)
        let phone = try ContactCentreTests.Phone("2001", "pw-2001")
        let registered = try await cluster.sipp("agent-register", service: phone.user, logs: "register",
                                                extra: ["-p", phone.port, "-au", phone.user, "-ap", phone.password])
        try #require(registered.status == 0, "REGISTER through the front: \(registered.stderr)\n\(cluster.node(0).log.suffix(2000))")
        let agent = try #require(try await ContactCentreTests.agents(cluster.node(0))["a2001"])
        let registration = (agent["registrations"] as? [[String: Any]])?.first
        #expect(registration?["source"] as? String == "udp:127.0.0.1:\(phone.port)", "the phone's own address, not the front's: \(agent)")

        let answering = Task {
            try await cluster.sipp("agent-answer-front", service: "agent", logs: "agent",
                                   extra: ["-p", phone.port, "-rtp_echo"], timeout: .seconds(60))
        }
        #expect(try await ContactCentreTests.agentAction("login", "a2001", on: cluster.node(0)).0 == 200)
        let caller = try await cluster.sipp("caller-queue", service: "12345", logs: "caller", extra: ["-d", "1000"])
        #expect(caller.status == 0, "caller: \(caller.stderr)")
        let agentLeg = try await answering.value
        #expect(agentLeg.status == 0, "agent: \(agentLeg.stderr)\n\(cluster.node(0).log.suffix(2000))")
        let invite = cluster.messages("agent")
        #expect(invite.contains("Via: SIP/2.0/UDP 127.0.0.1:\(Cluster.frontPort)"), "the INVITE came through the front")
        #expect(invite.contains("Record-Route: <sip:127.0.0.1:\(Cluster.frontPort)"), "and the front stays on the dialog")
        await cluster.stop()
    }

    @Test("wrong passwords through the front lock out the guessing phone's address, not the front: another phone still registers")
    func lockoutThroughTheFrontCountsThePhone() async throws {
        let cluster = try await Cluster(nodes: 1, dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", nodeExtra: Self.agentNode)
        // A guesser on 127.0.0.2 tries unknown users, five wrong passwords each: its address
        // reaches the lockout threshold (20) on the fourth.
        for user in ["3001", "3002", "3003", "3004", "3005"] {
            let guessing = try ContactCentreTests.Phone(user, "wrong")
            _ = try await cluster.sipp("agent-register-wrong-password", service: user, logs: "guess-\(user)",
                                       extra: ["-p", guessing.port, "-au", user, "-ap", "wrong"], from: "127.0.0.2")
        }
        let node = cluster.node(0)
        #expect(try await ContactCentreTests.metric(node, #"hotline_agent_lockouts_total{node="node1"}"#) >= 1)
        #expect(node.log.contains("127.0.0.2"), "the guesser's own address is named: \(node.log.suffix(1500))")
        // A phone on 127.0.0.1, behind the same front, still registers: the front was not locked out.
        let right = try ContactCentreTests.Phone("2002", "pw-2002")
        let registered = try await cluster.sipp("agent-register", service: right.user, logs: "right",
                                                extra: ["-p", right.port, "-au", right.user, "-ap", right.password])
        #expect(registered.status == 0, "the front was not locked out: \(registered.stderr)")
        // The guesser's address stays locked, through the front too, even with a right password.
        let again = try ContactCentreTests.Phone("2001", "pw-2001")
        let refused = try await cluster.sipp("agent-register", service: again.user, logs: "refused",
                                             extra: ["-p", again.port, "-au", again.user, "-ap", again.password], from: "127.0.0.2")
        #expect(refused.status != 0, "refused for the locked address")
        #expect(cluster.messages("refused").contains("SIP/2.0 403"), "403 at once")
        #expect((try await ContactCentreTests.agents(node)["a2001"]?["registrations"] as? [Any])?.isEmpty == true)
        await cluster.stop()
    }

    @Test("a guesser spreading wrong passwords over two nodes is locked out on both after as many tries as on one node")
    func lockoutIsCountedAcrossNodes() async throws {
        let cluster = try await Cluster(nodes: 2, dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", nodeExtra: Self.agentNode)
        // Unknown users, five wrong passwords each, from 127.0.0.2: REGISTERs hash on the To URI,
        // so they land on both nodes. The address threshold is 20 failures.
        for user in 3001...3008 {
            let guessing = try ContactCentreTests.Phone(String(user), "wrong")
            _ = try await cluster.sipp("agent-register-wrong-password", service: guessing.user, logs: "guess-\(user)",
                                       extra: ["-p", guessing.port, "-au", guessing.user, "-ap", "wrong"], from: "127.0.0.2")
        }
        var failures: [Double] = []
        for index in 0..<2 {
            failures.append(try await ContactCentreTests.metric(cluster.node(index),
                                                                "hotline_agent_authentication_failures_total{node=\"node\(index + 1)\"}"))
        }
        try #require(failures.allSatisfy { $0 > 0 }, "the guesses reached both nodes: \(failures)")
        #expect(failures.reduce(0, +) <= 25, "locked out cluster-wide at 20 failures (a few in flight): \(failures)")
        // Every node refuses the address; a node that saw fewer than 20 failures itself was told by the cluster.
        for index in 0..<2 {
            let deadline = ContinuousClock.now + .seconds(10)
            while !cluster.node(index).log.contains("127.0.0.2"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            if failures[index] < 20 {
                #expect(cluster.node(index).log.contains("locked out by the cluster's count"), "node\(index + 1): \(cluster.node(index).log.suffix(1500))")
            }
        }
        for (index, user) in ["2001", "2002"].enumerated() {
            let phone = try ContactCentreTests.Phone(user, "pw-\(user)")
            let refused = try await cluster.sipp("agent-register", service: user, logs: "refused-\(index)",
                                                 extra: ["-p", phone.port, "-au", user, "-ap", phone.password], from: "127.0.0.2")
            #expect(refused.status != 0 && cluster.messages("refused-\(index)").contains("SIP/2.0 403"),
                    "\(user) from the locked address is refused whichever node takes it")
        }
        // Phones elsewhere behind the same front are not affected.
        let right = try ContactCentreTests.Phone("2002", "pw-2002")
        let registered = try await cluster.sipp("agent-register", service: right.user, logs: "right",
                                                extra: ["-p", right.port, "-au", right.user, "-ap", right.password])
        #expect(registered.status == 0, "\(registered.stderr)")
        await cluster.stop()
    }

    @Test("hotline seats set on one node applies on every node at once, and a node that restarts keeps it")
    func seatsSetOnOneNodeApplyToTheCluster() async throws {
        let cluster = try await Cluster(nodes: 2, dialplan: "Tests/IntegrationTests/Dialplans/queue.yaml", nodeExtra: Self.agentNode)
        func licensed(_ index: Int) async throws -> Int? {
            let body = try await cluster.node(index).http("/api/seats")
            return (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["licensed"] as? Int
        }
        let before = try #require(try await licensed(1))
        let set = try await run(Repo.binary, ["seats", "set", String(before + 200), "--http", "\(Cluster.nodeIP(0)):\(Cluster.nodePort + 1)"])
        #expect(set.status == 0, "\(set.stdout)\(set.stderr)")
        #expect(try await licensed(0) == before + 200)
        let deadline = ContinuousClock.now + .seconds(5)
        while try await licensed(1) != before + 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await licensed(1) == before + 200, "the other node applied it")
        #expect(cluster.node(1).log.contains("by=cluster"))
        // A node that restarts takes the cluster's count.
        #expect(await cluster.node(1).stop() == 0)
        try await cluster.restart(1)
        #expect(try await licensed(1) == before + 200, "after a restart")
        await cluster.stop()
    }
}
}
