@testable import ACD
import Foundation
import Testing

@Suite("ACD snapshot: a machine restored from a snapshot (takeover) decides as the original would have")
struct ACDSnapshotTests {
    static let enterprise = QueueConfiguration(
        name: "enterprise", skills: ["enterprise": 2], ringTimeout: .seconds(15), autoPauseAfterMisses: 2, wrapUp: .seconds(10),
        widening: [WideningStep(after: .seconds(8), skills: ["enterprise": 1]), WideningStep(after: .seconds(60), skills: [:])])
    // Announcements only here: their estimate averages handle times, which a restored machine
    // does not have, and the only call ended before the snapshot is an enterprise call.
    static let tax = QueueConfiguration(
        name: "tax", skills: ["tax": 1], ringTimeout: .seconds(20), wrapUp: .seconds(5), maxWait: .seconds(240),
        music: "hold", announceInterval: .seconds(30))
    static let agents = [
        agent("a1", ["enterprise": 3]), agent("a2", ["enterprise": 2, "tax": 2], seat: .home),
        agent("a3", ["tax": 3]), agent("a4", ["tax": 1, "enterprise": 1]), agent("a5", ["tax": 1]),
    ]
    static let configuration = ACDConfiguration(
        agents: agents, queues: [enterprise, tax], licensedSeats: 10,
        routing: RoutingSettings(priorityStep: .seconds(60), reofferDelay: .seconds(30)))

    /// The snapshot's timeline is Unix milliseconds; the restored machine's clock starts three
    /// hours after the original's, so nothing passes by sharing an origin.
    static let epoch: Int64 = 1_764_936_000_000
    static let shift = Duration.seconds(3 * 3600)

    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    static func wall(original: TestInstant) -> Int64 { epoch + milliseconds(original.offset) }
    static func wall(restored: TestInstant) -> Int64 { epoch + milliseconds(restored.offset - shift) }
    static func restoredInstant(_ ms: Int64) -> TestInstant { TestInstant(.milliseconds(ms - epoch) + shift) }

    /// The restored machine's actions on the original's clock.
    static func unshifted(_ actions: [Action]) -> [Action] {
        actions.map { action in
            if case .scheduleTick(let at) = action { .scheduleTick(at: TestInstant(at.offset - shift)) } else { action }
        }
    }

    static func roundTrip(_ snapshot: ACDSnapshot) throws -> ACDSnapshot {
        let data = try JSONEncoder().encode(snapshot)
        return try JSONDecoder().decode(ACDSnapshot.self, from: data)
    }

    static func restore(_ snapshot: ACDSnapshot, configuration: ACDConfiguration = configuration, at now: TestInstant) -> Machine {
        Machine(configuration: configuration, restoring: snapshot, now: TestInstant(now.offset + shift), instant: restoredInstant)
    }

    /// Feeds both machines the same events at corresponding times and checks they act alike.
    struct Twins {
        var original: Machine
        var restored: Machine
        var now: TestInstant
        var log: [Action] = []

        @discardableResult
        mutating func send(_ event: Machine.Event, at seconds: Int, sourceLocation: SourceLocation = #_sourceLocation) -> [Action] {
            now = .seconds(seconds)
            let expected = original.event(event, now: now)
            let actual = ACDSnapshotTests.unshifted(restored.event(event, now: TestInstant(now.offset + ACDSnapshotTests.shift)))
            #expect(actual == expected, "\(event) at t+\(seconds)s", sourceLocation: sourceLocation)
            log += expected
            return expected
        }

