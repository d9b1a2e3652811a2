import Dialplan
import Foundation
import Media
import NIOCore
import RTP
import SIPCore
import SIPEndpoint
import Tickets

extension CallEngine {
    /// Feeds an event to the call's dialplan execution and carries out what it says.
    func feed(_ event: DialplanEvent, to call: Call) {
        guard call.phase != .ended else { return }
        run(call.execution.event(event, now: wallClock()), for: call)
    }

    /// Carries out dialplan commands. Everything after `.answer` waits until the 200 OK has
    /// left, so the caller never misses the start of a prompt.
    func run(_ commands: [DialplanCommand], for call: Call) {
        var queued: [DialplanEvent] = []
        for command in commands {
            guard call.phase != .ended else { return }
            if call.phase == .answering {
                call.deferredCommands.append(command)
                continue
            }
            switch command {
            case .ring:
                guard call.phase == .setup else { continue }
                var ringing = SIPResponse(to: call.invite, status: .ringing, toTag: call.dialog.id.localTag)
                ringing.headers.append(.contact, contactHeader(user: call.dialled))
                endpoint.respond(ringing, to: call.inviteKey)
            case .answer:
                beginAnswer(call)
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
                // No agent queues yet: the dialplan decides what an unavailable queue means.
                logger.info("queue not available yet", metadata: ["queue": "\(request.queue)", "sip.call_id": "\(call.dialog.id.callID)"])
                queued.append(.queueUnavailable)
            case .transfer:
                // TODO(lead): blind transfer (REFER) to the URI; until then every transfer fails at once.
                queued.append(.transferFailed)
            case .startRecording(let id, _):
                // TODO(lead): record the caller beside the ticket; until then nothing is recorded.
                queued.append(.recordingFinished(id, .zero))
            case .stopRecording:
                break // TODO(lead): stop the recording started above (none runs yet)
            case .hangup(let disposition):
                end(call, disposition: CallDisposition(rawValue: disposition.rawValue), sendBye: true)
            }
        }
        for event in queued { feed(event, to: call) }
    }

    // MARK: ending

    /// Ends a call once: stops media, answers or hangs up on the SIP side, and finishes or
    /// records its ticket.
    func end(_ call: Call, disposition: CallDisposition, sendBye: Bool, finalStatus: SIPStatus? = nil) {
        guard call.phase != .ended else { return }
        let wasAnswered = call.isAnswered
        call.phase = .ended
        call.disposition = disposition
        if let rtp = call.rtp {
            media.close(rtp)
            call.rtp = nil
        }
        var status = 200
        if !wasAnswered {
            let final = finalStatus ?? .requestTerminated
            status = final.rawValue
            if endpoint.isAwaitingFinalResponse(call.inviteKey) {
                respond(call.invite, on: call.inviteKey, final, toTag: call.dialog.id.localTag)
            }
        } else if sendBye {
            sendBYE(call)
        }
        let now = wallClock()
        let category = call.category.map { TicketCategory(rawValue: $0) }
        if call.ticketOpened, let id = call.ticketID {
            let outcome = CallOutcome(answeredAt: wasAnswered ? call.answeredAt : nil, endedAt: now,
                                      keys: call.execution.keysPressed, menuPath: call.execution.menuPath,
                                      businessLine: call.businessLine, category: category,
                                      disposition: disposition, sipStatus: status)
            tickets.finish(id: id, outcome: outcome, onCommit: ticketCallback(context: "finish"))
        } else {
            let ticket = CallTicket(id: tickets.allocateID(at: call.arrivedAt), callID: call.dialog.id.callID, caller: call.caller,
                                    dialled: call.dialled, arrivedAt: call.arrivedAt, answeredAt: nil, endedAt: now,
                                    keys: call.execution.keysPressed, menuPath: call.execution.menuPath,
                                    businessLine: call.businessLine, category: category, disposition: disposition,
                                    sipStatus: status, dialplanVersion: dialplan.version)
            tickets.record(ticket, onCommit: ticketCallback(context: "record"))
        }
        metrics.callsByDisposition[disposition.rawValue, default: 0] += 1
        forget(call)
    }

    /// BYE in the dialog (RFC 3261 §15.1.1), sent to the route set's first hop or the
    /// remote target; a numeric host is used as is, anything else falls back to where the
    /// INVITE came from (we do not resolve names on the call path).
    private func sendBYE(_ call: Call) {
        let bye = call.dialog.makeRequest(.bye, via: endpoint.makeVia(), extraHeaders: [(.reason, "SIP;cause=200;text=\"Call completed\"")])
        let hop = call.dialog.nextHop
        let destination = (try? SocketAddress(ipAddress: hop.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: hop.port ?? 5060)) ?? call.source
        endpoint.send(request: bye, to: destination) { _ in }
    }
}

extension CallEngine: RTPSessionDelegate {
    func rtpSession(_ session: RTPSession, receivedDigit key: RTP.DTMFKey) {
        guard let call = call(for: session), let k = DialplanKey(rawValue: key.rawValue) else { return }
        feed(.keyPressed(k), to: call)
        transport?.flush()
    }

    func rtpSession(_ session: RTPSession, finishedPlayback id: UInt64) {
        guard let call = call(for: session), let current = call.currentPlayback, current.rawValue == id else { return }
        call.currentPlayback = nil
        feed(.playbackFinished(current), to: call)
        transport?.flush()
    }

    private func call(for session: RTPSession) -> Call? {
        callsByID[session.ownerID]
    }
}
