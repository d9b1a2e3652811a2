// ACD: the automatic call distributor as a sans-IO state machine. This file: the machine,
// its events and actions, and the agent and caller life cycles.

/// Routes queued callers to agents.
///
/// Give it every event with `now`; carry out the actions it returns. It keeps one timer of its
/// own: ``Action/scheduleTick(at:)`` says when to send ``Event/tick`` next (ring timeouts,
/// wrap-up ends, maximum waits, widening, announcements all fall due through it), so the server
/// never matches timer ids, and a late or extra `tick` is harmless.
///
/// **Fairness.** All waiting callers, across queues, are in one order: arrival time moved
/// earlier by ``RoutingSettings/priorityStep`` per priority level. Whenever agents are free,
/// the first caller in that order whom some free agent can serve gets one (chosen by the
/// caller's queue's strategy), then the next, until no free agent can serve anyone left. So a
/// caller is never passed over for a later one by an agent who could have served them, no
/// caller waits while an agent who could serve them is free, and an agent holds at most one
/// call (offered or connected).
///
/// **Seats.** At most ``licensedSeats`` agents are logged in; lowering it logs nobody out but
/// refuses logins until enough have left.
public struct ACDStateMachine<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Swift.Duration {
    public enum Event: Hashable, Sendable, Codable {
        /// A caller reached a `queue` node.
        case callerArrived(CallID, EnqueueRequest)
        /// The caller hung up while waiting (or, for a connected call, like `callEnded`).
        /// Ignored for callback requests: their caller has already gone.
        case callerHungUp(CallID)
        /// A callback request withdrawn (admin, or the citizen called again).
        case callbackCancelled(CallID)
        /// The offered agent answered (200 OK on their leg): connect the two.
        case offerAnswered(CallID, agent: AgentID)
        /// The offered agent's leg failed before the ACD's own ring timeout.
        case offerFailed(CallID, agent: AgentID, OfferFailure)
        /// A connected call is over (either side hung up).
        case callEnded(CallID)
        /// A callback's agent answered but the citizen was not reached (busy, no answer): the
        /// agent is free again and the request goes back to its place, up to
        /// ``RoutingSettings/callbackAttempts`` in all.
        case callbackNotReached(CallID)
        /// `*21` or the admin API.
        case loginRequested(AgentID)
        /// `*22` or the admin API; during a call, takes effect when it ends.
        case logoutRequested(AgentID)
        /// `*23` or the admin API; during a call, takes effect when it ends.
        case pauseRequested(AgentID, PauseReason)
        /// `*24` or the admin API: back to available; also ends wrap-up early.
        case unpauseRequested(AgentID)
        /// From the registrar: the agent's phone is (not) registered and answering.
        case agentReachabilityChanged(AgentID, reachable: Bool)
        /// The licence changed (`PUT /api/seats`).
        case licensedSeatsChanged(Int)
        /// The timer of ``Action/scheduleTick(at:)`` fired (or any time: it is idempotent).
        case tick
    }

    public enum Action: Hashable, Sendable {
        /// Ring the agent with this call (B2BUA: INVITE their registered contact).
        case offer(CallID, to: AgentID, Offer)
        /// Withdraw an offer: CANCEL the agent's INVITE. No `offerFailed` is expected after it.
        case cancelOffer(CallID, agent: AgentID, reason: CancelReason)
        /// An answer came for an offer that no longer stands (crossed a CANCEL): hang up the
        /// agent's leg.
        case releaseAgentLeg(CallID, agent: AgentID)
        /// Loop this prompt to the caller while they wait.
        case playMusic(CallID, prompt: String)
        case announce(CallID, Announcement)
        /// Overflow into another queue (music of the new queue follows if it has one).
        case moved(CallID, from: QueueName, to: QueueName, reason: OverflowReason)
        /// The caller has waited long enough for wider skill requirements.
        case widened(CallID, queue: QueueName, skills: SkillRequirements)
        /// Tell the caller they will be called back and keep their place, then hang up (no
        /// `callerHungUp` needed). The request stays queued and is offered like a call.
        case convertedToCallback(CallID, queue: QueueName, reason: OverflowReason)
        /// A callback whose citizen was not reached is waiting again, in its place.
        case callbackRequeued(CallID, attempts: Int)
        /// The caller left the ACD: exactly once per caller.
        case left(CallID, QueueExit)
        case agentStateChanged(AgentID, AgentState)
        /// Paused with ``PauseReason/noAnswer`` after this many missed offers in a row.
        case agentAutoPaused(AgentID, consecutiveMisses: Int)
        /// Logged out after ``RoutingSettings/logoutUnreachableAfter`` unreachable.
        case agentLoggedOutUnreachable(AgentID)
        case refused(AgentID, AgentRequest, AgentRefusal)
        /// Send `tick` at this instant (replaces any earlier request).
        case scheduleTick(at: Instant)
        /// No tick is needed.
        case cancelTick
    }

