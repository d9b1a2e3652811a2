import SIPCore

/// The INVITE client transaction (RFC 3261 §17.1.1, with Accepted/Timer M of RFC 6026):
/// used when Hotline calls out (agent legs, the load generator). It ACKs non-2xx final
/// responses itself; a 2xx is the TU's to ACK.
public struct InviteClientTransaction: Sendable {
    public enum State: Hashable, Sendable { case calling, proceeding, accepted, completed, terminated }

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
        case reportTimeout
        case reportTransportError
        case terminated
    }

    public private(set) var state: State = .calling
    public let request: SIPRequest
    public let timers: SIPTimerConfiguration
    private var timerAInterval: Duration
    private var ack: SIPRequest?

    public init(request: SIPRequest, timers: SIPTimerConfiguration = .rfc3261) {
        self.request = request
        self.timers = timers
        self.timerAInterval = timers.t1
    }

    public mutating func start() -> [Action] {
        var actions: [Action] = [.send(request)]
        if !timers.reliable { actions.append(.startTimer(.a, timerAInterval)) }
        actions.append(.startTimer(.b, timers.transactionTimeout))
        return actions
    }

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.calling, .timerFired(.a)):
            timerAInterval = timerAInterval * 2
            return [.send(request), .startTimer(.a, timerAInterval)]
        case (.calling, .timerFired(.b)):
            state = .terminated
            return [.cancelTimer(.a), .reportTimeout, .terminated]
        case (.calling, .receivedResponse(let r)), (.proceeding, .receivedResponse(let r)):
            if r.status.isProvisional {
                let wasCalling = state == .calling
                state = .proceeding
                return wasCalling ? [.cancelTimer(.a), .cancelTimer(.b), .deliver(r)] : [.deliver(r)]
            }
            if r.status.isSuccess {
                state = .accepted
                return [.cancelTimer(.a), .cancelTimer(.b), .deliver(r), .startTimer(.m, timers.transactionTimeout)]
            }
            state = .completed
            let ack = InviteClientTransaction.ack(for: request, response: r)
            self.ack = ack
            return [.cancelTimer(.a), .cancelTimer(.b), .send(ack), .deliver(r),
                    .startTimer(.d, timers.reliable ? .zero : .seconds(32))]
        case (.accepted, .receivedResponse(let r)) where r.status.isSuccess:
            return [.deliver(r)] // 2xx retransmissions go to the TU, which re-ACKs
        case (.accepted, .timerFired(.m)):
            state = .terminated
            return [.terminated]
        case (.completed, .receivedResponse(let r)) where r.status.isFinal && !r.status.isSuccess:
            return ack.map { [.send($0)] } ?? []
        case (.completed, .timerFired(.d)):
            state = .terminated
            return [.terminated]
        case (.terminated, _):
            return []
        case (_, .transportError):
            state = .terminated
            return [.cancelTimer(.a), .cancelTimer(.b), .reportTransportError, .terminated]
        default:
            return []
        }
    }

    /// The ACK for a non-2xx final response (§17.1.1.3): same Request-URI, Call-ID, From,
    /// CSeq number, top Via and Route as the INVITE; To from the response.
    public static func ack(for invite: SIPRequest, response: SIPResponse) -> SIPRequest {
        var headers = SIPHeaders()
        if let via = invite.headers.values(.via).first { headers.append(.via, via) }
        for route in invite.headers.values(.route) { headers.append(.route, route) }
        if let from = invite.headers[.from] { headers.append(.from, from) }
        if let to = response.headers[.to] { headers.append(.to, to) }
        if let callID = invite.headers[.callID] { headers.append(.callID, callID) }
        headers.append(.cseq, SIPCSeq(invite.cseq?.sequence ?? 1, .ack).description)
        headers.append(.maxForwards, "70")
        return SIPRequest(method: .ack, uri: invite.uri, headers: headers)
    }
}
