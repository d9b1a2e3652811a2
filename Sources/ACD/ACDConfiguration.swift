// ACD: the automatic call distributor as a sans-IO state machine. This file: what agents and
// queues are, as `agents.yaml` and `queues.yaml` describe them (ACDConfig loads those).

/// One agent: who they are, what they can do, where they sit.
public struct AgentProfile: Hashable, Sendable {
    public var id: AgentID
    public var name: String
    /// The SIP username their phone registers with (the registrar's key).
    public var sipUsername: String
    /// Skill → level (1–5).
    public var skills: [Skill: Int]
    public var seat: SeatKind

    public init(id: AgentID, name: String, sipUsername: String, skills: [Skill: Int], seat: SeatKind) {
        self.id = id
        self.name = name
        self.sipUsername = sipUsername
        self.skills = skills
        self.seat = seat
    }
}

/// How a queue picks among the agents who could take its next caller.
public enum RoutingStrategy: String, Hashable, Sendable, CaseIterable {
    /// The agent available the longest.
    case longestIdle = "longest_idle"
    /// The agent who has answered the fewest calls since logging in (then longest idle).
    case leastCalls = "least_calls"
    /// The highest level in the required skills (summed), then longest idle.
    case bestSkill = "best_skill"
}

/// What happens to a caller a queue cannot keep: over `max_wait`, over `max_length`, or
/// (without `join_when_empty`) when nobody could ever serve them.
public enum OverflowTarget: Hashable, Sendable, CustomStringConvertible {
    /// Into another queue; the caller keeps their original arrival time for fairness.
    case queue(QueueName)
    /// Leave a voice message (the server records it beside the ticket).
    case voicemail
    /// The caller hangs up with a callback request that keeps their place in the queue; an
    /// agent is offered the callback when it reaches the front.
    case callback
    /// Back to the dialplan: the `queue` node's `on_unavailable`.
    case dialplan

    public var description: String {
        switch self {
        case .queue(let q): "queue \(q)"
        case .voicemail: "voicemail"
        case .callback: "callback"
        case .dialplan: "unavailable"
        }
    }
}

/// After `after` in the queue, a caller's skill requirements become `skills` (widening:
/// `{enterprise: 2}` → `{enterprise: 1}` → `{general: 1}`).
public struct WideningStep: Hashable, Sendable {
    public var after: Duration
    public var skills: SkillRequirements
    public init(after: Duration, skills: SkillRequirements) {
        self.after = after
        self.skills = skills
    }
}

/// One queue's rules.
public struct QueueConfiguration: Hashable, Sendable {
    public var name: QueueName
    /// Skills with minimum levels an agent needs; a `queue` node's `skills` replaces the set
    /// (keeping this queue's level for skills named in both, else level 1).
    public var skills: SkillRequirements
    public var strategy: RoutingStrategy
    /// How long an offered agent's phone rings before the call goes back to the queue.
    public var ringTimeout: Duration
    /// Offers missed in a row (ring timeout or refusal) that pause the agent with
    /// ``PauseReason/noAnswer``; nil never pauses.
    public var autoPauseAfterMisses: Int?
    /// After-call work before the agent is offered another call.
    public var wrapUp: Duration
    /// Longest time in this queue before the overflow action; nil: no limit.
    public var maxWait: Duration?
    /// Most live callers waiting; one more overflows at once. Nil: no limit.
    public var maxLength: Int?
    public var overflow: OverflowTarget
    /// Whether callers may join while no logged-in agent could serve them.
    public var joinWhenEmpty: Bool
    /// Requirements relaxed with time, in increasing `after`.
    public var widening: [WideningStep]
    /// Prompt looped while waiting.
    public var music: String?
    /// Position and estimated wait, on joining and then every this often; nil: never.
    public var announceInterval: Duration?
    /// Service level counts callers answered within this.
    public var serviceLevelTarget: Duration
    /// Assumed talk + wrap-up time for estimates until real calls give an average.
    public var averageHandleTime: Duration

    public init(name: QueueName, skills: SkillRequirements = [:], strategy: RoutingStrategy = .longestIdle,
                ringTimeout: Duration = .seconds(20), autoPauseAfterMisses: Int? = 3, wrapUp: Duration = .zero,
                maxWait: Duration? = nil, maxLength: Int? = nil, overflow: OverflowTarget = .dialplan,
                joinWhenEmpty: Bool = false, widening: [WideningStep] = [], music: String? = nil,
                announceInterval: Duration? = nil, serviceLevelTarget: Duration = .seconds(20),
                averageHandleTime: Duration = .seconds(180)) {
        self.name = name
        self.skills = skills
        self.strategy = strategy
        self.ringTimeout = ringTimeout
        self.autoPauseAfterMisses = autoPauseAfterMisses
        self.wrapUp = wrapUp
        self.maxWait = maxWait
        self.maxLength = maxLength
        self.overflow = overflow
        self.joinWhenEmpty = joinWhenEmpty
        self.widening = widening.sorted { $0.after < $1.after }
        self.music = music
        self.announceInterval = announceInterval
        self.serviceLevelTarget = serviceLevelTarget
        self.averageHandleTime = averageHandleTime
    }
}

/// Rules that span queues.
public struct RoutingSettings: Hashable, Sendable {
    /// How much waiting one priority level is worth: a priority-3 caller ranks as if they had
    /// arrived 3 × this earlier. Callers across all queues are served in that order.
    public var priorityStep: Duration
    /// An agent who missed a caller is not offered that caller again for this long.
    public var reofferDelay: Duration
    /// The window of the live statistics (service level, averages).
    public var statisticsWindow: Duration
    /// A logged-in agent whose phone has been unreachable this long is logged out, freeing
    /// the seat; nil: never.
    public var logoutUnreachableAfter: Duration?
    /// A callback whose citizen could not be reached goes back to its place this many times in
    /// all, then is given up.
    public var callbackAttempts: Int

    public init(priorityStep: Duration = .seconds(60), reofferDelay: Duration = .seconds(30),
                statisticsWindow: Duration = .seconds(900), logoutUnreachableAfter: Duration? = nil, callbackAttempts: Int = 3) {
        self.callbackAttempts = callbackAttempts
        self.priorityStep = priorityStep
        self.reofferDelay = reofferDelay
        self.statisticsWindow = statisticsWindow
        self.logoutUnreachableAfter = logoutUnreachableAfter
    }
}

/// Everything the ACD is configured with.
public struct ACDConfiguration: Hashable, Sendable {
    public var agents: [AgentProfile]
    public var queues: [QueueConfiguration]
    /// At most this many agents logged in at once (the licence), at start; changed live with
    /// `licensedSeatsChanged`.
    public var licensedSeats: Int
    public var routing: RoutingSettings

    public init(agents: [AgentProfile], queues: [QueueConfiguration], licensedSeats: Int, routing: RoutingSettings = .init()) {
        self.agents = agents
        self.queues = queues
        self.licensedSeats = licensedSeats
        self.routing = routing
    }
}
