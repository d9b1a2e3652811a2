// HotlineServer: the composition root.
// This file: the ACD machine's actions on this node: counted and logged, then carried out on the
// call's loop (alone), or handed to the cluster's leader pipeline (ClusterACD+Leader.swift); and
// the cluster's commands for this node's calls.
import ACD
import Foundation
import Logging
import NIOCore

extension ACDService {
    // MARK: - the ACD's actions

    /// The machine's actions: logged and counted here; carried out on this node's loops, or in
    /// a cluster committed by the leader first (ClusterACD+Leader.swift).
    func perform(_ actions: [ACDMachine.Action]) {
        onChange?()
        if let cluster {
            guard cluster.role.isLeading else { return } // a read-only copy decides nothing
            for action in actions { account(action) }
            return cluster.machineActed(actions)
        }
        for action in actions {
            account(action)
            switch action {
            case .offer(let id, let agent, let offer):
                guard let target = target(for: agent) else {
                    // Reachable to the ACD but no binding left (it expired this instant).
                    feed(.offerFailed(id, agent: agent, .unreachable))
                    continue
                }
                execute(.offer(id, target: target, offer))
            case .cancelOffer(let id, let agent, let reason): execute(.cancelOffer(id, agent: agent, reason: reason))
            case .releaseAgentLeg(let id, let agent): execute(.releaseAgentLeg(id, agent: agent))
            case .playMusic(let id, let prompt): execute(.playMusic(id, prompt: prompt))
            case .announce(let id, let announcement): execute(.announce(id, announcement))
            case .moved(let id, let from, let to, let reason): execute(.moved(id, from: from, to: to, reason: reason))
            case .convertedToCallback(let id, let queue, let reason): execute(.convertedToCallback(id, queue: queue, reason: reason))
            case .left(let id, let exit): execute(.left(id, exit))
            default: break
            }
        }
    }

    /// A decision for one of this node's calls, carried out on the call's loop.
    func execute(_ command: ClusterACDCommand) {
        switch command {
        case .offer(let id, let target, let offer):
            logger.info("offering call to agent", metadata: ["acd.call": "\(id)", "agent.id": "\(target.agent)", "queue": "\(offer.queue)",
                                                             "callback": "\(offer.isCallback)"])
            toCall(id) { engine, call in engine.offerToAgent(call, acdID: id, target: target, offer: offer) }
        case .cancelOffer(let id, let agent, let reason):
            logger.info("offer withdrawn", metadata: ["acd.call": "\(id)", "agent.id": "\(agent)", "reason": "\(reason.rawValue)"])
            toCall(id) { engine, call in engine.cancelAgentLeg(call, agent: agent) }
        case .releaseAgentLeg(let id, let agent):
            toCall(id) { engine, call in engine.releaseAgentLeg(call, agent: agent) }
        case .playMusic(let id, let prompt):
            toCall(id) { engine, call in engine.playQueueMusic(call, prompt: prompt) }
        case .announce(let id, let announcement):
            toCall(id) { engine, call in engine.announceQueuePosition(call, announcement) }
        case .moved(let id, _, let to, _):
            toCall(id) { engine, call in engine.queueMoved(call, to: to.rawValue) }
        case .convertedToCallback(let id, _, _):
            toCall(id) { engine, call in engine.queueConvertedToCallback(call) }
        case .left(let id, let exit):
            toCall(id) { engine, call in engine.queueLeft(call, exit) }
        case .reply(let id, let outcome):
            cluster?.replied(id, outcome)
        }
    }

    /// Counters, logs and the ACD's own timer, wherever the machine runs.
    private func account(_ action: ACDMachine.Action) {
            switch action {
            case .offer:
                metrics.offers += 1
            case .cancelOffer(let id, let agent, let reason):
                metrics.offersCancelled += 1
                logger.debug("withdrawing offer", metadata: ["acd.call": "\(id)", "agent.id": "\(agent)", "reason": "\(reason.rawValue)"])
            case .moved(let id, let from, let to, let reason):
                logger.info("caller overflowed into another queue", metadata: [
                    "acd.call": "\(id)", "from": "\(from)", "to": "\(to)", "reason": "\(reason.rawValue)"])
            case .widened(let id, let queue, let skills):
                logger.info("caller's skill requirements widened", metadata: ["acd.call": "\(id)", "queue": "\(queue)", "skills": "\(skills)"])
            case .convertedToCallback(let id, let queue, let reason):
                logger.info("caller converted to a callback request", metadata: [
                    "acd.call": "\(id)", "queue": "\(queue)", "reason": "\(reason.rawValue)"])
            case .callbackRequeued(let id, let attempts):
                logger.info("callback's citizen not reached; the request is back in its place", metadata: [
                    "acd.call": "\(id)", "attempts": "\(attempts)"])
            case .releaseAgentLeg, .playMusic, .announce, .left:
                break
            case .agentStateChanged(let agent, let state):
                logger.info("agent state", metadata: ["agent.id": "\(agent)", "state": "\(state)"])
            case .agentAutoPaused(let agent, let misses):
                logger.notice("agent paused after missed offers", metadata: ["agent.id": "\(agent)", "misses": "\(misses)"])
            case .agentLoggedOutUnreachable(let agent):
                logger.notice("agent logged out: phone unreachable", metadata: ["agent.id": "\(agent)"])
            case .refused(let agent, let request, let refusal):
                logger.info("agent request refused", metadata: ["agent.id": "\(agent)", "request": "\(request.rawValue)",
                                                                "reason": "\(refusal)"])
            case .scheduleTick(let at):
                acdDeadline = at
            case .cancelTick:
                acdDeadline = nil
            }
    }

    /// Where to ring an agent: their newest reachable binding.
    func target(for agent: AgentID) -> AgentTarget? {
        guard let definition = setup.agents.agents.first(where: { $0.profile.id == agent }),
              let binding = registrar.machine.preferredBinding(of: definition.profile.sipUsername),
              let destination = try? SocketAddress(ipAddress: binding.nextHop.host, port: binding.nextHop.port)
        else { return nil }
        let profile = definition.profile
        return AgentTarget(agent: agent, name: profile.name, sipUsername: profile.sipUsername, contact: binding.contact,
                           destination: destination, route: binding.path, seat: profile.seat,
                           mediaEncryption: definition.mediaEncryption)
    }

    /// Runs `body` on the loop that owns the call, with its engine and call number.
    private func toCall(_ id: CallID, _ body: @escaping @Sendable (CallEngine, UInt64) -> Void) {
        guard let (shard, call) = Self.owner(of: id), shard < peers.count else {
            logger.error("ACD action for a call of no loop", metadata: ["acd.call": "\(id)"])
            return
        }
        let peer = peers[shard]
        peer.eventLoop.execute {
            let engine = peer.engine.value
            body(engine, call)
            engine.transport?.flush()
        }
    }
}
