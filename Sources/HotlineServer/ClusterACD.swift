// HotlineServer: the composition root.
// This file: the contact centre across nodes (issue 13, docs/contact-centre-cluster.md), the
// node's side. With a shared PostgreSQL store, the ACD's machine decides on one node only, the
// leader (PostgresLeadership "acd"); every node, the leader included:
// - appends its ACD events (callers queued and gone, offers answered or failed, calls ended,
//   agents' requests, phones reachable or not with where to reach them) to the inbox, in order,
//   batched while a write is in flight;
// - carries out the commands the leader leaves for it (ring an agent, withdraw an offer, the
//   caller's music, announcements and exit), so a caller's media stays on the node that
//   answered; replies to its agents' requests arrive the same way;
// - keeps a read-only copy of the machine from the state rows for the admin API (cluster view).
// A node whose inbox write fails admits no queue caller until one succeeds: it does not queue
// callers on state it cannot see (they take the dialplan's `on_unavailable`).
// The leader's side is ClusterACD+Leader.swift. Everything here runs on the control loop; the
// PostgreSQL round trips run on serial queues of their own and hop back.
import ACD
import Dispatch
import Foundation
import Logging
import NIOCore
import Tickets
import TicketsPostgres

final class ClusterACD {
    let node: String
    /// Tells this run's calls from an earlier run's (a node restarted with calls in the tables).
    let incarnation: String
    let store: PostgresACDStore
    unowned let service: ACDService
    let eventLoop: EventLoop
    let logger: Logger
    let submitQueue = DispatchQueue(label: "hotline-acd-submit")
    let commandQueue = DispatchQueue(label: "hotline-acd-commands")
    let leaderQueue = DispatchQueue(label: "hotline-acd-leader")
    /// Instants of the machine on the shared timeline (Unix microseconds).
    let timeline = ACDTimeline()
    var leadership: PostgresLeadership?
    /// Tells the leader this process is alive (PostgresNodeLiveness).
    let liveness: PostgresNodeLiveness
    var buses: [PostgresEventBus] = []
    /// How long an agent's request waits for the leader's reply.
    var replyTimeout: Duration = .seconds(5)

    // The node's side.
    private var outgoing: [Outgoing] = []
    private var submitting = false
    /// False while the inbox cannot be written: new queue callers are refused at once.
    private(set) var inboxReachable = true
    private var nextRequest: UInt64 = 0
    private var replies: [UInt64: EventLoopPromise<AgentRequestOutcome>] = [:]
    private var takingCommands = false
    private var takeAgain = false
    private var refreshingMirror = false
    private var refreshAgain = false

    // The leader's side (ClusterACD+Leader.swift).
    var role: Role = .follower
    var leader = LeaderState()

