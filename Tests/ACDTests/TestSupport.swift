@testable import ACD
import Testing

/// A manual clock's instant: time since the test began.
struct TestInstant: InstantProtocol, CustomStringConvertible {
    var offset: Duration
    init(_ offset: Duration = .zero) { self.offset = offset }
    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (a: TestInstant, b: TestInstant) -> Bool { a.offset < b.offset }
    static func seconds(_ s: Int) -> TestInstant { TestInstant(.seconds(s)) }
    var description: String { "t+\(offset)" }
}

typealias Machine = ACDStateMachine<TestInstant>
typealias Action = Machine.Action

/// Drives a machine on a manual clock; filters the tick bookkeeping out of action lists.
struct Harness {
    var machine: Machine
    var now = TestInstant()
    var log: [Action] = []

    init(_ configuration: ACDConfiguration) {
        machine = Machine(configuration: configuration, now: TestInstant())
    }

    /// Sends an event at the current time; returns its actions without scheduleTick/cancelTick.
    @discardableResult
    mutating func send(_ event: Machine.Event) -> [Action] {
        let actions = machine.event(event, now: now)
        log += actions
        return actions.filter { !$0.isTick }
    }

    /// Moves the clock and sends a tick.
    @discardableResult
    mutating func advance(_ duration: Duration) -> [Action] {
        now = now.advanced(by: duration)
        return send(.tick)
    }

    /// Logs agents in and marks their phones reachable.
    mutating func ready(_ agents: AgentID...) {
        for agent in agents {
            send(.agentReachabilityChanged(agent, reachable: true))
            send(.loginRequested(agent))
        }
    }

    /// Agents' states, for compact assertions.
    func state(_ agent: AgentID) -> AgentState? { machine.state(of: agent) }
}

extension ACDStateMachine.Action {
    var isTick: Bool {
        switch self {
        case .scheduleTick, .cancelTick: true
        default: false
        }
    }
}

func agent(_ id: AgentID, _ skills: [Skill: Int], seat: SeatKind = .onSite) -> AgentProfile {
    AgentProfile(id: id, name: id.rawValue.uppercased(), sipUsername: "sip-\(id)", skills: skills, seat: seat)
}

/// Offers among actions, as (call, agent).
func offers(_ actions: [Action]) -> [(CallID, AgentID)] {
    actions.compactMap { if case .offer(let c, let a, _) = $0 { (c, a) } else { nil } }
}
