// HotlineServer: the composition root.
// This file: a queued call on its own loop — the `queue` node handing it to the ACD, what the
// caller hears while waiting (music, position and estimated wait), the ACD's exits (overflow,
// voicemail, callback). The B2BUA agent leg is in CallEngine+AgentLeg.swift.
import ACD
import CallControl
import Codecs
import Dialplan
import Foundation
import Media
import NIOCore
import SDP
import SIPCore
import SIPDialog
import SIPEndpoint
import SIPTransaction
import Tickets

extension CallDisposition {
    /// The agent hung up a call the ACD had connected.
    static let agentHangup = CallDisposition("agent_hangup")
    /// The caller left a callback request in a queue (the ACD keeps their place).
    static let callbackRequested = CallDisposition("callback_requested")
    /// The caller left a voice message after a queue overflowed to voicemail.
    static let voiceMessage = CallDisposition("voice_message")
}

/// What follows a prompt the queue played to a waiting caller.
enum QueueAfterPlayback {
    case music
    case hangup(CallDisposition)
    case recordVoicemail
}

extension CallEngine {
    /// How long a queue voice message may last.
    static let voicemailLimit: Duration = .seconds(120)

    // MARK: - the queue node

    /// `.enqueue` from the dialplan: hands the call to the ACD. False if there is no ACD or
    /// the call cannot wait (not answered): the dialplan hears `queueUnavailable`.
    func enqueue(_ call: Call, _ request: QueueRequest) -> Bool {
        guard let link = acdLink, call.isAnswered, call.rtp != nil else { return false }
        let id = ACDService.callID(shard: shardIndex, call: call.id, suffix: acdCallSuffix)
        let visit = QueueVisit(acdID: id, queue: request.queue, enqueuedAt: call.queue?.enqueuedAt ?? wallClock())
        // Back in the dialplan after an overflow, then queued again: one ticket, one record.
        visit.overflowed = call.queue?.overflowed ?? false
        call.queue = visit
        let enqueue = EnqueueRequest(queue: QueueName(request.queue), priority: request.priority, skills: request.skills?.map { Skill($0) })
        logger.info("caller queued", metadata: ["sip.call_id": "\(call.dialog.id.callID)", "queue": "\(request.queue)", "acd.call": "\(id)"])
        link.send { $0.callerArrived(id, enqueue) }
        return true
    }

    /// A queue voice message being recorded when the call ends: keep it.
    func stopQueueVoicemail(_ call: Call) {
        guard call.queueVoicemailRecording else { return }
        call.queueVoicemailRecording = false
        if let samples = call.rtp?.stopRecording() { saveRecording(samples, of: call, suffix: "queue", what: "queue voice message") }
    }

    /// The queue record for the ticket, and the ACD told how the call ended. Carries out the
    /// machine's `.leaveQueue`, once, after its agent leg was stopped.
    func finishQueue(_ call: Call, now: Date) -> QueueOutcome? {
        guard let visit = call.queue else { return nil }
        if visit.playback != nil { visit.playback = nil }
        switch visit.phase {
        case .waiting:
            visit.abandoned = !visit.callback
            visit.waited = visit.waited ?? milliseconds(from: visit.enqueuedAt, to: now)
            let id = visit.acdID
            acdLink?.send { $0.callerHungUp(id) }
        case .connected:
            let id = visit.acdID
            acdLink?.send { $0.callEnded(id) }
        case .left:
            break
        }
        return QueueOutcome(
            queue: visit.queue, agent: visit.agent?.rawValue, enqueuedAt: visit.enqueuedAt, agentAnsweredAt: visit.agentAnsweredAt,
            waitMilliseconds: visit.waited.map(Self.wholeMilliseconds) ?? Self.wholeMilliseconds(milliseconds(from: visit.enqueuedAt, to: now)),
            talkMilliseconds: visit.agentAnsweredAt.map { Self.wholeMilliseconds(milliseconds(from: $0, to: now)) },
            abandoned: visit.abandoned, overflowed: visit.overflowed, callback: visit.callback)
    }

    func milliseconds(from start: Date, to end: Date) -> Duration {
        .milliseconds(max(0, Int64((end.timeIntervalSince(start) * 1000).rounded())))
    }

    static func wholeMilliseconds(_ duration: Duration) -> Int { Int(duration.wholeMillisecondsClamped) }

    // MARK: - what a waiting caller hears

    func playQueueMusic(_ callNumber: UInt64, prompt: String) {
        guard let call = callsByID[callNumber], let visit = call.queue, visit.phase == .waiting else { return }
        visit.music = prompt
        if visit.playback == nil { startMusic(call, visit) }
    }

    private func startMusic(_ call: Call, _ visit: QueueVisit) {
        guard let music = visit.music else { return }
        playQueuePrompts(call, [music], then: .music)
    }

