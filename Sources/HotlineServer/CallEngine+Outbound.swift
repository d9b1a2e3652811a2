// HotlineServer: the composition root.
// This file: placing a call (RFC 3261 §8.1, §13.2): INVITE through a trunk with our SDP
// offer, digest when the trunk challenges (RFC 3261 §22.2, RFC 7616), CANCEL at the ring
// timeout (§9.1), ACK for the 2xx (§13.2.2.4); once answered the call is a `Call` running the
// dialplan's outbound flow, with a ticket of direction outbound; its end reports the result.
import CallControl
import Dialplan
import Foundation
import Media
import NIOCore
import Outbound
import SDP
import SIPAuth
import SIPCore
import SIPDialog
import SIPEndpoint
import SIPTransaction
import Tickets

extension CallEngine {
    /// Places `request`'s call; `completion` runs on this loop once, when the attempt is over
    /// (failed, or answered and ended).
    func placeOutboundCall(_ request: OutboundCallRequest, bridgeTo agentLeg: AgentLeg? = nil,
                           completion: @escaping (OutboundCallResult) -> Void) {
        let leg = OutboundLeg(request: request, callID: makeCallID(), fromTag: endpoint.makeTag(), startedAt: wallClock(),
                              completion: completion)
        leg.bridgeTo = agentLeg
        agentLeg?.citizen = leg
        guard !draining, callCount.reserve(limit: admission.limits.maxCalls) else {
            return finishOutbound(leg, outcome: .unreachable, status: nil) // no room: try again later
        }
        callCount.release() // reserved for real when the call is answered (register)
        outboundLegs[leg.callID] = leg
        let placeholder = NegotiatedMedia(codec: RTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000),
                                          telephoneEventPayloadType: 101, remoteAddress: "0.0.0.0", remotePort: 0, ptime: 20,
                                          direction: .sendrecv, mediaIndex: 0)
        media.openSession(negotiated: placeholder, delegate: self) { [self] result in
            switch result {
            case .success(let session):
                guard leg.state == .opening else { return media.close(session) }
                leg.rtp = session
                leg.localSDP = negotiator.offer(localAddress: configuration.contactHost, localPort: UInt16(session.localPort),
                                                sessionID: sessionIDBase &+ (2 << 40) &+ UInt64(outboundLegs.count),
                                                sessionVersion: 1, encryption: .none, localKeyMaterial: [])
                sendOutboundInvite(leg)
            case .failure(let error):
                logger.error("RTP socket for an outbound call failed", metadata: ["error": "\(error)"])
                finishOutbound(leg, outcome: .unreachable, status: nil)
            }
            transport?.flush()
        }
    }

    private func sendOutboundInvite(_ leg: OutboundLeg, authorization: (SIPHeaderName, String)? = nil) {
        guard let sdp = leg.localSDP else { return }
        let trunk = leg.request.trunk
        let number = leg.request.job.number
        let hostPort = trunk.port == 5060 ? trunk.host : "\(trunk.host):\(trunk.port)"
        let uri = "sip:\(number)@\(hostPort)"
        var headers = SIPHeaders()
        headers.append(.via, endpoint.makeVia().description)
        headers.append(.maxForwards, "70")
        // The citizen sees the hotline's number (or the masked one the trunk presents), never
        // a caller's: a notice between two citizens keeps both numbers private.
        headers.append(.from, "<sip:\(trunk.callerID)@\(hostForURI)>;tag=\(leg.fromTag)")
        headers.append(.to, "<\(uri)>")
        headers.append(.callID, leg.callID)
        headers.append(.cseq, SIPCSeq(leg.cseq, .invite).description)
        headers.append(.contact, contactHeader(user: trunk.callerID, toward: leg.request.destination))
        if let identity = trunk.assertedIdentity { headers.append(SIPHeaderName("P-Asserted-Identity"), "<\(identity)>") }
        headers.append(.allow, CallEngine.allow)
        if let (name, value) = authorization { headers.append(name, value) }
        headers.append(.contentType, "application/sdp")
        guard let requestURI = try? SIPURI.parse(uri) else { return finishOutbound(leg, outcome: .rejected, status: nil) }
        let invite = SIPRequest(method: .invite, uri: requestURI, headers: headers, body: Array(sdp.serialize().utf8))
        leg.invite = invite
        leg.state = .inviting
        leg.provisional = false
        metrics.outboundInvites += 1
        if leg.ringTimer == nil {
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            let callID = leg.callID
            leg.ringTimer = eventLoop.scheduleTask(in: .nanoseconds(Int64(trunk.ringTimeout.nanosecondsClamped))) {
                let engine = bound.value
                guard let leg = engine.outboundLegs[callID], leg.state == .inviting else { return }
                leg.ringTimedOut = true
                engine.cancelOutbound(leg)
                engine.transport?.flush()
            }
        }
        endpoint.send(request: invite, to: leg.request.destination) { [weak self] event in
            guard let self else { return }
            self.outboundEvent(leg, invite: invite, event)
            self.transport?.flush()
        }
    }

    private func outboundEvent(_ leg: OutboundLeg, invite: SIPRequest, _ event: SIPClientEvent) {
        switch event {
        case .response(let response) where response.status.isProvisional:
            guard leg.invite?.cseq == invite.cseq else { return }
            leg.provisional = true
            if leg.state == .cancelling, !leg.cancelSent { sendOutboundCancel(leg) }
        case .response(let response) where response.status.isSuccess:
            outboundAnswered(leg, response)
        case .response(let response):
            guard leg.invite?.cseq == invite.cseq, leg.state == .inviting || leg.state == .cancelling else { return }
            let status = response.status.rawValue
            if (status == 401 || status == 407), leg.state == .inviting, !leg.authAttempted,
               let authorization = outboundAuthorization(leg, response) {
                leg.authAttempted = true
                leg.cseq += 1
                return sendOutboundInvite(leg, authorization: authorization)
            }
            finishOutbound(leg, outcome: OutboundOutcome.classify(status: status, provisional: leg.provisional,
                                                                   cancelledForRingTimeout: leg.ringTimedOut), status: status)
        case .timeout:
            guard leg.invite?.cseq == invite.cseq, leg.state == .inviting || leg.state == .cancelling else { return }
            finishOutbound(leg, outcome: leg.ringTimedOut ? .noAnswer : OutboundOutcome.classify(status: nil, provisional: leg.provisional),
                           status: nil)
        }
    }

    /// The Authorization (401) or Proxy-Authorization (407) answering the trunk's challenge
    /// with the trunk's HA1; nil without credentials or a challenge we can answer.
    private func outboundAuthorization(_ leg: OutboundLeg, _ response: SIPResponse) -> (SIPHeaderName, String)? {
        guard let credentials = leg.request.trunk.credentials, let invite = leg.invite else { return nil }
        let proxy = response.status.rawValue == 407
        let challenges = response.headers.values(proxy ? .proxyAuthenticate : .wwwAuthenticate)
            .compactMap { try? DigestChallenge.parse($0) }
        guard let (challenge, ha1) = challenges.lazy.compactMap({ c in credentials.ha1[c.algorithm].map { (c, $0) } }).first else {
            logger.warning("trunk challenge cannot be answered with the HA1 values configured",
                           metadata: ["trunk": "\(leg.request.trunk.name)"])
            return nil
        }
        let authorization = DigestAuthorization(responding: challenge, username: credentials.username, ha1: ha1, method: "INVITE",
                                                uri: invite.uri.description, cnonce: endpoint.makeTag())
        return (proxy ? .proxyAuthorization : .authorization, authorization.description)
    }

    func cancelOutbound(_ leg: OutboundLeg) {
        guard leg.state == .inviting else { return }
        leg.state = .cancelling
        if leg.provisional { sendOutboundCancel(leg) }
        // A trunk that never answers our CANCEL: give up after Timer B's 32 s.
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let callID = leg.callID
        eventLoop.scheduleTask(in: Self.cancelGiveUp) {
            let engine = bound.value
            if let leg = engine.outboundLegs[callID], leg.state == .cancelling {
                engine.finishOutbound(leg, outcome: .noAnswer, status: nil)
            }
        }
    }

    private func sendOutboundCancel(_ leg: OutboundLeg) {
        guard let cancel = leg.invite.flatMap(Self.cancel(for:)) else { return }
        leg.cancelSent = true
        endpoint.send(request: cancel, to: leg.request.destination) { _ in }
    }

    /// A 2xx: ACK it, then the call is ours to run — unless we had given up on it (a 2xx
    /// crossing our CANCEL), when it is ACKed and hung up at once (§15).
    private func outboundAnswered(_ leg: OutboundLeg, _ response: SIPResponse) {
        guard let invite = leg.invite else { return }
        if leg.dialog == nil {
            guard let dialog = SIPDialog(uacFor: invite, response: response) else {
                logger.notice("outbound 2xx has no To tag; ignoring it")
                return
            }
            leg.dialog = dialog
        }
        if let dialog = leg.dialog, let sequence = invite.cseq?.sequence {
            endpoint.send(.request(dialog.makeACK(via: endpoint.makeVia(), inviteSequence: sequence)), to: leg.request.destination)
        }
        switch leg.state {
        case .inviting: break
        case .cancelling:
            if var dialog = leg.dialog {
                let bye = dialog.makeRequest(.bye, via: endpoint.makeVia(), extraHeaders: [])
                endpoint.send(request: bye, to: leg.request.destination) { _ in }
            }
            return finishOutbound(leg, outcome: .noAnswer, status: 200)
        case .opening, .answered, .ended: return // a retransmitted 2xx, ACKed again above
        }
        guard let dialog = leg.dialog, let rtp = leg.rtp, let ours = leg.localSDP,
              let answer = try? SessionDescription.parse(response.bodyText),
              let negotiated = try? negotiator.negotiateAnswer(answer: answer, toOffer: ours) else {
            logger.notice("outbound call answered without a usable SDP answer; hanging up")
            if var dialog = leg.dialog {
                endpoint.send(request: dialog.makeRequest(.bye, via: endpoint.makeVia(), extraHeaders: [(.reason, "SIP;cause=488")]),
                              to: leg.request.destination) { _ in }
            }
            return finishOutbound(leg, outcome: .unreachable, status: response.status.rawValue)
        }
        leg.ringTimer?.cancel()
        rtp.update(negotiated)
        leg.state = .answered
        if leg.bridgeTo != nil { return callbackCitizenAnswered(leg, dialog: dialog) }
        guard let entry = leg.request.entry else { return }
        let job = leg.request.job
        var context = CallContext(caller: job.number, dialledNumber: leg.request.trunk.callerID, callID: leg.callID)
        context.ticketID = nil
        var execution = DialplanExecution(dialplan: dialplan, entry: entry, context: context)
        for (name, value) in job.variables { execution.preset(name, value) }
        let key = SIPTransactionKey(branch: "outbound-" + leg.callID, sentBy: "outbound", method: .invite)
        let call = Call(id: nextOutboundCallNumber(), inviteKey: key, invite: invite, source: leg.request.destination, dialog: dialog,
                        execution: execution, arrivedAt: leg.startedAt, caller: job.number, dialled: leg.request.trunk.callerID,
                        sipTimers: endpoint.configuration.timers, maxDuration: configuration.maxCallDuration, isAgentFeature: false)
        call.outbound = leg
        call.rtp = rtp
        rtp.ownerID = call.id
        call.localSDP = ours
        call.negotiated = negotiated
        call.outboundAnswer = response
        leg.call = call
        leg.rtp = nil // the call owns the socket now
        outboundLegs[leg.callID] = nil
        guard register(call) else {
            endpoint.send(request: { var d = dialog; return d.makeRequest(.bye, via: endpoint.makeVia(), extraHeaders: []) }(),
                          to: leg.request.destination) { _ in }
            media.close(rtp)
            call.rtp = nil
            return finishOutbound(leg, outcome: .unreachable, status: 200)
        }
        metrics.outboundAnswered += 1
        logger.info("outbound call answered", metadata: ["sip.call_id": "\(leg.callID)", "job": "\(job.id)", "flow": "\(job.flow)"])
        drive(call, .receivedInvite)
        drive(call, .mediaOpened)
        run(call.execution.start(now: wallClock()), for: call)
    }

    /// `.sendAnswer` for a call we placed: the citizen's 2xx was the answer and our ACK has
    /// left, so the machine hears both at once.
    func answerOutbound(_ call: Call) {
        guard let response = call.outboundAnswer else { return }
        answering.remove(call.id)
        call.answerResponse = response
        drive(call, .answerSent(response))
        drive(call, .receivedACK)
    }

    /// The answered call is over (the machine forgot it): report what the flow gave.
    func outboundCallEnded(_ call: Call) {
        guard let leg = call.outbound, leg.state == .answered else { return }
        leg.state = .ended
        let result = OutboundCallResult(outcome: .answered, sipStatus: 200, ticket: call.ticketID, summary: call.execution.ticket.summary,
                                        startedAt: leg.startedAt, endedAt: wallClock())
        leg.completion(result)
    }

    /// The attempt failed before an answer: close its socket, report.
    func finishOutbound(_ leg: OutboundLeg, outcome: OutboundOutcome, status: Int?) {
        guard leg.state != .ended else { return }
        leg.state = .ended
        leg.ringTimer?.cancel()
        if let rtp = leg.rtp {
            media.close(rtp)
            leg.rtp = nil
        }
        outboundLegs[leg.callID] = nil
        metrics.outboundFailed += 1
        logger.info("outbound call not answered", metadata: ["sip.call_id": "\(leg.callID)", "job": "\(leg.request.job.id)",
                                                              "outcome": "\(outcome.rawValue)", "status": "\(status.map(String.init) ?? "none")"])
        leg.completion(OutboundCallResult(outcome: outcome, sipStatus: status, ticket: nil, summary: [:], startedAt: leg.startedAt,
                                          endedAt: wallClock()))
    }

    private func nextOutboundCallNumber() -> UInt64 {
        nextCallID += 1
        return nextCallID
    }
}
