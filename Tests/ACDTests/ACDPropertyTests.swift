@testable import ACD
import Randomness
import Testing

/// Random event sequences against the ACD, checked against a model built only from the
/// events sent and the actions received:
///
/// 1. no agent is ever offered a call while holding one (offered or connected), and only
///    available, reachable agents with the skills are offered calls;
/// 2. when a caller is offered to an agent, no better-ranked waiting caller (across queues)
///    could have been served by that agent;
/// 3. after every event, no waiting caller could be served by a free agent (nobody waits
///    while an agent who could take them idles);
/// 4. a login never takes the logged-in count above the licence;
/// 5. every caller leaves exactly once (answered, abandoned, overflowed or callback
///    cancelled), checked after draining the system at the end.
@Suite("ACD property tests: random event sequences keep the invariants")
struct ACDPropertyTests {
    static let reofferDelay = Duration.seconds(20)
    static let priorityStep = Duration.seconds(45)

    static func configuration(_ rng: inout SplitMix64) -> ACDConfiguration {
        let strategies = RoutingStrategy.allCases
        var a = QueueConfiguration(name: "qa", skills: ["a": 1], strategy: strategies.randomElement(using: &rng)!,
                                   ringTimeout: .seconds(15), autoPauseAfterMisses: 3, wrapUp: .seconds(5))
        a.maxLength = 4
        a.overflow = .callback
        a.joinWhenEmpty = true
        var b = QueueConfiguration(name: "qb", skills: ["b": 3], strategy: strategies.randomElement(using: &rng)!,
                                   ringTimeout: .seconds(10), autoPauseAfterMisses: 2, wrapUp: .zero)
        b.widening = [WideningStep(after: .seconds(40), skills: ["b": 1]), WideningStep(after: .seconds(80), skills: [:])]
        b.maxWait = .seconds(120)
        b.overflow = .queue("qc")
        b.announceInterval = .seconds(30)
        var c = QueueConfiguration(name: "qc", skills: [:], strategy: strategies.randomElement(using: &rng)!,
                                   ringTimeout: .seconds(20), autoPauseAfterMisses: nil, wrapUp: .seconds(3))
        c.maxWait = .seconds(150)
        c.overflow = .voicemail
        c.joinWhenEmpty = Bool.random(using: &rng)
        var d = QueueConfiguration(name: "qd", skills: ["a": 2, "b": 2], strategy: .bestSkill)
        d.maxWait = .seconds(60)
        d.overflow = .queue("qa")
        let agents = (1...6).map { i -> AgentProfile in
            var skills: [Skill: Int] = [:]
            if Bool.random(using: &rng) { skills["a"] = Int.random(in: 1...5, using: &rng) }
            if Bool.random(using: &rng) { skills["b"] = Int.random(in: 1...5, using: &rng) }
            return AgentProfile(id: AgentID("a\(i)"), name: "A\(i)", sipUsername: "\(1000 + i)", skills: skills,
                                seat: i % 2 == 0 ? .home : .onSite)
        }
        return ACDConfiguration(agents: agents, queues: [a, b, c, d], licensedSeats: Int.random(in: 2...6, using: &rng),
                                routing: RoutingSettings(priorityStep: priorityStep, reofferDelay: reofferDelay))
    }

    /// What the test knows, from its own events and the machine's actions.
    struct Model {
        struct Caller {
            var arrivedAt: TestInstant
            var queuedAt: TestInstant
            var priority: Int
            var sequence: Int
            var queue: QueueName
            var skills: [Skill]?
            var isCallback = false
            var offeredTo: AgentID?
            var excludedUntil: [AgentID: TestInstant] = [:]
        }
        var configuration: ACDConfiguration
        var queues: [QueueName: QueueConfiguration]
        var profiles: [AgentID: AgentProfile]
        var licensed: Int
        var agentState: [AgentID: AgentState] = [:]
        var reachable: [AgentID: Bool] = [:]
        var waiting: [CallID: Caller] = [:]
        var active: [CallID: AgentID] = [:]
        var holding: [AgentID: CallID] = [:]
        var arrived: [CallID] = []
        var leftCount: [CallID: Int] = [:]
        var nextSequence = 0
        var violations: [String] = []

        init(_ configuration: ACDConfiguration) {
            self.configuration = configuration
            queues = Dictionary(uniqueKeysWithValues: configuration.queues.map { ($0.name, $0) })
            profiles = Dictionary(uniqueKeysWithValues: configuration.agents.map { ($0.id, $0) })
            licensed = configuration.licensedSeats
            for id in profiles.keys { agentState[id] = .loggedOut; reachable[id] = false }
        }

        func rank(_ c: Caller) -> (TestInstant, Int) { (c.arrivedAt.advanced(by: priorityStep * -c.priority), c.sequence) }

        func requirements(_ c: Caller, now: TestInstant) -> SkillRequirements {
            let queue = queues[c.queue]!
            let waited = now - c.queuedAt
            if !c.isCallback, let step = queue.widening.last(where: { $0.after <= waited }) { return step.skills }
            guard let override = c.skills else { return queue.skills }
            return SkillRequirements(Dictionary(uniqueKeysWithValues: override.map { ($0, queue.skills.minimumLevels[$0] ?? 1) }))
        }

