import CallControl
import Dialplan
import Foundation
import Media
import NIOCore
import RTP
import SIPCore
import SIPEndpoint
import Tickets
import Codecs
import SIPDialog
import SIPTransaction

extension CallEngine {
    /// Feeds an event to the call's dialplan execution and carries out what it says.
    func feed(_ event: DialplanEvent, to call: Call) {
        guard call.phase != .ended else { return }
        run(call.execution.event(event, now: wallClock()), for: call)
    }

    /// Carries out dialplan commands, through the call's machine: it binds ring, answer and
    /// hangup to SIP and holds everything after `.answer` until the 200 OK has left.
    func run(_ commands: [DialplanCommand], for call: Call) {
        drive(call, .dialplanIssued(commands))
    }

    /// Ends the call (BYE once answered; `finalStatus`, 487 if nil, before).
    func end(_ call: Call, disposition: CallDisposition, finalStatus: SIPStatus? = nil) {
        drive(call, .hangupRequested(Disposition(rawValue: disposition.rawValue), finalStatus: finalStatus))
    }

    /// Feeds the call's state machine and carries out what it says.
    func drive(_ call: Call, _ event: CallStateMachine.Event) {
        let before = call.phase
        let actions = call.machine.event(event, now: wallClock())
        if before == .setup, call.phase != .setup, call.phase != .ended {
            call.answerStarted = CallEngine.monotonicNow() // how long the 200 OK waits
            if call.phase == .answering { answering.insert(call.id) }
        }
        perform(actions, for: call)
    }

    /// Carries out the call machine's actions, in order; events the dialplan commands raise at
    /// once (nothing to play, no queue) go back to the dialplan after them.
    func perform(_ actions: [CallStateMachine.Action], for call: Call) {
        var queued: [DialplanEvent] = []
        for action in actions {
            switch action {
            case .startTimer(let timer, let duration):
                startTimer(CallTimer(timer), after: duration, for: call)
            case .cancelTimer(let timer):
                cancelTimer(CallTimer(timer), for: call)
            case .sendRinging where call.outbound != nil, .retransmitAnswer where call.outbound != nil:
                break // our INVITE: nothing to answer it with
            case .sendAnswer where call.outbound != nil:
                answerOutbound(call)
            case .sendRinging:
                var ringing = SIPResponse(to: call.invite, status: .ringing, toTag: call.dialog.id.localTag)
                ringing.headers.append(.contact, contactHeader(user: call.dialled, toward: call.source))
                endpoint.respond(ringing, to: call.inviteKey)
            case .openTicket(let opening):
                openTicket(call, opening)
            case .sendAnswer:
                sendAnswer(call)
            case .retransmitAnswer(let response):
                endpoint.retransmit(response, to: call.answerKey, fallback: call.source)
            case .runDialplanCommands(let commands):
                // The machine has already taken the whole batch (its phase may be past these
                // commands, e.g. ended by a hangup after them): run them as given.
                for command in commands { runCommand(command, for: call, queued: &queued) }
            case .answerReinvite, .rejectReinvite, .bridgeAgentLeg:
                break // carried out where the request or the leg is at hand
            case .cancelAgentLeg, .hangUpAgentLeg:
                guard let leg = call.agentLeg else { break }
                call.agentLeg = nil
                switch leg.state {
                case .answered: hangUpAgentLeg(leg)
                case .opening, .inviting: withdraw(leg)
                case .cancelling, .ended: break
                }
            case .stopRecordings:
                if let id = call.recording { _ = finishRecording(call, id) } // keep what the caller said
                stopQueueVoicemail(call)
            case .leaveQueue:
                call.queueOutcome = finishQueue(call, now: wallClock())
            case .closeMedia:
                if let rtp = call.rtp {
                    rtp.unbridge()
                    media.close(rtp)
                    call.rtp = nil
                }
            case .sendFinalResponse(let status):
                if endpoint.isAwaitingFinalResponse(call.inviteKey) {
                    respond(call.invite, on: call.inviteKey, status, toTag: call.dialog.id.localTag)
                }
            case .sendBye:
                sendBYE(call)
            case .finishTicket(let finish):
                guard let id = call.ticketID else { break }
                let annotation = call.execution.ticket
                let outcome = CallOutcome(answeredAt: finish.answeredAt, unanswered: finish.answeredAt == nil, endedAt: finish.endedAt,
                                          keys: call.execution.keysPressed, menuPath: call.execution.menuPath,
                                          businessLine: call.businessLine, category: call.category.map { TicketCategory(rawValue: $0) },
                                          disposition: CallDisposition(rawValue: finish.disposition.rawValue), sipStatus: finish.sipStatus,
                                          resolution: annotation.resolution.flatMap(CallResolution.init(dialplanName:)),
                                          summary: annotation.summary, queue: call.queueOutcome, handedOff: call.handedOff)
                tickets.finish(id: id, outcome: outcome, onCommit: ticketCallback(context: "finish"))
                metrics.callsByDisposition[finish.disposition.rawValue, default: 0] += 1
            case .recordTicket(let record):
                let ticket = CallTicket(id: tickets.allocateID(at: call.arrivedAt), callID: call.dialog.id.callID, caller: call.caller,
                                        dialled: call.dialled, arrivedAt: call.arrivedAt, answeredAt: nil, endedAt: record.endedAt,
                                        keys: call.execution.keysPressed, menuPath: call.execution.menuPath,
                                        businessLine: call.businessLine, category: call.category.map { TicketCategory(rawValue: $0) },
                                        disposition: CallDisposition(rawValue: record.disposition.rawValue), sipStatus: record.sipStatus,
                                        dialplanVersion: record.dialplanVersion, queue: call.queueOutcome)
                tickets.record(ticket, onCommit: ticketCallback(context: "record"))
                metrics.callsByDisposition[record.disposition.rawValue, default: 0] += 1
            case .forget:
                forget(call)
            }
        }
        for event in queued { feed(event, to: call) }
    }

