import ACD
import CallControl
import Dialplan
import Foundation
import Media
import NIOCore
import RTP
import SDP
import SIPCore
import SIPDialog
import SIPEndpoint
import SIPTransaction
import Tickets
import Timers

extension CallEngine {
    // MARK: new calls

    /// An initial INVITE (its Request-URI scheme already checked, §8.2.2.1, where requests are
    /// dispatched): checks in the order RFC 3261 §8.2 gives, admission control before any
    /// per-call state, then the dialplan decides (ring, answer, play...).
    func newCall(_ request: SIPRequest, _ key: SIPTransactionKey, _ source: SocketAddress) {
        // Admission control first: a flood gets clean, cheap 503s, never a collapse.
        if case .reject(let reason) = admission.admit(source: source.ipAddress ?? "", activeCalls: callCount.current,
                                                      draining: draining, storeRefusing: !tickets.acceptsNewCalls,
                                                      now: CallEngine.monotonicNow()) {
            return reject(request, key, .serviceUnavailable, disposition: .rejectedCapacity,
                          reason: "Service Unavailable (\(reason.rawValue))",
                          extra: [(.retryAfter, String(configuration.retryAfterSeconds))])
        }
        // §8.2.2.3: extensions the caller requires and we lack.
        let unsupported = request.required.filter { !$0.isEmpty }
        if !unsupported.isEmpty {
            return reject(request, key, .badExtension, disposition: .rejected,
                          extra: [(.unsupported, unsupported.joined(separator: ", "))])
        }
        // §8.2.3: a body we cannot read.
        if !request.body.isEmpty, request.contentType != "application/sdp" {
            return reject(request, key, .unsupportedMediaType, disposition: .rejected, extra: [(.accept, "application/sdp")])
        }
        let dialled = request.uri.decodedUser ?? ""
        // An agent's phone dialling *21…*24: authenticated, then carried out by the ACD.
        if let link = acdLink, featureDialplan != nil, let code = AgentFeatureCode(dialled: dialled) {
            return agentFeatureCode(code, request, key, source, link: link)
        }
        guard let entry = dialplan.entry(forNumber: dialled) else {
            return reject(request, key, .notFound, disposition: .rejected)
        }
        startCall(request, key, source, dialplan: dialplan, entry: entry)
    }

