import Foundation
import Testing
import Tickets

/// One contact centre across three nodes (issue 13): real Kamailio in front, real PostgreSQL
/// shared, SIPp agents registered with digest through the front. Callers call nodes directly,
/// so each test knows which node holds which caller; the agents' legs go through the front
/// (the binding's Path), whichever node sends them.
extension LoopbackClusterSuites {
@Suite struct ClusterACDTests {
    static let agents = ["--agents", "Tests/IntegrationTests/Dialplans/acd-cluster/agents.yaml",
                         "--queues", "Tests/IntegrationTests/Dialplans/acd-cluster/queues.yaml"]
    static let dialplan = "Tests/IntegrationTests/Dialplans/queue.yaml"

    /// A queue call as the shared `calls` table has it.
    struct QueueCall: CustomStringConvertible {
        var node, queue, agent, enqueuedAt, answeredAt, disposition: String
        var description: String { "\(node) \(queue) agent=\(agent) enqueued=\(enqueuedAt) answered=\(answeredAt) \(disposition)" }
    }

    static func queueCalls(_ cluster: Cluster) async throws -> [QueueCall] {
        let psql = try #require(Repo.which("psql"), "make test installs postgresql")
        let result = try await run(psql, [cluster.postgres.description, "-X", "-A", "-t", "-F", "|", "-c", """
            SELECT node, queue, coalesce(agent, ''), enqueued_at, coalesce(agent_answered_at, ''), coalesce(disposition, '')
            FROM calls WHERE queue IS NOT NULL ORDER BY enqueued_at
            """], timeout: .seconds(30))
        try #require(result.status == 0, "psql: \(result.stderr)")
        return result.stdout.split(separator: "\n").map { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return QueueCall(node: f[0], queue: f[1], agent: f[2], enqueuedAt: f[3], answeredAt: f[4], disposition: f[5])
        }
    }

    static func agentStates(_ cluster: Cluster, from index: Int) async throws -> [String: String] {
        try await ContactCentreTests.agents(cluster.node(index)).compactMapValues { $0["state"] as? String }
    }

    static func waiting(_ cluster: Cluster, from index: Int) async throws -> Int {
        let body = try await cluster.node(index).http("/api/queues")
        let queues = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["queues"] as? [[String: Any]] ?? []
        return queues.reduce(0) { $0 + (($1["waiting"] as? Int) ?? 0) }
    }

    /// Polls `condition` (an API read: the state it waits for is pushed by another process)
    /// until it holds or `limit` passes.
    static func eventually(_ limit: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// Registers the agents' phones through the front and logs them in through node `index`.
    static func registerAndLogIn(_ cluster: Cluster, _ phones: [ContactCentreTests.Phone], via index: Int) async throws {
        for phone in phones {
            let registered = try await cluster.sipp("agent-register", service: phone.user, logs: "register-\(phone.user)",
                                                    extra: ["-p", phone.port, "-au", phone.user, "-ap", phone.password])
            try #require(registered.status == 0, "REGISTER \(phone.user) through the front: \(registered.stderr)")
            let (status, body) = try await ContactCentreTests.agentAction("login", "a\(phone.user)", on: cluster.node(index))
            try #require(status == 200, "login a\(phone.user) on node\(index + 1): \(body)")
        }
        // Every node's view (the state rows) says so.
        for node in cluster.nodes.indices {
            #expect(try await eventually {
                let states = try await agentStates(cluster, from: node)
                return phones.allSatisfy { states["a\($0.user)"] == "available" }
            }, "node\(node + 1) sees the agents logged in")
        }
    }

    /// An agent's phone answering `calls` calls, talking until the caller hangs up.
    static func answering(_ cluster: Cluster, _ phone: ContactCentreTests.Phone, calls: Int) async throws -> Task<CommandResult, any Error> {
        let task = Task {
            try await cluster.sipp("agent-answer-front", service: "agent", logs: "agent-\(phone.user)",
                                   extra: ["-p", phone.port, "-rtp_echo", "-m", String(calls)], timeout: .seconds(120))
        }
        // The phone must be listening before a call is offered to it: an INVITE sent before
        // SIPp binds its port is lost, and the front answers 408 (a race seen under load).
        try await awaitListening(udpPort: Int(phone.port)!, within: .seconds(10))
        return task
    }