    /// Position and estimated wait, then the music again.
    func announceQueuePosition(_ callNumber: UInt64, _ announcement: Announcement) {
        guard let call = callsByID[callNumber], let visit = call.queue, visit.phase == .waiting else { return }
        let language = call.execution.language
        func say(_ value: Int) -> [String] {
            (try? SayFormat.number.fragments(for: String(value), in: language).get()) ?? []
        }
        var names = ["queue_position_before"] + say(announcement.position) + ["queue_position_after"]
        if let wait = announcement.estimatedWait {
            let minutes = max(1, Int((Double(wait.components.seconds) / 60).rounded(.up)))
            names += ["queue_wait_before"] + say(minutes) + ["queue_wait_after"]
        }
        playQueuePrompts(call, names, then: .music)
    }

    /// Plays prompts to a queued caller (replacing the music); `then` says what follows.
    func playQueuePrompts(_ call: Call, _ names: [String], then next: QueueAfterPlayback) {
        guard let visit = call.queue, let rtp = call.rtp else { return }
        let payloadType = call.negotiated?.codec.payloadType ?? 0
        let language = call.execution.language.rawValue
        let frames = names.compactMap { prompts.frames(name: $0, language: language, payloadType: payloadType) }
        guard !frames.isEmpty else {
            // Checked at start-up, so only on a broken install; do not spin on the music.
            if case .music = next { return }
            visit.playback = nil
            queuePlaybackFinished(call, visit, next)
            return
        }
        queuePlaybacks &+= 1
        let id = (1 << 63) | queuePlaybacks
        visit.playback = id
        visit.afterPlayback = next
        rtp.play(frames, id: id)
    }

    /// A queue playback ended (see `rtpSession(_:finishedPlayback:)`).
    func queuePlaybackFinished(_ call: Call, _ visit: QueueVisit, _ next: QueueAfterPlayback) {
        switch next {
        case .music:
            if visit.phase == .waiting { startMusic(call, visit) }
        case .hangup(let disposition):
            end(call, disposition: disposition)
        case .recordVoicemail:
            guard let rtp = call.rtp else { return end(call, disposition: .voiceMessage) }
            let seconds = Int(Self.voicemailLimit.components.seconds)
            rtp.startRecording(maxSamples: seconds * 8000)
            call.queueVoicemailRecording = true
            startTimer(.queueVoicemail, after: Self.voicemailLimit, for: call)
        }
    }

    /// The voicemail's time is up: keep it and say goodbye.
    func queueVoicemailTimedOut(_ call: Call) {
        guard call.queueVoicemailRecording else { return }
        call.queueVoicemailRecording = false
        if let samples = call.rtp?.stopRecording() { saveRecording(samples, of: call, suffix: "queue", what: "queue voice message") }
        playQueuePrompts(call, ["goodbye"], then: .hangup(.voiceMessage))
    }

    // MARK: - the ACD's exits

    func queueMoved(_ callNumber: UInt64, to queue: String) {
        guard let call = callsByID[callNumber], let visit = call.queue else { return }
        visit.queue = queue
        visit.overflowed = true
    }

    /// The caller keeps their place as a callback request: tell them and hang up.
    func queueConvertedToCallback(_ callNumber: UInt64) {
        guard let call = callsByID[callNumber], let visit = call.queue, visit.phase == .waiting else { return }
        visit.callback = true
        visit.overflowed = true
        visit.phase = .left
        visit.waited = milliseconds(from: visit.enqueuedAt, to: wallClock())
        callbackRequests[visit.acdID] = CallbackRequest(caller: call.invite.from?.uri.user ?? call.caller,
                                                         ticket: call.ticketID?.rawValue, queue: visit.queue)
        playQueuePrompts(call, ["queue_callback"], then: .hangup(.callbackRequested))
    }

    func queueLeft(_ callNumber: UInt64, _ exit: QueueExit) {
        guard let call = callsByID[callNumber], let visit = call.queue else {
            // A callback request's caller has long gone; drop what we kept for it.
            if case .callbackCancelled = exit { callbackRequests[ACDService.callID(shard: shardIndex, call: callNumber, suffix: acdCallSuffix)] = nil }
            return
        }
        switch exit {
        case .answered(_, let waited):
            visit.waited = waited
        case .abandoned:
            break
        case .callbackCancelled:
            break
        case .overflowed(let to, let reason, let waited):
            guard visit.phase == .waiting else { return }
            visit.phase = .left
            visit.waited = waited
            visit.overflowed = reason != .unknownQueue
            call.rtp?.stopPlayback()
            visit.playback = nil
            logger.info("caller left the queue", metadata: ["sip.call_id": "\(call.dialog.id.callID)", "queue": "\(visit.queue)",
                                                            "to": "\(to.rawValue)", "reason": "\(reason.rawValue)"])
            switch to {
            case .voicemail:
                playQueuePrompts(call, ["queue_voicemail", "beep"], then: .recordVoicemail)
            case .dialplan:
                feed(.queueUnavailable, to: call)
            }
        }
    }
}

/// A caller who left a callback request: kept on their call's loop until an agent takes it.
struct CallbackRequest {
    /// The caller's number as it came in the From URI (percent-encoded).
    var caller: String
    var ticket: String?
    var queue: String
}

extension Duration {
    /// Whole milliseconds, clamped to `Int64`.
    var wholeMillisecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1000).overflow ? Int64.max : seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
