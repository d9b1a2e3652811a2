// ACD: the automatic call distributor as a sans-IO state machine. This file: the machine's state
// as a value another process restores (cluster takeover: the standby rebuilds the leader's
// machine from the snapshot it stored in PostgreSQL and carries on deciding).

/// The ACD's state as another process restores it (takeover): times are milliseconds on a
/// timeline the caller chooses (the cluster uses Unix wall-clock milliseconds).
///
/// It holds what the machine decides by, not its configuration (profiles, queues, routing and
/// seats come from the restoring side's ``ACDConfiguration``) nor its statistics.
public struct ACDSnapshot: Codable, Hashable, Sendable {
    public struct Agent: Codable, Hashable, Sendable {
        public var id: AgentID
        public var state: AgentState
        public var stateSince: Int64
        /// Longest idle orders agents by this.
        public var availableSince: Int64
        public var reachable: Bool
        public var unreachableSince: Int64?
        public var callsAnswered: Int
        public var consecutiveMisses: Int
        /// A pause or logout asked for during a call or an offer.
        public var pending: Pending?
        /// While `reserved`: when the ACD cancels the offer itself.
        public var ringDeadline: Int64?
        /// While in `wrapUp`: when it ends.
        public var wrapUpUntil: Int64?

        public init(id: AgentID, state: AgentState, stateSince: Int64, availableSince: Int64, reachable: Bool,
                    unreachableSince: Int64?, callsAnswered: Int, consecutiveMisses: Int, pending: Pending?,
                    ringDeadline: Int64?, wrapUpUntil: Int64?) {
            self.id = id
            self.state = state
            self.stateSince = stateSince
            self.availableSince = availableSince
            self.reachable = reachable
            self.unreachableSince = unreachableSince
            self.callsAnswered = callsAnswered
            self.consecutiveMisses = consecutiveMisses
            self.pending = pending
            self.ringDeadline = ringDeadline
            self.wrapUpUntil = wrapUpUntil
        }
    }

    public enum Pending: Codable, Hashable, Sendable {
        case pause(PauseReason)
        case logout
    }

    /// A waiting caller or callback request.
    public struct Waiter: Codable, Hashable, Sendable {
        public var id: CallID
        public var queue: QueueName
        public var priority: Int
        public var skillsOverride: [Skill]?
        /// When they first entered a queue (waits and offers count from here).
        public var arrivedAt: Int64
        /// When they entered their current queue (max wait, widening count from here).
        public var queuedAt: Int64
        /// Their place in the fairness order: arrival moved earlier by priority.
        public var rank: Int64
        /// The agent ringing for them, if any (that agent is `reserved` with this call).
        public var offeredTo: AgentID?
        public var isCallback: Bool
        /// Index of the widening step in force, -1 for none.
        public var wideningStep: Int
        public var nextAnnouncement: Int64?
        /// Agents who missed them, and until when they are not offered to those again.
        public var excludedUntil: [AgentID: Int64]
        /// Queues they have been in (overflow loops end at a queue seen before).
        public var visited: [QueueName]

        public init(id: CallID, queue: QueueName, priority: Int, skillsOverride: [Skill]?, arrivedAt: Int64, queuedAt: Int64,
                    rank: Int64, offeredTo: AgentID?, isCallback: Bool, wideningStep: Int, nextAnnouncement: Int64?,
                    excludedUntil: [AgentID: Int64], visited: [QueueName]) {
            self.id = id
            self.queue = queue
            self.priority = priority
            self.skillsOverride = skillsOverride
            self.arrivedAt = arrivedAt
            self.queuedAt = queuedAt
            self.rank = rank
            self.offeredTo = offeredTo
            self.isCallback = isCallback
            self.wideningStep = wideningStep
            self.nextAnnouncement = nextAnnouncement
            self.excludedUntil = excludedUntil
            self.visited = visited
        }
    }

    /// A connected call.
    public struct Call: Codable, Hashable, Sendable {
        public var id: CallID
        public var agent: AgentID
        public var queue: QueueName
        public var answeredAt: Int64
        /// The wrap-up the call started with (a reload does not change it).
        public var wrapUp: Duration

        public init(id: CallID, agent: AgentID, queue: QueueName, answeredAt: Int64, wrapUp: Duration) {
            self.id = id
            self.agent = agent
            self.queue = queue
            self.answeredAt = answeredAt
            self.wrapUp = wrapUp
        }
    }

    /// Every agent the machine keeps, by id.
    public var agents: [Agent]
    /// In the machine's order, best first.
    public var waiting: [Waiter]
    /// By id.
    public var calls: [Call]

    public init(agents: [Agent] = [], waiting: [Waiter] = [], calls: [Call] = []) {
        self.agents = agents
        self.waiting = waiting
        self.calls = calls
    }
}

// `excludedUntil` encodes as a JSON object keyed by agent id rather than a flat key/value array.
extension AgentID: CodingKeyRepresentable {}