    /// One dialplan command the machine passed on (ring, answer and hangup it binds itself).
    private func runCommand(_ command: DialplanCommand, for call: Call, queued: inout [DialplanEvent]) {
        switch command {
        case .ring, .answer, .hangup:
            break // bound to SIP by the call's machine
        case .play(let id, let refs):
            let frames = refs.compactMap { ref in
                prompts.frames(name: ref.name, language: ref.language.rawValue, payloadType: call.negotiated?.codec.payloadType ?? 0)
            }
            call.currentPlayback = id
            if frames.isEmpty || call.rtp == nil {
                // Nothing to play (checked at start-up, so only on a broken install):
                // the dialplan must not hang waiting for it.
                queued.append(.playbackFinished(id))
            } else {
                call.rtp?.play(frames, id: id.rawValue)
            }
        case .stopPlayback(let id):
            if call.currentPlayback == id {
                call.rtp?.stopPlayback()
                call.currentPlayback = nil
            }
        case .startTimer(let id, let duration):
            startTimer(.dialplan(id), after: duration, for: call)
        case .cancelTimer(let id):
            cancelTimer(.dialplan(id), for: call)
        case .setLanguage:
            break // the execution resolves prompt languages itself
        case .annotateTicket(let annotation):
            if let line = annotation.businessLine { call.businessLine = line }
            if let category = annotation.category { call.category = category }
        case .enqueue(let request):
            // Without an ACD (or a call that cannot wait) the dialplan decides what an
            // unavailable queue means.
            if !enqueue(call, request) {
                logger.info("queue unavailable", metadata: ["queue": "\(request.queue)", "sip.call_id": "\(call.dialog.id.callID)"])
                queued.append(.queueUnavailable)
            }
        case .transfer(let target):
            handOffIfPartner(call, to: target)
            if !startTransfer(call, to: target) { queued.append(.transferFailed) }
        case .startRecording(let id, let maxDuration):
            guard let rtp = call.rtp else {
                queued.append(.recordingFinished(id, .zero))
                return
            }
            let seconds = Double(maxDuration.components.seconds) + Double(maxDuration.components.attoseconds) / 1e18
            rtp.startRecording(maxSamples: Int(seconds * 8000))
            call.recording = id
            startTimer(.recordingLimit(id), after: maxDuration, for: call)
        case .stopRecording(let id):
            if let finished = finishRecording(call, id) { queued.append(finished) }
        }
    }

    // MARK: ending

    /// BYE in the dialog (RFC 3261 §15.1.1).
    private func sendBYE(_ call: Call) {
        let bye = call.dialog.makeRequest(.bye, via: endpoint.makeVia(), extraHeaders: [(.reason, "SIP;cause=200;text=\"Call completed\"")])
        endpoint.send(request: bye, to: nextHop(call)) { _ in }
    }

    /// Where in-dialog requests go: the route set's first hop or the remote target; a numeric
    /// host is used as is, anything else falls back to where the INVITE came from (we do not
    /// resolve names on the call path).
    func nextHop(_ call: Call) -> SocketAddress {
        // A caller on a TCP or TLS connection is reached on it while it lasts (RFC 5626 §5.3
        // flow reuse): a phone behind NAT or a firewall accepts no other connection.
        if endpoint.transport(to: call.source).isStream { return call.source }
        let hop = call.dialog.nextHop
        return (try? SocketAddress(ipAddress: hop.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: hop.port ?? 5060)) ?? call.source
    }

    // MARK: recording

    /// Stops a running recording, writes it beside the ticket (`<ticket>-<n>.wav`, off the
    /// event loop) and returns the event for the dialplan; nil if that recording is not running.
    func finishRecording(_ call: Call, _ id: RecordingID) -> DialplanEvent? {
        guard call.recording == id else { return nil }
        call.recording = nil
        cancelTimer(.recordingLimit(id), for: call)
        let samples = call.rtp?.stopRecording() ?? []
        let duration = Duration.milliseconds(Int64(samples.count) / 8)
        saveRecording(samples, of: call, suffix: String(id.rawValue), what: "recording")
        return .recordingFinished(id, duration)
    }

