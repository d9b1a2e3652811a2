// HotlineServer: the composition root.
// This file: the contact centre across nodes, the leader's side. The node holding the
// PostgreSQL advisory lock `hotline.leadership.acd` runs the one ACD machine of the cluster:
// - on taking over it rebuilds the machine from the state rows (waiting callers in their
//   order, agents' states, connected calls, where each agent's phone is reached) and applies
//   the inbox rows still there;
// - it applies inbox rows in order and, in one transaction fenced by its epoch, deletes them,
//   writes the state rows that changed and leaves the nodes their commands; commands for its
//   own calls are carried out once that transaction has committed. If the transaction fails
//   it rebuilds from the tables (what did not commit did not happen); if it was deposed it
//   stops;
// - callers and calls of nodes the cluster marks gone (or of a node's earlier run) leave the
//   machine: waiting callers as hung up, connected calls as ended (the agent goes to wrap-up).
import ACD
import Foundation
import NIOCore
import Tickets
import TicketsPostgres

extension ClusterACD {
    enum Role: Equatable {
        case follower
        case takingOver(epoch: Int64)
        case leading(epoch: Int64)

        var isLeading: Bool {
            if case .leading = self { return true }
            return false
        }
    }

    /// The leader's bookkeeping, reset at each takeover.
    struct LeaderState {
        /// Where each agent's phone is reached, as its registrar's node last said.
        var targets: [AgentID: AgentTarget] = [:]
        /// The state rows as last committed.
        var written: [PostgresACDStore.StateKey: String] = [:]
        /// The open batch: inbox rows applied, commands for other nodes, commands for this one.
        var applied: [Int64] = []
        var commands: [(node: String, command: String)] = []
        var local: [ClusterACDCommand] = []
        /// Applied but not yet committed: a fetch that still sees them skips them.
        var inFlight: Set<Int64> = []
        var committing = false
        var commitScheduled = false
        var fetching = false
        var fetchAgain = false
        var checkingGone = false
        /// Nodes without their liveness lock at the last look.
        var absent: Set<String> = []
        var lastHousekeeping: ContinuousClock.Instant?
    }

    func leadershipChanged(_ change: PostgresLeadership.Change) {
        switch change {
        case .becameLeader(let epoch):
            logger.notice("this node now decides for the cluster's ACD", metadata: ["epoch": "\(epoch)"])
            takeOver(epoch)
        case .steppedDown(let reason):
            logger.notice("this node no longer decides for the cluster's ACD", metadata: ["reason": "\(reason.rawValue)"])
            stopLeading()
        }
    }

    private func stopLeading() {
        role = .follower
        leader = LeaderState()
        service.leadershipEnded()
        refreshMirror()
    }

    /// Rebuilds the machine from the tables, then decides.
    func takeOver(_ epoch: Int64) {
        role = .takingOver(epoch: epoch)
        leader = LeaderState()
        let store = self.store, loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let started = ContinuousClock.now
        leaderQueue.async {
            let result = Result { () throws(TicketStoreError) in try store.state() }
            loop.execute {
                let me = bound.value
                guard me.role == .takingOver(epoch: epoch) else { return }
                switch result {
                case .failure(let error):
                    me.logger.warning("the ACD's state could not be read; retrying", metadata: ["error": "\(error)"])
                    loop.scheduleTask(in: .milliseconds(500)) {
                        if bound.value.role == .takingOver(epoch: epoch) { bound.value.takeOver(epoch) }
                    }
                case .success(let rows):
                    let (snapshot, targets) = me.decodeState(rows)
                    me.service.restoreMachine(snapshot, timeline: me.timeline)
                    me.leader.targets = targets
                    me.leader.written = rows
                    me.role = .leading(epoch: epoch)
                    me.logger.notice("ACD state rebuilt from the shared store", metadata: [
                        "epoch": "\(epoch)", "waiting": "\(snapshot.waiting.count)", "calls": "\(snapshot.calls.count)",
                        "agents_logged_in": "\(snapshot.agents.filter { $0.state.isLoggedIn }.count)",
                        "took_ms": "\((ContinuousClock.now - started).microseconds / 1000)",
                    ])
                    me.service.feed(.tick)
                    me.pumpInbox()
                    me.housekeeping(force: true)
                }
            }
        }
    }

    /// The control loop's tick on every node: on the leader, the inbox and gone nodes are
    /// looked at every second even without a NOTIFY (one missed while reconnecting); on the
    /// others, commands likewise.
    func tick(now: ContinuousClock.Instant) {
        if let last = leader.lastHousekeeping, now - last < .seconds(1) { return }
        leader.lastHousekeeping = now
        if role.isLeading {
            pumpInbox()
            housekeeping(force: false)
        }
        takeCommands()
        probeInbox()
    }