    /// Sets a call up for `entry` of `plan` once the INVITE is known to be for us: SDP, the
    /// dialog, the call's state, its RTP socket, then the dialplan's first commands.
    /// `encryption`: an agent's media policy (a feature-code call); callers may use SRTP
    /// whenever they call over TLS.
    func startCall(_ request: SIPRequest, _ key: SIPTransactionKey, _ source: SocketAddress, dialplan: Dialplan,
                   entry: DialplanEntry, agentFeature: Bool = false, encryption policy: MediaEncryption? = nil) {
        let dialled = request.uri.decodedUser ?? ""
        // SDES keys cross the network inside the SDP: only TLS may carry them (RFC 4568 §8.3).
        let overTLS = endpoint.transport(to: source) == .tls
        if policy == .required, !overTLS {
            return reject(request, key, .notAcceptableHere, disposition: .rejected,
                          extra: [(.warning, "305 hotline \"SRTP required: call over SIP/TLS\"")])
        }
        let encryption: MediaEncryption = overTLS ? (policy ?? .optional) : .none
        let srtpKey = Self.srtpKeyMaterial(for: encryption)
        var offer: SessionDescription?
        var negotiated: NegotiatedMedia?
        if !request.body.isEmpty {
            do {
                let parsed = try SessionDescription.parse(request.bodyText)
                offer = parsed
                negotiated = try negotiator.answer(to: parsed, localAddress: configuration.contactHost, localPort: 0,
                                                   sessionID: 0, sessionVersion: 1, encryption: encryption,
                                                   localKeyMaterial: srtpKey).media
            } catch let error as SDPParseError {
                return reject(request, key, .badRequest, disposition: .rejected, reason: "Bad Request - malformed SDP: \(error)")
            } catch {
                // RFC 3261 §13.3.1: 488 with a Warning saying why (RFC 3261 §20.43 code 305).
                return reject(request, key, .notAcceptableHere, disposition: .rejected,
                              extra: [(.warning, "305 hotline \"\(error)\"")])
            }
        }
        let localTag = endpoint.makeTag()
        guard let dialog = SIPDialog(uasFor: request, localTag: localTag) else {
            return reject(request, key, .badRequest, disposition: .rejected, reason: "Bad Request - INVITE needs a Contact and a From tag")
        }
        let caller = request.from?.uri.decodedUser ?? ""
        let context = CallContext(caller: caller, dialledNumber: dialled, callID: dialog.id.callID)
        let call = Call(id: nextID(), inviteKey: key, invite: request, source: source, dialog: dialog,
                        execution: DialplanExecution(dialplan: dialplan, entry: entry, context: context),
                        arrivedAt: wallClock(), caller: caller, dialled: dialled, sipTimers: endpoint.configuration.timers,
                        maxDuration: configuration.maxCallDuration, isAgentFeature: agentFeature)
        call.offer = offer
        call.negotiated = negotiated
        call.encryption = encryption
        call.srtpKeyMaterial = srtpKey
        call.inviteReadAt = currentReadAt
        guard register(call) else {
            return reject(request, key, .serviceUnavailable, disposition: .rejectedCapacity, reason: "Service Unavailable (max_calls)",
                          extra: [(.retryAfter, String(configuration.retryAfterSeconds))])
        }
        drive(call, .receivedInvite)
        logger.debug("call arrived", metadata: ["sip.call_id": "\(dialog.id.callID)", "call.dialled": "\(dialled)"])
        openMedia(call)
        run(call.execution.start(now: wallClock()), for: call)
    }

    /// A final response without a dialog, and a one-shot ticket: rejected calls are work
    /// orders too (they are what connect-rate KPIs count).
    func reject(_ request: SIPRequest, _ key: SIPTransactionKey, _ status: SIPStatus, disposition: CallDisposition,
                reason: String? = nil, extra: SIPHeaders = []) {
        respond(request, on: key, status, reason: reason, extra: extra)
        metrics.rejectedByStatus[status.rawValue, default: 0] += 1
        metrics.callsByDisposition[disposition.rawValue, default: 0] += 1
        let now = wallClock()
        let ticket = CallTicket(id: tickets.allocateID(at: now), callID: request.callID ?? "", caller: request.from?.uri.decodedUser ?? "",
                                dialled: request.uri.decodedUser ?? "", arrivedAt: now, answeredAt: nil, endedAt: now,
                                keys: "", menuPath: [], businessLine: nil, category: nil, disposition: disposition,
                                sipStatus: status.rawValue, dialplanVersion: dialplan.version)
        tickets.record(ticket, onCommit: ticketCallback(context: "rejected call"))
    }

    func ticketCallback(context: String) -> TicketCommitCallback {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let loop = eventLoop
        return { result in
            if case .failure(let error) = result {
                loop.execute {
                    bound.value.metrics.ticketErrors += 1
                    bound.value.logger.error("ticket write failed", metadata: ["context": "\(context)", "error": "\(error)"])
                }
            }
        }
    }

    private func nextID() -> UInt64 {
        nextCallID += 1
        return nextCallID
    }

    // MARK: media

