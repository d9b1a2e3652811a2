// HotlineServer: the composition root.
// This file: the B2BUA agent leg of a queued call — INVITE the agent's phone with our offer,
// CANCEL when the ACD withdraws it, ACK the 2xx, bridge the two legs, BYE at the end — and a
// callback request read out to the agent who takes it.
import ACD
import CallControl
import Dialplan
import Foundation
import Media
import NIOCore
import SDP
import SIPCore
import SIPDialog
import SIPEndpoint
import SIPTransaction

extension CallEngine {
    /// Agent legs offer Opus (home seats on weak links), then G.711, and telephone-events.
    static let agentNegotiator = SDPNegotiator(capabilities: .agentLeg)
    /// How long a withdrawn agent leg may take to end (487 after our CANCEL) before we forget it.
    static let cancelGiveUp: TimeAmount = .seconds(32)

    /// `offer`: ring the agent's registered contact with our SDP offer.
    func offerToAgent(_ callNumber: UInt64, acdID: CallID, target: AgentTarget, offer: Offer) {
        let report: (OfferFailure) -> Void = { [acdLink] failure in
            acdLink?.send { $0.offerFailed(acdID, agent: target.agent, failure) }
        }
        let call = callsByID[callNumber]
        if offer.isCallback {
            guard let request = callbackRequests[acdID] else { return report(.unreachable) }
            return startAgentLeg(nil, callNumber: callNumber, acdID: acdID, target: target, offer: offer, callback: request)
        }
        // A caller who has gone is reported to the ACD by their hang-up; nothing to ring.
        guard let call, call.phase == .answered, let visit = call.queue, visit.acdID == acdID, visit.phase == .waiting else { return }
        if let leg = call.agentLeg, leg.isLive { return report(.unreachable) } // the ACD never does this
        startAgentLeg(call, callNumber: callNumber, acdID: acdID, target: target, offer: offer, callback: nil)
    }

