import RTP
import SDP
import SIPCore
import SIPDialog
import SIPTransaction
import Timers

/// The timers a caller runs besides the transaction layer's.
public enum UACTimer: Hashable, Sendable, CaseIterable {
    /// The next key is due.
    case key
    /// The caller's hold time is over (`hangup: caller`).
    case hangup
    /// The server's BYE is overdue (`hangup: server`).
    case byeTimeout
    /// The call has run for `maxCallDuration`.
    case maxDuration
}

/// One caller (a SIP UAC, RFC 3261 §8.1, §13.2, §15): INVITE with an SDP offer, ACK for the 2xx,
/// keys by SIP INFO or over RTP, BYE from either side. Sans-IO: events in (responses, requests,
/// timers, each with `now`), actions out (messages to send, timers, media). The transaction
/// layer (``SIPEndpoint``) retransmits and times out requests; this machine owns the dialog.
public struct UACStateMachine: Sendable {
    public struct Configuration: Sendable {
        /// `sip:12345@127.0.0.1:5060`.
        public var requestURI: SIPURI
        /// Our SIP socket's address, for Via and Contact.
        public var localHost: String
        public var localPort: Int
        /// The From user (the "caller number" the server tickets).
        public var callerUser: String
        public var callID: String
        public var localTag: String
        /// Our SDP offer (the RTP address and port are the media layer's).
        public var offer: SessionDescription
        public var behaviour: CallerBehaviour
        /// With `hangup: caller`, this call's draw of the hold time.
        public var holdTime: Duration
        /// The hard limit on a call, answered or not.
        public var maxCallDuration: Duration

        public init(requestURI: SIPURI, localHost: String, localPort: Int, callerUser: String, callID: String, localTag: String,
                    offer: SessionDescription, behaviour: CallerBehaviour, holdTime: Duration, maxCallDuration: Duration = .seconds(300)) {
            self.requestURI = requestURI
            self.localHost = localHost
            self.localPort = localPort
            self.callerUser = callerUser
            self.callID = callID
            self.localTag = localTag
            self.offer = offer
            self.behaviour = behaviour
            self.holdTime = holdTime
            self.maxCallDuration = maxCallDuration
        }
    }

    public enum State: Hashable, Sendable {
        case idle
        /// INVITE sent; `provisional` once a 1xx arrived.
        case inviting(provisional: Bool)
        case answered
        /// Our BYE is out.
        case hangingUp
        case ended
    }

    public enum Event: Sendable {
        case start(now: Instant)
        /// A response to our INVITE (provisional, final, or a retransmitted 2xx).
        case inviteResponse(SIPResponse, now: Instant)
        /// Timer B: no final response.
        case inviteTimedOut(now: Instant)
        /// A response to BYE, INFO or CANCEL.
        case response(SIPResponse, method: SIPMethod, now: Instant)
        /// Timer F for BYE, INFO or CANCEL.
        case requestTimedOut(SIPMethod, now: Instant)
        /// A request from the server in a server transaction (BYE, INFO, OPTIONS...).
        case request(SIPRequest, transaction: SIPTransactionKey, now: Instant)
        case timerFired(UACTimer, now: Instant)
        /// Give up now (the run's drain deadline): CANCEL or BYE, and end as unfinished.
        case abort(now: Instant)
        /// The caller presses a key now (the console phone); appended to the key plan.
        case pressKey(DTMFKey, now: Instant)
        /// The caller hangs up now (the console phone).
        case hangUp(now: Instant)
    }

    public enum Action: Equatable, Sendable {
        /// Send in an INVITE client transaction.
        case sendInvite(SIPRequest)
        /// Send in a non-INVITE client transaction (BYE, INFO, CANCEL).
        case sendRequest(SIPRequest)
        /// Send outside any transaction: the ACK for a 2xx (§13.2.2.4).
        case sendACK(SIPRequest)
        /// Answer a server transaction.
        case respond(SIPResponse, SIPTransactionKey)
        /// The answer is in: open the RTP stream towards the server.
        case startMedia(NegotiatedMedia)
        /// Send a key on the RTP stream (RFC 4733 events or in-band tones).
        case sendDigit(DTMFKey, DTMFMode)
        case startTimer(UACTimer, Duration)
        case cancelTimer(UACTimer)
        case stopMedia
        /// The call is over; nothing more will come from this machine.
        case finished(CallOutcome)
    }