    /// Writes `<ticket id>-<suffix>.wav` (``Call/recordingFileName(loop:suffix:)``) in the
    /// recordings directory, off the event loop;
    /// nothing for an empty recording. `what` names it in the error log.
    func saveRecording(_ samples: [Int16], of call: Call, suffix: String, what: String) {
        guard !samples.isEmpty else { return }
        let name = call.recordingFileName(loop: shardIndex, suffix: suffix)
        let path = URL(fileURLWithPath: configuration.recordingsDirectory).appendingPathComponent(name).path
        let logger = self.logger
        DispatchQueue.global(qos: .utility).async {
            do {
                try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                        withIntermediateDirectories: true)
                try WAVFile(sampleRate: 8000, samples: samples).write(to: path)
            } catch {
                logger.error("\(what) not saved", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }

    // MARK: blind transfer (RFC 3515, RFC 5589 §6)

    /// Sends REFER to the caller (Refer-To the target, Referred-By us); false if the call is
    /// not in a state to transfer.
    func startTransfer(_ call: Call, to target: String) -> Bool {
        guard call.isAnswered, call.transfer == nil, let uri = try? SIPURI.parse(target) else { return false }
        var extra = SIPHeaders()
        extra.append(.referTo, "<\(uri)>")
        extra.append(.referredBy, contactHeader(user: call.dialled, toward: call.source))
        let refer = call.dialog.makeRequest(.refer, via: endpoint.makeVia(),
                                            contact: try? SIPNameAddress.parse(contactHeader(user: call.dialled, toward: call.source)), extraHeaders: extra)
        call.transfer = .referring
        startTimer(.transferOutcome, after: configuration.transferTimeout, for: call)
        logger.info("transferring", metadata: ["sip.call_id": "\(call.dialog.id.callID)", "target": "\(uri)"])
        let callID = call.id
        endpoint.send(request: refer, to: nextHop(call)) { [weak self] event in
            guard let self, let call = self.callsByID[callID], call.transfer == .referring else { return }
            switch event {
            case .response(let response) where response.status.isSuccess:
                call.transfer = .accepted // 202: the outcome comes in NOTIFY
            case .response(let response) where response.status.isProvisional:
                break
            case .response, .timeout:
                self.transferDone(call, succeeded: false)
            }
            self.transport?.flush()
        }
        return true
    }

    /// A NOTIFY of the implicit refer subscription: `message/sipfrag` with the target's
    /// status line (RFC 3515 §2.4.5). A final 2xx means the caller reached the target.
    func referNotify(_ request: SIPRequest, _ key: SIPTransactionKey, _ call: Call) {
        guard call.transfer != nil, let event = request.headers[.event], event.lowercased().hasPrefix("refer") else {
            respond(request, on: key, .callOrTransactionDoesNotExist, toTag: call.dialog.id.localTag)
            return
        }
        respond(request, on: key, .ok, toTag: call.dialog.id.localTag)
        let statusLine = request.bodyText.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ")
        let code = parts.count >= 2 && parts[0].hasPrefix("SIP/") ? Int(parts[1]) : nil
        let terminated = request.headers[SIPHeaderName("Subscription-State")]?.lowercased().hasPrefix("terminated") ?? false
        if let code, code >= 200 {
            transferDone(call, succeeded: (200..<300).contains(code))
        } else if terminated {
            transferDone(call, succeeded: false)
        }
    }

    func transferDone(_ call: Call, succeeded: Bool) {
        guard call.transfer != nil else { return }
        call.transfer = nil
        cancelTimer(.transferOutcome, for: call)
        logger.info(succeeded ? "transfer succeeded" : "transfer failed", metadata: ["sip.call_id": "\(call.dialog.id.callID)"])
        feed(succeeded ? .transferSucceeded : .transferFailed, to: call)
    }
}

extension CallEngine: RTPSessionDelegate {
    func rtpSession(_ session: RTPSession, receivedDigit key: RTP.DTMFKey) {
        // An agent leg's keys, and the caller's once bridged, are relayed by the bridge.
        guard let call = call(for: session), session === call.rtp, call.queue?.phase != .connected,
              let k = DialplanKey(rawValue: key.rawValue) else { return }
        feed(.keyPressed(k), to: call)
        transport?.flush()
    }

    func rtpSession(_ session: RTPSession, finishedPlayback id: UInt64) {
        if let leg = agentLegs.values.first(where: { $0.rtp === session }) {
            agentLegPlaybackFinished(leg)
            transport?.flush()
            return
        }
        guard let call = call(for: session), session === call.rtp else { return }
        if let visit = call.queue, visit.playback == id {
            visit.playback = nil
            queuePlaybackFinished(call, visit, visit.afterPlayback)
            transport?.flush()
            return
        }
        guard let current = call.currentPlayback, current.rawValue == id else { return }
        call.currentPlayback = nil
        feed(.playbackFinished(current), to: call)
        transport?.flush()
    }

    private func call(for session: RTPSession) -> Call? {
        callsByID[session.ownerID]
    }
}
