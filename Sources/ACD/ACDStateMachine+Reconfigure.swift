// ACD: the automatic call distributor as a sans-IO state machine. This file: taking a new
// configuration (agents.yaml or queues.yaml edited and reloaded) without a restart.

extension ACDStateMachine {
    /// Applies a new configuration. The licensed seat count is **not** taken from it (it is
    /// changed live with `licensedSeatsChanged`, and a reload must not undo that).
    ///
    /// - Queues: new rules apply at once (calls in progress keep the wrap-up they started
    ///   with). Callers of a removed queue leave with `overflowed(.dialplan, .queueRemoved)`.
    /// - Agents: profiles (skills, seat) are replaced; a removed agent is logged out, after
    ///   their call if they are on one; new agents start logged out.
    public mutating func reconfigure(_ configuration: ACDConfiguration, now: Instant) -> [Action] {
        var actions: [Action] = []
        if configuration.routing.priorityStep != routing.priorityStep {
            let step = configuration.routing.priorityStep
            let ids = order
            for id in ids {
                guard var entry = entries[id] else { continue }
                entry.rank = entry.arrivedAt.advanced(by: step * -entry.priority)
                remove(id)
                insert(entry)
            }
        }
        routing = configuration.routing

        queues = Dictionary(configuration.queues.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for id in order {
            guard let entry = entries[id], queues[entry.queue] == nil else { continue }
            withdrawOffer(of: entry, reason: .queueRemoved, now: now, into: &actions)
            finish(entry, .overflowed(.dialplan, reason: .queueRemoved, waited: now - entry.arrivedAt), now: now, into: &actions)
        }
        for id in order {
            guard let entry = entries[id], let queue = queues[entry.queue] else { continue }
            if entry.wideningStep >= queue.widening.count { entries[id]!.wideningStep = queue.widening.count - 1 }
        }

        let profiles = Dictionary(configuration.agents.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in agents.keys.sorted() {
            if let profile = profiles[id] {
                agents[id]!.profile = profile
                agents[id]!.removed = false
            } else {
                agents[id]!.removed = true
                if agents[id]!.state == .loggedOut {
                    agents[id] = nil
                } else {
                    logout(id, now: now, into: &actions)
                }
            }
        }
        for (id, profile) in profiles where agents[id] == nil {
            agents[id] = AgentRecord(profile: profile, stateSince: now, availableSince: now)
        }
        return actions + event(.tick, now: now)
    }
}
