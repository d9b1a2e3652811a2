// ACD: the automatic call distributor as a sans-IO state machine. This file: the values its
// events and actions carry.

/// What `enqueue` asks for: the dialplan's `QueueRequest` without the language (which the
/// server keeps for its prompts).
public struct EnqueueRequest: Hashable, Sendable, Codable {
    public var queue: QueueName
    /// 0–9, higher first; see ``RoutingSettings/priorityStep``.
    public var priority: Int
    /// Replaces the queue's required skills when set.
    public var skills: [Skill]?

    public init(queue: QueueName, priority: Int = 0, skills: [Skill]? = nil) {
        self.queue = queue
        self.priority = min(9, max(0, priority))
        self.skills = skills
    }
}

/// Where an agent stands.
public enum AgentState: Hashable, Sendable, Codable, CustomStringConvertible {
    case loggedOut
    case available
    /// Offered a call: their phone is ringing.
    case reserved(CallID)
    case onCall(CallID)
    /// After-call work; offered nothing until it ends.
    case wrapUp
    case paused(PauseReason)

    /// `logged_out`, `available`, `reserved`, `on_call`, `wrap_up`, `paused` (for JSON).
    public var name: String {
        switch self {
        case .loggedOut: "logged_out"
        case .available: "available"
        case .reserved: "reserved"
        case .onCall: "on_call"
        case .wrapUp: "wrap_up"
        case .paused: "paused"
        }
    }

    public var description: String {
        switch self {
        case .reserved(let c): "reserved(\(c))"
        case .onCall(let c): "on_call(\(c))"
        case .paused(let r): "paused(\(r))"
        default: name
        }
    }

    public var isLoggedIn: Bool { self != .loggedOut }
}

/// A call offered to an agent: what the server needs to ring them.
public struct Offer: Hashable, Sendable, Codable {
    public var queue: QueueName
    /// A callback request: on answer, the server calls the citizen back.
    public var isCallback: Bool
    public var priority: Int
    /// Since the caller first entered a queue.
    public var waited: Duration
    /// The ACD cancels the offer itself after this (``CancelReason/ringTimeout``).
    public var ringTimeout: Duration
}

/// Why an offer was withdrawn: the server cancels the agent's INVITE (CANCEL).
public enum CancelReason: String, Hashable, Sendable {
    case ringTimeout = "ring_timeout"
    case callerHungUp = "caller_hung_up"
    case callbackCancelled = "callback_cancelled"
    case agentPaused = "agent_paused"
    case agentLoggedOut = "agent_logged_out"
    case queueRemoved = "queue_removed"
}

/// How the agent leg of an offer failed, as the server saw it.
public enum OfferFailure: String, Hashable, Sendable {
    /// 486, 600, 603: the agent refused.
    case declined
    /// The phone did not answer (the server's own timer, or 408/480).
    case noAnswer = "no_answer"
    /// No binding, transport error, 5xx.
    case unreachable
}

/// Why a caller could not stay in a queue.
public enum OverflowReason: String, Hashable, Sendable {
    case maxWait = "max_wait"
    case queueFull = "queue_full"
    /// No logged-in agent could serve them and the queue does not `join_when_empty`.
    case noAgents = "no_agents"
    case unknownQueue = "unknown_queue"
    case queueRemoved = "queue_removed"
    /// An overflow chain came back to a queue the caller had already been in.
    case overflowLoop = "overflow_loop"
    /// The cluster's ACD cannot be reached from this node (PostgreSQL away): the node admits
    /// no queue callers rather than queue them on state it cannot see.
    case acdUnavailable = "acd_unavailable"
}

/// Where an overflowing caller leaves the ACD for.
public enum OverflowExit: String, Hashable, Sendable {
    case voicemail
    /// The dialplan's `on_unavailable`.
    case dialplan
}

/// How a caller left the ACD: each caller gets exactly one.
public enum QueueExit: Hashable, Sendable, Codable {
    case answered(by: AgentID, waited: Duration)
    case abandoned(waited: Duration)
    case overflowed(OverflowExit, reason: OverflowReason, waited: Duration)
    /// A callback request withdrawn before an agent took it.
    case callbackCancelled(waited: Duration)
}

/// What to tell a waiting caller.
public struct Announcement: Hashable, Sendable, Codable {
    /// 1 = next in this queue.
    public var position: Int
    /// Nil when no agent currently serves the queue (say nothing about time).
    public var estimatedWait: Duration?
}

/// The agent requests that can be refused.
public enum AgentRequest: String, Hashable, Sendable {
    case login, logout, pause, unpause
}

/// Why an agent request was refused; the server tells the agent (prompt or API error).
public enum AgentRefusal: Hashable, Sendable, Codable, CustomStringConvertible {
    case unknownAgent
    /// Every licensed seat is taken.
    case noSeatAvailable(licensed: Int, loggedIn: Int)
    case alreadyLoggedIn
    case notLoggedIn
    case notPaused
    /// The cluster's ACD did not answer (PostgreSQL away, or no leader yet).
    case acdUnavailable

    public var description: String {
        switch self {
        case .unknownAgent: "no such agent"
        case .noSeatAvailable(let licensed, let loggedIn):
            "all \(licensed) licensed seats are in use (\(loggedIn) agents logged in); ask an administrator to raise the seat count"
        case .alreadyLoggedIn: "already logged in"
        case .notLoggedIn: "not logged in"
        case .notPaused: "not paused"
        case .acdUnavailable: "the contact centre's ACD cannot be reached from this node; try again shortly"
        }
    }
}