    // MARK: - applying the inbox

    func pumpInbox() {
        guard role.isLeading else { return }
        guard !leader.fetching else {
            leader.fetchAgain = true
            return
        }
        leader.fetching = true
        leader.fetchAgain = false
        let store = self.store, loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let limit = 1000
        leaderQueue.async {
            let result = Result { () throws(TicketStoreError) in try store.inbox(limit: limit) }
            loop.execute {
                let me = bound.value
                me.leader.fetching = false
                guard me.role.isLeading, case .success(let rows) = result else { return }
                for row in rows where !me.leader.inFlight.contains(row.id) {
                    me.leader.inFlight.insert(row.id)
                    me.leader.applied.append(row.id)
                    do {
                        me.apply(try ClusterACDCoding.decode(ClusterACDEvent.self, row.event), from: row.node)
                    } catch {
                        me.logger.error("an ACD event the leader cannot read was dropped",
                                        metadata: ["node": "\(row.node)", "event": "\(row.event)", "error": "\(error)"])
                    }
                }
                me.commitSoon()
                if me.leader.fetchAgain || rows.count == limit { me.pumpInbox() }
            }
        }
    }

    private func apply(_ event: ClusterACDEvent, from node: String) {
        switch event {
        case .acd(let event):
            service.feed(event)
        case .request(let id, let agent, let request, let reason, let sentAt):
            let age = Int64(Date().timeIntervalSince1970 * 1000) - sentAt
            guard age < replyTimeout.microseconds / 1000 else {
                logger.notice("agent request too old to apply (its node has answered it as unavailable)",
                              metadata: ["agent.id": "\(agent)", "request": "\(request.rawValue)", "age_ms": "\(age)"])
                return
            }
            let outcome = service.agentRequest(agent, request, reason: reason)
            command(.reply(id: id, outcome), to: node)
        case .reachability(let agent, let reachable, let target):
            if let target { leader.targets[agent] = target }
            service.feed(.agentReachabilityChanged(agent, reachable: reachable))
        case .nodeStarted(let incarnation):
            endCalls { $0.node == node && $0.incarnation != incarnation }
        }
    }

    /// Callers and calls held by nodes that are gone leave the machine.
    private func endCalls(where isGone: ((node: String, incarnation: String)) -> Bool) {
        let snapshot = service.machineSnapshot(timeline: timeline)
        for waiter in snapshot.waiting {
            guard let owner = ClusterCallID.node(of: waiter.id), isGone(owner) else { continue }
            logger.notice("waiting caller of a gone node leaves the queue", metadata: ["acd.call": "\(waiter.id)", "node": "\(owner.node)"])
            service.feed(waiter.isCallback ? .callbackCancelled(waiter.id) : .callerHungUp(waiter.id))
        }
        for call in snapshot.calls {
            guard let owner = ClusterCallID.node(of: call.id), isGone(owner) else { continue }
            logger.notice("call of a gone node ended; its agent goes to wrap-up", metadata: ["acd.call": "\(call.id)", "agent.id": "\(call.agent)"])
            service.feed(.callEnded(call.id))
        }
    }

    /// Looks for departed nodes (at most once a second unless forced): gone by the cluster's
    /// lease, or without their liveness lock on two looks in a row (a node's session reconnecting
    /// after a PostgreSQL restart is not taken for a death).
    func housekeeping(force: Bool) {
        guard role.isLeading, !leader.checkingGone else { return }
        leader.checkingGone = true
        let store = self.store, loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        leaderQueue.async {
            let departed = try? store.departedNodes()
            loop.execute {
                let me = bound.value
                me.leader.checkingGone = false
                guard me.role.isLeading, let departed else { return }
                let dead = departed.gone.union(departed.absent.intersection(me.leader.absent))
                me.leader.absent = departed.absent
                guard !dead.isEmpty else { return }
                me.endCalls { dead.contains($0.node) }
            }
        }
    }

    // MARK: - the machine's decisions

