import Dialplan
import Foundation
import Media
import NIOCore
import SDP
import SIPCore
import SIPDialog
import SIPTransaction
import Tickets
import Timers

/// One inbound call: the glue between its SIP dialog, its RTP session, its dialplan
/// execution and its ticket. Owned by the engine, confined to the engine's event loop.
final class Call {
    enum Phase: Equatable {
        /// INVITE received, not answered (maybe ringing).
        case setup
        /// The dialplan said answer; waiting for the ticket commit and the RTP socket.
        case answering
        /// 200 OK sent.
        case answered
        /// Ended; kept only until the engine forgets it.
        case ended
    }

    let id: UInt64
    let inviteKey: SIPTransactionKey
    let invite: SIPRequest
    let source: SocketAddress
    var dialog: SIPDialog
    var phase: Phase = .setup
    var execution: DialplanExecution
    let arrivedAt: Date
    var answeredAt: Date?
    /// When the dialplan said answer (monotonic), to measure how long the 200 OK waited.
    var answerStarted: Instant?
    /// When the read batch that brought the INVITE began, for the setup-time histogram.
    var inviteReadAt: Instant = .zero
    let caller: String
    let dialled: String

    // Media
    var offer: SessionDescription?
    var negotiated: NegotiatedMedia?
    var localSDP: SessionDescription?
    var rtp: RTPSession?
    var mediaError: Error?
    var currentPlayback: PlaybackID?
    /// Whether our last 2xx to an INVITE carried an offer (delayed offer): the ACK answers it.
    var awaitingAnswerInACK = false

    // Signalling
    var answerRetransmission: UASAnswerRetransmission
    var answerResponse: SIPResponse?
    /// The INVITE (initial or re-INVITE) whose 2xx is being kept alive until its ACK.
    var answerKey: SIPTransactionKey
    /// Dialplan commands that came after `.answer`: run once the 200 has left.
    var deferredCommands: [DialplanCommand] = []

    // Ticket
    var ticketID: TicketID?
    var ticketOpened = false
    var ticketCommitted = false
    var businessLine: String?
    var category: String?
    var disposition: CallDisposition?
    var finalStatus: Int?

    // Recording and transfer
    /// The recording running, if any.
    var recording: RecordingID?
    /// A REFER we sent: waiting for its 2xx, then for the NOTIFY with the final status.
    var transfer: TransferState?
    enum TransferState: Equatable { case referring, accepted }

    // Timers
    var timers: [CallTimer: Timers.TimerID] = [:]

    // The contact centre
    /// Set once a `queue` node handed the call to the ACD.
    var queue: QueueVisit?
    /// The agent leg offered or connected (B2BUA), if any.
    var agentLeg: AgentLeg?
    /// A queue voicemail is being recorded (after a queue overflowed to voicemail).
    var queueVoicemailRecording = false
    /// An agent's feature-code call (`*21`…): no ticket, it is not a citizen's call.
    var isAgentFeature = false

    init(id: UInt64, inviteKey: SIPTransactionKey, invite: SIPRequest, source: SocketAddress, dialog: SIPDialog,
         execution: DialplanExecution, arrivedAt: Date, caller: String, dialled: String, sipTimers: SIPTimerConfiguration) {
        self.id = id
        self.inviteKey = inviteKey
        self.invite = invite
        self.source = source
        self.dialog = dialog
        self.execution = execution
        self.arrivedAt = arrivedAt
        self.caller = caller
        self.dialled = dialled
        self.answerRetransmission = UASAnswerRetransmission(timers: sipTimers)
        self.answerKey = inviteKey
    }

    var isAnswered: Bool { phase == .answered }
}

/// The timers a call can have armed, keyed so each kind has at most one.
enum CallTimer: Hashable {
    case dialplan(DialplanTimerID)
    case answerRetransmit
    case ackTimeout
    case maxDuration
    /// A recording's maximum duration.
    case recordingLimit(RecordingID)
    /// How long a transfer may take to report its outcome (RFC 3515 NOTIFY).
    case transferOutcome
    /// A queue voice message's maximum length.
    case queueVoicemail
}
