// ACD: the automatic call distributor as a sans-IO state machine. This file: matching waiting
// callers with free agents, and the strategies.

extension ACDStateMachine {
    /// The requirements in force for a caller: the widening step reached, else the
    /// dialplan's override, else the queue's.
    func requirements(of entry: Entry) -> SkillRequirements {
        guard let queue = queues[entry.queue] else { return [:] }
        if entry.wideningStep >= 0, entry.wideningStep < queue.widening.count { return queue.widening[entry.wideningStep].skills }
        return baseRequirements(of: entry, in: queue)
    }

    /// Without widening: a `queue` node's skills keep the queue's level for a skill it also
    /// names, else level 1.
    func baseRequirements(of entry: Entry, in queue: QueueConfiguration) -> SkillRequirements {
        guard let override = entry.skillsOverride else { return queue.skills }
        var levels: [Skill: Int] = [:]
        for skill in override { levels[skill] = queue.skills.minimumLevels[skill] ?? 1 }
        return SkillRequirements(levels)
    }

    /// Whether an agent is free to be offered a call right now.
    func isFree(_ record: AgentRecord) -> Bool {
        record.state == .available && record.reachable
    }

    /// Some reachable, logged-in agent (paused counts: they come back) could serve this
    /// caller under the queue's base requirements.
    func hasStaff(for entry: Entry) -> Bool {
        guard let queue = queues[entry.queue] else { return false }
        let needed = baseRequirements(of: entry, in: queue)
        return agents.values.contains { $0.state.isLoggedIn && $0.reachable && needed.isSatisfied(by: $0.profile.skills) }
    }

    /// Offers callers to free agents in fairness order until no free agent can serve anyone
    /// still waiting. Requirements are evaluated once per distinct set per pass, so a long
    /// queue costs one scan, not one scan per agent.
    mutating func dispatch(now: Instant, into actions: inout [Action]) {
        var free = Set(agents.filter { isFree($0.value) }.map(\.key))
        guard !free.isEmpty else { return }
        var candidatesByRequirement: [SkillRequirements: [AgentID]] = [:]
        for id in order {
            guard !free.isEmpty else { return }
            guard let entry = entries[id], entry.offeredTo == nil, let queue = queues[entry.queue] else { continue }
            let needed = requirements(of: entry)
            let candidates: [AgentID]
            if let cached = candidatesByRequirement[needed] {
                candidates = cached.filter { free.contains($0) }
            } else {
                candidates = free.filter { needed.isSatisfied(by: agents[$0]!.profile.skills) }
            }
            candidatesByRequirement[needed] = candidates
            let eligible = candidates.filter { agent in (entry.excludedUntil[agent].map { $0 <= now } ?? true) }
            guard let agent = choose(among: eligible, strategy: queue.strategy, requirements: needed) else { continue }
            free.remove(agent)
            offer(entry, to: agent, queue: queue, now: now, into: &actions)
        }
    }

    /// The queue's strategy; ties go to the agent available longest, then by id, so the choice
    /// is deterministic.
    func choose(among candidates: [AgentID], strategy: RoutingStrategy, requirements: SkillRequirements) -> AgentID? {
        func idleOrder(_ a: AgentID, _ b: AgentID) -> Bool {
            let x = agents[a]!, y = agents[b]!
            if x.availableSince != y.availableSince { return x.availableSince < y.availableSince }
            return a < b
        }
        switch strategy {
        case .longestIdle:
            return candidates.min(by: idleOrder)
        case .leastCalls:
            return candidates.min { a, b in
                let x = agents[a]!.callsAnswered, y = agents[b]!.callsAnswered
                return x != y ? x < y : idleOrder(a, b)
            }
        case .bestSkill:
            return candidates.min { a, b in
                let x = requirements.score(of: agents[a]!.profile.skills), y = requirements.score(of: agents[b]!.profile.skills)
                return x != y ? x > y : idleOrder(a, b)
            }
        }
    }

    mutating func offer(_ entry: Entry, to agent: AgentID, queue: QueueConfiguration, now: Instant, into actions: inout [Action]) {
        entries[entry.id]!.offeredTo = agent
        agents[agent]!.ringDeadline = now.advanced(by: queue.ringTimeout)
        actions.append(.offer(entry.id, to: agent, Offer(
            queue: queue.name, isCallback: entry.isCallback, priority: entry.priority, waited: now - entry.arrivedAt,
            ringTimeout: queue.ringTimeout)))
        setState(agent, .reserved(entry.id), now: now, into: &actions)
    }

    /// Position among live callers of the caller's queue, and an estimate: position × average
    /// handle time ÷ agents serving the queue (logged in, not paused, reachable).
    func announcement(for entry: Entry) -> Announcement {
        let key = (entry.rank, entry.sequence)
        var position = 1
        for other in entries.values where other.id != entry.id && other.queue == entry.queue && !other.isCallback {
            if (other.rank, other.sequence) < key { position += 1 }
        }
        guard let queue = queues[entry.queue] else { return Announcement(position: position, estimatedWait: nil) }
        let serving = agentsServing(queue)
        guard serving > 0 else { return Announcement(position: position, estimatedWait: nil) }
        return Announcement(position: position, estimatedWait: averageHandleTime(of: queue) * position / serving)
    }

    func agentsServing(_ queue: QueueConfiguration) -> Int {
        agents.values.reduce(0) { count, record in
            let serving: Bool
            switch record.state {
            case .available, .reserved, .onCall, .wrapUp: serving = record.reachable && queue.skills.isSatisfied(by: record.profile.skills)
            case .loggedOut, .paused: serving = false
            }
            return count + (serving ? 1 : 0)
        }
    }

    func averageHandleTime(of queue: QueueConfiguration) -> Duration {
        var total = Duration.zero
        var count = 0
        for record in handleTimes where record.queue == queue.name {
            total += record.duration
            count += 1
        }
        return count == 0 ? queue.averageHandleTime : total / count
    }
}
