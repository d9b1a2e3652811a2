import RTP
import SDP
import SIPCore
import SIPDialog
import SIPTransaction
import Testing
import Timers
@testable import LoadGen

/// The caller's machine without sockets: events in, actions out.
@Suite struct UACStateMachineTests {
    static let offer = SDPNegotiator().offer(localAddress: "127.0.0.5", localPort: 40000, sessionID: 1, sessionVersion: 1)

    static func machine(_ behaviour: CallerBehaviour = CallerBehaviour(keys: [.three], dtmf: .info), hold: Duration = .seconds(3)) -> UACStateMachine {
        UACStateMachine(configuration: .init(
            requestURI: try! SIPURI.parse("sip:12345@127.0.0.1:5060"), localHost: "127.0.0.5", localPort: 5070,
            callerUser: "13900000001", callID: "call-1", localTag: "tagA", offer: offer, behaviour: behaviour, holdTime: hold,
            maxCallDuration: .seconds(120)))
    }

    static func at(_ ms: UInt64) -> Instant { Instant(nanoseconds: ms * 1_000_000) }

    /// The server's answer to our INVITE, with its SDP.
    static func response(to invite: SIPRequest, _ status: SIPStatus, sdp: Bool = true) -> SIPResponse {
        var r = SIPResponse(to: invite, status: status, toTag: status == .trying ? nil : "srv1")
        if status.isSuccess {
            r.headers.append(.contact, "<sip:12345@127.0.0.1:5060>")
            if sdp {
                let (answer, _) = try! SDPNegotiator().answer(to: offer, localAddress: "127.0.0.1", localPort: 30000, sessionID: 9, sessionVersion: 1)
                r.headers.append(.contentType, "application/sdp")
                r.body = Array(answer.serialize().utf8)
            }
        }
        return r
    }

    static func serverBye(cseq: UInt32 = 1) -> SIPRequest {
        var bye = SIPRequest(method: .bye, uri: try! SIPURI.parse("sip:13900000001@127.0.0.5:5070"))
        bye.headers.append(.via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsrvbye")
        bye.headers.append(.from, "<sip:12345@127.0.0.1:5060>;tag=srv1")
        bye.headers.append(.to, "<sip:13900000001@127.0.0.5>;tag=tagA")
        bye.headers.append(.callID, "call-1")
        bye.headers.append(.cseq, "\(cseq) BYE")
        return bye
    }

    /// Starts the call and returns the INVITE it sends; a test whose machine sends anything
    /// else first fails here instead of passing without checking.
    static func start(_ m: inout UACStateMachine, sourceLocation: SourceLocation = #_sourceLocation) throws -> SIPRequest {
        let actions = m.event(.start(now: at(0)))
        guard case .sendInvite(let invite) = actions.first else {
            Issue.record("the first action is not an INVITE: \(actions)", sourceLocation: sourceLocation)
            throw UnexpectedAction()
        }
        return invite
    }

    /// The request a `.sendRequest` action carries, nil for any other action.
    static func request(_ action: UACStateMachine.Action?) -> SIPRequest? {
        guard case .sendRequest(let request) = action else { return nil }
        return request
    }

    struct UnexpectedAction: Error {}

    static let byeKey = SIPTransactionKey(branch: "z9hG4bKsrvbye", sentBy: "127.0.0.1:5060", method: .bye)

    func sent(_ actions: [UACStateMachine.Action]) -> [SIPRequest] {
        actions.compactMap {
            switch $0 {
            case .sendInvite(let r), .sendRequest(let r), .sendACK(let r): r
            default: nil
            }
        }
    }

    @Test func inviteCarriesTheOfferAndTheCallersIdentity() throws {
        var m = Self.machine()
        let actions = m.event(.start(now: Self.at(0)))
        guard case .sendInvite(let invite) = actions.first else { Issue.record("no INVITE: \(actions)"); return }
        #expect(actions.contains(.startTimer(.maxDuration, .seconds(120))))
        #expect(invite.uri.description == "sip:12345@127.0.0.1:5060")
        #expect(invite.from?.tag == "tagA")
        #expect(invite.from?.uri.user == "13900000001")
        #expect(invite.to?.tag == nil)
        #expect(invite.cseq == SIPCSeq(1, .invite))
        #expect(invite.topVia?.isRFC3261Branch == true)
        #expect(invite.topVia?.sentBy == "127.0.0.5:5070")
        #expect(invite.contacts.first?.uri.port == 5070)
        #expect(invite.contentType == "application/sdp")
        let offer = try SessionDescription.parse(invite.bodyText)
        #expect(offer.media.first?.port == 40000)
        // It goes through our own parser unchanged.
        guard case .request(var parsed) = try SIPMessageParser.parse(datagram: invite.serialized) else { Issue.record("not a request"); return }
        #expect(parsed.headers[.contentLength] == String(invite.body.count))
        parsed.headers.remove(.contentLength)
        #expect(parsed == invite)
        #expect(m.state == .inviting(provisional: false))
    }

    /// INVITE, 100, 200 (ACK, media, key timer), INFO key, 200 to INFO, server BYE: our 200
    /// and the outcome.
    @Test func theKey3FlowByInfoEndsWithTheServersBye() throws {
        var m = Self.machine()
        let invite = try Self.start(&m)
        #expect(m.event(.inviteResponse(Self.response(to: invite, .trying), now: Self.at(1))).isEmpty)
        #expect(m.state == .inviting(provisional: true))

        let answered = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(5)))
        guard case .sendACK(let ack) = answered.first else { Issue.record("no ACK first: \(answered)"); return }
        #expect(ack.cseq == SIPCSeq(1, .ack))
        #expect(ack.to?.tag == "srv1")
        #expect(ack.uri.description == "sip:12345@127.0.0.1:5060", "the 200's Contact")
        #expect(ack.topVia?.branch != invite.topVia?.branch, "a 2xx ACK is a new transaction (§17.1.1.3)")
        guard case .startMedia(let media) = answered[1] else { Issue.record("no media: \(answered)"); return }
        #expect(media.remotePort == 30000)
        #expect(media.telephoneEventPayloadType == 101)
        #expect(answered.contains(.startTimer(.key, .milliseconds(1500))))
        #expect(answered.contains(.startTimer(.byeTimeout, .seconds(60))))
        #expect(m.state == .answered)