    // MARK: - state

    struct AgentRecord: Sendable {
        var profile: AgentProfile
        var state: AgentState = .loggedOut
        var stateSince: Instant
        /// When the agent last became available (longest idle).
        var availableSince: Instant
        var reachable = false
        var unreachableSince: Instant?
        var callsAnswered = 0
        var consecutiveMisses = 0
        var pending: PendingChange?
        var ringDeadline: Instant?
        var wrapUpUntil: Instant?
        /// Dropped from the configuration: deleted once logged out.
        var removed = false
    }

    public enum PendingChange: Hashable, Sendable {
        case pause(PauseReason)
        case logout
    }

    struct Entry: Sendable {
        let id: CallID
        var queue: QueueName
        let priority: Int
        let skillsOverride: [Skill]?
        let arrivedAt: Instant
        var queuedAt: Instant
        let sequence: UInt64
        var rank: Instant
        var offeredTo: AgentID?
        var isCallback = false
        /// Index of the widening step in force, -1 for none.
        var wideningStep = -1
        var nextAnnouncement: Instant?
        var excludedUntil: [AgentID: Instant] = [:]
        var visited: [QueueName]
        /// Times a callback's citizen was dialled and not reached.
        var callbackAttempts = 0
    }

    struct ActiveCall: Sendable {
        var agent: AgentID
        var queue: QueueName
        var answeredAt: Instant
        var wrapUp: Duration
        /// A callback's request as it waited, to put back in its place if the citizen is not
        /// reached.
        var callbackEntry: Entry? = nil
    }

    struct Outcome: Sendable {
        enum Kind: Sendable { case answered, abandoned, overflowed, callbackCancelled }
        var at: Instant
        var queue: QueueName
        var kind: Kind
        var waited: Duration
    }

    public private(set) var licensedSeats: Int
    public internal(set) var routing: RoutingSettings
    var queues: [QueueName: QueueConfiguration]
    var agents: [AgentID: AgentRecord]
    var entries: [CallID: Entry] = [:]
    /// Waiting callers (and callback requests), best rank first.
    var order: [CallID] = []
    var active: [CallID: ActiveCall] = [:]
    var sequence: UInt64 = 0
    var scheduledTick: Instant?
    var outcomes: [Outcome] = []
    var handleTimes: [(at: Instant, queue: QueueName, duration: Duration)] = []