    /// The machine's actions on the leader: commands for the nodes holding the calls, committed
    /// with the state they lead to. Elsewhere (the read-only copy) they are ignored.
    func machineActed(_ actions: [ACDMachine.Action]) {
        guard role.isLeading else { return }
        for action in actions {
            switch action {
            case .offer(let id, let agent, let offer):
                guard let target = leader.targets[agent] else {
                    service.feed(.offerFailed(id, agent: agent, .unreachable))
                    continue
                }
                command(.offer(id, target: target, offer))
            case .cancelOffer(let id, let agent, let reason): command(.cancelOffer(id, agent: agent, reason: reason))
            case .releaseAgentLeg(let id, let agent): command(.releaseAgentLeg(id, agent: agent))
            case .playMusic(let id, let prompt): command(.playMusic(id, prompt: prompt))
            case .announce(let id, let announcement): command(.announce(id, announcement))
            case .moved(let id, let from, let to, let reason): command(.moved(id, from: from, to: to, reason: reason))
            case .convertedToCallback(let id, let queue, let reason): command(.convertedToCallback(id, queue: queue, reason: reason))
            case .left(let id, let exit): command(.left(id, exit))
            case .widened, .agentStateChanged, .agentAutoPaused, .agentLoggedOutUnreachable, .refused, .scheduleTick, .cancelTick,
                 .callbackRequeued:
                break
            }
        }
        commitSoon()
    }

    private func command(_ command: ClusterACDCommand, to explicit: String? = nil) {
        let node = explicit ?? command.call.flatMap { ClusterCallID.node(of: $0)?.node } ?? self.node
        if node == self.node {
            leader.local.append(command)
        } else {
            leader.commands.append((node, ClusterACDCoding.encode(command)))
        }
    }

    /// Commits once this turn of the loop is done (so one batch of the inbox is one transaction).
    func commitSoon() {
        guard role.isLeading, !leader.commitScheduled else { return }
        leader.commitScheduled = true
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute {
            bound.value.leader.commitScheduled = false
            bound.value.commit()
        }
    }

    private func commit() {
        guard case .leading(let epoch) = role, !leader.committing else { return }
        let rows = stateRows()
        var commit = PostgresACDStore.Commit(epoch: epoch)
        for (key, doc) in rows where leader.written[key] != doc { commit.upserts[key] = doc }
        for key in leader.written.keys where rows[key] == nil { commit.deletes.insert(key) }
        commit.applied = leader.applied
        commit.commands = leader.commands
        let local = leader.local
        guard !commit.isEmpty || !local.isEmpty else { return }
        leader.applied = []
        leader.commands = []
        leader.local = []
        leader.committing = true
        let batch = commit
        let store = self.store, loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        leaderQueue.async {
            let result = Result { () throws(TicketStoreError) in try store.commit(batch) }
            loop.execute {
                let me = bound.value
                guard me.role == .leading(epoch: epoch) else { return }
                me.leader.committing = false
                switch result {
                case .success(true):
                    me.leader.written = rows
                    me.leader.inFlight.subtract(batch.applied)
                    for command in local { me.service.execute(command) }
                    if !me.leader.applied.isEmpty || !me.leader.commands.isEmpty || !me.leader.local.isEmpty { me.commitSoon() }
                case .success(false):
                    me.logger.error("another node took the ACD over; this node's last decisions were not applied")
                    me.stopLeading()
                case .failure(let error):
                    // Whether it committed is unknown: the tables say what happened.
                    me.logger.error("the ACD's decisions could not be committed; rebuilding from the shared store",
                                    metadata: ["error": "\(error)"])
                    me.role = .follower
                    me.leader = LeaderState()
                    loop.scheduleTask(in: .milliseconds(500)) {
                        let me = bound.value
                        if me.role == .follower, me.leadership?.role == .leader(epoch: epoch) { me.takeOver(epoch) }
                    }
                }
            }
        }
    }

    /// The machine as state rows (the diff against the last committed is what a commit writes).
    private func stateRows() -> [PostgresACDStore.StateKey: String] {
        let snapshot = service.machineSnapshot(timeline: timeline)
        var rows: [PostgresACDStore.StateKey: String] = [:]
        rows.reserveCapacity(snapshot.agents.count + snapshot.waiting.count + snapshot.calls.count + leader.targets.count)
        let encoder = ClusterACDCoding.encoder()
        func put<T: Encodable>(_ kind: String, _ key: String, _ value: T) {
            if let data = try? encoder.encode(value) {
                rows[PostgresACDStore.StateKey(kind: kind, key: key)] = String(decoding: data, as: UTF8.self)
            }
        }
        for agent in snapshot.agents { put("agent", agent.id.rawValue, agent) }
        for waiter in snapshot.waiting { put("waiter", waiter.id.rawValue, waiter) }
        for call in snapshot.calls { put("call", call.id.rawValue, call) }
        for (agent, target) in leader.targets { put("binding", agent.rawValue, target) }
        return rows
    }
}