        // A retransmitted 200 gets the same ACK again.
        #expect(m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(505))) == [.sendACK(ack)])

        let key = m.event(.timerFired(.key, now: Self.at(1505)))
        guard case .sendRequest(let info) = key.first, key.count == 1 else { Issue.record("no INFO: \(key)"); return }
        #expect(info.method == .info)
        #expect(info.cseq == SIPCSeq(2, .info))
        #expect(info.contentType == "application/dtmf-relay")
        #expect(SIPDTMFInfo.parse(contentType: info.contentType, body: info.body) == .key("3"))
        #expect(m.event(.response(SIPResponse(to: info, status: .ok), method: .info, now: Self.at(1507))).isEmpty)

        let bye = m.event(.request(Self.serverBye(), transaction: Self.byeKey, now: Self.at(3100)))
        guard case .respond(let ok, let tx) = bye.first else { Issue.record("no 200 to BYE: \(bye)"); return }
        #expect(ok.status == .ok)
        #expect(tx == Self.byeKey)
        #expect(bye.contains(.stopMedia))
        #expect(bye.contains(.cancelTimer(.byeTimeout)))
        guard case .finished(let outcome) = bye.last else { Issue.record("not finished: \(bye)"); return }
        #expect(outcome.end == .serverBye)
        #expect(outcome.failure == nil)
        #expect(outcome.setupTime == .milliseconds(5))
        #expect(outcome.keysSentAt == [Self.at(1505)])
        #expect(outcome.finalStatus == 200)
        #expect(m.state == .ended)
    }

    @Test func rfc4733AndInbandKeysAreMediaActions() throws {
        for mode in [DTMFMode.rfc4733, .inband] {
            var m = Self.machine(CallerBehaviour(keys: [.one, .pound], keyDelay: .seconds(1), dtmf: mode))
            let invite = try Self.start(&m)
            _ = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(2)))
            #expect(m.event(.timerFired(.key, now: Self.at(1002))) == [.sendDigit(.one, mode), .startTimer(.key, .seconds(1))])
            #expect(m.event(.timerFired(.key, now: Self.at(2002))) == [.sendDigit(.pound, mode)])
            #expect(m.outcome.keysSentAt.count == 2)
        }
    }

    @Test func callerHangsUpAfterItsHoldTime() throws {
        var m = Self.machine(CallerBehaviour(hangup: .caller), hold: .milliseconds(2500))
        let invite = try Self.start(&m)
        let answered = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(3)))
        #expect(answered.contains(.startTimer(.hangup, .milliseconds(2500))))
        #expect(!answered.contains { if case .startTimer(.key, _) = $0 { true } else { false } })
        let hangup = m.event(.timerFired(.hangup, now: Self.at(2503)))
        #expect(hangup.first == .stopMedia)
        guard case .sendRequest(let bye) = hangup.last else { Issue.record("no BYE: \(hangup)"); return }
        #expect(bye.method == .bye)
        #expect(bye.cseq == SIPCSeq(2, .bye))
        #expect(m.state == .hangingUp)
        let done = m.event(.response(SIPResponse(to: bye, status: .ok), method: .bye, now: Self.at(2504)))
        guard case .finished(let outcome) = done.last else { Issue.record("not finished: \(done)"); return }
        #expect(outcome.end == .callerBye)
        #expect(outcome.failure == nil)
    }

    @Test func aMissingByeIsAFailureAndWeHangUpOurselves() throws {
        var m = Self.machine(CallerBehaviour(hangup: .server, byeTimeout: .seconds(10)))
        let invite = try Self.start(&m)
        _ = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(3)))
        let late = m.event(.timerFired(.byeTimeout, now: Self.at(10_003)))
        guard case .sendRequest(let bye) = late.last, bye.method == .bye else { Issue.record("no BYE: \(late)"); return }
        let done = m.event(.requestTimedOut(.bye, now: Self.at(42_000)))
        guard case .finished(let outcome) = done.last else { Issue.record("not finished: \(done)"); return }
        #expect(outcome.failure == .missingBye, "the first failure is the one reported")
    }

    @Test(arguments: [486, 503, 404])
    func aFailureResponseEndsTheCallWithItsCode(code: Int) throws {
        var m = Self.machine()
        let invite = try Self.start(&m)
        let actions = m.event(.inviteResponse(Self.response(to: invite, SIPStatus(code)), now: Self.at(2)))
        guard case .finished(let outcome) = actions.last else { Issue.record("not finished: \(actions)"); return }
        #expect(outcome.failure == .rejected(code))
        #expect(outcome.failure?.description == String(code))
        #expect(outcome.end == .notAnswered)
        #expect(!outcome.answered)
        #expect(actions.contains(.cancelTimer(.maxDuration)))
        #expect(!actions.contains(.stopMedia))
    }

    @Test func timerBIsATimeout() throws {
        var m = Self.machine()
        _ = m.event(.start(now: Self.at(0)))
        let actions = m.event(.inviteTimedOut(now: Self.at(32_000)))
        guard case .finished(let outcome) = actions.last else { Issue.record("not finished"); return }
        #expect(outcome.failure == .inviteTimeout)
        #expect(outcome.failure?.description == "timeout")
    }

    @Test func aByeForAnotherDialogGets481AndTheCallGoesOn() throws {
        var m = Self.machine()
        let invite = try Self.start(&m)
        _ = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(2)))
        var stranger = Self.serverBye()
        stranger.headers.set(.from, "<sip:12345@127.0.0.1:5060>;tag=other")
        let actions = m.event(.request(stranger, transaction: Self.byeKey, now: Self.at(10)))
        guard case .respond(let response, _) = actions.first else { Issue.record("\(actions)"); return }
        #expect(response.status == .callOrTransactionDoesNotExist)
        #expect(actions.count == 1)
        #expect(m.state == .answered)
    }

    @Test func a200WithoutSDPIsABadAnswerAndIsHungUp() throws {
        var m = Self.machine()
        let invite = try Self.start(&m)
        let actions = m.event(.inviteResponse(Self.response(to: invite, .ok, sdp: false), now: Self.at(2)))
        #expect(sent(actions).map(\.method) == [.ack, .bye])
        #expect(m.outcome.failure == .badAnswer)
    }

    /// Abort before the answer: CANCEL once a provisional came (§9.1), and the 487 ends it.
    @Test func abortWhileRingingCancels() throws {
        var m = Self.machine()
        let invite = try Self.start(&m)
        _ = m.event(.inviteResponse(Self.response(to: invite, .ringing), now: Self.at(1)))
        let abort = m.event(.abort(now: Self.at(5)))
        guard case .sendRequest(let cancel) = abort.first else { Issue.record("no CANCEL: \(abort)"); return }
        #expect(cancel.method == .cancel)
        #expect(cancel.cseq == SIPCSeq(1, .cancel))
        #expect(cancel.topVia?.branch == invite.topVia?.branch, "§9.1: the INVITE's branch")
        let done = m.event(.inviteResponse(Self.response(to: invite, .requestTerminated), now: Self.at(6)))
        guard case .finished(let outcome) = done.last else { Issue.record("not finished: \(done)"); return }
        #expect(outcome.end == .cancelled)
        #expect(outcome.failure == .unfinished)
    }

    @Test func abortBeforeAnyResponseEndsAtOnceWithoutCancel() throws {
        var m = Self.machine()
        _ = m.event(.start(now: Self.at(0)))
        let abort = m.event(.abort(now: Self.at(5)))
        #expect(sent(abort).isEmpty, "no CANCEL before a provisional response (§9.1)")
        guard case .finished(let outcome) = abort.last else { Issue.record("not finished: \(abort)"); return }
        #expect(outcome.failure == .unfinished)
    }

    /// Glare: our BYE and the server's cross. We answer theirs and are done.
    @Test func crossingByes() throws {
        var m = Self.machine(CallerBehaviour(hangup: .caller), hold: .seconds(1))
        let invite = try Self.start(&m)
        _ = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(2)))
        _ = m.event(.timerFired(.hangup, now: Self.at(1002)))
        let actions = m.event(.request(Self.serverBye(), transaction: Self.byeKey, now: Self.at(1003)))
        guard case .respond(let ok, _) = actions.first, case .finished(let outcome) = actions.last else { Issue.record("\(actions)"); return }
        #expect(ok.status == .ok)
        #expect(outcome.end == .callerBye)
        #expect(outcome.failure == nil)
        // The late answer to our BYE (481: the dialog is gone) changes nothing.
        #expect(m.event(.response(SIPResponse(status: .callOrTransactionDoesNotExist), method: .bye, now: Self.at(1004))).isEmpty)
    }

    @Test func aFailedInfoIsRecordedButTheCallGoesOn() throws {
        var m = Self.machine()
        let invite = try Self.start(&m)
        _ = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(2)))
        let info = try #require(Self.request(m.event(.timerFired(.key, now: Self.at(1502))).first), "no INFO")
        _ = m.event(.response(SIPResponse(to: info, status: .unsupportedMediaType), method: .info, now: Self.at(1503)))
        #expect(m.state == .answered)
        #expect(m.outcome.failure == .infoFailed(415))
        #expect(m.outcome.failure?.description == "info_415")
    }

    @Test func optionsInTheDialogIsAnswered() throws {
        var m = Self.machine()
        let invite = try Self.start(&m)
        _ = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(2)))
        var options = Self.serverBye(cseq: 1)
        options.method = .options
        options.headers.set(.cseq, "1 OPTIONS")
        let actions = m.event(.request(options, transaction: Self.byeKey, now: Self.at(3)))
        guard case .respond(let ok, _) = actions.first else { Issue.record("\(actions)"); return }
        #expect(ok.status == .ok)
        #expect(m.state == .answered)
    }

    @Test func theConsoleCanPressKeysAndHangUp() throws {
        var m = Self.machine(CallerBehaviour(dtmf: .rfc4733, byeTimeout: .seconds(3600)))
        let invite = try Self.start(&m)
        _ = m.event(.inviteResponse(Self.response(to: invite, .ok), now: Self.at(2)))
        #expect(m.event(.pressKey(.five, now: Self.at(100))) == [.sendDigit(.five, .rfc4733)])
        let hangup = m.event(.hangUp(now: Self.at(200)))
        #expect(sent(hangup).map(\.method) == [.bye])
    }
}