    /// Binds the call's RTP socket at once, in parallel with ringing and the ticket write.
    private func openMedia(_ call: Call) {
        // A delayed offer (no SDP in the INVITE): the socket starts with nowhere to send;
        // the ACK's answer tells us where.
        let initial = call.negotiated ?? NegotiatedMedia(codec: RTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000),
                                                         telephoneEventPayloadType: 101, remoteAddress: "0.0.0.0",
                                                         remotePort: 0, ptime: 20, direction: .sendrecv, mediaIndex: 0)
        media.openSession(negotiated: initial, delegate: self) { [self] result in
            guard call.phase != .ended else {
                if case .success(let session) = result { media.close(session) }
                return
            }
            switch result {
            case .success(let session):
                session.ownerID = call.id
                call.rtp = session
                buildLocalSDP(call, port: session.localPort)
                if call.localSDP != nil {
                    drive(call, .mediaOpened)
                } else {
                    // Cannot happen after the INVITE's offer negotiated; without our SDP there
                    // is nothing to answer with.
                    logger.error("no SDP answer with the bound RTP port", metadata: ["sip.call_id": "\(call.dialog.id.callID)"])
                    drive(call, .mediaFailed)
                }
            case .failure(let error):
                logger.error("RTP socket failed", metadata: ["sip.call_id": "\(call.dialog.id.callID)", "error": "\(error)"])
                drive(call, .mediaFailed)
            }
            transport?.flush()
        }
    }

    private func buildLocalSDP(_ call: Call, port: Int) {
        if let offer = call.offer {
            if let (answer, negotiated) = try? negotiator.answer(to: offer, localAddress: configuration.contactHost, localPort: UInt16(port),
                                                                 sessionID: sdpSessionID(for: call), sessionVersion: 1,
                                                                 encryption: call.encryption, localKeyMaterial: call.srtpKeyMaterial) {
                call.localSDP = answer
                call.negotiated = negotiated
                call.rtp?.update(negotiated)
            }
        } else {
            call.localSDP = negotiator.offer(localAddress: configuration.contactHost, localPort: UInt16(port),
                                             sessionID: sdpSessionID(for: call), sessionVersion: 1,
                                             encryption: call.encryption, localKeyMaterial: call.srtpKeyMaterial)
        }
    }

    func applyAnswerFromACK(_ ack: SIPRequest, _ call: Call) {
        guard let ours = call.localSDP, !ack.body.isEmpty, let answer = try? SessionDescription.parse(ack.bodyText),
              let negotiated = try? negotiator.negotiateAnswer(answer: answer, toOffer: ours) else {
            // RFC 3261 §13.3.1.4 leaves us with a session we cannot set up: end it.
            logger.notice("ACK carried no usable SDP answer to our offer", metadata: ["sip.call_id": "\(call.dialog.id.callID)"])
            end(call, disposition: .mediaError)
            return
        }
        call.negotiated = negotiated
        call.rtp?.update(negotiated)
    }

    // MARK: re-INVITE

    func reinvite(_ request: SIPRequest, _ key: SIPTransactionKey) {
        guard let id = SIPDialogID(incoming: request), let call = callsByDialog[id], call.isAnswered else {
            respond(request, on: key, .callOrTransactionDoesNotExist)
            return
        }
        guard call.dialog.receive(request) != .outOfOrder else {
            respond(request, on: key, .serverInternalError, toTag: id.localTag, reason: "CSeq out of order")
            return
        }
        for action in call.machine.event(.receivedReinvite, now: wallClock()) {
            switch action {
            case .rejectReinvite(let status): respond(request, on: key, status, toTag: id.localTag)
            case .answerReinvite: answerReinvite(request, key, call)
            default: perform([action], for: call)
            }
        }
    }

    /// 200 OK to a re-INVITE: our current SDP, or our answer to its offer (RFC 3264 §8).
    private func answerReinvite(_ request: SIPRequest, _ key: SIPTransactionKey, _ call: Call) {
        let id = call.dialog.id
        var body = call.localSDP
        if !request.body.isEmpty {
            guard request.contentType == "application/sdp", let offer = try? SessionDescription.parse(request.bodyText) else {
                respond(request, on: key, .badRequest, toTag: id.localTag, reason: "Bad Request - malformed SDP")
                return
            }
            let version = (call.localSDP?.origin.sessionVersion ?? 1)
            do {
                var (answer, negotiated) = try negotiator.answer(to: offer, localAddress: configuration.contactHost,
                                                                 localPort: UInt16(call.rtp?.localPort ?? 0),
                                                                 sessionID: sdpSessionID(for: call), sessionVersion: version,
                                                                 encryption: call.encryption, localKeyMaterial: call.srtpKeyMaterial)
                // RFC 3264 §8: the version grows only when our description changes.
                if let old = call.localSDP, old.media != answer.media { answer.origin.sessionVersion = version + 1 }
                call.offer = offer
                call.negotiated = negotiated
                call.localSDP = answer
                call.rtp?.update(negotiated)
                body = answer
            } catch {
                respond(request, on: key, .notAcceptableHere, toTag: id.localTag, extra: [(.warning, "305 hotline \"\(error)\"")])
                return
            }
        } else {
            call.awaitingAnswerInACK = true // our 200 carries an offer; the ACK answers it
        }
        var ok = SIPResponse(to: request, status: .ok, toTag: id.localTag)
        ok.headers.append(.contact, contactHeader(user: call.dialled, toward: call.source))
        ok.headers.append(.allow, CallEngine.allow)
        if let body {
            ok.headers.append(.contentType, "application/sdp")
            ok.body = Array(body.serialize().utf8)
        }
        endpoint.respond(ok, to: key)
        call.answerKey = key
        call.answerResponse = ok
        drive(call, .answerSent(ok))
    }

    // MARK: answering

    /// `.openTicket` from the call's machine: open the ticket as answered; the 200 OK waits
    /// for its commit (so `kill -9` cannot lose an answered call).
    func openTicket(_ call: Call, _ opening: CallStateMachine.TicketOpening) {
        let id = tickets.allocateID(at: call.arrivedAt)
        call.ticketID = id
        call.execution.assignTicketID(id.rawValue) // ${ticket_id} in the dialplan
        let ticket = CallTicket(id: id, callID: call.dialog.id.callID, caller: call.caller, dialled: call.dialled,
                                arrivedAt: call.arrivedAt, answeredAt: opening.answeredAt, endedAt: nil, keys: "", menuPath: [],
                                businessLine: nil, category: nil, disposition: nil, sipStatus: 200,
                                dialplanVersion: opening.dialplanVersion, direction: call.outbound != nil ? .outbound : .inbound)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let callID = call.id
        let loop = eventLoop
        let submitted = CallEngine.monotonicNow()
        tickets.open(ticket) { result in
            loop.execute {
                let engine = bound.value
                engine.metrics.ticketOpenTime.record(CallEngine.monotonicNow() - submitted)
                guard let call = engine.callsByID[callID] else { return }
                switch result {
                case .success:
                    engine.drive(call, .ticketCommitted)
                case .failure(let error):
                    engine.metrics.ticketErrors += 1
                    engine.logger.error("ticket open failed; refusing the call", metadata: ["error": "\(error)"])
                    engine.drive(call, .ticketFailed)
                }
                engine.transport?.flush()
            }
        }
    }

    /// `.sendAnswer` from the call's machine: the ticket is committed and the RTP socket bound.
    func sendAnswer(_ call: Call) {
        guard let sdp = call.localSDP else { return } // the machine asks only once media is open
        var ok = SIPResponse(to: call.invite, status: .ok, toTag: call.dialog.id.localTag)
        ok.headers.append(.contact, contactHeader(user: call.dialled, toward: call.source))
        ok.headers.append(.allow, CallEngine.allow)
        for route in call.invite.headers.fields where route.name == .recordRoute {
            ok.headers.append(.recordRoute, route.value) // §12.1.1: the UAS copies Record-Route
        }
        ok.headers.append(.contentType, "application/sdp")
        ok.body = Array(sdp.serialize().utf8)
        call.awaitingAnswerInACK = call.offer == nil
        endpoint.respond(ok, to: call.inviteKey)
        let sent = CallEngine.monotonicNow()
        if call.inviteReadAt != .zero { metrics.setupTime.record(sent - call.inviteReadAt) }
        if let started = call.answerStarted { admission.observeAnswerDelay(sent - started) }
        answering.remove(call.id)
        call.answerResponse = ok
        metrics.answered += 1
        drive(call, .answerSent(ok))
    }
}