        func canServe(_ agent: AgentID, _ c: Caller, now: TestInstant) -> Bool {
            if let until = c.excludedUntil[agent], until > now { return false }
            return requirements(c, now: now).isSatisfied(by: profiles[agent]!.skills)
        }

        func isFree(_ agent: AgentID) -> Bool { agentState[agent] == .available && reachable[agent] == true }

        var loggedIn: Int { agentState.values.filter(\.isLoggedIn).count }

        mutating func fail(_ message: String) { violations.append(message) }

        mutating func missed(_ call: CallID, by agent: AgentID, now: TestInstant) {
            waiting[call]?.offeredTo = nil
            waiting[call]?.excludedUntil[agent] = now.advanced(by: reofferDelay)
            if holding[agent] == call { holding[agent] = nil }
        }

        /// Applies the actions of one event in order, checking invariants 1, 2 and 4 on the way.
        mutating func apply(_ actions: [Action], now: TestInstant) {
            for action in actions {
                switch action {
                case .offer(let call, let agent, _):
                    if let held = holding[agent] { fail("\(agent) offered \(call) while holding \(held)") }
                    if !isFree(agent) { fail("\(agent) offered \(call) while \(agentState[agent]!) reachable=\(reachable[agent]!)") }
                    guard let caller = waiting[call] else { fail("offer of unknown or gone caller \(call)"); continue }
                    if caller.offeredTo != nil { fail("\(call) offered twice") }
                    if !canServe(agent, caller, now: now) { fail("\(agent) cannot serve \(call)") }
                    for (other, c) in waiting where other != call && c.offeredTo == nil && rank(c) < rank(caller) {
                        if canServe(agent, c, now: now) {
                            fail("\(agent) offered \(call) but \(other) ranks earlier and could be served")
                        }
                    }
                    waiting[call]!.offeredTo = agent
                    holding[agent] = call
                case .cancelOffer(let call, let agent, let reason):
                    if reason == .ringTimeout { missed(call, by: agent, now: now) } else {
                        waiting[call]?.offeredTo = nil
                        if holding[agent] == call { holding[agent] = nil }
                    }
                case .releaseAgentLeg:
                    break
                case .moved(let call, _, let to, _):
                    waiting[call]?.queue = to
                    waiting[call]?.queuedAt = now
                case .convertedToCallback(let call, _, _):
                    waiting[call]?.isCallback = true
                case .callbackRequeued:
                    fail("callbackNotReached is not among the generated events")
                case .left(let call, let exit):
                    leftCount[call, default: 0] += 1
                    if leftCount[call]! > 1 { fail("\(call) left twice") }
                    if case .answered(let agent, _) = exit {
                        if waiting[call]?.offeredTo != agent { fail("\(call) answered by \(agent) without its offer") }
                        active[call] = agent
                        holding[agent] = call
                    } else if let agent = waiting[call]?.offeredTo, holding[agent] == call {
                        holding[agent] = nil
                    }
                    waiting[call] = nil
                case .agentStateChanged(let agent, let state):
                    let before = agentState[agent]!
                    agentState[agent] = state
                    if before == .loggedOut, state != .loggedOut, loggedIn > licensed {
                        fail("login of \(agent) made \(loggedIn) logged in over \(licensed) seats")
                    }
                    switch state {
                    case .available, .paused, .wrapUp, .loggedOut:
                        if let held = holding[agent], active[held] == nil, waiting[held]?.offeredTo == agent {
                            fail("\(agent) became \(state) while still offered \(held)")
                        }
                        if let held = holding[agent], active[held] != nil { fail("\(agent) became \(state) during call \(held)") }
                    default: break
                    }
                case .agentAutoPaused, .agentLoggedOutUnreachable, .refused, .playMusic, .announce, .widened, .scheduleTick,
                     .cancelTick:
                    break
                }
            }
        }

        /// Invariant 3.
        mutating func checkWorkConserving(now: TestInstant) {
            for (id, caller) in waiting where caller.offeredTo == nil {
                for agent in profiles.keys.sorted() where isFree(agent) && holding[agent] == nil {
                    if canServe(agent, caller, now: now) { fail("\(id) waits while free \(agent) could serve it") }
                }
            }
        }
    }

    static func holdsCall(_ state: AgentState) -> Bool {
        switch state {
        case .reserved, .onCall: true
        default: false
        }
    }

    @Test("random sequences keep the invariants", arguments: 0..<60)
    func randomSequences(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 7919 &+ 17)
        let configuration = Self.configuration(&rng)
        var machine = Machine(configuration: configuration, now: TestInstant())
        var model = Model(configuration)
        var now = TestInstant()
        var callNumber = 0
        let agentIDs = configuration.agents.map(\.id)