extension ACDStateMachine {
    /// `time` maps the machine's instants onto the snapshot's timeline.
    public func snapshot(time: (Instant) -> Int64) -> ACDSnapshot {
        let agents = agents.values.sorted { $0.profile.id < $1.profile.id }.map { record in
            ACDSnapshot.Agent(
                id: record.profile.id, state: record.state, stateSince: time(record.stateSince),
                availableSince: time(record.availableSince), reachable: record.reachable,
                unreachableSince: record.unreachableSince.map(time), callsAnswered: record.callsAnswered,
                consecutiveMisses: record.consecutiveMisses,
                pending: record.pending.map { p in
                    switch p {
                    case .pause(let reason): .pause(reason)
                    case .logout: .logout
                    }
                },
                ringDeadline: record.ringDeadline.map(time), wrapUpUntil: record.wrapUpUntil.map(time))
        }
        let waiting = order.compactMap { entries[$0] }.map { entry in
            ACDSnapshot.Waiter(
                id: entry.id, queue: entry.queue, priority: entry.priority, skillsOverride: entry.skillsOverride,
                arrivedAt: time(entry.arrivedAt), queuedAt: time(entry.queuedAt), rank: time(entry.rank),
                offeredTo: entry.offeredTo, isCallback: entry.isCallback, wideningStep: entry.wideningStep,
                nextAnnouncement: entry.nextAnnouncement.map(time), excludedUntil: entry.excludedUntil.mapValues(time),
                visited: entry.visited)
        }
        let calls = active.sorted { $0.key < $1.key }.map { id, call in
            ACDSnapshot.Call(id: id, agent: call.agent, queue: call.queue, answeredAt: time(call.answeredAt), wrapUp: call.wrapUp)
        }
        return ACDSnapshot(agents: agents, waiting: waiting, calls: calls)
    }

    /// A machine carrying on from `snapshot` under `configuration` (which may differ: agents no
    /// longer configured are dropped unless logged in — then kept as removed, like reconfigure
    /// does; agents configured but absent from the snapshot start logged out). `instant` maps
    /// the timeline back. Statistics (outcomes, handle times) start empty. No tick is scheduled
    /// yet: the caller sends `.tick` next and gets scheduleTick and any dispatch from it.
    ///
    /// Restoring emits no actions, so what reconfigure would say aloud happens quietly here: a
    /// removed agent keeps what it holds with a pending logout (it leaves once its offer, call,
    /// wrap-up or pause settles, or on its own logout) and, its profile being gone, no skills;
    /// callers of a queue no longer configured wait until they hang up (``reconfigure(_:now:)``
    /// with the same configuration makes both leave at once, with actions).
    public init(configuration: ACDConfiguration, restoring snapshot: ACDSnapshot, now: Instant, instant: (Int64) -> Instant) {
        self.init(configuration: configuration, now: now)
        for saved in snapshot.agents {
            var record: AgentRecord
            if let configured = agents[saved.id] {
                record = configured
            } else {
                guard saved.state.isLoggedIn else { continue }
                let profile = AgentProfile(id: saved.id, name: saved.id.rawValue, sipUsername: saved.id.rawValue, skills: [:], seat: .onSite)
                record = AgentRecord(profile: profile, stateSince: now, availableSince: now)
                record.removed = true
            }
            record.state = saved.state
            record.stateSince = instant(saved.stateSince)
            record.availableSince = instant(saved.availableSince)
            record.reachable = saved.reachable
            record.unreachableSince = saved.unreachableSince.map(instant)
            record.callsAnswered = saved.callsAnswered
            record.consecutiveMisses = saved.consecutiveMisses
            record.pending = record.removed ? .logout : saved.pending.map { p in
                switch p {
                case .pause(let reason): .pause(reason)
                case .logout: .logout
                }
            }
            record.ringDeadline = saved.ringDeadline.map(instant)
            record.wrapUpUntil = saved.wrapUpUntil.map(instant)
            agents[saved.id] = record
        }
        // Sequences only break ties of rank, so numbering in the snapshot's order keeps it.
        for saved in snapshot.waiting where entries[saved.id] == nil {
            sequence += 1
            var entry = Entry(
                id: saved.id, queue: saved.queue, priority: saved.priority, skillsOverride: saved.skillsOverride,
                arrivedAt: instant(saved.arrivedAt), queuedAt: instant(saved.queuedAt), sequence: sequence,
                rank: instant(saved.rank), visited: saved.visited)
            // An offer stands only if its agent is still ringing for it; else the caller is free
            // to be offered again.
            if let agent = saved.offeredTo, agents[agent]?.state == .reserved(saved.id) { entry.offeredTo = agent }
            entry.isCallback = saved.isCallback
            entry.wideningStep = saved.wideningStep
            if let queue = queues[saved.queue] { entry.wideningStep = min(entry.wideningStep, queue.widening.count - 1) }
            entry.nextAnnouncement = saved.nextAnnouncement.map(instant)
            entry.excludedUntil = saved.excludedUntil.mapValues(instant)
            insert(entry)
        }
        for saved in snapshot.calls {
            active[saved.id] = ActiveCall(agent: saved.agent, queue: saved.queue, answeredAt: instant(saved.answeredAt), wrapUp: saved.wrapUp)
        }
    }
}
