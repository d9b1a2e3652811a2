import CallControl
import Dialplan
import Foundation
import SIPCore
import Testing

/// One call's life as events in, actions out: no sockets, no store, time given explicitly.
@Suite struct CallStateMachineTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func at(_ milliseconds: Int) -> Date { t0.addingTimeInterval(Double(milliseconds) / 1000) }
    let ok = SIPResponse(status: .ok)
    let play = DialplanCommand.play(PlaybackID(rawValue: 1), [])

    func makeMachine(version: String = "2026-12-01.1", keepsTicket: Bool = true) -> CallStateMachine {
        CallStateMachine(configuration: .init(maxDuration: .seconds(4 * 3600), dialplanVersion: version, keepsTicket: keepsTicket))
    }

    /// A call answered at 30 ms (ticket committed, socket bound, 200 OK sent), not yet ACKed.
    func answeredCall() -> CallStateMachine {
        var call = makeMachine()
        _ = call.event(.receivedInvite, now: Self.at(0))
        _ = call.event(.mediaOpened, now: Self.at(5))
        _ = call.event(.dialplanIssued([.answer]), now: Self.at(10))
        _ = call.event(.ticketCommitted, now: Self.at(30))
        _ = call.event(.answerSent(ok), now: Self.at(30))
        return call
    }

    /// An answered, ACKed call bridged to an agent's leg.
    func bridgedCall() -> CallStateMachine {
        var call = answeredCall()
        _ = call.event(.receivedACK, now: Self.at(40))
        _ = call.event(.agentLegOffered, now: Self.at(1000))
        #expect(call.event(.agentLegAnswered, now: Self.at(5000)) == [.bridgeAgentLeg])
        #expect(call.phase == .bridged)
        return call
    }

    func ending(_ final: CallStateMachine.Action, ticket: CallStateMachine.Action, agentLeg: CallStateMachine.Action? = nil)
        -> [CallStateMachine.Action]
    {
        [.stopRecordings] + (agentLeg.map { [$0] } ?? []) + [.leaveQueue, .closeMedia, final, ticket, .forget]
    }

    // MARK: answering

    @Test func answersOnlyOnceTheTicketIsCommittedAndTheSocketBound() {
        var call = makeMachine()
        #expect(call.event(.receivedInvite, now: Self.at(0)) == [.startTimer(.maxDuration, .seconds(4 * 3600))])
        #expect(call.event(.dialplanIssued([.ring, .answer, play]), now: Self.at(10))
            == [.sendRinging, .openTicket(.init(answeredAt: Self.at(10), dialplanVersion: "2026-12-01.1"))])
        #expect(call.phase == .answering)
        #expect(call.event(.ticketCommitted, now: Self.at(20)) == [], "the RTP socket is still binding")
        #expect(call.event(.mediaOpened, now: Self.at(25)) == [.sendAnswer, .runDialplanCommands([play])])
        #expect(call.phase == .answered)
        #expect(call.event(.answerSent(ok), now: Self.at(25))
            == [.startTimer(.answerRetransmit, .milliseconds(500)), .startTimer(.ackTimeout, .seconds(32))])
        #expect(call.event(.receivedACK, now: Self.at(40)) == [.cancelTimer(.answerRetransmit), .cancelTimer(.ackTimeout)])
        #expect(call.event(.receivedBye(dialplanDisposition: nil), now: Self.at(9000))
            == [.stopRecordings, .leaveQueue, .closeMedia,
                .finishTicket(.init(disposition: .callerHangup, sipStatus: 200, answeredAt: Self.at(25), endedAt: Self.at(9000))), .forget])
        #expect(call.phase == .ended)
    }

    /// The version of the dialplan the call started on names every ticket of it, whatever
    /// the engine has published since (the machine is given it once, at the INVITE).
    @Test func everyTicketNamesTheDialplanVersionTheCallRunsOn() {
        var answered = makeMachine(version: "v1")
        _ = answered.event(.receivedInvite, now: Self.at(0))
        #expect(answered.event(.dialplanIssued([.answer]), now: Self.at(10))
            == [.openTicket(.init(answeredAt: Self.at(10), dialplanVersion: "v1"))])

        var cancelled = makeMachine(version: "v1")
        _ = cancelled.event(.receivedInvite, now: Self.at(0))
        _ = cancelled.event(.dialplanIssued([.ring]), now: Self.at(1))
        #expect(cancelled.event(.receivedCancel, now: Self.at(3000))
            == ending(.sendFinalResponse(.requestTerminated),
                      ticket: .recordTicket(.init(disposition: .cancelled, sipStatus: 487, endedAt: Self.at(3000), dialplanVersion: "v1"))))

        var refused = makeMachine(version: "v1")
        _ = refused.event(.receivedInvite, now: Self.at(0))
        _ = refused.event(.dialplanIssued([.answer]), now: Self.at(10))
        #expect(refused.event(.ticketFailed, now: Self.at(50))
            == ending(.sendFinalResponse(.serverInternalError),
                      ticket: .recordTicket(.init(disposition: .rejected, sipStatus: 500, endedAt: Self.at(50), dialplanVersion: "v1"))))
    }

    @Test func aSocketThatFailsDuringTheCommitEndsTheCallOnceTheCommitIsSeen() {
        var call = makeMachine()
        _ = call.event(.receivedInvite, now: Self.at(0))
        _ = call.event(.dialplanIssued([.answer]), now: Self.at(10))
        #expect(call.event(.mediaFailed, now: Self.at(12)) == [])
        #expect(call.event(.ticketCommitted, now: Self.at(30))
            == ending(.sendFinalResponse(.serviceUnavailable),
                      ticket: .finishTicket(.init(disposition: .mediaError, sipStatus: 503, answeredAt: nil, endedAt: Self.at(30)))))
    }

    @Test func anAgentsFeatureCodeCallHasNoTicket() {
        var call = makeMachine(keepsTicket: false)
        _ = call.event(.receivedInvite, now: Self.at(0))
        _ = call.event(.mediaOpened, now: Self.at(5))
        #expect(call.event(.dialplanIssued([.answer, play]), now: Self.at(10)) == [.sendAnswer, .runDialplanCommands([play])])
        #expect(call.event(.dialplanIssued([.hangup(disposition: .completedInIVR)]), now: Self.at(900))
            == [.stopRecordings, .leaveQueue, .closeMedia, .sendBye, .forget])
    }

    @Test func aHangupAfterTheAnswerWaitsForTheTwoHundred() {
        var call = makeMachine()
        _ = call.event(.receivedInvite, now: Self.at(0))
        _ = call.event(.mediaOpened, now: Self.at(5))
        _ = call.event(.dialplanIssued([.answer, play, .hangup(disposition: .completedInIVR)]), now: Self.at(10))
        #expect(call.deferredCommands == [play, .hangup(disposition: .completedInIVR)])
        #expect(call.event(.ticketCommitted, now: Self.at(30))
            == [.sendAnswer, .runDialplanCommands([play])]
            + ending(.sendBye, ticket: .finishTicket(.init(disposition: .completedInIVR, sipStatus: 200, answeredAt: Self.at(30),
                                                           endedAt: Self.at(30)))))
    }

    @Test func noACKEndsTheCallWithBYE() {
        var call = answeredCall()
        #expect(call.event(.timerFired(.answerRetransmit), now: Self.at(530))
            == [.retransmitAnswer(ok), .startTimer(.answerRetransmit, .seconds(1))])
        #expect(call.event(.timerFired(.ackTimeout), now: Self.at(32_030))
            == [.cancelTimer(.answerRetransmit)]
            + ending(.sendBye, ticket: .finishTicket(.init(disposition: .noACK, sipStatus: 200, answeredAt: Self.at(30),
                                                           endedAt: Self.at(32_030)))))
    }

    // MARK: races

    /// RFC 3261 §14.2: a re-INVITE while our INVITE transaction on the dialog (the 2xx still
    /// waiting for its ACK) is pending gets 491, and the call goes on.
    @Test func glareGets491() {
        var call = answeredCall()
        #expect(call.event(.receivedReinvite, now: Self.at(35)) == [.rejectReinvite(.requestPending)])
        #expect(call.phase == .answered)
        _ = call.event(.receivedACK, now: Self.at(40))
        #expect(call.event(.receivedReinvite, now: Self.at(50)) == [.answerReinvite])

        var early = makeMachine()
        _ = early.event(.receivedInvite, now: Self.at(0))
        #expect(early.event(.receivedReinvite, now: Self.at(5)) == [.rejectReinvite(.callOrTransactionDoesNotExist)])
    }

    /// A CANCEL that crosses our 200 (the endpoint answers it 200, RFC 3261 §9.2) changes
    /// nothing: the call goes on and its ticket says answered.
    @Test func aCancelCrossingOurTwoHundredLeavesTheCallUp() {
        var call = answeredCall()
        #expect(call.event(.receivedCancel, now: Self.at(31)) == [])
        #expect(call.phase == .answered)
        #expect(call.event(.receivedACK, now: Self.at(40)) == [.cancelTimer(.answerRetransmit), .cancelTimer(.ackTimeout)])
        #expect(call.event(.receivedBye(dialplanDisposition: nil), now: Self.at(60_000))
            == [.stopRecordings, .leaveQueue, .closeMedia,
                .finishTicket(.init(disposition: .callerHangup, sipStatus: 200, answeredAt: Self.at(30), endedAt: Self.at(60_000))), .forget])
    }

    /// A CANCEL while the ticket is being opened as answered: 487, never a 200, and a ticket
    /// without answered_at (the open wrote one; the finish must clear it).
    @Test func aCancelDuringTheTicketCommitGets487AndNoAnswer() {
        var call = makeMachine()
        _ = call.event(.receivedInvite, now: Self.at(0))
        _ = call.event(.mediaOpened, now: Self.at(5))
        _ = call.event(.dialplanIssued([.answer, play]), now: Self.at(10))
        #expect(call.event(.receivedCancel, now: Self.at(15))
            == ending(.sendFinalResponse(.requestTerminated),
                      ticket: .finishTicket(.init(disposition: .cancelled, sipStatus: 487, answeredAt: nil, endedAt: Self.at(15)))))
        #expect(call.event(.ticketCommitted, now: Self.at(30)) == [], "no 200 OK after the 487")
        #expect(call.event(.receivedCancel, now: Self.at(31)) == [], "ended once")
        #expect(call.phase == .ended)
        #expect(call.disposition == .cancelled)
    }

    /// A BYE on the early dialog while the ticket is being opened (RFC 3261 §15.1.2): 487 to
    /// the INVITE, no 200 ever, no answered_at, and the deferred prompts never run.
    @Test func aByeDuringTheTicketCommitGets487AndNoAnswer() {
        var call = makeMachine()
        _ = call.event(.receivedInvite, now: Self.at(0))
        _ = call.event(.dialplanIssued([.ring, .answer, play]), now: Self.at(10))
        #expect(call.event(.receivedBye(dialplanDisposition: nil), now: Self.at(15))
            == ending(.sendFinalResponse(.requestTerminated),
                      ticket: .finishTicket(.init(disposition: .callerHangup, sipStatus: 487, answeredAt: nil, endedAt: Self.at(15)))))
        #expect(call.event(.mediaOpened, now: Self.at(20)) == [])
        #expect(call.event(.ticketCommitted, now: Self.at(30)) == [])
        #expect(call.event(.receivedACK, now: Self.at(31)) == [])
    }

    /// A re-INVITE during a bridge is answered (with our current SDP, by the server) and the
    /// bridge keeps going: no agent-leg action, still bridged after its ACK.
    @Test func aReinviteDuringABridgeKeepsTheBridge() {
        var call = bridgedCall()
        #expect(call.event(.receivedReinvite, now: Self.at(6000)) == [.answerReinvite])
        let reinviteOK = SIPResponse(status: .ok, headers: [(.cseq, "2 INVITE")])
        #expect(call.event(.answerSent(reinviteOK), now: Self.at(6000))
            == [.startTimer(.answerRetransmit, .milliseconds(500)), .startTimer(.ackTimeout, .seconds(32))])
        #expect(call.event(.receivedReinvite, now: Self.at(6001)) == [.rejectReinvite(.requestPending)])
        #expect(call.event(.timerFired(.answerRetransmit), now: Self.at(6500))
            == [.retransmitAnswer(reinviteOK), .startTimer(.answerRetransmit, .seconds(1))])
        #expect(call.event(.receivedACK, now: Self.at(6600)) == [.cancelTimer(.answerRetransmit), .cancelTimer(.ackTimeout)])
        #expect(call.phase == .bridged)
        #expect(call.agentLeg == .bridged)
        #expect(call.event(.receivedBye(dialplanDisposition: nil), now: Self.at(9000)).filter { $0 == .hangUpAgentLeg } == [.hangUpAgentLeg])
    }

    /// The agent's leg fails while the caller hangs up, in either order: one ending, one
    /// ticket finish, the leg withdrawn at most once (and not at all once it has failed).
    @Test func anAgentLegFailingWhileTheCallerHangsUpEndsOnce() {
        let hungUp = CallStateMachine.Action.finishTicket(.init(disposition: .callerHangup, sipStatus: 200, answeredAt: Self.at(30),
                                                                endedAt: Self.at(9000)))
        var byeFirst = answeredCall()
        _ = byeFirst.event(.receivedACK, now: Self.at(40))
        #expect(byeFirst.event(.agentLegOffered, now: Self.at(1000)) == [])
        #expect(byeFirst.event(.receivedBye(dialplanDisposition: nil), now: Self.at(9000))
            == [.stopRecordings, .cancelAgentLeg, .leaveQueue, .closeMedia, hungUp, .forget])
        #expect(byeFirst.event(.agentLegFailed, now: Self.at(9001)) == [])
        #expect(byeFirst.event(.agentLegAnswered, now: Self.at(9002)) == [], "an ended call takes nothing more")

        var failureFirst = answeredCall()
        _ = failureFirst.event(.receivedACK, now: Self.at(40))
        _ = failureFirst.event(.agentLegOffered, now: Self.at(1000))
        #expect(failureFirst.event(.agentLegFailed, now: Self.at(8999)) == [])
        #expect(failureFirst.event(.receivedBye(dialplanDisposition: nil), now: Self.at(9000))
            == [.stopRecordings, .leaveQueue, .closeMedia, hungUp, .forget])
    }

    /// Both sides of a bridge hang up at once: whichever is first ends the call, the other
    /// changes nothing; BYE goes to the side that did not hang up, once.
    @Test func bothSidesOfABridgeHangingUpEndOnce() {
        var agentFirst = bridgedCall()
        #expect(agentFirst.event(.agentHungUp, now: Self.at(9000))
            == [.stopRecordings, .leaveQueue, .closeMedia, .sendBye,
                .finishTicket(.init(disposition: .agentHangup, sipStatus: 200, answeredAt: Self.at(30), endedAt: Self.at(9000))), .forget])
        #expect(agentFirst.event(.receivedBye(dialplanDisposition: nil), now: Self.at(9001)) == [])

        var callerFirst = bridgedCall()
        #expect(callerFirst.event(.receivedBye(dialplanDisposition: nil), now: Self.at(9000))
            == [.stopRecordings, .hangUpAgentLeg, .leaveQueue, .closeMedia,
                .finishTicket(.init(disposition: .callerHangup, sipStatus: 200, answeredAt: Self.at(30), endedAt: Self.at(9000))), .forget])
        #expect(callerFirst.event(.agentHungUp, now: Self.at(9001)) == [])
    }

    /// An agent answer that comes after the call stopped waiting for it is hung up, not bridged.
    @Test func anAgentAnswerForACallNoLongerWaitingIsHungUp() {
        var call = bridgedCall()
        _ = call.event(.agentLegEnded, now: Self.at(6000))
        #expect(call.phase == .answered)
        #expect(call.event(.agentLegAnswered, now: Self.at(6001)) == [.hangUpAgentLeg])
        #expect(call.phase == .answered)
    }

    /// A new offer after one the machine was not told had ended (the server owns the legs)
    /// is still bridged when its agent answers.
    @Test func aNewOfferReplacesAStaleOne() {
        var call = answeredCall()
        _ = call.event(.receivedACK, now: Self.at(40))
        _ = call.event(.agentLegOffered, now: Self.at(1000))
        _ = call.event(.agentLegOffered, now: Self.at(20_000))
        #expect(call.event(.agentLegAnswered, now: Self.at(25_000)) == [.bridgeAgentLeg])
        #expect(call.phase == .bridged)
        #expect(call.event(.agentLegOffered, now: Self.at(26_000)) == [], "no offer while bridged")
        #expect(call.agentLeg == .bridged)
    }

    @Test func theMaximumDurationEndsAnAnsweredCallWithBYE() {
        var call = answeredCall()
        _ = call.event(.receivedACK, now: Self.at(40))
        #expect(call.event(.timerFired(.maxDuration), now: Self.at(14_400_000))
            == ending(.sendBye, ticket: .finishTicket(.init(disposition: .maxDuration, sipStatus: 200, answeredAt: Self.at(30),
                                                           endedAt: Self.at(14_400_000)))))
    }
}