    public let configuration: Configuration
    public private(set) var state: State = .idle
    public private(set) var dialog: SIPDialog?
    public private(set) var outcome: CallOutcome
    private var invite: SIPRequest?
    private var ack: SIPRequest?
    private var keyIndex = 0
    private var manualKeys: [DTMFKey] = []
    private var cancelWanted = false
    private var cancelSent = false
    private var aborted = false
    private var branchCounter = 0
    private var runningTimers: Set<UACTimer> = []

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.outcome = CallOutcome(callID: configuration.callID, behaviour: configuration.behaviour.name, inviteSentAt: .zero,
                                   endedAt: .zero, end: .notAnswered)
    }

    public var behaviour: CallerBehaviour { configuration.behaviour }

    // MARK: events

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.idle, .start(let now)):
            return start(now)

        case (.inviting, .inviteResponse(let response, let now)):
            return inviteResponse(response, now)
        case (.answered, .inviteResponse(let response, _)), (.hangingUp, .inviteResponse(let response, _)):
            // A retransmitted 2xx: its ACK was lost (§13.2.2.4). Another To tag would be a
            // forked answer, which a loopback server never makes: ACK it all the same.
            guard response.status.isSuccess, let ack else { return [] }
            return [.sendACK(ack)]
        case (.inviting, .inviteTimedOut(let now)):
            fail(.inviteTimeout)
            return finish(.notAnswered, now)

        case (.inviting, .response(let response, .cancel, _)):
            _ = response // the INVITE's 487 ends the call, not the CANCEL's 200
            return []
        case (_, .response(let response, .info, _)):
            if !response.status.isProvisional, !response.status.isSuccess { fail(.infoFailed(response.status.rawValue)) }
            return []
        case (_, .requestTimedOut(.info, _)):
            fail(.infoFailed(nil))
            return []
        case (.hangingUp, .response(let response, .bye, let now)):
            guard response.status.isFinal else { return [] }
            // 481 after a BYE crossed the server's own is the race RFC 3261 §15.1.2 allows.
            if !response.status.isSuccess, response.status != .callOrTransactionDoesNotExist {
                fail(.byeFailed(response.status.rawValue))
            }
            return finish(outcome.end, now)
        case (.hangingUp, .requestTimedOut(.bye, let now)):
            fail(.byeFailed(nil))
            return finish(outcome.end, now)

        case (_, .request(let request, let key, let now)):
            return incoming(request, key, now)

        case (.answered, .timerFired(.key, let now)):
            runningTimers.remove(.key)
            return sendNextKey(now)
        case (.answered, .timerFired(.hangup, let now)):
            runningTimers.remove(.hangup)
            return hangUp(now, end: .callerBye)
        case (.answered, .timerFired(.byeTimeout, let now)):
            runningTimers.remove(.byeTimeout)
            fail(.missingBye)
            return hangUp(now, end: .callerBye)
        case (.inviting, .timerFired(.maxDuration, let now)):
            runningTimers.remove(.maxDuration)
            fail(.maxDuration)
            return cancel(now)
        case (.answered, .timerFired(.maxDuration, let now)):
            runningTimers.remove(.maxDuration)
            fail(.maxDuration)
            return hangUp(now, end: .callerBye)
        case (.hangingUp, .timerFired(.maxDuration, let now)):
            // Our BYE's transaction should have ended it (Timer F is 32 s); do not wait more.
            runningTimers.remove(.maxDuration)
            return finish(outcome.end, now)

        case (.inviting, .abort(let now)):
            aborted = true
            fail(.unfinished)
            return cancel(now)
        case (.answered, .abort(let now)):
            fail(.unfinished)
            return hangUp(now, end: .callerBye)
        case (.hangingUp, .abort(let now)), (.idle, .abort(let now)):
            fail(.unfinished)
            return finish(outcome.end, now)

        case (.answered, .pressKey(let key, let now)):
            manualKeys.append(key)
            return sendKey(key, now)
        case (.inviting, .hangUp(let now)):
            return cancel(now)
        case (.answered, .hangUp(let now)):
            return hangUp(now, end: .callerBye)

        default:
            return []
        }
    }

    // MARK: steps

    private mutating func start(_ now: Instant) -> [Action] {
        let c = configuration
        var headers = SIPHeaders()
        headers.append(.via, makeVia().description)
        headers.append(.maxForwards, "70")
        headers.append(.from, "<sip:\(c.callerUser)@\(c.localHost)>;tag=\(c.localTag)")
        headers.append(.to, "<\(c.requestURI)>")
        headers.append(.callID, c.callID)
        headers.append(.cseq, SIPCSeq(1, .invite).description)
        headers.append(.contact, contact)
        headers.append(.allow, "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO")
        headers.append(.contentType, "application/sdp")
        let request = SIPRequest(method: .invite, uri: c.requestURI, headers: headers, body: Array(c.offer.serialize().utf8))
        invite = request
        state = .inviting(provisional: false)
        outcome.inviteSentAt = now
        return [.sendInvite(request), startTimer(.maxDuration, c.maxCallDuration)]
    }

    private mutating func inviteResponse(_ response: SIPResponse, _ now: Instant) -> [Action] {
        guard let invite else { return [] }
        if outcome.firstResponseAt == nil { outcome.firstResponseAt = now }
        if response.status.isProvisional {
            state = .inviting(provisional: true)
            // §9.1: a CANCEL may go only once a provisional response has come.
            if cancelWanted && !cancelSent { return sendCancel() }
            return []
        }
        outcome.finalStatus = response.status.rawValue
        guard response.status.isSuccess else {
            if cancelSent && response.status == .requestTerminated {
                return finish(.cancelled, now)
            }
            fail(.rejected(response.status.rawValue))
            return finish(.notAnswered, now)
        }
        guard let dialog = SIPDialog(uacFor: invite, response: response) else {
            // A 2xx without a To tag cannot be ACKed in a dialog; treat it as unusable.
            fail(.badAnswer)
            return finish(.notAnswered, now)
        }
        self.dialog = dialog
        let ack = dialog.makeACK(via: makeVia(), inviteSequence: invite.cseq?.sequence ?? 1)
        self.ack = ack
        outcome.answeredAt = now
        state = .answered
        var actions: [Action] = [.sendACK(ack)]
        var negotiated: NegotiatedMedia?
        if response.contentType == "application/sdp", let answer = try? SessionDescription.parse(response.bodyText) {
            negotiated = try? SDPNegotiator().negotiateAnswer(answer: answer, toOffer: configuration.offer)
        }
        guard let negotiated else {
            fail(.badAnswer)
            return actions + hangUp(now, end: .callerBye)
        }
        outcome.negotiated = negotiated
        actions.append(.startMedia(negotiated))
        if cancelWanted || aborted {
            // We wanted out before the answer: the 200 crossed our CANCEL (§9.1).
            return actions + hangUp(now, end: .callerBye)
        }
        if !behaviour.keys.isEmpty { actions.append(startTimer(.key, behaviour.keyDelay)) }
        switch behaviour.hangup {
        case .caller: actions.append(startTimer(.hangup, configuration.holdTime))
        case .server: actions.append(startTimer(.byeTimeout, behaviour.byeTimeout))
        }
        return actions
    }

    private mutating func sendNextKey(_ now: Instant) -> [Action] {
        guard keyIndex < behaviour.keys.count else { return [] }
        let key = behaviour.keys[keyIndex]
        keyIndex += 1
        var actions = sendKey(key, now)
        if keyIndex < behaviour.keys.count { actions.append(startTimer(.key, behaviour.keyDelay)) }
        return actions
    }

    private mutating func sendKey(_ key: DTMFKey, _ now: Instant) -> [Action] {
        outcome.keysSentAt.append(now)
        switch behaviour.dtmf {
        case .info:
            guard var dialog else { return [] }
            let body = Array("Signal=\(key.rawValue)\r\nDuration=160\r\n".utf8)
            let info = dialog.makeRequest(.info, via: makeVia(), contact: try? SIPNameAddress.parse(contact),
                                          extraHeaders: [(.contentType, "application/dtmf-relay")], body: body)
            self.dialog = dialog
            return [.sendRequest(info)]
        case .rfc4733, .inband:
            return [.sendDigit(key, behaviour.dtmf)]
        }
    }

    private mutating func incoming(_ request: SIPRequest, _ key: SIPTransactionKey, _ now: Instant) -> [Action] {
        guard var dialog, let id = SIPDialogID(incoming: request), id == dialog.id, state != .ended else {
            return [.respond(SIPResponse(to: request, status: .callOrTransactionDoesNotExist, toTag: configuration.localTag), key)]
        }
        if dialog.receive(request) == .outOfOrder {
            return [.respond(SIPResponse(to: request, status: .serverInternalError, reasonPhrase: "CSeq out of order"), key)]
        }
        self.dialog = dialog
        switch request.method {
        case .bye:
            var actions: [Action] = [.respond(SIPResponse(to: request, status: .ok), key)]
            let end: CallEnd = state == .hangingUp ? outcome.end : .serverBye
            actions += finish(end, now)
            return actions
        case .options, .info, .notify:
            return [.respond(SIPResponse(to: request, status: .ok), key)]
        case .invite:
            // A re-INVITE: we keep the session as it is (RFC 3261 §14.2 lets us refuse).
            return [.respond(SIPResponse(to: request, status: .notAcceptableHere), key)]
        default:
            var response = SIPResponse(to: request, status: .methodNotAllowed)
            response.headers.append(.allow, "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO")
            return [.respond(response, key)]
        }
    }

    private mutating func hangUp(_ now: Instant, end: CallEnd) -> [Action] {
        guard state == .answered, var dialog else { return [] }
        let bye = dialog.makeRequest(.bye, via: makeVia())
        self.dialog = dialog
        state = .hangingUp
        outcome.end = end
        var actions: [Action] = [.stopMedia]
        for timer in [UACTimer.key, .hangup, .byeTimeout] where runningTimers.contains(timer) {
            runningTimers.remove(timer)
            actions.append(.cancelTimer(timer))
        }
        actions.append(.sendRequest(bye))
        return actions
    }

    private mutating func cancel(_ now: Instant) -> [Action] {
        guard case .inviting(let provisional) = state else { return [] }
        cancelWanted = true
        if provisional { return sendCancel() }
        if aborted || outcome.failure == .maxDuration {
            // Nothing heard yet, so no CANCEL may go (§9.1): let the transaction time out
            // on its own and report now.
            return finish(.notAnswered, now)
        }
        return []
    }

    private mutating func sendCancel() -> [Action] {
        guard let invite, !cancelSent else { return [] }
        cancelSent = true
        // §9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via as the INVITE.
        var headers = SIPHeaders()
        if let via = invite.headers.values(.via).first { headers.append(.via, via) }
        headers.append(.maxForwards, "70")
        if let from = invite.headers[.from] { headers.append(.from, from) }
        if let to = invite.headers[.to] { headers.append(.to, to) }
        headers.append(.callID, configuration.callID)
        headers.append(.cseq, SIPCSeq(invite.cseq?.sequence ?? 1, .cancel).description)
        return [.sendRequest(SIPRequest(method: .cancel, uri: invite.uri, headers: headers))]
    }

    private mutating func finish(_ end: CallEnd, _ now: Instant) -> [Action] {
        guard state != .ended else { return [] }
        let wasMediaUp = state == .answered || state == .hangingUp
        state = .ended
        outcome.end = end
        outcome.endedAt = now
        var actions: [Action] = []
        if wasMediaUp { actions.append(.stopMedia) }
        for timer in UACTimer.allCases where runningTimers.contains(timer) { actions.append(.cancelTimer(timer)) }
        runningTimers = []
        actions.append(.finished(outcome))
        return actions
    }

    private mutating func fail(_ cause: FailureCause) {
        if outcome.failure == nil { outcome.failure = cause }
    }

    private mutating func startTimer(_ timer: UACTimer, _ duration: Duration) -> Action {
        runningTimers.insert(timer)
        return .startTimer(timer, duration)
    }

    private mutating func makeVia() -> SIPVia {
        branchCounter += 1
        return SIPVia(host: configuration.localHost, port: configuration.localPort,
                      branch: SIPVia.magicCookie + configuration.localTag + "." + String(branchCounter))
    }

    private var contact: String { "<sip:\(configuration.callerUser)@\(configuration.localHost):\(configuration.localPort)>" }
}
