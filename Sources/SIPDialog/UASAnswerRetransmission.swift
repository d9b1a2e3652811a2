import SIPCore
import SIPTransaction

/// Keeps a 2xx to an INVITE alive until its ACK arrives (RFC 3261 §13.3.1.4): the UAS core,
/// not the transaction, retransmits it at T1, 2·T1, … capped at T2, and gives up after
/// 64·T1, when the dialog must be ended with a BYE.
public struct UASAnswerRetransmission: Sendable {
    public enum State: Hashable, Sendable { case idle, waitingForACK, confirmed, timedOut }

    public enum Timer: Hashable, Sendable {
        /// Resend the 2xx (the Timer G schedule, applied to 2xx by §13.3.1.4).
        case retransmit
        /// Stop waiting for the ACK (64·T1, the Timer H value).
        case ackTimeout
    }

    public enum Event: Sendable {
        case sent(SIPResponse)
        case receivedACK
        case timerFired(Timer)
    }

    public enum Action: Equatable, Sendable {
        case send(SIPResponse)
        case startTimer(Timer, Duration)
        case cancelTimer(Timer)
        /// No ACK came: end the session with BYE.
        case reportACKTimeout
    }

    public private(set) var state: State = .idle
    public let timers: SIPTimerConfiguration
    private var response: SIPResponse?
    private var interval: Duration

    public init(timers: SIPTimerConfiguration = .rfc3261) {
        self.timers = timers
        self.interval = timers.t1
    }

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.idle, .sent(let r)):
            response = r
            state = .waitingForACK
            var actions: [Action] = []
            if !timers.reliable { actions.append(.startTimer(.retransmit, interval)) }
            actions.append(.startTimer(.ackTimeout, timers.transactionTimeout))
            return actions
        case (.waitingForACK, .timerFired(.retransmit)):
            interval = min(interval * 2, timers.t2)
            return (response.map { [.send($0)] } ?? []) + [.startTimer(.retransmit, interval)]
        case (.waitingForACK, .receivedACK):
            state = .confirmed
            return [.cancelTimer(.retransmit), .cancelTimer(.ackTimeout)]
        case (.waitingForACK, .timerFired(.ackTimeout)):
            state = .timedOut
            return [.cancelTimer(.retransmit), .reportACKTimeout]
        default:
            return []
        }
    }
}
