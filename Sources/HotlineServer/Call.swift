import CallControl
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
/// execution and its ticket. Owned by the engine, confined to the engine's event loop. Its
/// `machine` decides the call's phases and its ending; the engine carries out its actions.
final class Call {
    let id: UInt64
    let inviteKey: SIPTransactionKey
    let invite: SIPRequest
    let source: SocketAddress
    var dialog: SIPDialog
    var machine: CallStateMachine
    var execution: DialplanExecution
    let arrivedAt: Date
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
    /// What the call's media may be: SRTP is allowed only when the INVITE came over TLS.
    var encryption: MediaEncryption = .none
    /// Our SDES key for the call (30 bytes), drawn once when SRTP is allowed.
    var srtpKeyMaterial: [UInt8] = []
    var rtp: RTPSession?
    var currentPlayback: PlaybackID?
    /// Whether our last 2xx to an INVITE carried an offer (delayed offer): the ACK answers it.
    var awaitingAnswerInACK = false

    // Signalling
    var answerResponse: SIPResponse?
    /// The INVITE (initial or re-INVITE) whose 2xx is being kept alive until its ACK.
    var answerKey: SIPTransactionKey

    // Ticket
    var ticketID: TicketID?
    /// The call's work order was handed off to a partner (a transfer to 110).
    var handedOff = false
    var businessLine: String?
    var category: String?
    /// What the queues did with the call, taken when it left them (the ending's `.leaveQueue`).
    var queueOutcome: QueueOutcome?

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
    let isAgentFeature: Bool

    // A call we placed
    /// Set on a call the server placed (a return visit...): its INVITE was ours.
    var outbound: OutboundLeg?
    /// The citizen's 2xx, which stands for our 200 OK in the machine's answering.
    var outboundAnswer: SIPResponse?

    init(id: UInt64, inviteKey: SIPTransactionKey, invite: SIPRequest, source: SocketAddress, dialog: SIPDialog,
         execution: DialplanExecution, arrivedAt: Date, caller: String, dialled: String, sipTimers: SIPTimerConfiguration,
         maxDuration: Duration, isAgentFeature: Bool) {
        self.id = id
        self.inviteKey = inviteKey
        self.invite = invite
        self.source = source
        self.dialog = dialog
        self.execution = execution
        self.arrivedAt = arrivedAt
        self.caller = caller
        self.dialled = dialled
        self.answerKey = inviteKey
        self.isAgentFeature = isAgentFeature
        // The dialplan the call started with names its tickets, whatever is published meanwhile.
        self.machine = CallStateMachine(configuration: .init(maxDuration: maxDuration, sipTimers: sipTimers,
                                                             dialplanVersion: execution.dialplan.version,
                                                             keepsTicket: !isAgentFeature))
    }

    var phase: CallStateMachine.Phase { machine.phase }
    var isAnswered: Bool { machine.isAnswered }
}

/// The timers a call can have armed, keyed so each kind has at most one.
enum CallTimer: Hashable {
    init(_ timer: CallStateMachine.Timer) {
        switch timer {
        case .answerRetransmit: self = .answerRetransmit
        case .ackTimeout: self = .ackTimeout
        case .maxDuration: self = .maxDuration
        }
    }

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
