@testable import ACD
import Testing

@Suite("ACD scenarios: routing, seats, timeouts, overflow, announcements, statistics")
struct ACDScenarioTests {
    static let enterprise = QueueConfiguration(name: "enterprise", skills: ["enterprise": 2], ringTimeout: .seconds(15),
                                               autoPauseAfterMisses: 2, wrapUp: .seconds(10))
    static let tax = QueueConfiguration(name: "tax", skills: ["tax": 1], ringTimeout: .seconds(15))

    func harness(agents: [AgentProfile], queues: [QueueConfiguration] = [enterprise, tax], seats: Int = 10,
                 routing: RoutingSettings = .init()) -> Harness {
        Harness(ACDConfiguration(agents: agents, queues: queues, licensedSeats: seats, routing: routing))
    }

    @Test("a caller is offered to a free agent, answered, talked to, wrapped up")
    func basicCall() {
        var h = harness(agents: [agent("a1", ["enterprise": 3])])
        h.ready("a1")
        var actions = h.send(.callerArrived("c1", EnqueueRequest(queue: "enterprise")))
        #expect(actions == [
            .offer("c1", to: "a1", Offer(queue: "enterprise", isCallback: false, priority: 0, waited: .zero, ringTimeout: .seconds(15))),
            .agentStateChanged("a1", .reserved("c1")),
        ])
        h.advance(.seconds(4))
        actions = h.send(.offerAnswered("c1", agent: "a1"))
        #expect(actions == [.agentStateChanged("a1", .onCall("c1")), .left("c1", .answered(by: "a1", waited: .seconds(4)))])
        h.advance(.seconds(60))
        #expect(h.send(.callEnded("c1")) == [.agentStateChanged("a1", .wrapUp)])
        #expect(h.advance(.seconds(9)).isEmpty)
        #expect(h.advance(.seconds(1)) == [.agentStateChanged("a1", .available)])
        // The machine asked for ticks at the wrap-up end.
        #expect(h.log.contains(.scheduleTick(at: .seconds(74))))
    }

    @Test("seats: logins beyond the licence are refused with the counts; raising it lets them in; lowering kicks nobody")
    func seats() {
        var h = harness(agents: [agent("a1", [:]), agent("a2", [:], seat: .home), agent("a3", [:])], seats: 2)
        h.ready("a1", "a2")
        #expect(h.send(.loginRequested("a3")) == [.refused("a3", .login, .noSeatAvailable(licensed: 2, loggedIn: 2))])
        #expect(h.machine.seats == SeatStatistics(licensed: 2, loggedIn: 2, remote: 1))
        h.send(.licensedSeatsChanged(3))
        #expect(h.send(.loginRequested("a3")) == [.agentStateChanged("a3", .available)])
        h.send(.licensedSeatsChanged(1))
        #expect(h.machine.seats.loggedIn == 3)
        h.send(.logoutRequested("a3"))
        #expect(h.send(.loginRequested("a3")) == [.refused("a3", .login, .noSeatAvailable(licensed: 1, loggedIn: 2))])
        #expect(h.send(.loginRequested("a1")) == [.refused("a1", .login, .alreadyLoggedIn)])
        #expect(h.send(.loginRequested("zz")) == [.refused("zz", .login, .unknownAgent)])
    }

    @Test("ring timeout: offer cancelled, caller keeps place and goes to another agent, not back to the one who missed")
    func ringTimeout() {
        var h = harness(agents: [agent("a1", ["enterprise": 3]), agent("a2", ["enterprise": 2])])
        h.ready("a1")
        h.advance(.seconds(1))
        h.ready("a2")
        h.send(.callerArrived("c1", EnqueueRequest(queue: "enterprise")))
        #expect(h.machine.agent(holding: "c1") == "a1") // longest idle
        let actions = h.advance(.seconds(15))
        #expect(actions.contains(.cancelOffer("c1", agent: "a1", reason: .ringTimeout)))
        #expect(offers(actions).map(\.1) == ["a2"])
        #expect(h.state("a1") == .available)
        // a2 refuses: a1 is free but missed c1 within the re-offer delay, so c1 waits.
        let refused = h.send(.offerFailed("c1", agent: "a2", .declined))
        #expect(offers(refused).isEmpty)
        // Once a1's exclusion lapses (30 s after its miss) c1 goes to a1 again.
        let later = h.advance(.seconds(30))
        #expect(offers(later).map(\.1) == ["a1"])
    }

    @Test("auto-pause after the queue's number of misses in a row")
    func autoPause() {
        var h = harness(agents: [agent("a1", ["enterprise": 3])], routing: RoutingSettings(reofferDelay: .zero))
        h.ready("a1")
        h.send(.callerArrived("c1", EnqueueRequest(queue: "enterprise")))
        let first = h.send(.offerFailed("c1", agent: "a1", .noAnswer))
        #expect(offers(first).map(\.1) == ["a1"]) // no delay configured: offered again
        let second = h.advance(.seconds(15))
        #expect(second.contains(.agentAutoPaused("a1", consecutiveMisses: 2)))
        #expect(h.state("a1") == .paused(.noAnswer))
        #expect(h.send(.unpauseRequested("a1")).contains(.agentStateChanged("a1", .available)))
    }

    @Test("fairness across queues: the longest-waiting caller an agent can serve goes first; priority moves a caller ahead")
    func fairnessAcrossQueues() {
        var h = harness(agents: [agent("a1", ["enterprise": 3, "tax": 3])], routing: RoutingSettings(priorityStep: .seconds(60)))
        h.send(.agentReachabilityChanged("a1", reachable: true))
        h.ready("a1")
        h.send(.pauseRequested("a1", "lunch"))
        // Nobody is free, but the agent is logged in, so callers can join.
        h.send(.callerArrived("tax-early", EnqueueRequest(queue: "tax")))
        h.advance(.seconds(10))
        h.send(.callerArrived("ent-later", EnqueueRequest(queue: "enterprise")))
        h.advance(.seconds(10))
        h.send(.callerArrived("ent-priority", EnqueueRequest(queue: "enterprise", priority: 1))) // ranks as t = 20 − 60
        var actions = h.send(.unpauseRequested("a1"))
        #expect(offers(actions).map(\.0) == ["ent-priority"])
        h.send(.offerAnswered("ent-priority", agent: "a1"))
        actions = h.send(.callEnded("ent-priority"))
        h.advance(.seconds(10)) // wrap-up
        #expect(offers(h.log).map(\.0) == ["ent-priority", "tax-early"])
    }

    @Test("strategies: longest idle, least calls, best skill", arguments: [
        (RoutingStrategy.longestIdle, AgentID("a1")), (.leastCalls, "a2"), (.bestSkill, "a3"),
    ])
    func strategies(strategy: RoutingStrategy, expected: AgentID) {
        let queue = QueueConfiguration(name: "q", skills: ["tax": 1], strategy: strategy)
        var h = harness(agents: [agent("a1", ["tax": 1]), agent("a2", ["tax": 2]), agent("a3", ["tax": 5])], queues: [queue])
        func call(_ id: CallID, by agent: AgentID) {
            h.send(.callerArrived(id, EnqueueRequest(queue: "q")))
            h.send(.offerAnswered(id, agent: agent))
            h.send(.callEnded(id))
        }
        // a1 answers two calls, a3 one, a2 none.
        h.ready("a1")
        call("x1", by: "a1")
        call("x2", by: "a1")
        h.send(.pauseRequested("a1", "x"))
        h.ready("a3")
        call("x3", by: "a3")
        h.send(.pauseRequested("a3", "x"))
        // Available since: a1 t=10, a2 t=20, a3 t=30.
        h.advance(.seconds(10))
        h.send(.unpauseRequested("a1"))
        h.advance(.seconds(10))
        h.ready("a2")
        h.advance(.seconds(10))
        h.send(.unpauseRequested("a3"))
        h.advance(.seconds(10))
        let actions = h.send(.callerArrived("c", EnqueueRequest(queue: "q")))
        #expect(offers(actions).map(\.1) == [expected])
    }

    @Test("max wait overflows into another queue keeping the caller's rank there")
    func overflowToQueue() {
        var first = Self.enterprise
        first.maxWait = .seconds(60)
        first.overflow = .queue("tax")
        var h = harness(agents: [agent("a1", ["tax": 1]), agent("busy", ["enterprise": 2])], queues: [first, Self.tax])
        h.ready("a1", "busy")
        h.send(.pauseRequested("a1", "x"))
        h.send(.pauseRequested("busy", "x"))
        h.send(.callerArrived("c-ent", EnqueueRequest(queue: "enterprise")))
        h.advance(.seconds(30))
        h.send(.callerArrived("c-tax", EnqueueRequest(queue: "tax")))
        let actions = h.advance(.seconds(30))
        #expect(actions == [.moved("c-ent", from: "enterprise", to: "tax", reason: .maxWait)])
        let served = h.send(.unpauseRequested("a1"))
        #expect(offers(served).map(\.0) == ["c-ent"]) // arrived first, so first in tax too
    }

    @Test("overflow exits: voicemail, dialplan; max length and empty queues overflow at once")
    func overflowExits() {
        var vm = QueueConfiguration(name: "vm", maxWait: .seconds(30), maxLength: 1, overflow: .voicemail)
        vm.joinWhenEmpty = true
        let empty = QueueConfiguration(name: "empty", skills: ["nobody": 5])
        var h = harness(agents: [agent("a1", [:])], queues: [vm, empty])
        h.send(.callerArrived("c1", EnqueueRequest(queue: "vm")))
        #expect(h.send(.callerArrived("c2", EnqueueRequest(queue: "vm")))
            == [.left("c2", .overflowed(.voicemail, reason: .queueFull, waited: .zero))])
        #expect(h.advance(.seconds(30)) == [.left("c1", .overflowed(.voicemail, reason: .maxWait, waited: .seconds(30)))])
        #expect(h.send(.callerArrived("c3", EnqueueRequest(queue: "empty")))
            == [.left("c3", .overflowed(.dialplan, reason: .noAgents, waited: .zero))])
        #expect(h.send(.callerArrived("c4", EnqueueRequest(queue: "nope")))
            == [.left("c4", .overflowed(.dialplan, reason: .unknownQueue, waited: .zero))])
    }

    @Test("callback: the caller keeps their place, hang-ups are ignored, an agent is offered the callback in turn")
    func callbackKeepsPlace() {
        var q = QueueConfiguration(name: "operator", maxWait: .seconds(60), overflow: .callback, joinWhenEmpty: true)
        q.ringTimeout = .seconds(10)
        var h = harness(agents: [agent("a1", [:])], queues: [q])
        h.send(.callerArrived("early", EnqueueRequest(queue: "operator")))
        h.advance(.seconds(30))
        h.send(.callerArrived("later", EnqueueRequest(queue: "operator")))
        #expect(h.advance(.seconds(30)) == [.convertedToCallback("early", queue: "operator", reason: .maxWait)])
        #expect(h.send(.callerHungUp("early")).isEmpty)
        h.ready("a1")
        let offered = h.log.compactMap { if case .offer(let c, _, let o) = $0 { (c, o.isCallback) } else { nil } }
        #expect(offered.first! == ("early", true))
        h.send(.offerAnswered("early", agent: "a1"))
        #expect(h.log.contains(.left("early", .answered(by: "a1", waited: .seconds(60)))))
        // A waiting callback can also be cancelled.
        h.advance(.seconds(60))
        #expect(h.log.contains(.convertedToCallback("later", queue: "operator", reason: .maxWait)))
        #expect(h.send(.callbackCancelled("later")) == [.left("later", .callbackCancelled(waited: .seconds(90)))])
    }

    @Test("callback not reached: the agent is free, the request is back in its place with one attempt more, given up after the last")
    func callbackNotReachedRequeuesInPlace() {
        var q = QueueConfiguration(name: "operator", maxWait: .seconds(10), overflow: .callback, joinWhenEmpty: true)
        q.ringTimeout = .seconds(10)
        q.wrapUp = .seconds(30)
        var h = harness(agents: [agent("a1", [:]), agent("a2", [:])], queues: [q], routing: .init(callbackAttempts: 2))
        h.send(.callerArrived("first", EnqueueRequest(queue: "operator")))
        h.advance(.seconds(5))
        h.send(.callerArrived("second", EnqueueRequest(queue: "operator")))
        h.advance(.seconds(10)) // both are callback requests now, "first" ahead
        #expect(h.log.contains(.convertedToCallback("first", queue: "operator", reason: .maxWait)))
        #expect(h.log.contains(.convertedToCallback("second", queue: "operator", reason: .maxWait)))
        h.ready("a1")
        #expect(offers(h.log).first.map { $0.0 } == "first")
        h.send(.offerAnswered("first", agent: "a1"))
        // The citizen is not reached: a1 is free at once (no wrap-up, no miss), and "first" goes
        // back ahead of "second", to a1 again.
        let back = h.send(.callbackNotReached("first"))
        #expect(back.contains(.callbackRequeued("first", attempts: 1)))
        #expect(offers(back).map { "\($0.0)>\($0.1)" } == ["first>a1"], "\(back)")
        #expect(h.machine.agent(holding: "first") == "a1")
        // The second failure spends its attempts: given up, and the agent takes "second".
        h.send(.offerAnswered("first", agent: "a1"))
        let gaveUp = h.send(.callbackNotReached("first"))
        #expect(gaveUp.contains(.left("first", .callbackCancelled(waited: .seconds(15)))))
        #expect(offers(gaveUp).map { "\($0.0)>\($0.1)" } == ["second>a1"], "\(gaveUp)")
        // Unknown or already ended calls change nothing.
        #expect(h.send(.callbackNotReached("nobody")).isEmpty)
    }

    @Test("widening: after the configured wait a lower-level agent may take the caller")
    func widening() {
        var q = Self.enterprise
        q.widening = [WideningStep(after: .seconds(45), skills: ["enterprise": 1])]
        var h = harness(agents: [agent("junior", ["enterprise": 1]), agent("senior", ["enterprise": 4])], queues: [q])
        h.ready("junior", "senior")
        h.send(.pauseRequested("senior", "x"))
        h.send(.callerArrived("c1", EnqueueRequest(queue: "enterprise")))
        #expect(h.machine.agent(holding: "c1") == nil)
        let actions = h.advance(.seconds(45))
        #expect(actions.first == .widened("c1", queue: "enterprise", skills: ["enterprise": 1]))
        #expect(offers(actions).map(\.1) == ["junior"])
    }

    @Test("skills override from the dialplan replaces the queue's skills")
    func skillsOverride() {
        var h = harness(agents: [agent("be", ["business_environment": 1]), agent("ent", ["enterprise": 5])])
        h.ready("be", "ent")
        let actions = h.send(.callerArrived("c1", EnqueueRequest(queue: "enterprise", skills: ["business_environment"])))
        #expect(offers(actions).map(\.1) == ["be"])
    }

    @Test("announcements: on joining and every interval, with position and estimate")
    func announcements() {
        var q = QueueConfiguration(name: "q", music: "hold_music", announceInterval: .seconds(60), averageHandleTime: .seconds(120))
        q.ringTimeout = .seconds(20)
        var h = harness(agents: [agent("a1", [:]), agent("a2", [:])], queues: [q])
        h.ready("a1", "a2")
        h.send(.callerArrived("busy1", EnqueueRequest(queue: "q")))
        h.send(.offerAnswered("busy1", agent: h.machine.agent(holding: "busy1")!))
        h.send(.callerArrived("busy2", EnqueueRequest(queue: "q")))
        h.send(.offerAnswered("busy2", agent: h.machine.agent(holding: "busy2")!))
        h.send(.callerArrived("c1", EnqueueRequest(queue: "q")))
        let actions = h.send(.callerArrived("c2", EnqueueRequest(queue: "q")))
        // Position 2 with two agents serving and 120 s per call: 2 × 120 / 2 = 120 s.
        #expect(actions == [.playMusic("c2", prompt: "hold_music"),
                            .announce("c2", Announcement(position: 2, estimatedWait: .seconds(120)))])
        let later = h.advance(.seconds(60))
        #expect(later.contains(.announce("c1", Announcement(position: 1, estimatedWait: .seconds(60)))))
    }

    @Test("a caller hanging up while the agent rings cancels the agent leg; an answer after that is released")
    func abandonWhileRinging() {
        var h = harness(agents: [agent("a1", ["tax": 1])])
        h.ready("a1")
        h.send(.callerArrived("c1", EnqueueRequest(queue: "tax")))
        h.advance(.seconds(3))
        #expect(h.send(.callerHungUp("c1")) == [
            .cancelOffer("c1", agent: "a1", reason: .callerHungUp), .agentStateChanged("a1", .available),
            .left("c1", .abandoned(waited: .seconds(3))),
        ])
        #expect(h.send(.offerAnswered("c1", agent: "a1")) == [.releaseAgentLeg("c1", agent: "a1")])
        #expect(h.send(.callerHungUp("c1")).isEmpty)
    }

    @Test("pause and logout asked for during a call take effect when it ends; pause while ringing re-queues")
    func pendingChanges() {
        var h = harness(agents: [agent("a1", ["tax": 1]), agent("a2", ["tax": 1])])
        h.ready("a1")
        h.send(.callerArrived("c1", EnqueueRequest(queue: "tax")))
        h.send(.offerAnswered("c1", agent: "a1"))
        #expect(h.send(.pauseRequested("a1", "lunch")).isEmpty)
        #expect(h.machine.agentStatuses(now: h.now).first?.pending == .pause("lunch"))
        #expect(h.send(.callEnded("c1")) == [.agentStateChanged("a1", .paused("lunch"))])
        h.send(.unpauseRequested("a1"))
        h.send(.callerArrived("c2", EnqueueRequest(queue: "tax")))
        h.send(.offerAnswered("c2", agent: "a1"))
        h.send(.logoutRequested("a1"))
        #expect(h.send(.callEnded("c2")) == [.agentStateChanged("a1", .loggedOut)])
        // Pause while ringing: the offer is withdrawn (no miss) and the caller goes to a2.
        h.ready("a1")
        h.send(.callerArrived("c3", EnqueueRequest(queue: "tax")))
        h.ready("a2")
        let actions = h.send(.pauseRequested("a1", "break"))
        #expect(actions.prefix(2) == [.cancelOffer("c3", agent: "a1", reason: .agentPaused), .agentStateChanged("a1", .paused("break"))])
        #expect(offers(actions).map(\.1) == ["a2"])
    }

    @Test("unreachable agents are not offered calls, and are logged out after the configured time")
    func unreachable() {
        var h = harness(agents: [agent("a1", ["tax": 1])], routing: RoutingSettings(logoutUnreachableAfter: .seconds(600)))
        h.ready("a1")
        h.send(.agentReachabilityChanged("a1", reachable: false))
        h.send(.callerArrived("c1", EnqueueRequest(queue: "tax")))
        #expect(h.machine.queueStatistics(now: h.now).first { $0.queue == "tax" }?.waiting == nil
            || h.log.contains(.left("c1", .overflowed(.dialplan, reason: .noAgents, waited: .zero))))
        let actions = h.advance(.seconds(600))
        #expect(actions == [.agentStateChanged("a1", .loggedOut), .agentLoggedOutUnreachable("a1")])
        #expect(h.machine.seats.loggedIn == 0)
    }

    @Test("statistics: waiting, longest wait, agents by state, service level over the window")
    func statistics() {
        var h = harness(agents: [agent("a1", ["tax": 1])], queues: [QueueConfiguration(name: "tax", skills: ["tax": 1], serviceLevelTarget: .seconds(20))])
        h.ready("a1")
        h.send(.callerArrived("fast", EnqueueRequest(queue: "tax")))
        h.advance(.seconds(5))
        h.send(.offerAnswered("fast", agent: "a1"))
        h.send(.callerArrived("slow", EnqueueRequest(queue: "tax")))
        h.send(.callerArrived("gone", EnqueueRequest(queue: "tax")))
        h.advance(.seconds(30))
        h.send(.callerHungUp("gone"))
        h.send(.callEnded("fast"))
        h.advance(.seconds(1))
        h.send(.offerAnswered("slow", agent: "a1"))
        var stats = h.machine.queueStatistics(now: h.now)[0]
        #expect(stats.offered == 3)
        #expect(stats.answered == 2)
        #expect(stats.answeredWithinTarget == 1)
        #expect(stats.abandoned == 1)
        #expect(stats.serviceLevel == 1.0 / 3.0)
        #expect(stats.agents.onCall == 1)
        #expect(stats.waiting == 0)
        // 15 minutes later the window is empty.
        h.send(.callEnded("slow"))
        h.advance(.seconds(901))
        stats = h.machine.queueStatistics(now: h.now)[0]
        #expect(stats.offered == 0)
        #expect(stats.serviceLevel == nil)
    }

    @Test("reconfigure: a removed queue sends its callers back to the dialplan; a removed agent is logged out after the call")
    func reconfigure() {
        var h = harness(agents: [agent("a1", ["tax": 1]), agent("a2", ["enterprise": 2])])
        h.ready("a1", "a2")
        h.send(.pauseRequested("a1", "x"))
        h.send(.callerArrived("c1", EnqueueRequest(queue: "tax")))
        h.send(.callerArrived("c2", EnqueueRequest(queue: "enterprise")))
        h.send(.offerAnswered("c2", agent: "a2"))
        let actions = h.machine.reconfigure(
            ACDConfiguration(agents: [agent("a1", ["tax": 1])], queues: [Self.enterprise], licensedSeats: 99), now: h.now)
        #expect(actions.contains(.left("c1", .overflowed(.dialplan, reason: .queueRemoved, waited: .zero))))
        #expect(h.machine.seats.licensed == 10)
        #expect(h.send(.callEnded("c2")) == [.agentStateChanged("a2", .loggedOut)])
        #expect(h.state("a2") == nil)
    }

    @Test("feature codes", arguments: [
        ("*21", AgentFeatureCode.login), ("*22", .logout), ("*23", .pause(reasonCode: nil)), ("*232", .pause(reasonCode: "2")),
        ("*24", .unpause),
    ])
    func featureCodes(dialled: String, code: AgentFeatureCode) {
        #expect(AgentFeatureCode(dialled: dialled) == code)
        let event: Machine.Event = code.event(for: "a1", pauseReasons: ["2": "lunch"])
        if case .pause(let c) = code {
            #expect(event == .pauseRequested("a1", c == "2" ? "lunch" : .unspecified))
        }
        #expect(AgentFeatureCode(dialled: "12345") == nil)
        #expect(AgentFeatureCode(dialled: "*23x") == nil)
    }
}
