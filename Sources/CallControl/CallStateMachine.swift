// CallControl: one inbound call's life as a sans-IO state machine, tested without sockets.
// This file: the machine's phases, events and actions, and how it answers (ticket commit and RTP
// socket first), keeps its 2xx alive, takes re-INVITEs and follows the agent leg.
import Dialplan
import Foundation
import SIPCore
import SIPDialog
import SIPTransaction

/// One inbound call, from its INVITE to its ticket: decides when to answer, when and how the
/// call ends, and what its ticket records. The server feeds it what happened (SIP requests,
/// dialplan commands, the ticket commit, the RTP socket, the agent leg, timers) with `now`, and
/// carries out the actions it returns, in order. Everything that needs sockets, SDP or the
/// ticket store stays with the server; this is where the races between them are decided.
///
/// **Answering.** The 200 OK leaves only once the ticket is committed and the RTP socket is
/// bound, so a crash cannot lose an answered call; dialplan commands after `answer` wait for it.
///
/// **Ending.** A call ends once, whatever crosses what: every ending stops its agent leg at
/// most once, sends one final response (or BYE), and finishes (or records) one ticket. A call
/// that ends before its 200 OK left gets a final response and a ticket without `answered_at`,
/// even if its ticket was already opened as answered.
public struct CallStateMachine: Sendable {
    public enum Phase: Hashable, Sendable {
        /// INVITE received, not answered (maybe ringing).
        case setup
        /// The dialplan said answer; waiting for the ticket commit and the RTP socket.
        case answering
        /// 200 OK sent.
        case answered
        /// Answered, and an agent's leg answered and bridged to it.
        case bridged
        /// Over; no event changes anything any more.
        case ended
    }

    /// The machine's own timers; the server schedules them and sends ``Event/timerFired(_:)``.
    public enum Timer: Hashable, Sendable {
        /// Resend the 2xx (RFC 3261 §13.3.1.4).
        case answerRetransmit
        /// Give up waiting for the 2xx's ACK (64·T1).
        case ackTimeout
        /// The longest a call may last.
        case maxDuration
    }

    public enum TicketState: Hashable, Sendable {
        /// Not opened: an ending records the whole ticket in one go.
        case none
        /// Open submitted, commit not seen yet.
        case opening
        case committed
        /// No ticket at all (an agent's feature-code call).
        case notKept
    }

    public enum MediaState: Hashable, Sendable { case binding, open, failed }

    public enum AgentLegState: Hashable, Sendable {
        case none
        /// Our INVITE to an agent is out (or its socket is binding).
        case offered
        /// The agent answered; bridged to the caller.
        case bridged
    }

    public struct Configuration: Hashable, Sendable {
        public var maxDuration: Duration
        public var sipTimers: SIPTimerConfiguration
        /// The version of the dialplan this call runs on (not the newest published): every
        /// ticket of the call names it.
        public var dialplanVersion: String
        /// False for an agent's feature-code call: not a citizen's call, no ticket.
        public var keepsTicket: Bool

        public init(maxDuration: Duration, sipTimers: SIPTimerConfiguration = .rfc3261, dialplanVersion: String,
                    keepsTicket: Bool = true) {
            self.maxDuration = maxDuration
            self.sipTimers = sipTimers
            self.dialplanVersion = dialplanVersion
            self.keepsTicket = keepsTicket
        }
    }

    public enum Event: Sendable {
        /// The INVITE was accepted as a call (the machine was just made for it).
        case receivedInvite
        /// Commands from the call's dialplan execution, in order.
        case dialplanIssued([DialplanCommand])
        case ticketCommitted
        case ticketFailed
        /// The call's RTP socket is bound and our SDP is built.
        case mediaOpened
        case mediaFailed
        /// The server sent the 2xx that ``Action/sendAnswer`` or ``Action/answerReinvite`` asked for.
        case answerSent(SIPResponse)
        case receivedACK
        /// A CANCEL for the INVITE (the endpoint has already answered it 200, RFC 3261 §9.2).
        case receivedCancel
        /// A BYE in the dialog (already answered 200); the dialplan's disposition if it has one.
        case receivedBye(dialplanDisposition: Disposition?)
        /// A re-INVITE in the dialog, its CSeq already checked.
        case receivedReinvite
        /// An agent leg was started for this call.
        case agentLegOffered
        /// The agent answered, with usable SDP.
        case agentLegAnswered
        /// The agent leg failed before an answer (busy, no answer, unreachable).
        case agentLegFailed
        /// The agent leg was ended from elsewhere (the ACD withdrew or released it).
        case agentLegEnded
        /// A BYE from the bridged agent's phone.
        case agentHungUp
        /// End the call (queue outcome, ACK without usable SDP, drain...). `finalStatus` is
        /// the INVITE's if it was not answered (487 if nil).
        case hangupRequested(Disposition, finalStatus: SIPStatus? = nil)
        case timerFired(Timer)
    }

