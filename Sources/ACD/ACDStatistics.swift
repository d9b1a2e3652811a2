// ACD: the automatic call distributor as a sans-IO state machine. This file: live statistics
// for `GET /api/queues`, `GET /api/agents` and `GET /api/seats`.

/// Agents by state, among those whose skills meet a queue's requirements.
public struct AgentCounts: Hashable, Sendable {
    public var loggedIn = 0
    public var available = 0
    public var reserved = 0
    public var onCall = 0
    public var wrapUp = 0
    public var paused = 0
    /// Logged in but their phone is not registered or not answering OPTIONS.
    public var unreachable = 0
    public init() {}
}

/// One queue's live picture.
public struct QueueStatistics: Hashable, Sendable {
    public var queue: QueueName
    /// Live callers waiting (offered ones included).
    public var waiting: Int
    /// Callback requests keeping their place.
    public var callbacksWaiting: Int
    /// The longest current wait of a live caller (since they first entered a queue).
    public var longestWait: Duration?
    public var agents: AgentCounts
    /// The statistics window (15 minutes by default) and what happened in it.
    public var window: Duration
    /// Callers who left this queue in the window: answered + abandoned + overflowed.
    public var offered: Int
    public var answered: Int
    public var answeredWithinTarget: Int
    public var abandoned: Int
    public var overflowed: Int
    /// answeredWithinTarget ÷ offered; nil when nobody was offered.
    public var serviceLevel: Double?
    public var serviceLevelTarget: Duration
    public var averageWaitOfAnswered: Duration?
}

/// One agent's live picture.
public struct AgentStatus: Hashable, Sendable {
    public var id: AgentID
    public var name: String
    public var sipUsername: String
    public var seat: SeatKind
    public var skills: [Skill: Int]
    public var state: AgentState
    public var timeInState: Duration
    public var reachable: Bool
    /// Since logging in.
    public var callsAnswered: Int
    public var consecutiveMisses: Int
    /// A pause or logout asked for during a call.
    public var pending: ACDPendingChange?
    /// While in wrap-up: how long until it ends (the agent desk's countdown).
    public var wrapUpLeft: Duration? = nil
}

/// A change an agent asked for that waits for their call to end.
public enum ACDPendingChange: Hashable, Sendable {
    case pause(PauseReason)
    case logout
}

/// `GET /api/seats`.
public struct SeatStatistics: Hashable, Sendable {
    public var licensed: Int
    public var loggedIn: Int
    /// Logged-in agents on home seats.
    public var remote: Int
}

extension ACDStateMachine {
    public var seats: SeatStatistics {
        var loggedIn = 0, remote = 0
        for record in agents.values where record.state.isLoggedIn {
            loggedIn += 1
            if record.profile.seat == .home { remote += 1 }
        }
        return SeatStatistics(licensed: licensedSeats, loggedIn: loggedIn, remote: remote)
    }

    /// The agent's state, nil for an unknown agent.
    public func state(of agent: AgentID) -> AgentState? { agents[agent]?.state }

    /// Which agent holds a call (offered or connected), if any.
    public func agent(holding call: CallID) -> AgentID? {
        if let active = active[call] { return active.agent }
        return entries[call]?.offeredTo
    }

    /// Callers waiting, best first (their queue and whether they are callback requests).
    public var waitingCallers: [(call: CallID, queue: QueueName, isCallback: Bool, offeredTo: AgentID?)] {
        order.compactMap { id in entries[id].map { (id, $0.queue, $0.isCallback, $0.offeredTo) } }
    }

    /// Every agent, by id.
    public func agentStatuses(now: Instant) -> [AgentStatus] {
        agents.values.sorted { $0.profile.id < $1.profile.id }.map { record in
            AgentStatus(
                id: record.profile.id, name: record.profile.name, sipUsername: record.profile.sipUsername, seat: record.profile.seat,
                skills: record.profile.skills, state: record.state, timeInState: now - record.stateSince, reachable: record.reachable,
                callsAnswered: record.callsAnswered, consecutiveMisses: record.consecutiveMisses,
                pending: record.pending.map { p in
                    switch p {
                    case .logout: .logout
                    case .pause(let r): .pause(r)
                    }
                },
                wrapUpLeft: record.wrapUpUntil.map { max(.zero, now.duration(to: $0)) })
        }
    }

    /// Every queue, by name.
    public func queueStatistics(now: Instant) -> [QueueStatistics] {
        let since = now.advanced(by: .zero - routing.statisticsWindow)
        return queues.values.sorted { $0.name < $1.name }.map { queue in
            var waiting = 0, callbacks = 0
            var longest: Duration?
            for entry in entries.values where entry.queue == queue.name {
                if entry.isCallback {
                    callbacks += 1
                } else {
                    waiting += 1
                    let w = now - entry.arrivedAt
                    if longest == nil || w > longest! { longest = w }
                }
            }
            var counts = AgentCounts()
            for record in agents.values where record.state.isLoggedIn && queue.skills.isSatisfied(by: record.profile.skills) {
                counts.loggedIn += 1
                if !record.reachable { counts.unreachable += 1 }
                switch record.state {
                case .available: counts.available += 1
                case .reserved: counts.reserved += 1
                case .onCall: counts.onCall += 1
                case .wrapUp: counts.wrapUp += 1
                case .paused: counts.paused += 1
                case .loggedOut: break
                }
            }
            var offered = 0, answered = 0, within = 0, abandoned = 0, overflowed = 0
            var waitTotal = Duration.zero
            for outcome in outcomes where outcome.queue == queue.name && outcome.at >= since {
                switch outcome.kind {
                case .answered:
                    offered += 1
                    answered += 1
                    waitTotal += outcome.waited
                    if outcome.waited <= queue.serviceLevelTarget { within += 1 }
                case .abandoned: offered += 1; abandoned += 1
                case .overflowed: offered += 1; overflowed += 1
                case .callbackCancelled: break
                }
            }
            return QueueStatistics(
                queue: queue.name, waiting: waiting, callbacksWaiting: callbacks, longestWait: longest, agents: counts,
                window: routing.statisticsWindow, offered: offered, answered: answered, answeredWithinTarget: within,
                abandoned: abandoned, overflowed: overflowed,
                serviceLevel: offered == 0 ? nil : Double(within) / Double(offered), serviceLevelTarget: queue.serviceLevelTarget,
                averageWaitOfAnswered: answered == 0 ? nil : waitTotal / answered)
        }
    }

    /// Drops outcomes and handle times older than the window.
    mutating func pruneStatistics(now: Instant) {
        let since = now.advanced(by: .zero - routing.statisticsWindow)
        if let first = outcomes.first, first.at < since { outcomes.removeAll { $0.at < since } }
        if let first = handleTimes.first, first.at < since { handleTimes.removeAll { $0.at < since } }
    }
}