    @Test("a caller arriving on each of three nodes reaches the agent with the queue's skill, registered through the front")
    func callersOnEveryNodeReachTheSkilledAgent() async throws {
        let cluster = try await Cluster(nodes: 3, dialplan: Self.dialplan, nodeExtra: Self.agents)
        let general = try ContactCentreTests.Phone("2001", "pw-2001")
        let tax = try ContactCentreTests.Phone("2002", "pw-2002")
        try await Self.registerAndLogIn(cluster, [general, tax], via: 2)
        let generalAnswers = try await Self.answering(cluster, general, calls: 2)
        let taxAnswers = try await Self.answering(cluster, tax, calls: 1)
        // node1: tax line (12346); node2 and node3: operator (12345).
        for (node, service) in [(0, "12346"), (1, "12345"), (2, "12345")] {
            let caller = try await cluster.sipp("caller-queue", service: service, logs: "caller-node\(node + 1)",
                                                extra: ["-d", "500"], node: node)
            #expect(caller.status == 0, "caller on node\(node + 1): \(caller.stderr)\n\(cluster.node(node).log.suffix(3000))")
        }
        #expect(try await generalAnswers.value.status == 0, "the general agent answered two calls")
        #expect(try await taxAnswers.value.status == 0, "the tax expert answered one")
        #expect(cluster.messages("agent-2001").contains("Via: SIP/2.0/UDP 127.0.0.1:\(Cluster.frontPort)"), "rung through the front")
        let calls = try await Self.queueCalls(cluster)
        #expect(calls.count == 3, "\(calls)")
        let byNode = Dictionary(grouping: calls, by: \.node)
        #expect(byNode["node1"]?.map(\.agent) == ["a2002"], "the tax caller on node1 reached the tax expert: \(calls)")
        #expect(byNode["node2"]?.map(\.agent) == ["a2001"], "\(calls)")
        #expect(byNode["node3"]?.map(\.agent) == ["a2001"], "\(calls)")
        await cluster.stop()
    }

    @Test("two callers waiting on different nodes are served in the order they arrived")
    func callersOnDifferentNodesAreServedInArrivalOrder() async throws {
        let cluster = try await Cluster(nodes: 3, dialplan: Self.dialplan, nodeExtra: Self.agents)
        let general = try ContactCentreTests.Phone("2001", "pw-2001")
        try await Self.registerAndLogIn(cluster, [general], via: 0)
        #expect(try await ContactCentreTests.agentAction("pause", "a2001", on: cluster.node(1)).0 == 200)
        // The first caller waits on node3, the second on node1. A caller-queue caller hangs up
        // -d ms (plus 3 s of audio) after the IVR answered, agent or not: the second stays long
        // enough for the agent to finish with the first.
        let first = Task { try await cluster.sipp("caller-queue", service: "12345", logs: "first", extra: ["-d", "1000"], node: 2) }
        #expect(try await Self.eventually { try await Self.waiting(cluster, from: 1) == 1 }, "the first caller waits")
        let second = Task { try await cluster.sipp("caller-queue", service: "12345", logs: "second", extra: ["-d", "10000"], node: 0) }
        #expect(try await Self.eventually { try await Self.waiting(cluster, from: 1) == 2 }, "both wait")
        let answers = try await Self.answering(cluster, general, calls: 2)
        #expect(try await ContactCentreTests.agentAction("unpause", "a2001", on: cluster.node(1)).0 == 200)
        #expect(try await first.value.status == 0)
        #expect(try await second.value.status == 0)
        #expect(try await answers.value.status == 0)
        let calls = try await Self.queueCalls(cluster)
        let answered = calls.filter { !$0.answeredAt.isEmpty }.sorted { $0.answeredAt < $1.answeredAt }.map(\.node)
        #expect(answered == ["node3", "node1"], "served in arrival order: \(calls)")
        await cluster.stop()
    }