    public enum Action: Equatable, Sendable {
        case startTimer(Timer, Duration)
        case cancelTimer(Timer)
        /// 180 Ringing to the INVITE.
        case sendRinging
        /// Open the call's ticket as answered, before the 200 OK.
        case openTicket(TicketOpening)
        /// 200 OK with our SDP to the INVITE; then report ``Event/answerSent(_:)``.
        case sendAnswer
        /// Send the 2xx again (to the INVITE or re-INVITE awaiting its ACK).
        case retransmitAnswer(SIPResponse)
        /// Dialplan commands the server carries out itself (prompts, timers, queues...).
        case runDialplanCommands([DialplanCommand])
        /// 200 OK to the re-INVITE with our SDP (the current one, or an answer to its offer);
        /// then report ``Event/answerSent(_:)``.
        case answerReinvite
        case rejectReinvite(SIPStatus)
        /// Bridge the answered agent leg to the caller.
        case bridgeAgentLeg
        /// BYE to the agent leg.
        case hangUpAgentLeg
        /// Withdraw the unanswered agent leg (CANCEL, RFC 3261 §9.1).
        case cancelAgentLeg
        // The ending, in this order.
        /// Stop the recordings running (and keep what was said).
        case stopRecordings
        /// Tell the ACD the caller is gone; the queue record goes with the ticket.
        case leaveQueue
        case closeMedia
        /// The final (failure) response to the unanswered INVITE.
        case sendFinalResponse(SIPStatus)
        case sendBye
        /// Complete the ticket opened by ``openTicket(_:)``.
        case finishTicket(TicketFinish)
        /// Write the whole ticket of a call that never opened one.
        case recordTicket(TicketRecord)
        /// Drop the call and its timers.
        case forget
    }

    public struct TicketOpening: Hashable, Sendable {
        public var answeredAt: Date
        public var dialplanVersion: String

        public init(answeredAt: Date, dialplanVersion: String) {
            self.answeredAt = answeredAt
            self.dialplanVersion = dialplanVersion
        }
    }

    public struct TicketFinish: Hashable, Sendable {
        public var disposition: Disposition
        public var sipStatus: Int
        /// When the 200 OK left; nil if it never did, and then the `answered_at` the ticket
        /// was opened with must be cleared.
        public var answeredAt: Date?
        public var endedAt: Date

        public init(disposition: Disposition, sipStatus: Int, answeredAt: Date?, endedAt: Date) {
            self.disposition = disposition
            self.sipStatus = sipStatus
            self.answeredAt = answeredAt
            self.endedAt = endedAt
        }
    }

    public struct TicketRecord: Hashable, Sendable {
        public var disposition: Disposition
        public var sipStatus: Int
        public var endedAt: Date
        public var dialplanVersion: String

        public init(disposition: Disposition, sipStatus: Int, endedAt: Date, dialplanVersion: String) {
            self.disposition = disposition
            self.sipStatus = sipStatus
            self.endedAt = endedAt
            self.dialplanVersion = dialplanVersion
        }
    }

