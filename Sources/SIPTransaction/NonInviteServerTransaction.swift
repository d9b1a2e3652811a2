import SIPCore

/// The non-INVITE server transaction (RFC 3261 §17.2.2): absorbs request retransmissions by
/// replaying the last response, and lingers for Timer J so late retransmissions still get it.
public struct NonInviteServerTransaction: Sendable {
    public enum State: Hashable, Sendable { case trying, proceeding, completed, terminated }

    public enum Event: Sendable {
        case receivedRetransmission
        case respond(SIPResponse)
        case timerFired(SIPTimer)
        case transportError
    }

    public enum Action: Equatable, Sendable {
        case send(SIPResponse)
        case startTimer(SIPTimer, Duration)
        case reportTransportError
        case terminated
    }

    public private(set) var state: State = .trying
    public private(set) var lastResponse: SIPResponse?
    public let timers: SIPTimerConfiguration

    public init(timers: SIPTimerConfiguration = .rfc3261) { self.timers = timers }

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.trying, .receivedRetransmission):
            return [] // §17.2.2: discarded in Trying
        case (.proceeding, .receivedRetransmission), (.completed, .receivedRetransmission):
            return lastResponse.map { [.send($0)] } ?? []
        case (.trying, .respond(let r)), (.proceeding, .respond(let r)):
            lastResponse = r
            if r.status.isProvisional {
                state = .proceeding
                return [.send(r)]
            }
            state = .completed
            return [.send(r), .startTimer(.j, timers.reliable ? .zero : timers.transactionTimeout)]
        case (.completed, .timerFired(.j)):
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
