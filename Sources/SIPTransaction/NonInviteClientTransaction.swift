import SIPCore

/// The non-INVITE client transaction (RFC 3261 §17.1.2): retransmits on Timer E (doubling
/// to T2, or T2 once a provisional arrived), gives up on Timer F, lingers on Timer K.
public struct NonInviteClientTransaction: Sendable {
    public enum State: Hashable, Sendable { case trying, proceeding, completed, terminated }

    public enum Event: Sendable {
        case receivedResponse(SIPResponse)
        case timerFired(SIPTimer)
        case transportError
    }

    public enum Action: Equatable, Sendable {
        case send(SIPRequest)
        case startTimer(SIPTimer, Duration)
        case cancelTimer(SIPTimer)
        case deliver(SIPResponse)
        /// Timer F fired: the TU treats it as a 408 (§8.1.3.1).
        case reportTimeout
        case reportTransportError
        case terminated
    }

    public private(set) var state: State = .trying
    public let request: SIPRequest
    public let timers: SIPTimerConfiguration
    private var timerEInterval: Duration

    public init(request: SIPRequest, timers: SIPTimerConfiguration = .rfc3261) {
        self.request = request
        self.timers = timers
        self.timerEInterval = timers.t1
    }

    /// Sends the request and arms the timers.
    public mutating func start() -> [Action] {
        var actions: [Action] = [.send(request)]
        if !timers.reliable { actions.append(.startTimer(.e, timerEInterval)) }
        actions.append(.startTimer(.f, timers.transactionTimeout))
        return actions
    }

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.trying, .timerFired(.e)), (.proceeding, .timerFired(.e)):
            timerEInterval = state == .proceeding ? timers.t2 : min(timerEInterval * 2, timers.t2)
            return [.send(request), .startTimer(.e, timerEInterval)]
        case (.trying, .timerFired(.f)), (.proceeding, .timerFired(.f)):
            state = .terminated
            return [.cancelTimer(.e), .reportTimeout, .terminated]
        case (.trying, .receivedResponse(let r)), (.proceeding, .receivedResponse(let r)):
            if r.status.isProvisional {
                state = .proceeding
                return [.deliver(r)]
            }
            state = .completed
            return [.cancelTimer(.e), .cancelTimer(.f), .deliver(r), .startTimer(.k, timers.reliable ? .zero : timers.t4)]
        case (.completed, .timerFired(.k)):
            state = .terminated
            return [.terminated]
        case (.completed, .receivedResponse):
            return [] // retransmitted final responses are absorbed
        case (.terminated, _):
            return []
        case (_, .transportError):
            state = .terminated
            return [.cancelTimer(.e), .cancelTimer(.f), .reportTransportError, .terminated]
        default:
            return []
        }
    }
}
