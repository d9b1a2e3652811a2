/// What a ``DialplanExecution`` asks the call controller to do. Imperative: carry these out in
/// the order given.

import ConfigFiles
public enum DialplanCommand: Sendable, Hashable, CustomStringConvertible {
    /// Send 180 Ringing (the entry has `ring:`); `.answer` follows when the ring timer fires.
    case ring
    /// Answer the call (200 OK) so media can flow.
    case answer
    /// Play the prompts back to back, then report `.playbackFinished(id)` once, after the last.
    case play(PlaybackID, [PromptRef])
    /// Stop the playback with this id if it is still playing.
    case stopPlayback(PlaybackID)
    /// Report `.timerFired(id)` after the duration, unless cancelled first.
    case startTimer(TimerID, Duration)
    /// Forget the timer; a `.timerFired` for it that is already on its way is ignored.
    case cancelTimer(TimerID)
    /// The caller chose a language; record it (prompts already come with their language).
    case setLanguage(Language)
    /// Add these fields to the call's ticket (later annotations overwrite earlier ones).
    case annotateTicket(TicketAnnotation)
    /// Hand the call to a queue. If the queue takes the call, the call has left the dialplan (no
    /// further event is expected). If it cannot (unknown queue, nobody logged in who could serve it, a
    /// queue whose overflow is `unavailable`), report `.queueUnavailable`.
    case enqueue(QueueRequest)
    /// Blind-transfer the call to this SIP URI (one of the dialplan's `transfer_targets`), then
    /// report `.transferSucceeded` or `.transferFailed`, exactly once.
    case transfer(String)
    /// Record the caller (beside the call's ticket) until `.stopRecording(id)` or `maxDuration`,
    /// whichever comes first, then report `.recordingFinished(id, duration)` once.
    case startRecording(RecordingID, maxDuration: Duration)
    /// Stop that recording if it is still running; `.recordingFinished` follows.
    case stopRecording(RecordingID)
    /// End the call (BYE) and close the ticket with this disposition. The execution is finished.
    case hangup(disposition: Disposition)

    /// Short trace form: `play p1 [en/main_menu]`, `start t1 5s`, `hangup no_input`.
    public var description: String {
        switch self {
        case .ring: "ring"
        case .answer: "answer"
        case .play(let id, let prompts): "play \(id) [\(prompts.map(\.description).joined(separator: ", "))]"
        case .stopPlayback(let id): "stop \(id)"
        case .startTimer(let id, let duration): "start \(id) \(DurationSyntax.format(duration))"
        case .cancelTimer(let id): "cancel \(id)"
        case .setLanguage(let language): "language \(language)"
        case .annotateTicket(let annotation): "ticket \(annotation)"
        case .enqueue(let request): "enqueue \(request)"
        case .transfer(let uri): "transfer \(uri)"
        case .startRecording(let id, let maxDuration): "record \(id) max \(DurationSyntax.format(maxDuration))"
        case .stopRecording(let id): "stop recording \(id)"
        case .hangup(let disposition): "hangup \(disposition)"
        }
    }
}
