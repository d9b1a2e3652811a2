import SIPCore

/// The INVITE server transaction (RFC 3261 §17.2.1, with the Accepted state of RFC 6026 §7.1).
///
/// ```
///   INVITE → Proceeding ──1xx──▶ Proceeding
///                │ 2xx            │ 300-699
///                ▼                ▼
///            Accepted         Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
///      (Timer L) │            (G: resend, H: give up)
///                ▼
///           Terminated
/// ```
/// 2xx retransmissions are the UAS core's job (§13.3.1.4), not this machine's.
public struct InviteServerTransaction: Sendable {
    public enum State: Hashable, Sendable { case proceeding, accepted, completed, confirmed, terminated }

    public enum Event: Sendable {
        /// The INVITE arrived again (a retransmission).
        case receivedRetransmission
        /// An ACK matched this transaction (for a non-2xx final response, or a 2xx ACK that
        /// reused the branch).
        case receivedACK(SIPRequest)
        /// The TU responds.
        case respond(SIPResponse)
        case timerFired(SIPTimer)
        case transportError
    }

    public enum Action: Equatable, Sendable {
        case send(SIPResponse)
        case startTimer(SIPTimer, Duration)
        case cancelTimer(SIPTimer)
        /// Hand an ACK to the TU (RFC 6026: ACKs in Accepted go to the TU).
        case passACKToTU(SIPRequest)
        /// Timer H fired: no ACK came for our failure response.
        case reportTimeout
        case reportTransportError
        case terminated
    }

    public private(set) var state: State = .proceeding
    public private(set) var lastResponse: SIPResponse?
    public let timers: SIPTimerConfiguration
    private var timerGInterval: Duration

    public init(timers: SIPTimerConfiguration = .rfc3261) {
        self.timers = timers
        self.timerGInterval = timers.t1
    }

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.proceeding, .receivedRetransmission):
            // §17.2.1: resend the most recent provisional response.
            return lastResponse.map { [.send($0)] } ?? []
        case (.proceeding, .respond(let response)):
            if response.status.isProvisional {
                lastResponse = response
                return [.send(response)]
            }
            if response.status.isSuccess {
                // Accepted never resends it (the core does, §13.3.1.4), and the transaction
                // lingers for Timer L (32 s): keeping the 2xx and its SDP for nothing is what
                // made memory follow the call rate.
                lastResponse = nil
                state = .accepted
                return [.send(response), .startTimer(.l, timers.transactionTimeout)]
            }
            lastResponse = response
            state = .completed
            var actions: [Action] = [.send(response)]
            if !timers.reliable { actions.append(.startTimer(.g, timerGInterval)) }
            actions.append(.startTimer(.h, timers.transactionTimeout))
            return actions

        case (.accepted, .receivedRetransmission):
            return [] // absorbed; the core retransmits the 2xx (RFC 6026 §8.5)
        case (.accepted, .respond(let response)) where response.status.isSuccess:
            return [.send(response)]
        case (.accepted, .receivedACK(let ack)):
            return [.passACKToTU(ack)]
        case (.accepted, .timerFired(.l)):
            state = .terminated
            return [.terminated]

        case (.completed, .receivedRetransmission):
            return lastResponse.map { [.send($0)] } ?? []
        case (.completed, .timerFired(.g)):
            timerGInterval = min(timerGInterval * 2, timers.t2)
            return (lastResponse.map { [.send($0)] } ?? []) + [.startTimer(.g, timerGInterval)]
        case (.completed, .timerFired(.h)):
            state = .terminated
            return [.cancelTimer(.g), .reportTimeout, .terminated]
        case (.completed, .receivedACK):
            state = .confirmed
            let wait: Duration = timers.reliable ? .zero : timers.t4
            return [.cancelTimer(.g), .cancelTimer(.h), .startTimer(.i, wait)]

        case (.confirmed, .receivedACK), (.confirmed, .receivedRetransmission):
            return [] // absorbed
        case (.confirmed, .timerFired(.i)):
            state = .terminated
            return [.terminated]

        case (.terminated, _):
            return []
        case (_, .transportError):
            state = .terminated
            return [.reportTransportError, .terminated]
        default:
            return []
        }
    }
}