    /// - Parameter now: Start of the agents' clocks (all start logged out and unreachable).
    public init(configuration: ACDConfiguration, now: Instant) {
        licensedSeats = max(0, configuration.licensedSeats)
        routing = configuration.routing
        queues = Dictionary(configuration.queues.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        agents = Dictionary(configuration.agents.map { ($0.id, AgentRecord(profile: $0, stateSince: now, availableSince: now)) },
                            uniquingKeysWith: { a, _ in a })
    }

    // MARK: - entry point

    public mutating func event(_ event: Event, now: Instant) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .callerArrived(let id, let request): callerArrived(id, request, now: now, into: &actions)
        case .callerHungUp(let id): callerHungUp(id, now: now, into: &actions)
        case .callbackCancelled(let id): callbackCancelled(id, now: now, into: &actions)
        case .offerAnswered(let id, let agent): offerAnswered(id, agent: agent, now: now, into: &actions)
        case .offerFailed(let id, let agent, _): offerFailed(id, agent: agent, now: now, into: &actions)
        case .callEnded(let id): callEnded(id, now: now, into: &actions)
        case .callbackNotReached(let id): callbackNotReached(id, now: now, into: &actions)
        case .loginRequested(let agent): login(agent, now: now, into: &actions)
        case .logoutRequested(let agent): logout(agent, now: now, into: &actions)
        case .pauseRequested(let agent, let reason): pause(agent, reason: reason, now: now, into: &actions)
        case .unpauseRequested(let agent): unpause(agent, now: now, into: &actions)
        case .agentReachabilityChanged(let agent, let reachable):
            if var record = agents[agent], record.reachable != reachable {
                record.reachable = reachable
                record.unreachableSince = reachable ? nil : now
                agents[agent] = record
            }
        case .licensedSeatsChanged(let seats):
            licensedSeats = max(0, seats)
        case .tick:
            break
        }
        processDue(now: now, into: &actions)
        dispatch(now: now, into: &actions)
        pruneStatistics(now: now)
        let next = nextDeadline(now: now)
        if next != scheduledTick {
            scheduledTick = next
            actions.append(next.map { .scheduleTick(at: $0) } ?? .cancelTick)
        }
        return actions
    }

    /// Sets the licence (`PUT /api/seats`): logins beyond it are refused; nobody is logged out.
    public mutating func setLicensedSeats(_ seats: Int, now: Instant) -> [Action] {
        event(.licensedSeatsChanged(seats), now: now)
    }

    // MARK: - callers

    mutating func callerArrived(_ id: CallID, _ request: EnqueueRequest, now: Instant, into actions: inout [Action]) {
        guard entries[id] == nil, active[id] == nil else { return }
        guard queues[request.queue] != nil else {
            actions.append(.left(id, .overflowed(.dialplan, reason: .unknownQueue, waited: .zero)))
            return
        }
        sequence += 1
        let entry = Entry(
            id: id, queue: request.queue, priority: request.priority, skillsOverride: request.skills, arrivedAt: now,
            queuedAt: now, sequence: sequence, rank: now.advanced(by: routing.priorityStep * -request.priority),
            visited: [request.queue])
        admit(entry, now: now, into: &actions)
    }

    /// Puts a caller into `entry.queue`, or overflows them if the queue cannot take them.
    mutating func admit(_ entry: Entry, now: Instant, into actions: inout [Action]) {
        var entry = entry
        let queue = queues[entry.queue]!
        if !entry.isCallback {
            if !queue.joinWhenEmpty, !hasStaff(for: entry) {
                overflow(entry, reason: .noAgents, now: now, into: &actions)
                return
            }
            if let max = queue.maxLength, liveWaiting(in: queue.name) >= max {
                overflow(entry, reason: .queueFull, now: now, into: &actions)
                return
            }
            if let music = queue.music { actions.append(.playMusic(entry.id, prompt: music)) }
            if let interval = queue.announceInterval {
                actions.append(.announce(entry.id, announcement(for: entry)))
                entry.nextAnnouncement = now.advanced(by: interval)
            }
        }
        insert(entry)
    }

    /// Applies the queue's overflow target to a caller who is not (or no longer) stored.
    mutating func overflow(_ entry: Entry, reason: OverflowReason, now: Instant, into actions: inout [Action]) {
        var entry = entry
        remove(entry.id)
        entry.offeredTo = nil
        let from = entry.queue
        switch queues[from]?.overflow ?? .dialplan {
        case .queue(let target):
            guard queues[target] != nil, !entry.visited.contains(target) else {
                finish(entry, .overflowed(.dialplan, reason: .overflowLoop, waited: now - entry.arrivedAt), now: now, into: &actions)
                return
            }
            entry.queue = target
            entry.queuedAt = now
            entry.wideningStep = -1
            entry.nextAnnouncement = nil
            entry.visited.append(target)
            actions.append(.moved(entry.id, from: from, to: target, reason: reason))
            admit(entry, now: now, into: &actions)
        case .voicemail:
            finish(entry, .overflowed(.voicemail, reason: reason, waited: now - entry.arrivedAt), now: now, into: &actions)
        case .dialplan:
            finish(entry, .overflowed(.dialplan, reason: reason, waited: now - entry.arrivedAt), now: now, into: &actions)
        case .callback:
            if !entry.isCallback {
                entry.isCallback = true
                entry.nextAnnouncement = nil
                actions.append(.convertedToCallback(entry.id, queue: from, reason: reason))
            }
            insert(entry)
        }
    }

    /// Records a caller's exit and says so.
    mutating func finish(_ entry: Entry, _ exit: QueueExit, now: Instant, into actions: inout [Action]) {
        remove(entry.id)
        let kind: Outcome.Kind
        let waited: Duration
        switch exit {
        case .answered(_, let w): kind = .answered; waited = w
        case .abandoned(let w): kind = .abandoned; waited = w
        case .overflowed(_, _, let w): kind = .overflowed; waited = w
        case .callbackCancelled(let w): kind = .callbackCancelled; waited = w
        }
        outcomes.append(Outcome(at: now, queue: entry.queue, kind: kind, waited: waited))
        actions.append(.left(entry.id, exit))
    }

    mutating func callerHungUp(_ id: CallID, now: Instant, into actions: inout [Action]) {
        if active[id] != nil { return callEnded(id, now: now, into: &actions) }
        guard let entry = entries[id], !entry.isCallback else { return }
        withdrawOffer(of: entry, reason: .callerHungUp, now: now, into: &actions)
        finish(entry, .abandoned(waited: now - entry.arrivedAt), now: now, into: &actions)
    }

    mutating func callbackCancelled(_ id: CallID, now: Instant, into actions: inout [Action]) {
        guard let entry = entries[id], entry.isCallback else { return }
        withdrawOffer(of: entry, reason: .callbackCancelled, now: now, into: &actions)
        finish(entry, .callbackCancelled(waited: now - entry.arrivedAt), now: now, into: &actions)
    }

    /// Cancels a standing offer for a reason that is not the agent's fault (no miss counted).
    mutating func withdrawOffer(of entry: Entry, reason: CancelReason, now: Instant, into actions: inout [Action]) {
        guard let agent = entry.offeredTo else { return }
        entries[entry.id]?.offeredTo = nil
        actions.append(.cancelOffer(entry.id, agent: agent, reason: reason))
        if agents[agent]?.state == .reserved(entry.id) { becomeFree(agent, now: now, into: &actions) }
    }

    mutating func offerAnswered(_ id: CallID, agent: AgentID, now: Instant, into actions: inout [Action]) {
        guard let entry = entries[id], entry.offeredTo == agent, var record = agents[agent], record.state == .reserved(id) else {
            actions.append(.releaseAgentLeg(id, agent: agent))
            return
        }
        record.callsAnswered += 1
        record.consecutiveMisses = 0
        record.ringDeadline = nil
        agents[agent] = record
        setState(agent, .onCall(id), now: now, into: &actions)
        active[id] = ActiveCall(agent: agent, queue: entry.queue, answeredAt: now, wrapUp: queues[entry.queue]?.wrapUp ?? .zero,
                                callbackEntry: entry.isCallback ? entry : nil)
        finish(entry, .answered(by: agent, waited: now - entry.arrivedAt), now: now, into: &actions)
    }

    /// The callback's citizen did not answer: the agent is free (no wrap-up, no miss), the
    /// request returns with its arrival time, so its place, unless its attempts are spent.
    mutating func callbackNotReached(_ id: CallID, now: Instant, into actions: inout [Action]) {
        guard let call = active.removeValue(forKey: id) else { return }
        if let record = agents[call.agent], record.state == .onCall(id) { becomeFree(call.agent, now: now, into: &actions) }
        guard var entry = call.callbackEntry else { return }
        entry.callbackAttempts += 1
        entry.offeredTo = nil
        guard entry.callbackAttempts < routing.callbackAttempts else {
            actions.append(.left(id, .callbackCancelled(waited: now - entry.arrivedAt)))
            return
        }
        entry.excludedUntil = [:]
        insert(entry)
        actions.append(.callbackRequeued(id, attempts: entry.callbackAttempts))
        dispatch(now: now, into: &actions)
    }

    mutating func offerFailed(_ id: CallID, agent: AgentID, now: Instant, into actions: inout [Action]) {
        guard let entry = entries[id], entry.offeredTo == agent, agents[agent]?.state == .reserved(id) else { return }
        missed(entry, agent: agent, now: now, into: &actions)
    }

    /// The agent did not take the offer: the caller keeps their place and skips this agent for
    /// a while; the agent counts a miss and may be paused.
    mutating func missed(_ entry: Entry, agent: AgentID, now: Instant, into actions: inout [Action]) {
        entries[entry.id]?.offeredTo = nil
        entries[entry.id]?.excludedUntil[agent] = now.advanced(by: routing.reofferDelay)
        guard var record = agents[agent] else { return }
        record.consecutiveMisses += 1
        record.ringDeadline = nil
        agents[agent] = record
        if let limit = queues[entry.queue]?.autoPauseAfterMisses, record.consecutiveMisses >= limit, record.pending != .logout {
            let reason: PauseReason
            if case .pause(let r) = record.pending { reason = r } else { reason = .noAnswer }
            agents[agent]!.pending = nil
            setState(agent, .paused(reason), now: now, into: &actions)
            actions.append(.agentAutoPaused(agent, consecutiveMisses: record.consecutiveMisses))
        } else {
            becomeFree(agent, now: now, into: &actions)
        }
    }

    mutating func callEnded(_ id: CallID, now: Instant, into actions: inout [Action]) {
        guard let call = active.removeValue(forKey: id) else {
            if entries[id] != nil { callerHungUp(id, now: now, into: &actions) }
            return
        }
        handleTimes.append((now, call.queue, (now - call.answeredAt) + call.wrapUp))
        guard let record = agents[call.agent], record.state == .onCall(id) else { return }
        if record.pending == nil, call.wrapUp > .zero {
            agents[call.agent]!.wrapUpUntil = now.advanced(by: call.wrapUp)
            setState(call.agent, .wrapUp, now: now, into: &actions)
        } else {
            becomeFree(call.agent, now: now, into: &actions)
        }
    }

    // MARK: - agents

    /// The agent is done with a call or an offer: a pending logout or pause applies, else
    /// they are available.
    mutating func becomeFree(_ agent: AgentID, now: Instant, into actions: inout [Action]) {
        guard let record = agents[agent] else { return }
        agents[agent]!.ringDeadline = nil
        agents[agent]!.wrapUpUntil = nil
        switch record.pending {
        case .logout?:
            agents[agent]!.pending = nil
            logOut(agent, now: now, into: &actions)
        case .pause(let reason)?:
            agents[agent]!.pending = nil
            setState(agent, .paused(reason), now: now, into: &actions)
        case nil:
            agents[agent]!.availableSince = now
            setState(agent, .available, now: now, into: &actions)
        }
    }

    mutating func setState(_ agent: AgentID, _ state: AgentState, now: Instant, into actions: inout [Action]) {
        guard agents[agent] != nil else { return }
        agents[agent]!.state = state
        agents[agent]!.stateSince = now
        actions.append(.agentStateChanged(agent, state))
    }

    mutating func logOut(_ agent: AgentID, now: Instant, into actions: inout [Action]) {
        agents[agent]!.pending = nil
        agents[agent]!.ringDeadline = nil
        agents[agent]!.wrapUpUntil = nil
        setState(agent, .loggedOut, now: now, into: &actions)
        if agents[agent]!.removed { agents[agent] = nil }
    }

    public var loggedInCount: Int { agents.values.reduce(0) { $0 + ($1.state.isLoggedIn ? 1 : 0) } }

    mutating func login(_ agent: AgentID, now: Instant, into actions: inout [Action]) {
        guard let record = agents[agent], !record.removed else { return actions.append(.refused(agent, .login, .unknownAgent)) }
        guard record.state == .loggedOut else { return actions.append(.refused(agent, .login, .alreadyLoggedIn)) }
        let loggedIn = loggedInCount
        guard loggedIn < licensedSeats else {
            return actions.append(.refused(agent, .login, .noSeatAvailable(licensed: licensedSeats, loggedIn: loggedIn)))
        }
        agents[agent]!.callsAnswered = 0
        agents[agent]!.consecutiveMisses = 0
        agents[agent]!.pending = nil
        agents[agent]!.availableSince = now
        setState(agent, .available, now: now, into: &actions)
    }

    mutating func logout(_ agent: AgentID, now: Instant, into actions: inout [Action]) {
        guard let record = agents[agent] else { return actions.append(.refused(agent, .logout, .unknownAgent)) }
        switch record.state {
        case .loggedOut:
            actions.append(.refused(agent, .logout, .notLoggedIn))
        case .reserved(let call):
            if let entry = entries[call] {
                agents[agent]!.pending = .logout
                withdrawOffer(of: entry, reason: .agentLoggedOut, now: now, into: &actions)
            } else {
                logOut(agent, now: now, into: &actions)
            }
        case .onCall:
            agents[agent]!.pending = .logout
        case .available, .wrapUp, .paused:
            logOut(agent, now: now, into: &actions)
        }
    }

    mutating func pause(_ agent: AgentID, reason: PauseReason, now: Instant, into actions: inout [Action]) {
        guard let record = agents[agent] else { return actions.append(.refused(agent, .pause, .unknownAgent)) }
        switch record.state {
        case .loggedOut:
            actions.append(.refused(agent, .pause, .notLoggedIn))
        case .reserved(let call):
            agents[agent]!.pending = .pause(reason)
            if let entry = entries[call] {
                withdrawOffer(of: entry, reason: .agentPaused, now: now, into: &actions)
            } else {
                becomeFree(agent, now: now, into: &actions)
            }
        case .onCall:
            if record.pending != .logout { agents[agent]!.pending = .pause(reason) }
        case .available, .wrapUp, .paused:
            agents[agent]!.wrapUpUntil = nil
            setState(agent, .paused(reason), now: now, into: &actions)
        }
    }

    mutating func unpause(_ agent: AgentID, now: Instant, into actions: inout [Action]) {
        guard let record = agents[agent] else { return actions.append(.refused(agent, .unpause, .unknownAgent)) }
        switch record.state {
        case .loggedOut:
            actions.append(.refused(agent, .unpause, .notLoggedIn))
        case .paused, .wrapUp:
            agents[agent]!.consecutiveMisses = 0
            becomeFree(agent, now: now, into: &actions)
        case .onCall where record.pending != nil && record.pending != .logout:
            agents[agent]!.pending = nil
        case .onCall, .reserved, .available:
            actions.append(.refused(agent, .unpause, .notPaused))
        }
    }

    // MARK: - time

    /// Everything that falls due by `now`: ring timeouts, wrap-up ends, unreachable logouts,
    /// maximum waits, widening, announcements, lapsed exclusions.
    mutating func processDue(now: Instant, into actions: inout [Action]) {
        for agent in agents.keys.sorted() {
            guard let record = agents[agent] else { continue }
            switch record.state {
            case .reserved(let call):
                if let deadline = record.ringDeadline, deadline <= now {
                    actions.append(.cancelOffer(call, agent: agent, reason: .ringTimeout))
                    if let entry = entries[call] {
                        missed(entry, agent: agent, now: now, into: &actions)
                    } else {
                        becomeFree(agent, now: now, into: &actions)
                    }
                }
            case .wrapUp:
                if let until = record.wrapUpUntil, until <= now { becomeFree(agent, now: now, into: &actions) }
            default:
                break
            }
            if let limit = routing.logoutUnreachableAfter, let record = agents[agent], !record.reachable,
               let since = record.unreachableSince, since.advanced(by: limit) <= now
            {
                switch record.state {
                case .available, .paused, .wrapUp:
                    logOut(agent, now: now, into: &actions)
                    actions.append(.agentLoggedOutUnreachable(agent))
                default:
                    break
                }
            }
        }
        for id in order {
            guard var entry = entries[id] else { continue }
            entry.excludedUntil = entry.excludedUntil.filter { $0.value > now }
            entries[id] = entry
            guard !entry.isCallback, let queue = queues[entry.queue] else { continue }
            if entry.offeredTo != nil {
                // Announcements wait until the offer is settled.
                if let next = entry.nextAnnouncement, next <= now, let interval = queue.announceInterval {
                    entries[id]!.nextAnnouncement = now.advanced(by: interval)
                }
                continue
            }
            if let maxWait = queue.maxWait, entry.queuedAt.advanced(by: maxWait) <= now {
                overflow(entry, reason: .maxWait, now: now, into: &actions)
                continue
            }
            let waited = now - entry.queuedAt
            if let step = queue.widening.lastIndex(where: { $0.after <= waited }), step > entry.wideningStep {
                entries[id]!.wideningStep = step
                actions.append(.widened(id, queue: queue.name, skills: queue.widening[step].skills))
            }
            if let next = entry.nextAnnouncement, next <= now, let interval = queue.announceInterval {
                actions.append(.announce(id, announcement(for: entries[id]!)))
                entries[id]!.nextAnnouncement = now.advanced(by: interval)
            }
        }
    }

    /// The earliest instant after which something could change without an event.
    func nextDeadline(now: Instant) -> Instant? {
        var next: Instant?
        func consider(_ t: Instant?) {
            guard let t else { return }
            if next == nil || t < next! { next = t }
        }
        for record in agents.values {
            switch record.state {
            case .reserved: consider(record.ringDeadline)
            case .wrapUp: consider(record.wrapUpUntil)
            case .available, .paused:
                if let limit = routing.logoutUnreachableAfter, !record.reachable, let since = record.unreachableSince {
                    consider(since.advanced(by: limit))
                }
            default: break
            }
        }
        for entry in entries.values where !entry.isCallback && entry.offeredTo == nil {
            guard let queue = queues[entry.queue] else { continue }
            if let maxWait = queue.maxWait { consider(entry.queuedAt.advanced(by: maxWait)) }
            if entry.wideningStep + 1 < queue.widening.count {
                consider(entry.queuedAt.advanced(by: queue.widening[entry.wideningStep + 1].after))
            }
            consider(entry.nextAnnouncement)
        }
        for entry in entries.values where entry.offeredTo == nil {
            for until in entry.excludedUntil.values { consider(until) }
        }
        return next
    }

    // MARK: - storage of waiting callers

    mutating func insert(_ entry: Entry) {
        if entries[entry.id] != nil { order.removeAll { $0 == entry.id } }
        entries[entry.id] = entry
        var low = 0, high = order.count
        while low < high {
            let mid = (low + high) / 2
            let other = entries[order[mid]]!
            if (other.rank, other.sequence) < (entry.rank, entry.sequence) { low = mid + 1 } else { high = mid }
        }
        order.insert(entry.id, at: low)
    }

    mutating func remove(_ id: CallID) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        let key = (entry.rank, entry.sequence)
        var low = 0, high = order.count
        while low < high {
            let mid = (low + high) / 2
            let other = order[mid] == id ? entry : entries[order[mid]]!
            if (other.rank, other.sequence) < key { low = mid + 1 } else { high = mid }
        }
        if low < order.count, order[low] == id { order.remove(at: low) } else { order.removeAll { $0 == id } }
    }

    func liveWaiting(in queue: QueueName) -> Int {
        entries.values.reduce(0) { $0 + ($1.queue == queue && !$1.isCallback ? 1 : 0) }
    }
}

extension InstantProtocol where Duration == Swift.Duration {
    /// Time from `rhs` to `lhs`.
    static func - (lhs: Self, rhs: Self) -> Swift.Duration { rhs.duration(to: lhs) }
}