    public let configuration: Configuration
    public private(set) var phase: Phase = .setup
    public private(set) var ticket: TicketState
    public private(set) var media: MediaState = .binding
    public private(set) var agentLeg: AgentLegState = .none
    /// When the dialplan said answer, then when the 200 OK left.
    public private(set) var answeredAt: Date?
    public private(set) var disposition: Disposition?
    /// Dialplan commands that came after `answer`: run once the 200 has left.
    public private(set) var deferredCommands: [DialplanCommand] = []
    /// Keeps the last 2xx (INVITE or re-INVITE) alive until its ACK.
    public private(set) var answerRetransmission: UASAnswerRetransmission

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.ticket = configuration.keepsTicket ? .none : .notKept
        self.answerRetransmission = UASAnswerRetransmission(timers: configuration.sipTimers)
    }

    public var isAnswered: Bool { phase == .answered || phase == .bridged }

    public mutating func event(_ event: Event, now: Date) -> [Action] {
        guard phase != .ended else { return [] }
        switch event {
        case .receivedInvite:
            return [.startTimer(.maxDuration, configuration.maxDuration)]
        case .dialplanIssued(let commands):
            return run(commands, now: now)
        case .ticketCommitted:
            guard ticket == .opening else { return [] }
            ticket = .committed
            return tryToAnswer(now: now)
        case .ticketFailed:
            guard ticket == .opening else { return [] }
            ticket = .none // nothing was written: the ending records the ticket whole
            return end(.rejected, sendBye: false, finalStatus: .serverInternalError, now: now)
        case .mediaOpened:
            guard media == .binding else { return [] }
            media = .open
            return tryToAnswer(now: now)
        case .mediaFailed:
            guard media == .binding else { return [] }
            media = .failed
            if phase == .setup { return end(.mediaError, sendBye: false, finalStatus: .serviceUnavailable, now: now) }
            return tryToAnswer(now: now)
        case .answerSent(let response):
            guard isAnswered else { return [] }
            answerRetransmission = UASAnswerRetransmission(timers: configuration.sipTimers)
            return retransmission(.sent(response), now: now)
        case .receivedACK:
            guard isAnswered else { return [] }
            return retransmission(.receivedACK, now: now)
        case .receivedCancel:
            // After the 200 the CANCEL changes nothing (RFC 3261 §9.2): the call goes on.
            guard !isAnswered else { return [] }
            return end(.cancelled, sendBye: false, finalStatus: .requestTerminated, now: now)
        case .receivedBye(let dialplanDisposition):
            // §15.1.2: a BYE before our final response gets its INVITE a 487.
            return end(dialplanDisposition ?? .callerHangup, sendBye: false, finalStatus: nil, now: now)
        case .receivedReinvite:
            guard isAnswered else { return [.rejectReinvite(.callOrTransactionDoesNotExist)] }
            // §14.2: one INVITE transaction at a time per dialog; ours lasts until its ACK.
            if answerRetransmission.state == .waitingForACK { return [.rejectReinvite(.requestPending)] }
            return [.answerReinvite]
        case .agentLegOffered:
            guard phase == .answered, agentLeg == .none else { return [] }
            agentLeg = .offered
            return []
        case .agentLegAnswered:
            guard phase == .answered, agentLeg == .offered else { return [.hangUpAgentLeg] }
            agentLeg = .bridged
            phase = .bridged
            return [.bridgeAgentLeg]
        case .agentLegFailed:
            if agentLeg == .offered { agentLeg = .none }
            return []
        case .agentLegEnded:
            agentLeg = .none
            if phase == .bridged { phase = .answered }
            return []
        case .agentHungUp:
            guard agentLeg == .bridged else { return [] }
            agentLeg = .none
            phase = .answered
            return end(.agentHangup, sendBye: true, finalStatus: nil, now: now)
        case .hangupRequested(let disposition, let finalStatus):
            return end(disposition, sendBye: true, finalStatus: finalStatus, now: now)
        case .timerFired(.answerRetransmit):
            return retransmission(.timerFired(.retransmit), now: now)
        case .timerFired(.ackTimeout):
            return retransmission(.timerFired(.ackTimeout), now: now)
        case .timerFired(.maxDuration):
            return end(.maxDuration, sendBye: true, finalStatus: nil, now: now)
        }
    }

    // MARK: dialplan commands

    /// Binds the dialplan's SIP commands (ring, answer, hangup) and passes the rest on; while
    /// answering, everything waits for the 200 OK, so the caller never misses a prompt's start.
    private mutating func run(_ commands: [DialplanCommand], now: Date) -> [Action] {
        var actions: [Action] = []
        var batch: [DialplanCommand] = []
        func flush() {
            if !batch.isEmpty { actions.append(.runDialplanCommands(batch)) }
            batch = []
        }
        for command in commands {
            guard phase != .ended else { break }
            if phase == .answering {
                deferredCommands.append(command)
                continue
            }
            switch command {
            case .ring:
                guard phase == .setup else { continue }
                flush()
                actions.append(.sendRinging)
            case .answer:
                flush()
                actions += beginAnswer(now: now)
            case .hangup(let disposition):
                flush()
                actions += end(disposition, sendBye: true, finalStatus: nil, now: now)
            default:
                batch.append(command)
            }
        }
        flush()
        return actions
    }

    // MARK: answering

    private mutating func beginAnswer(now: Date) -> [Action] {
        guard phase == .setup else { return [] }
        phase = .answering
        answeredAt = now
        guard ticket == .none else { return tryToAnswer(now: now) } // no ticket to commit first
        ticket = .opening
        return [.openTicket(TicketOpening(answeredAt: now, dialplanVersion: configuration.dialplanVersion))]
    }

    private mutating func tryToAnswer(now: Date) -> [Action] {
        guard phase == .answering, ticket == .committed || ticket == .notKept else { return [] }
        switch media {
        case .binding:
            return []
        case .failed:
            return end(.mediaError, sendBye: false, finalStatus: .serviceUnavailable, now: now)
        case .open:
            phase = .answered
            answeredAt = now
            let deferred = deferredCommands
            deferredCommands = []
            return [.sendAnswer] + run(deferred, now: now)
        }
    }

    private mutating func retransmission(_ event: UASAnswerRetransmission.Event, now: Date) -> [Action] {
        var actions: [Action] = []
        for action in answerRetransmission.event(event) {
            switch action {
            case .send(let response): actions.append(.retransmitAnswer(response))
            case .startTimer(.retransmit, let d): actions.append(.startTimer(.answerRetransmit, d))
            case .startTimer(.ackTimeout, let d): actions.append(.startTimer(.ackTimeout, d))
            case .cancelTimer(.retransmit): actions.append(.cancelTimer(.answerRetransmit))
            case .cancelTimer(.ackTimeout): actions.append(.cancelTimer(.ackTimeout))
            case .reportACKTimeout: actions += end(.noACK, sendBye: true, finalStatus: nil, now: now)
            }
        }
        return actions
    }

    // MARK: ending

    /// The one ending of the call. `sendBye` only matters once answered; `finalStatus` only
    /// before (487 if nil).
    private mutating func end(_ disposition: Disposition, sendBye: Bool, finalStatus: SIPStatus?, now: Date) -> [Action] {
        guard phase != .ended else { return [] }
        let wasAnswered = isAnswered
        var actions: [Action] = [.stopRecordings]
        switch agentLeg {
        case .none: break
        case .offered: actions.append(.cancelAgentLeg)
        case .bridged: actions.append(.hangUpAgentLeg)
        }
        agentLeg = .none
        actions += [.leaveQueue, .closeMedia]
        phase = .ended
        self.disposition = disposition
        var status = 200
        if !wasAnswered {
            let final = finalStatus ?? .requestTerminated
            status = final.rawValue
            actions.append(.sendFinalResponse(final))
        } else if sendBye {
            actions.append(.sendBye)
        }
        switch ticket {
        case .notKept:
            break
        case .opening, .committed:
            actions.append(.finishTicket(TicketFinish(disposition: disposition, sipStatus: status,
                                                      answeredAt: wasAnswered ? answeredAt : nil, endedAt: now)))
        case .none:
            actions.append(.recordTicket(TicketRecord(disposition: disposition, sipStatus: status, endedAt: now,
                                                      dialplanVersion: configuration.dialplanVersion)))
        }
        actions.append(.forget)
        return actions
    }
}

extension Disposition {
    /// The caller hung up (BYE).
    public static let callerHangup: Disposition = "caller_hangup"
    /// The caller sent CANCEL before we answered (we sent 487).
    public static let cancelled: Disposition = "cancelled"
    /// We refused the call (here: its ticket could not be opened).
    public static let rejected: Disposition = "rejected"
    public static let mediaError: Disposition = "media_error"
    /// Our 2xx was never ACKed (RFC 3261 §13.3.1.4).
    public static let noACK: Disposition = "no_ack"
    public static let maxDuration: Disposition = "max_duration"
    /// The agent hung up a bridged call.
    public static let agentHangup: Disposition = "agent_hangup"
    public static let serverShutdown: Disposition = "server_shutdown"
}