    init(service: ACDService, store: PostgresACDStore, node: String, logger: Logger) {
        self.service = service
        self.eventLoop = service.eventLoop
        self.store = store
        self.node = node
        self.liveness = PostgresNodeLiveness(url: store.url, node: node)
        self.incarnation = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36) + String(UInt16.random(in: 0...UInt16.max), radix: 36)
        self.logger = logger
    }

    var callSuffix: String { ClusterCallID.suffix(node: node, incarnation: incarnation) }

    // MARK: - start and stop

    /// Listens for the leader's commands and state, competes for leadership (`leadership`, whose
    /// changes come back through ``leadershipChanged(_:)``), and tells the leader this run
    /// started. Call on the control loop.
    func start(leadership: PostgresLeadership?) {
        let url = store.url
        let loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let outbox = PostgresEventBus(url: url, node: node, channel: PostgresACDStore.outboxChannel)
        let inbox = PostgresEventBus(url: url, node: node, channel: PostgresACDStore.inboxChannel)
        buses = [outbox, inbox]
        let node = self.node
        let outboxEvents = outbox.events()
        Task {
            for await event in outboxEvents {
                loop.execute {
                    switch event {
                    case .resync:
                        bound.value.takeCommands()
                        bound.value.refreshMirror()
                    case .message(_, let payload):
                        if payload == node { bound.value.takeCommands() }
                        if payload == "*" { bound.value.refreshMirror() }
                    }
                }
            }
        }
        let inboxEvents = inbox.events()
        Task {
            for await _ in inboxEvents {
                loop.execute { bound.value.pumpInbox() }
            }
        }
        self.leadership = leadership
        leadership?.start()
        liveness.start()
        let store = self.store
        commandQueue.async { try? store.clearCommands(node: node) }
        submit(.nodeStarted(incarnation: incarnation))
    }

    /// Drain or shutdown: another node takes the decisions over. (Off the loop: closing the
    /// lock's session blocks.)
    func resign() {
        let leadership = self.leadership
        leaderQueue.async { leadership?.resign() }
    }

    func close() {
        let leadership = self.leadership, buses = self.buses, store = self.store, liveness = self.liveness
        leaderQueue.async {
            leadership?.resign()
            liveness.close()
            for bus in buses { bus.close() }
            store.close()
        }
    }

    // MARK: - the node's events

    /// Sends an event to the leader, after every earlier one.
    func submit(_ event: ClusterACDEvent) {
        outgoing.append(Outgoing(text: ClusterACDCoding.encode(event), arrival: event.arrival))
        flush()
    }

    /// An event waiting to be written; a queue caller's arrival is remembered to be refused at
    /// once if the write fails.
    struct Outgoing {
        var text: String
        var arrival: CallID?
    }

    private func flush() {
        guard !submitting, !outgoing.isEmpty else { return }
        submitting = true
        let batch = outgoing
        let texts = batch.map(\.text)
        outgoing = []
        let store = self.store, node = self.node
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let loop = eventLoop
        submitQueue.async {
            let result = Result { () throws(TicketStoreError) in try store.submit(node: node, events: texts) }
            loop.execute {
                let me = bound.value
                me.submitting = false
                switch result {
                case .success:
                    if !me.inboxReachable { me.logger.notice("the ACD's inbox is reachable again; queue callers admitted") }
                    me.inboxReachable = true
                    me.flush()
                case .failure(let error):
                    if me.inboxReachable {
                        me.logger.error("the ACD's inbox cannot be written; queue callers are refused until it can",
                                        metadata: ["error": "\(error)"])
                    }
                    me.inboxReachable = false
                    // Callers just queued are refused now: they take the dialplan's way out rather
                    // than wait for an ACD this node cannot reach. Whether the failed write
                    // committed is unknown, so the leader is told they left (a no-op if it never
                    // saw them). Everything else is kept, in order, and retried: a hang-up or an
                    // answer must reach the leader.
                    var kept: [Outgoing] = []
                    for event in batch {
                        guard let id = event.arrival else {
                            kept.append(event)
                            continue
                        }
                        me.logger.warning("queue caller refused: the cluster's ACD is unreachable", metadata: ["acd.call": "\(id)"])
                        me.service.execute(.left(id, .overflowed(.dialplan, reason: .acdUnavailable, waited: .zero)))
                        kept.append(Outgoing(text: ClusterACDCoding.encode(ClusterACDEvent.acd(.callerHungUp(id))), arrival: nil))
                    }
                    me.outgoing = kept + me.outgoing
                    loop.scheduleTask(in: .milliseconds(250)) { bound.value.flush() }
                }
            }
        }
    }

    /// While the inbox is away with nothing to send, a round trip tells when it is back.
    func probeInbox() {
        guard !inboxReachable, !submitting, outgoing.isEmpty else { return }
        submitting = true
        let store = self.store, loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        submitQueue.async {
            let reachable = (try? store.ping()) != nil
            loop.execute {
                let me = bound.value
                me.submitting = false
                if reachable, !me.inboxReachable {
                    me.logger.notice("the ACD's inbox is reachable again; queue callers admitted")
                    me.inboxReachable = true
                }
                me.flush()
            }
        }
    }

    /// A caller reached a queue node: queued in the cluster, or refused at once while the
    /// inbox is away (the dialplan's `on_unavailable` follows).
    func callerArrived(_ id: CallID, _ request: EnqueueRequest) {
        guard inboxReachable else {
            logger.warning("queue caller refused: the cluster's ACD is unreachable", metadata: ["acd.call": "\(id)"])
            service.execute(.left(id, .overflowed(.dialplan, reason: .acdUnavailable, waited: .zero)))
            return
        }
        submit(.acd(.callerArrived(id, request)))
    }

    /// An agent's request, answered by the leader (or refused after `replyTimeout`).
    func request(_ agent: AgentID, _ request: AgentRequest, reason: PauseReason?) -> EventLoopFuture<AgentRequestOutcome> {
        guard inboxReachable else { return eventLoop.makeSucceededFuture(.refused(request, .acdUnavailable)) }
        nextRequest += 1
        let id = nextRequest
        let promise = eventLoop.makePromise(of: AgentRequestOutcome.self)
        replies[id] = promise
        submit(.request(id: id, agent: agent, request, reason: reason, sentAt: Int64(Date().timeIntervalSince1970 * 1000)))
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: .nanoseconds(Int64(replyTimeout.nanosecondsClamped))) {
            bound.value.replies.removeValue(forKey: id)?.succeed(.refused(request, .acdUnavailable))
        }
        return promise.futureResult
    }

    func replied(_ id: UInt64, _ outcome: AgentRequestOutcome) {
        replies.removeValue(forKey: id)?.succeed(outcome)
    }

    // MARK: - the leader's commands

    /// Takes this node's commands and carries them out, in order.
    func takeCommands() {
        guard !takingCommands else {
            takeAgain = true
            return
        }
        takingCommands = true
        takeAgain = false
        let store = self.store, node = self.node, loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        commandQueue.async {
            let result = Result { () throws(TicketStoreError) in try store.takeCommands(node: node) }
            loop.execute {
                let me = bound.value
                me.takingCommands = false
                switch result {
                case .success(let commands):
                    for text in commands {
                        do {
                            me.service.execute(try ClusterACDCoding.decode(ClusterACDCommand.self, text))
                        } catch {
                            me.logger.error("an ACD command this node cannot read was dropped", metadata: ["command": "\(text)", "error": "\(error)"])
                        }
                    }
                    if me.takeAgain { me.takeCommands() }
                case .failure:
                    // The bus resyncs (and so takes again) once PostgreSQL is back.
                    break
                }
            }
        }
    }

    // MARK: - the read-only view on the other nodes

    /// Rebuilds this node's copy of the machine from the state rows (admin API, /metrics).
    func refreshMirror() {
        guard !role.isLeading else { return }
        guard !refreshingMirror else {
            refreshAgain = true
            return
        }
        refreshingMirror = true
        refreshAgain = false
        let store = self.store, loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        leaderQueue.async {
            let rows = try? store.state()
            loop.execute {
                let me = bound.value
                if let rows, !me.role.isLeading {
                    let (snapshot, _) = me.decodeState(rows)
                    me.service.restoreMachine(snapshot, timeline: me.timeline)
                }
                // At most a few refreshes a second, however busy the leader is.
                loop.scheduleTask(in: .milliseconds(200)) {
                    let me = bound.value
                    me.refreshingMirror = false
                    if me.refreshAgain { me.refreshMirror() }
                }
            }
        }
    }

    /// The machine's snapshot and the agents' targets from the state rows.
    func decodeState(_ rows: [PostgresACDStore.StateKey: String]) -> (ACDSnapshot, [AgentID: AgentTarget]) {
        var agents: [ACDSnapshot.Agent] = [], waiting: [ACDSnapshot.Waiter] = [], calls: [ACDSnapshot.Call] = []
        var targets: [AgentID: AgentTarget] = [:]
        for (key, doc) in rows {
            do {
                switch key.kind {
                case "agent": agents.append(try ClusterACDCoding.decode(ACDSnapshot.Agent.self, doc))
                case "waiter": waiting.append(try ClusterACDCoding.decode(ACDSnapshot.Waiter.self, doc))
                case "call": calls.append(try ClusterACDCoding.decode(ACDSnapshot.Call.self, doc))
                case "binding": targets[AgentID(key.key)] = try ClusterACDCoding.decode(AgentTarget.self, doc)
                default: break
                }
            } catch {
                logger.error("an ACD state row this node cannot read was skipped", metadata: ["kind": "\(key.kind)", "key": "\(key.key)",
                                                                                             "error": "\(error)"])
            }
        }
        // Arrival order (with priority) is the rank; the instant it was taken breaks ties.
        waiting.sort { ($0.rank, $0.arrivedAt, $0.id) < ($1.rank, $1.arrivedAt, $1.id) }
        agents.sort { $0.id < $1.id }
        calls.sort { $0.id < $1.id }
        return (ACDSnapshot(agents: agents, waiting: waiting, calls: calls), targets)
    }
}

/// The machine's instants on the cluster's shared timeline, Unix time in microseconds: what the
/// state rows hold, so another node restores the same deadlines and arrival order.
struct ACDTimeline: Sendable {
    private let instant = ContinuousClock.now
    private let unixMicroseconds = Int64(Date().timeIntervalSince1970 * 1_000_000)

    func time(_ t: ACDInstant) -> Int64 {
        unixMicroseconds + (t - instant).microseconds
    }

    func instant(_ micros: Int64) -> ACDInstant {
        instant.advanced(by: .microseconds(micros - unixMicroseconds))
    }
}

extension Duration {
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