        func expectSamePicture(sourceLocation: SourceLocation = #_sourceLocation) {
            let restoredNow = TestInstant(now.offset + ACDSnapshotTests.shift)
            #expect(restored.agentStatuses(now: restoredNow) == original.agentStatuses(now: now), sourceLocation: sourceLocation)
            let waiting = { (s: QueueStatistics) in [s.waiting, s.callbacksWaiting] }
            #expect(restored.queueStatistics(now: restoredNow).map(waiting) == original.queueStatistics(now: now).map(waiting),
                    sourceLocation: sourceLocation)
            #expect(restored.queueStatistics(now: restoredNow).map(\.longestWait) == original.queueStatistics(now: now).map(\.longestWait),
                    sourceLocation: sourceLocation)
            #expect(restored.queueStatistics(now: restoredNow).map(\.agents) == original.queueStatistics(now: now).map(\.agents),
                    sourceLocation: sourceLocation)
            #expect(restored.waitingCallers.map(\.call) == original.waitingCallers.map(\.call), sourceLocation: sourceLocation)
            #expect(restored.seats == original.seats, sourceLocation: sourceLocation)
        }
    }

    /// Two queues, five agents: at t+22 a1 is in wrap-up, a2 on a tax call with a pause pending,
    /// a3 ringing for c5 after declining c3 (who now skips a3 for 30 s), a4 paused, a5 logged
    /// out; c4 (priority 2, widened), c5 (priority 1, offered), c3 and c6 wait.
    static func busyMachine() -> Harness {
        var h = Harness(configuration)
        h.ready("a1", "a2", "a3", "a4")
        h.send(.callerArrived("c1", EnqueueRequest(queue: "enterprise")))
        h.advance(.seconds(2))
        h.send(.offerAnswered("c1", agent: "a1"))
        h.advance(.seconds(1))
        h.send(.callerArrived("c2", EnqueueRequest(queue: "tax")))
        h.advance(.seconds(1))
        h.send(.offerAnswered("c2", agent: "a2"))
        h.advance(.seconds(1))
        h.send(.pauseRequested("a4", "lunch"))
        h.advance(.seconds(1))
        h.send(.callerArrived("c3", EnqueueRequest(queue: "tax")))
        h.advance(.seconds(2))
        h.send(.offerFailed("c3", agent: "a3", .declined))
        h.advance(.seconds(2))
        h.send(.pauseRequested("a2", "training"))
        h.advance(.seconds(2))
        h.send(.callerArrived("c4", EnqueueRequest(queue: "enterprise", priority: 2)))
        h.advance(.seconds(2))
        h.send(.callerArrived("c5", EnqueueRequest(queue: "tax", priority: 1)))
        h.advance(.seconds(6))
        h.send(.callEnded("c1"))
        h.advance(.seconds(1))
        h.send(.callerArrived("c6", EnqueueRequest(queue: "enterprise")))
        h.advance(.seconds(1))
        return h
    }

    @Test("a busy machine's snapshot survives JSON, and the restored machine acts exactly as the original from then on")
    func takeover() throws {
        let h = Self.busyMachine()
        #expect(h.now == .seconds(22))
        #expect(h.state("a1") == .wrapUp)
        #expect(h.state("a2") == .onCall("c2"))
        #expect(h.state("a3") == .reserved("c5"))
        #expect(h.state("a4") == .paused("lunch"))
        #expect(h.state("a5") == .loggedOut)

        let snapshot = h.machine.snapshot(time: Self.wall(original:))
        #expect(snapshot.agents.map(\.id) == ["a1", "a2", "a3", "a4", "a5"])
        #expect(snapshot.waiting.map(\.id) == ["c4", "c5", "c3", "c6"])
        #expect(snapshot.waiting.map(\.offeredTo) == [nil, "a3", nil, nil])
        #expect(snapshot.waiting[0].wideningStep == 0)
        #expect(snapshot.waiting[2].excludedUntil == ["a3": Self.epoch + 38_000])
        #expect(snapshot.waiting[2].nextAnnouncement == Self.epoch + 36_000)
        #expect(snapshot.agents[1].pending == .pause("training"))
        #expect(snapshot.agents[0].wrapUpUntil == Self.epoch + 30_000)
        #expect(snapshot.agents[2].ringDeadline == Self.epoch + 34_000)
        #expect(snapshot.calls == [ACDSnapshot.Call(id: "c2", agent: "a2", queue: "tax", answeredAt: Self.epoch + 4_000, wrapUp: .seconds(5))])

        let decoded = try Self.roundTrip(snapshot)
        #expect(decoded == snapshot)
        let json = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
        #expect(json.contains(#""excludedUntil":{"a3":\#(Self.epoch + 38_000)}"#))

        var twins = Twins(original: h.machine, restored: Self.restore(decoded, at: h.now), now: h.now)
        #expect(twins.restored.scheduledTick == nil)
        #expect(twins.restored.snapshot(time: Self.wall(restored:)) == snapshot)
        twins.expectSamePicture()

        // The first event after restoring asks for the tick the original already has.
        let first = twins.restored.event(.tick, now: TestInstant(h.now.offset + Self.shift))
        #expect(Self.unshifted(first) == [.scheduleTick(at: h.machine.scheduledTick!)])
        #expect(twins.original.event(.tick, now: h.now).isEmpty)

        twins.send(.offerAnswered("c5", agent: "a3"), at: 25)
        twins.send(.callerArrived("c7", EnqueueRequest(queue: "tax")), at: 28)
        twins.send(.tick, at: 29) // c6 widens
        twins.send(.tick, at: 30) // a1's wrap-up ends: c4 (widened) is first
        twins.send(.callEnded("c2"), at: 33) // a2's pending pause applies
        twins.send(.tick, at: 36) // c3's announcement
        twins.send(.tick, at: 45) // a1 lets c4 ring out, gets c6
        twins.send(.unpauseRequested("a4"), at: 46)
        twins.send(.offerAnswered("c4", agent: "a4"), at: 50)
        twins.send(.offerFailed("c6", agent: "a1", .declined), at: 50) // second miss: auto-pause
        twins.send(.unpauseRequested("a2"), at: 55)
        twins.send(.callerHungUp("c7"), at: 60)
        twins.send(.callerArrived("c8", EnqueueRequest(queue: "enterprise", priority: 1)), at: 62)
        twins.send(.tick, at: 66)
        twins.send(.logoutRequested("a4"), at: 70) // pending until c4 ends
        twins.send(.agentReachabilityChanged("a5", reachable: true), at: 72)
        twins.send(.loginRequested("a5"), at: 72)
        twins.send(.offerAnswered("c3", agent: "a2"), at: 75)
        twins.send(.callEnded("c4"), at: 80)
        for t in stride(from: 90, through: 300, by: 10) { twins.send(.tick, at: t) }
        twins.send(.unpauseRequested("a1"), at: 301)
        twins.send(.callEnded("c5"), at: 310)
        for t in stride(from: 320, through: 400, by: 20) { twins.send(.tick, at: t) }
        twins.expectSamePicture()

        // The run exercised what the snapshot carries.
        let log = twins.log
        #expect(offers(log).map(\.0).contains("c6"))
        #expect(log.contains(.cancelOffer("c4", agent: "a1", reason: .ringTimeout)))
        #expect(log.contains(.agentAutoPaused("a1", consecutiveMisses: 2)))
        #expect(log.contains(.agentStateChanged("a2", .paused("training"))))
        #expect(log.contains(.agentStateChanged("a4", .loggedOut)))
        #expect(log.contains { if case .announce("c3", _) = $0 { true } else { false } })
        #expect(log.contains { if case .widened("c6", _, _) = $0 { true } else { false } })
        #expect(log.contains { if case .scheduleTick = $0 { true } else { false } })
    }

    @Test("restoring under a configuration without an agent: logged out, it is dropped; logged in, it stays until it logs out")
    func restoreUnderNewConfiguration() throws {
        var h = Harness(Self.configuration)
        h.ready("a2", "a3")
        h.send(.callerArrived("c1", EnqueueRequest(queue: "tax")))
        h.send(.offerAnswered("c1", agent: "a2"))
        h.send(.pauseRequested("a3", "lunch"))
        h.advance(.seconds(5))
        let snapshot = try Self.roundTrip(h.machine.snapshot(time: Self.wall(original:)))

        var reduced = Self.configuration
        reduced.agents = reduced.agents.filter { !["a2", "a3", "a5"].contains($0.id) } + [agent("a6", ["tax": 1])]
        var restored = Self.restore(snapshot, configuration: reduced, at: h.now)
        var now = TestInstant(h.now.offset + Self.shift)
        #expect(restored.state(of: "a5") == nil)
        #expect(restored.state(of: "a6") == .loggedOut)
        #expect(restored.state(of: "a1") == .loggedOut)
        #expect(restored.state(of: "a2") == .onCall("c1"))
        #expect(restored.state(of: "a3") == .paused("lunch"))
        #expect(restored.agentStatuses(now: now).first { $0.id == "a2" }?.pending == .logout)

        #expect(restored.event(.loginRequested("a3"), now: now).filter { !$0.isTick } == [.refused("a3", .login, .unknownAgent)])
        #expect(restored.event(.logoutRequested("a3"), now: now).filter { !$0.isTick } == [.agentStateChanged("a3", .loggedOut)])
        #expect(restored.state(of: "a3") == nil)
        now = now.advanced(by: .seconds(30))
        #expect(restored.event(.callEnded("c1"), now: now).filter { !$0.isTick } == [.agentStateChanged("a2", .loggedOut)])
        #expect(restored.state(of: "a2") == nil)
        #expect(restored.agentStatuses(now: now).map(\.id) == ["a1", "a4", "a6"])
    }

    @Test("a fresh machine's snapshot restores to an equivalent idle machine")
    func idle() throws {
        let original = Machine(configuration: Self.configuration, now: TestInstant())
        let snapshot = try Self.roundTrip(original.snapshot(time: Self.wall(original:)))
        #expect(snapshot.agents.count == 5)
        #expect(snapshot.agents.allSatisfy { $0.state == .loggedOut && !$0.reachable && $0.pending == nil })
        #expect(snapshot.waiting.isEmpty && snapshot.calls.isEmpty)

        var twins = Twins(original: original, restored: Self.restore(snapshot, at: TestInstant()), now: TestInstant())
        #expect(twins.restored.scheduledTick == nil)
        twins.expectSamePicture()
        #expect(twins.restored.queueStatistics(now: TestInstant(Self.shift)) == twins.original.queueStatistics(now: TestInstant()))
        #expect(twins.restored.snapshot(time: Self.wall(restored:)) == snapshot)

        twins.send(.agentReachabilityChanged("a1", reachable: true), at: 1)
        twins.send(.loginRequested("a1"), at: 1)
        twins.send(.callerArrived("c1", EnqueueRequest(queue: "enterprise")), at: 2)
        twins.send(.tick, at: 17)
        twins.send(.tick, at: 47)
        twins.expectSamePicture()
        #expect(offers(twins.log).map(\.1) == ["a1", "a1"])
    }
}
