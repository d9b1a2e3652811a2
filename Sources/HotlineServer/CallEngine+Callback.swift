// HotlineServer: the composition root.
// This file: queued callbacks that dial. The agent who takes a callback request is answered
// first, then the server calls the citizen through the trunk and bridges the two (as Amazon
// Connect does); a citizen not reached frees the agent and sends the request back to its place
// in the queue with one attempt more (the ACD's `callbackNotReached`).
import ACD
import Foundation
import Media
import NIOCore
import Outbound
import SIPCore
import SIPDialog
import SIPTransaction
import Tickets

extension CallEngine {
    /// The agent answered a callback offer: dial the citizen.
    func dialCitizen(for agentLeg: AgentLeg) {
        guard let (trunk, destination) = callbackTrunk, let callback = callbackRequests[agentLeg.acdID] else {
            return playCallbackNumber(agentLeg)
        }
        let number = SIPURI.percentDecode(callback.caller)
        guard TrunksFile.isCallable(number) else {
            logger.notice("callback number cannot be dialled; reading it to the agent", metadata: ["acd.call": "\(agentLeg.acdID)"])
            return playCallbackNumber(agentLeg)
        }
        let now = wallClock()
        let job = OutboundJob(id: "cb-\(agentLeg.acdID)", campaign: "callback", flow: "callback", number: number,
                              workOrder: callback.ticket, trunk: trunk.name, notBefore: now, createdAt: now)
        let request = OutboundCallRequest(job: job, trunk: trunk, entry: nil, destination: destination)
        let acdID = agentLeg.acdID
        placeOutboundCall(request, bridgeTo: agentLeg) { [weak self, weak agentLeg] result in
            guard let self, let agentLeg, result.outcome != .answered else { return }
            self.callbackCitizenNotReached(agentLeg, acdID: acdID, result)
        }
    }

    /// The citizen answered: bridge their media to the agent's.
    func callbackCitizenAnswered(_ leg: OutboundLeg, dialog: SIPDialog) {
        leg.answeredAt = wallClock()
        outboundLegs[leg.callID] = nil
        callbackBridges[dialog.id] = leg
        metrics.outboundAnswered += 1
        guard let agentLeg = leg.bridgeTo, agentLeg.state == .answered, let agentRTP = agentLeg.rtp, let citizenRTP = leg.rtp else {
            logger.notice("callback's citizen answered after the agent left; hanging up")
            return endCitizenLeg(leg)
        }
        agentRTP.stopPlayback()
        do {
            try agentRTP.bridge(to: citizenRTP)
        } catch {
            logger.error("cannot bridge the agent and the citizen", metadata: ["error": "\(error)"])
        }
        logger.info("callback connected", metadata: ["acd.call": "\(agentLeg.acdID)", "agent.id": "\(agentLeg.agent)"])
    }

    /// The citizen did not answer (busy, no answer, refused): hang the agent up and give the
    /// request back to the ACD, which puts it in its place again (or gives up after its attempts).
    private func callbackCitizenNotReached(_ agentLeg: AgentLeg, acdID: CallID, _ result: OutboundCallResult) {
        agentLeg.citizen = nil
        logger.info("callback's citizen not reached", metadata: ["acd.call": "\(acdID)", "outcome": "\(result.outcome.rawValue)"])
        if agentLeg.state == .answered {
            sendAgentBYE(agentLeg)
            finishLeg(agentLeg)
        }
        acdLink?.send { $0.callbackNotReached(acdID) }
    }

    /// Requests from the citizen inside a bridged callback: BYE ends both legs.
    func citizenLegRequest(_ leg: OutboundLeg, _ request: SIPRequest, _ key: SIPTransactionKey) {
        let tag = leg.dialog?.id.localTag
        switch request.method {
        case .bye:
            respond(request, on: key, .ok, toTag: tag)
            let agentLeg = leg.bridgeTo
            closeCitizenLeg(leg, citizenHungUp: true)
            if let agentLeg, agentLeg.state == .answered { hangUpAgentLeg(agentLeg) }
        case .options, .info: respond(request, on: key, .ok, toTag: tag)
        case .invite: respond(request, on: key, .notAcceptableHere, toTag: tag)
        default: respond(request, on: key, .methodNotAllowed, toTag: tag)
        }
    }

    /// Our side ends the citizen's leg (the agent hung up): BYE if answered, CANCEL if ringing.
    func endCitizenLeg(_ leg: OutboundLeg) {
        switch leg.state {
        case .answered:
            if var dialog = leg.dialog {
                let bye = dialog.makeRequest(.bye, via: endpoint.makeVia(), extraHeaders: [(.reason, "SIP;cause=200;text=\"Call completed\"")])
                leg.dialog = dialog
                endpoint.send(request: bye, to: leg.request.destination) { _ in }
            }
            closeCitizenLeg(leg, citizenHungUp: false)
        case .inviting, .opening:
            leg.bridgeTo = nil // its failure no longer concerns the agent
            cancelOutbound(leg)
        case .cancelling, .ended:
            break
        }
    }

    /// Closes an answered citizen leg and keeps its ticket (direction outbound, the agent's queue).
    private func closeCitizenLeg(_ leg: OutboundLeg, citizenHungUp: Bool) {
        guard leg.state == .answered else { return }
        leg.state = .ended
        if let id = leg.dialog?.id { callbackBridges[id] = nil }
        leg.bridgeTo?.rtp?.unbridge()
        if let rtp = leg.rtp {
            media.close(rtp)
            leg.rtp = nil
        }
        let now = wallClock()
        let agentLeg = leg.bridgeTo
        leg.bridgeTo = nil
        var ticket = CallTicket(id: tickets.allocateID(at: leg.startedAt), callID: leg.callID, caller: leg.request.job.number,
                                dialled: leg.request.trunk.callerID, arrivedAt: leg.startedAt, answeredAt: leg.answeredAt, endedAt: now,
                                disposition: citizenHungUp ? .callerHangup : .completedInIVR, sipStatus: 200,
                                dialplanVersion: dialplan.version, direction: .outbound)
        if let agentLeg, let answered = leg.answeredAt {
            ticket.queue = QueueOutcome(queue: callbackRequests[agentLeg.acdID]?.queue ?? "callback", agent: agentLeg.agent.rawValue,
                                        enqueuedAt: leg.startedAt, agentAnsweredAt: agentLeg.answeredAt ?? answered,
                                        waitMilliseconds: 0, talkMilliseconds: Int(now.timeIntervalSince(answered) * 1000), callback: true)
        }
        tickets.record(ticket, onCommit: ticketCallback(context: "callback"))
        leg.completion(OutboundCallResult(outcome: .answered, sipStatus: 200, ticket: ticket.id, summary: [:], startedAt: leg.startedAt,
                                          endedAt: now))
    }
}