    @Test("the ACD's leader killed with kill -9 while callers wait and an agent talks: a standby takes over, the talk goes on, the waiting are served in order, nobody is logged out, no ticket is lost")
    func leaderKilledWhileCallersWaitAndAgentsTalk() async throws {
        let cluster = try await Cluster(nodes: 3, dialplan: Self.dialplan, nodeExtra: Self.agents)
        let leaderName = try await cluster.acdLeader()
        let leader = try #require(Int(leaderName.dropFirst("node".count))) - 1
        let others = (0..<3).filter { $0 != leader }
        let general = try ContactCentreTests.Phone("2001", "pw-2001")
        let tax = try ContactCentreTests.Phone("2002", "pw-2002")
        try await Self.registerAndLogIn(cluster, [general, tax], via: others[0])
        #expect(try await ContactCentreTests.agentAction("pause", "a2002", on: cluster.node(others[1])).0 == 200)
        let answers = try await Self.answering(cluster, general, calls: 3)
        // A long call on one surviving node, talking when the leader dies.
        let talking = Task {
            try await cluster.sipp("caller-queue", service: "12345", logs: "talking", extra: ["-d", "8000"], node: others[0])
        }
        #expect(try await Self.eventually { try await Self.agentStates(cluster, from: others[1])["a2001"] == "on_call" }, "the agent talks")
        // Two callers wait, the first on the other surviving node; each stays on the line long
        // enough for the agent to finish the calls before theirs (-d plus 3 s of audio).
        let first = Task { try await cluster.sipp("caller-queue", service: "12345", logs: "first", extra: ["-d", "14000"], node: others[1]) }
        #expect(try await Self.eventually { try await Self.waiting(cluster, from: others[1]) == 1 })
        let second = Task { try await cluster.sipp("caller-queue", service: "12345", logs: "second", extra: ["-d", "24000"], node: others[0]) }
        #expect(try await Self.eventually { try await Self.waiting(cluster, from: others[1]) == 2 })

        let killed = ContinuousClock.now
        await cluster.node(leader).kill9()
        let newLeader = try await cluster.acdLeader(within: .seconds(20), except: leaderName)
        let takeover = ContinuousClock.now - killed
        print("ACD takeover after kill -9 of \(leaderName): \(newLeader) leads after \(takeover)")
        #expect(takeover < .seconds(5), "a standby took over within 5 s: \(takeover)")

        #expect(try await talking.value.status == 0, "the talking call went on to its end")
        #expect(try await first.value.status == 0, "\(cluster.node(others[1]).log.suffix(3000))")
        #expect(try await second.value.status == 0)
        #expect(try await answers.value.status == 0, "the agent answered all three")
        // Once the last call's end has reached the leader and come back in the state rows.
        var states: [String: String] = [:]
        #expect(try await Self.eventually {
            states = try await Self.agentStates(cluster, from: others[0])
            return states["a2001"] == "available" && states["a2002"] == "paused"
        }, "nobody was logged out: \(states)")
        let calls = try await Self.queueCalls(cluster)
        let survivors = Set(others.map { "node\($0 + 1)" })
        let answered = calls.filter { !$0.answeredAt.isEmpty && survivors.contains($0.node) }.sorted { $0.answeredAt < $1.answeredAt }
        #expect(answered.count == 3, "every answered call has its ticket: \(calls)")
        #expect(answered.map(\.node) == ["node\(others[0] + 1)", "node\(others[1] + 1)", "node\(others[0] + 1)"],
                "the talking call, then the waiting in arrival order: \(calls)")
        await cluster.stop()
    }

    @Test("a node holding a waiting caller and a talking call is killed: its caller leaves the queue, its agent is free again, nobody is offered its callers, the tickets say interrupted")
    func mediaNodeKilled() async throws {
        let cluster = try await Cluster(nodes: 3, dialplan: Self.dialplan, nodeExtra: Self.agents)
        let leaderName = try await cluster.acdLeader()
        let leader = try #require(Int(leaderName.dropFirst("node".count))) - 1
        let others = (0..<3).filter { $0 != leader }
        let (victim, survivor) = (others[0], others[1])
        let general = try ContactCentreTests.Phone("2001", "pw-2001")
        let tax = try ContactCentreTests.Phone("2002", "pw-2002")
        try await Self.registerAndLogIn(cluster, [general, tax], via: survivor)
        #expect(try await ContactCentreTests.agentAction("pause", "a2002", on: cluster.node(survivor)).0 == 200)
        // The agent's phone and the callers lose the victim mid-call: their SIPp runs fail by design.
        let answers = try await Self.answering(cluster, general, calls: 1)
        let talking = Task {
            try await cluster.sipp("caller-queue", service: "12345", logs: "talking", extra: ["-d", "30000"], node: victim, timeout: .seconds(60))
        }
        #expect(try await Self.eventually { try await Self.agentStates(cluster, from: survivor)["a2001"] == "on_call" }, "the agent talks")
        let waiting = Task {
            try await cluster.sipp("caller-queue", service: "12346", logs: "waiting", extra: ["-d", "30000"], node: victim, timeout: .seconds(60))
        }
        #expect(try await Self.eventually { try await Self.waiting(cluster, from: survivor) == 1 }, "a tax caller waits on the victim")

        let killed = ContinuousClock.now
        await cluster.node(victim).kill9()
        // Its liveness lock goes with the process: the leader takes its calls out on two looks a
        // second apart, before the 5 s lease would have.
        #expect(try await Self.eventually(.seconds(30)) {
            let waiting = try await Self.waiting(cluster, from: survivor)
            let agent = try await Self.agentStates(cluster, from: survivor)["a2001"]
            return waiting == 0 && agent == "available"
        }, "the waiting caller left, the talking agent is free: \(cluster.node(leader).log.suffix(2000))")
        print("the killed node's calls left the ACD after \(ContinuousClock.now - killed)")
        #expect(cluster.node(leader).log.contains("waiting caller of a gone node leaves the queue"))
        #expect(cluster.node(leader).log.contains("call of a gone node ended"))
        // Nobody is offered the dead node's caller: the tax expert stays free once available.
        #expect(try await ContactCentreTests.agentAction("unpause", "a2002", on: cluster.node(survivor)).0 == 200)
        #expect(try await Self.agentStates(cluster, from: leader)["a2002"] == "available")
        // The victim's calls were open tickets (queue details are written when a call ends);
        // the lease sweep closes them once the lease has run out.
        var calls: [Cluster.CallRow] = []
        #expect(try await Self.eventually(.seconds(30)) {
            calls = try await cluster.calls().filter { $0.node == "node\(victim + 1)" }
            return calls.count == 2 && calls.allSatisfy { $0.disposition == "interrupted" }
        }, "\(calls.map { "\($0.callID) \($0.disposition ?? "open")" })")
        answers.cancel()
        talking.cancel()
        waiting.cancel()
        await cluster.stop()
    }

    @Test("with PostgreSQL away a node refuses new queue callers at once (the dialplan's on_unavailable) and admits them again when it is back")
    func nodeCutOffFromPostgresRefusesQueueCallers() async throws {
        let cluster = try await Cluster(nodes: 2, store: .privateServer, dialplan: Self.dialplan, nodeExtra: Self.agents)
        let general = try ContactCentreTests.Phone("2001", "pw-2001")
        try await Self.registerAndLogIn(cluster, [general], via: 0)
        try cluster.privateServer!.run("stop")
        // The server plays on_unavailable and hangs up: caller-overflow expects the server's BYE.
        let refused = try await cluster.sipp("caller-overflow", service: "12345", logs: "refused", extra: [], node: 1, timeout: .seconds(30))
        #expect(refused.status == 0, "\(refused.stderr)")
        #expect(cluster.node(1).log.contains("queue caller refused: the cluster's ACD is unreachable"))
        try cluster.privateServer!.run("start")
        // Back: the agent, logged in all along, answers the next caller.
        _ = try await cluster.acdLeader(within: .seconds(30))
        let answers = try await Self.answering(cluster, general, calls: 1)
        var answered = false
        let deadline = ContinuousClock.now + .seconds(30)
        while !answered, ContinuousClock.now < deadline {
            if !cluster.node(1).log.contains("queue callers admitted") {
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            let caller = try await cluster.sipp("caller-queue", service: "12345", logs: "after", extra: ["-d", "1000"], node: 1)
            #expect(caller.status == 0, "\(caller.stderr)")
            answered = true
        }
        #expect(answered, "node2 admitted queue callers again: \(cluster.node(1).log.suffix(2000))")
        #expect(try await answers.value.status == 0, "the agent answered the caller after PostgreSQL came back")
        await cluster.stop()
    }

    @Test("licensed seats are counted across nodes: with one seat, an agent logged in on one node takes it for the whole cluster")
    func seatsAreCountedAcrossNodes() async throws {
        let cluster = try await Cluster(nodes: 2, dialplan: Self.dialplan, nodeExtra: Self.agents)
        let set = try await run(Repo.binary, ["seats", "set", "1", "--http", "\(Cluster.nodeIP(1)):\(Cluster.nodePort + 1)"])
        #expect(set.status == 0, "\(set.stdout)\(set.stderr)")
        #expect(try await ContactCentreTests.agentAction("login", "a2001", on: cluster.node(0)).0 == 200)
        let (status, body) = try await ContactCentreTests.agentAction("login", "a2002", on: cluster.node(1))
        #expect(status == 409 && body.contains("no_seat_available"), "the one seat is taken on the other node: \(status) \(body)")
        #expect(try await ContactCentreTests.agentAction("logout", "a2001", on: cluster.node(1)).0 == 200, "logged out from any node")
        #expect(try await ContactCentreTests.agentAction("login", "a2002", on: cluster.node(0)).0 == 200, "the seat is free again")
        let seats = try await cluster.node(1).http("/api/seats")
        #expect(try await Self.eventually {
            let body = try await cluster.node(1).http("/api/seats")
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            return json?["licensed"] as? Int == 1 && json?["logged_in"] as? Int == 1
        }, "every node counts the cluster's one logged-in agent: \(seats)")
        await cluster.stop()
    }
}
}
