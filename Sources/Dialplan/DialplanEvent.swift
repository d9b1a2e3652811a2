/// What the call controller tells a ``DialplanExecution``. Past tense: these have happened.

import ConfigFiles
public enum DialplanEvent: Sendable, Hashable, CustomStringConvertible {
    /// Every prompt of the `.play` command with this id has been played out. Not required for a
    /// playback the execution stopped; if sent anyway it is ignored.
    case playbackFinished(PlaybackID)
    /// The caller pressed a key (RFC 4733 event or SIP INFO; the interpreter does not care which).
    case keyPressed(DTMFKey)
    /// A timer started by `.startTimer` ran out. Ignored if the timer was cancelled meanwhile.
    case timerFired(TimerID)
    /// The queue named by the last `.enqueue` cannot take the call (no ACD yet, closed, full).
    case queueUnavailable
    /// The `.transfer` succeeded: the caller is connected elsewhere. The execution answers with
    /// `.hangup(transferred)` so the controller closes our leg and the ticket.
    case transferSucceeded
    /// The `.transfer` failed (refused, not answered, target unreachable); the call is still ours.
    case transferFailed
    /// The recording with this id has ended, with this much audio. Zero means nothing was recorded.
    case recordingFinished(RecordingID, Duration)

    /// Short trace form: `finished p1`, `key 3`, `fired t2`, `queue unavailable`.
    public var description: String {
        switch self {
        case .playbackFinished(let id): "finished \(id)"
        case .keyPressed(let key): "key \(key)"
        case .timerFired(let id): "fired \(id)"
        case .queueUnavailable: "queue unavailable"
        case .transferSucceeded: "transfer succeeded"
        case .transferFailed: "transfer failed"
        case .recordingFinished(let id, let duration): "recorded \(id) \(DurationSyntax.format(duration))"
        }
    }
}