        func send(_ event: Machine.Event) {
            switch event {
            case .callerArrived(let id, let request):
                model.nextSequence += 1
                model.arrived.append(id)
                if model.queues[request.queue] != nil {
                    model.waiting[id] = Model.Caller(arrivedAt: now, queuedAt: now, priority: request.priority,
                                                     sequence: model.nextSequence, queue: request.queue, skills: request.skills)
                }
            case .offerFailed(let call, let agent, _):
                if model.waiting[call]?.offeredTo == agent { model.missed(call, by: agent, now: now) }
            case .callEnded(let call), .callerHungUp(let call):
                if let agent = model.active.removeValue(forKey: call), model.holding[agent] == call { model.holding[agent] = nil }
            case .agentReachabilityChanged(let agent, let reachable):
                model.reachable[agent] = reachable
            case .licensedSeatsChanged(let seats):
                model.licensed = seats
            default:
                break
            }
            let actions = machine.event(event, now: now)
            model.apply(actions, now: now)
            model.checkWorkConserving(now: now)
        }

        for _ in 0..<400 {
            let roll = Int.random(in: 0..<100, using: &rng)
            switch roll {
            case 0..<22:
                callNumber += 1
                let queue = QueueName(["qa", "qb", "qc", "qd", "qx"][Int.random(in: 0..<5, using: &rng) % (roll < 21 ? 4 : 5)])
                let skills: [Skill]? = Int.random(in: 0..<6, using: &rng) == 0 ? ["a"] : nil
                send(.callerArrived(CallID("c\(callNumber)"), EnqueueRequest(queue: queue, priority: Int.random(in: 0...2, using: &rng),
                                                                              skills: skills)))
            case 22..<30:
                if let call = model.waiting.filter({ !$0.value.isCallback }).keys.sorted().randomElement(using: &rng) {
                    send(.callerHungUp(call))
                }
            case 30..<32:
                if let call = model.waiting.filter({ $0.value.isCallback }).keys.sorted().randomElement(using: &rng) {
                    send(.callbackCancelled(call))
                }
            case 32..<47:
                let offered = model.waiting.filter { $0.value.offeredTo != nil }.sorted { $0.key < $1.key }
                if let (call, caller) = offered.randomElement(using: &rng) {
                    if Int.random(in: 0..<4, using: &rng) == 0 {
                        send(.offerFailed(call, agent: caller.offeredTo!, [.declined, .noAnswer, .unreachable].randomElement(using: &rng)!))
                    } else {
                        send(.offerAnswered(call, agent: caller.offeredTo!))
                    }
                }
            case 47..<57:
                if let call = model.active.keys.sorted().randomElement(using: &rng) { send(.callEnded(call)) }
            case 57..<63:
                send(.loginRequested(agentIDs.randomElement(using: &rng)!))
            case 63..<66:
                send(.logoutRequested(agentIDs.randomElement(using: &rng)!))
            case 66..<70:
                send(.pauseRequested(agentIDs.randomElement(using: &rng)!, "break"))
            case 70..<75:
                send(.unpauseRequested(agentIDs.randomElement(using: &rng)!))
            case 75..<80:
                let agent = agentIDs.randomElement(using: &rng)!
                send(.agentReachabilityChanged(agent, reachable: Int.random(in: 0..<4, using: &rng) != 0))
            case 80..<82:
                send(.licensedSeatsChanged(Int.random(in: 0...6, using: &rng)))
            case 82..<84:
                // A stray answer for a call nobody offered to this agent.
                send(.offerAnswered(CallID("c\(Int.random(in: 1...max(1, callNumber), using: &rng))"),
                                    agent: agentIDs.randomElement(using: &rng)!))
            default:
                now = now.advanced(by: .seconds(Int.random(in: 1...25, using: &rng)))
                send(.tick)
            }
            if !model.violations.isEmpty { break }
        }

        // Drain: everyone reachable, logged in where seats allow, every offer answered, every
        // call ended, every waiting caller hung up or callback cancelled.
        send(.licensedSeatsChanged(agentIDs.count))
        for agent in agentIDs {
            send(.agentReachabilityChanged(agent, reachable: true))
            send(.unpauseRequested(agent))
        }
        var rounds = 0
        while (!model.waiting.isEmpty || !model.active.isEmpty), rounds < 1000, model.violations.isEmpty {
            rounds += 1
            for call in model.active.keys.sorted() { send(.callEnded(call)) }
            for (call, caller) in model.waiting.sorted(by: { $0.key < $1.key }) {
                if caller.isCallback { send(.callbackCancelled(call)) } else { send(.callerHungUp(call)) }
            }
            now = now.advanced(by: .seconds(30))
            send(.tick)
        }
        for call in model.arrived where model.leftCount[call] != 1 {
            model.fail("\(call) left \(model.leftCount[call] ?? 0) times")
        }
        #expect(model.violations.isEmpty, "seed \(seed): \(model.violations.prefix(5))")
        #expect(machine.waitingCallers.isEmpty)
        #expect(agentIDs.allSatisfy { machine.state(of: $0) != nil && !(machine.state(of: $0).map(Self.holdsCall) ?? false) })
    }
}