    private func startAgentLeg(_ call: Call?, callNumber: UInt64, acdID: CallID, target: AgentTarget, offer: Offer,
                               callback: CallbackRequest?) {
        nextLegID += 1
        let leg = AgentLeg(id: nextLegID, agent: target.agent, acdID: acdID, callNumber: callNumber, target: target,
                           isCallback: callback != nil, offeredAt: wallClock())
        if let call {
            call.agentLeg = leg
            drive(call, .agentLegOffered)
        }
        agentLegs[leg.id] = leg
        let placeholder = NegotiatedMedia(codec: RTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000),
                                          telephoneEventPayloadType: 101, remoteAddress: "0.0.0.0", remotePort: 0, ptime: 20,
                                          direction: .sendrecv, mediaIndex: 0)
        media.openSession(negotiated: placeholder, delegate: self) { [self] result in
            switch result {
            case .success(let session):
                session.ownerID = callNumber
                guard leg.state == .opening else {
                    media.close(session) // withdrawn while the socket was binding
                    return
                }
                leg.rtp = session
                sendAgentInvite(leg, call: callsByID[callNumber], offer: offer, callback: callback)
            case .failure(let error):
                logger.error("RTP socket for an agent leg failed", metadata: ["agent.id": "\(leg.agent)", "error": "\(error)"])
                let wasOpening = leg.state == .opening
                finishLeg(leg)
                if wasOpening {
                    if let call = callsByID[callNumber], call.agentLeg === leg {
                        call.agentLeg = nil
                        drive(call, .agentLegFailed)
                    }
                    let agent = leg.agent
                    acdLink?.send { $0.offerFailed(acdID, agent: agent, .unreachable) }
                }
            }
            transport?.flush()
        }
    }

    private func sendAgentInvite(_ leg: AgentLeg, call: Call?, offer: Offer, callback: CallbackRequest?) {
        guard let rtp = leg.rtp else { return }
        // SDES keys go only to a phone on SIP/TLS (RFC 4568 §8.3); an agent who must use SRTP
        // and is not on TLS cannot be offered a call.
        let overTLS = endpoint.transport(to: leg.target.destination) == .tls
        if leg.target.mediaEncryption == .required, !overTLS {
            logger.warning("agent must use SRTP but their phone is not registered over SIP/TLS; not offering the call",
                           metadata: ["agent.id": "\(leg.agent)"])
            leg.state = .inviting
            return agentLegFailed(leg, status: 488)
        }
        let encryption = overTLS ? leg.target.mediaEncryption : .none
        let key = Self.srtpKeyMaterial(for: encryption)
        let sdp = Self.agentNegotiator.offer(localAddress: configuration.contactHost, localPort: UInt16(rtp.localPort),
                                             sessionID: agentSessionID(leg), sessionVersion: 1,
                                             encryption: encryption, localKeyMaterial: key)
        leg.localSDP = sdp
        // The agent's phone shows the citizen's number (the raw From user of their INVITE).
        let citizen = callback?.caller ?? call?.invite.from?.uri.user ?? call?.caller ?? "anonymous"
        let user = citizen.isEmpty ? "anonymous" : citizen
        var headers = SIPHeaders()
        headers.append(.via, endpoint.makeVia().description)
        headers.append(.maxForwards, "70")
        for hop in leg.target.route { headers.append(.route, "<\(hop)>") }
        headers.append(.from, "\"\(offer.isCallback ? "callback " : "")\(user)\" <sip:\(user)@\(hostForURI):\(endpoint.configuration.port)>;tag=\(endpoint.makeTag())")
        headers.append(.to, "<sip:\(leg.target.sipUsername)@\(hostForURI)>")
        headers.append(.callID, makeCallID())
        headers.append(.cseq, SIPCSeq(1, .invite).description)
        headers.append(.contact, contactHeader(user: "hotline", toward: leg.target.destination))
        headers.append(.allow, CallEngine.allow)
        let waited = Int(offer.waited.components.seconds)
        headers.append(.subject, offer.isCallback
            ? "callback request, queue \(offer.queue)\(callback?.ticket.map { ", ticket \($0)" } ?? "")"
            : "queue \(offer.queue), waited \(waited) s")
        headers.append(.contentType, "application/sdp")
        let invite = SIPRequest(method: .invite, uri: leg.target.contact, headers: headers, body: Array(sdp.serialize().utf8))
        leg.invite = invite
        leg.state = .inviting
        metrics.agentInvites += 1
        endpoint.send(request: invite, to: leg.target.destination) { [weak self] event in
            guard let self else { return }
            self.agentLegEvent(leg, event)
            self.transport?.flush()
        }
    }

    private func agentSessionID(_ leg: AgentLeg) -> UInt64 { sessionIDBase &+ (1 << 40) &+ leg.id }

    /// A response (or the timeout) of the agent leg's INVITE client transaction.
    private func agentLegEvent(_ leg: AgentLeg, _ event: SIPClientEvent) {
        switch event {
        case .response(let response) where response.status.isProvisional:
            leg.provisional = true
            if response.status.rawValue == 180 || response.status.rawValue == 183, !leg.ringing {
                leg.ringing = true
                logger.debug("agent phone ringing", metadata: ["agent.id": "\(leg.agent)"])
            }
            if leg.state == .cancelling, !leg.cancelSent { sendCancel(leg) }
        case .response(let response) where response.status.isSuccess:
            agentAnswered(leg, response)
        case .response(let response):
            agentLegFailed(leg, status: response.status.rawValue)
        case .timeout:
            agentLegFailed(leg, status: nil)
        }
    }

    private func agentLegFailed(_ leg: AgentLeg, status: Int?) {
        let reportable = leg.state == .inviting
        finishLeg(leg)
        guard reportable else { return } // withdrawn: the ACD expects nothing more
        let failure: OfferFailure
        switch status {
        case 486?, 600?, 603?: failure = .declined
        case 408?, 480?, 487?: failure = .noAnswer
        default: failure = .unreachable
        }
        if let call = callsByID[leg.callNumber], call.agentLeg === leg {
            call.agentLeg = nil
            drive(call, .agentLegFailed)
        }
        let id = leg.acdID, agent = leg.agent
        logger.info("agent leg failed", metadata: ["agent.id": "\(agent)", "status": "\(status.map(String.init) ?? "timeout")"])
        acdLink?.send { $0.offerFailed(id, agent: agent, failure) }
    }

    /// A 2xx: ACK it (ours to send, RFC 3261 §13.2.2.4), then bridge — or, if the offer no
    /// longer stands (crossed our CANCEL, or the caller left), hang the agent up (§15).
    private func agentAnswered(_ leg: AgentLeg, _ response: SIPResponse) {
        guard let invite = leg.invite else { return }
        if leg.dialog == nil {
            guard let dialog = SIPDialog(uacFor: invite, response: response) else {
                logger.notice("agent's 2xx has no To tag; ignoring it", metadata: ["agent.id": "\(leg.agent)"])
                return
            }
            leg.dialog = dialog
        }
        sendAgentACK(leg)
        guard leg.state == .inviting else {
            if leg.state == .cancelling {
                logger.info("agent answered after the offer was withdrawn; hanging up", metadata: ["agent.id": "\(leg.agent)"])
                sendAgentBYE(leg)
                finishLeg(leg)
            }
            return // .answered: a retransmitted 2xx, ACKed again above
        }
        let call = callsByID[leg.callNumber].flatMap { $0.agentLeg === leg ? $0 : nil }
        func notWanted(_ why: String) {
            logger.notice("\(why)", metadata: ["agent.id": "\(leg.agent)"])
            sendAgentBYE(leg)
            finishLeg(leg)
            if let call {
                call.agentLeg = nil
                drive(call, .agentLegFailed)
            }
            let id = leg.acdID, agent = leg.agent
            acdLink?.send { $0.offerFailed(id, agent: agent, .unreachable) }
        }
        let stillWanted = leg.isCallback || call?.queue?.phase == .waiting
        guard stillWanted else { return notWanted("agent answered an offer no longer wanted") }
        guard let answer = try? SessionDescription.parse(response.bodyText), let ours = leg.localSDP,
              let negotiated = try? Self.agentNegotiator.negotiateAnswer(answer: answer, toOffer: ours), let agentRTP = leg.rtp
        else { return notWanted("agent answered with no usable SDP; hanging up") }
        // The caller's machine has the last word: only a call still answered and waiting for
        // this leg is bridged.
        if !leg.isCallback, let call, call.machine.event(.agentLegAnswered, now: wallClock()) != [.bridgeAgentLeg] {
            return notWanted("agent answered an offer no longer wanted")
        }
        leg.negotiated = negotiated
        agentRTP.update(negotiated)
        leg.state = .answered
        leg.answeredAt = wallClock()
        agentLegsByDialog[leg.dialog!.id] = leg
        metrics.agentAnswers += 1
        logger.info("agent answered", metadata: ["agent.id": "\(leg.agent)", "codec": "\(negotiated.codec.encodingName)",
                                                 "srtp": "\(negotiated.srtp.map { $0.suite.rawValue } ?? "no")",
                                                 "callback": "\(leg.isCallback)"])
        if leg.isCallback {
            if callbackTrunk != nil { dialCitizen(for: leg) } else { playCallbackNumber(leg) }
        } else if let call, let visit = call.queue, let callerRTP = call.rtp {
            callerRTP.stopPlayback()
            visit.playback = nil
            visit.phase = .connected
            visit.agent = leg.agent
            visit.agentAnsweredAt = leg.answeredAt
            visit.waited = milliseconds(from: visit.enqueuedAt, to: leg.answeredAt!)
            do {
                try callerRTP.bridge(to: agentRTP)
            } catch {
                // No transcoder for this pair (libopus refused): the agent cannot be heard.
                logger.error("cannot bridge the caller and the agent", metadata: ["agent.id": "\(leg.agent)", "error": "\(error)"])
            }
        }
        let id = leg.acdID, agent = leg.agent
        acdLink?.send { $0.offerAnswered(id, agent: agent) }
    }

    /// A callback request answered by an agent: they hear the citizen's number read out,
    /// twice, then we hang up; they call the citizen back from their own phone.
    func playCallbackNumber(_ leg: AgentLeg) {
        guard let rtp = leg.rtp, let request = callbackRequests[leg.acdID] else { return hangUpAgentLeg(leg) }
        let language = dialplan.defaultLanguage
        let digits = (try? SayFormat.digits.fragments(for: SIPURI.percentDecode(request.caller), in: language).get()) ?? []
        let payloadType = leg.negotiated?.codec.payloadType ?? 0
        let frames = (digits + ["beep"] + digits).compactMap { prompts.frames(name: $0, language: language.rawValue, payloadType: payloadType) }
        rtp.play(frames, id: 1)
        leg.callbackPlaying = true
    }

    private func sendAgentACK(_ leg: AgentLeg) {
        guard let dialog = leg.dialog, let sequence = leg.invite?.cseq?.sequence else { return }
        let ack = dialog.makeACK(via: endpoint.makeVia(), inviteSequence: sequence)
        endpoint.send(.request(ack), to: leg.target.destination)
    }

    func sendAgentBYE(_ leg: AgentLeg) {
        guard var dialog = leg.dialog else { return }
        let bye = dialog.makeRequest(.bye, via: endpoint.makeVia(), extraHeaders: [(.reason, "SIP;cause=200;text=\"Call completed\"")])
        leg.dialog = dialog
        endpoint.send(request: bye, to: leg.target.destination) { _ in }
    }

    /// CANCEL for the leg's INVITE (RFC 3261 §9.1): same Request-URI, Call-ID, From, To,
    /// CSeq number and top Via (so the same branch) as the INVITE.
    private func sendCancel(_ leg: AgentLeg) {
        guard let cancel = leg.invite.flatMap(Self.cancel(for:)) else { return }
        leg.cancelSent = true
        endpoint.send(request: cancel, to: leg.target.destination) { _ in }
    }

    /// The CANCEL of an INVITE we sent (RFC 3261 §9.1): its Request-URI, top Via (so the same
    /// branch), Route, From, To, Call-ID and CSeq number. Nil for an INVITE without a CSeq.
    static func cancel(for invite: SIPRequest) -> SIPRequest? {
        guard let sequence = invite.cseq?.sequence else { return nil }
        var headers = SIPHeaders()
        if let via = invite.headers.values(.via).first { headers.append(.via, via) }
        for route in invite.headers.values(.route) { headers.append(.route, route) }
        headers.append(.maxForwards, "70")
        if let from = invite.headers[.from] { headers.append(.from, from) }
        if let to = invite.headers[.to] { headers.append(.to, to) }
        if let callID = invite.headers[.callID] { headers.append(.callID, callID) }
        headers.append(.cseq, SIPCSeq(sequence, .cancel).description)
        return SIPRequest(method: .cancel, uri: invite.uri, headers: headers)
    }

    /// Withdraws a leg that has not been answered: CANCEL once a provisional response has come
    /// (else as soon as one does), and forget it if the phone never ends the INVITE.
    func withdraw(_ leg: AgentLeg) {
        switch leg.state {
        case .opening:
            finishLeg(leg) // the socket's completion closes it
        case .inviting:
            leg.state = .cancelling
            if leg.provisional { sendCancel(leg) }
            let id = leg.id
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            eventLoop.scheduleTask(in: Self.cancelGiveUp) {
                let engine = bound.value
                if let leg = engine.agentLegs[id] { engine.finishLeg(leg) }
            }
        case .answered, .cancelling, .ended:
            break
        }
    }

    /// `cancelOffer`: the ACD withdrew the offer (ring timeout, caller gone, agent paused...).
    func cancelAgentLeg(_ callNumber: UInt64, agent: AgentID) {
        let leg = callsByID[callNumber]?.agentLeg ?? agentLegs.values.first { $0.callNumber == callNumber && $0.agent == agent && $0.isCallback }
        guard let leg, leg.agent == agent else { return }
        if let call = callsByID[callNumber], call.agentLeg === leg {
            call.agentLeg = nil
            drive(call, .agentLegEnded)
        }
        if leg.state == .answered { return hangUpAgentLeg(leg) }
        withdraw(leg)
    }

    /// `releaseAgentLeg`: an answer the ACD could not use; hang that agent up.
    func releaseAgentLeg(_ callNumber: UInt64, agent: AgentID) {
        guard let leg = agentLegs.values.first(where: { $0.callNumber == callNumber && $0.agent == agent && $0.state == .answered }) else { return }
        if let call = callsByID[callNumber], call.agentLeg === leg {
            call.agentLeg = nil
            call.rtp?.unbridge()
            drive(call, .agentLegEnded)
        }
        hangUpAgentLeg(leg)
    }

    /// BYE to an answered agent leg, and forget it.
    func hangUpAgentLeg(_ leg: AgentLeg) {
        guard leg.state == .answered else { return withdraw(leg) }
        sendAgentBYE(leg)
        finishLeg(leg)
        if leg.isCallback { finishCallback(leg) }
    }

    /// The leg is over on our side: close its RTP, drop it from the tables.
    func finishLeg(_ leg: AgentLeg) {
        leg.state = .ended
        if let rtp = leg.rtp {
            metrics.agentRTPReceived += rtp.stats.packetsReceived
            metrics.agentRTPSent += rtp.stats.packetsSent
            media.close(rtp)
            leg.rtp = nil
        }
        agentLegs[leg.id] = nil
        if let id = leg.dialog?.id, agentLegsByDialog[id] === leg { agentLegsByDialog[id] = nil }
    }

    func finishCallback(_ leg: AgentLeg) {
        guard callbackRequests.removeValue(forKey: leg.acdID) != nil else { return }
        let id = leg.acdID
        acdLink?.send { $0.callEnded(id) }
    }

    /// A BYE from an agent's phone: that side is done; end the caller's call too.
    func agentHungUp(_ leg: AgentLeg, _ request: SIPRequest, _ key: SIPTransactionKey) {
        respond(request, on: key, .ok, toTag: leg.dialog?.id.localTag)
        guard leg.state == .answered else { return }
        finishLeg(leg)
        if leg.isCallback {
            if let citizen = leg.citizen { endCitizenLeg(citizen) }
            return finishCallback(leg)
        }
        if let call = callsByID[leg.callNumber], call.agentLeg === leg {
            call.agentLeg = nil
            call.rtp?.unbridge()
            drive(call, .agentHungUp)
        }
    }

    /// Requests from an agent's phone inside a bridged leg's dialog: BYE ends the call,
    /// OPTIONS and INFO are acknowledged, a re-INVITE (hold, codec change) is refused for now.
    func agentLegRequest(_ leg: AgentLeg, _ request: SIPRequest, _ key: SIPTransactionKey) {
        let tag = leg.dialog?.id.localTag
        switch request.method {
        case .bye: agentHungUp(leg, request, key)
        case .options, .info: respond(request, on: key, .ok, toTag: tag)
        case .invite: respond(request, on: key, .notAcceptableHere, toTag: tag, extra: [(.warning, "399 hotline \"re-INVITE on agent legs is not supported\"")])
        default: respond(request, on: key, .methodNotAllowed, toTag: tag)
        }
    }

    /// The callback's number has been read to the agent: hang up.
    func agentLegPlaybackFinished(_ leg: AgentLeg) {
        guard leg.isCallback, leg.callbackPlaying else { return }
        leg.callbackPlaying = false
        hangUpAgentLeg(leg)
    }
}
