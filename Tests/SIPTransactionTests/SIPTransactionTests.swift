import Testing
import SIPCore
@testable import SIPTransaction

/// Drives a machine on a manual clock: keeps the armed timers, advances time, fires them in
/// order and records when each message was sent. Time in milliseconds.
struct ManualClock<Timer: Hashable> {
    var now: Int64 = 0
    var armed: [Timer: Int64] = [:]
    var sent: [(at: Int64, what: String)] = []

    mutating func arm(_ t: Timer, _ d: Duration) { armed[t] = now + Int64(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }
    mutating func cancel(_ t: Timer) { armed[t] = nil }

    /// Advances to `until`, firing due timers in deadline order through `fire`.
    mutating func run(until: Int64, fire: (Timer, inout ManualClock) -> Void) {
        while let (timer, deadline) = armed.min(by: { $0.value < $1.value }), deadline <= until {
            now = deadline
            armed[timer] = nil
            fire(timer, &self)
        }
        now = until
    }
}

func request(_ method: SIPMethod, branch: String = "z9hG4bK1") -> SIPRequest {
    var r = SIPRequest(method: method, uri: try! SIPURI.parse("sip:12345@127.0.0.1"))
    r.headers.append(.via, "SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch)")
    r.headers.append(.from, "<sip:a@127.0.0.1>;tag=f")
    r.headers.append(.to, "<sip:12345@127.0.0.1>")
    r.headers.append(.callID, "call-1")
    r.headers.append(.cseq, SIPCSeq(1, method).description)
    return r
}

@Suite struct InviteServerTransactionTests {
    typealias T = InviteServerTransaction

    func apply(_ actions: [T.Action], _ clock: inout ManualClock<SIPTimer>, _ log: inout [String]) {
        for a in actions {
            switch a {
            case .send(let r): clock.sent.append((clock.now, "\(r.status.rawValue)"))
            case .startTimer(let t, let d): clock.arm(t, d)
            case .cancelTimer(let t): clock.cancel(t)
            case .reportTimeout: log.append("timeout@\(clock.now)")
            case .terminated: log.append("terminated@\(clock.now)")
            case .passACKToTU: log.append("ack-to-tu")
            case .reportTransportError: log.append("transport-error")
            }
        }
    }

    @Test func failureResponseIsRetransmittedOnTimerGUntilTimerH() {
        var tx = T()
        var clock = ManualClock<SIPTimer>()
        var log: [String] = []
        apply(tx.event(.respond(SIPResponse(to: request(.invite), status: .ringing))), &clock, &log)
        apply(tx.event(.receivedRetransmission), &clock, &log) // replays the 180
        apply(tx.event(.respond(SIPResponse(to: request(.invite), status: .busyHere))), &clock, &log)
        clock.run(until: 40_000) { timer, c in apply(tx.event(.timerFired(timer)), &c, &log) }
        // 180, 180 (replay), 486 at 0, then G: 500, 1500, 3500, 7500, 11500, ... capped at T2 = 4 s
        let resends = clock.sent.dropFirst(3).map(\.at)
        #expect(Array(resends.prefix(5)) == [500, 1500, 3500, 7500, 11500])
        #expect(resends.allSatisfy { $0 < 32_000 })
        #expect(log == ["timeout@32000", "terminated@32000"])
        #expect(tx.state == .terminated)
    }

    @Test func ackStopsRetransmissionsAndTimerITerminates() {
        var tx = T()
        var clock = ManualClock<SIPTimer>()
        var log: [String] = []
        apply(tx.event(.respond(SIPResponse(to: request(.invite), status: .requestTerminated))), &clock, &log)
        clock.run(until: 600) { t, c in apply(tx.event(.timerFired(t)), &c, &log) }
        apply(tx.event(.receivedACK(request(.ack))), &clock, &log)
        #expect(tx.state == .confirmed)
        apply(tx.event(.receivedRetransmission), &clock, &log) // absorbed in Confirmed
        clock.run(until: 10_000) { t, c in apply(tx.event(.timerFired(t)), &c, &log) }
        #expect(clock.sent.map(\.at) == [0, 500])
        #expect(log == ["terminated@5600"])
    }

    @Test func successGoesToAcceptedAndAbsorbsRetransmissions() {
        var tx = T()
        var clock = ManualClock<SIPTimer>()
        var log: [String] = []
        apply(tx.event(.respond(SIPResponse(to: request(.invite), status: .ok))), &clock, &log)
        #expect(tx.state == .accepted)
        apply(tx.event(.receivedRetransmission), &clock, &log)
        #expect(clock.sent.count == 1, "a retransmitted INVITE does not trigger a 2xx from the transaction")
        apply(tx.event(.receivedACK(request(.ack))), &clock, &log)
        #expect(log == ["ack-to-tu"])
        clock.run(until: 40_000) { t, c in apply(tx.event(.timerFired(t)), &c, &log) }
        #expect(log.last == "terminated@32000")
    }

    @Test func provisionalIsReplayedForRetransmittedInvite() {
        var tx = T()
        #expect(tx.event(.receivedRetransmission).isEmpty, "nothing sent yet: nothing to replay")
        _ = tx.event(.respond(SIPResponse(to: request(.invite), status: .ringing)))
        #expect(tx.event(.receivedRetransmission) == [.send(SIPResponse(to: request(.invite), status: .ringing))])
    }
}

@Suite struct NonInviteServerTransactionTests {
    @Test func replaysTheFinalResponseUntilTimerJ() {
        var tx = NonInviteServerTransaction()
        #expect(tx.event(.receivedRetransmission).isEmpty)
        let ok = SIPResponse(to: request(.bye), status: .ok)
        #expect(tx.event(.respond(ok)) == [.send(ok), .startTimer(.j, .seconds(32))])
        #expect(tx.event(.receivedRetransmission) == [.send(ok)])
        #expect(tx.event(.timerFired(.j)) == [.terminated])
        #expect(tx.event(.receivedRetransmission).isEmpty)
    }

    @Test func reliableTransportsDoNotLinger() {
        var tx = NonInviteServerTransaction(timers: SIPTimerConfiguration(reliable: true))
        let ok = SIPResponse(to: request(.options), status: .ok)
        #expect(tx.event(.respond(ok)) == [.send(ok), .startTimer(.j, .zero)])
    }
}

@Suite struct ClientTransactionTests {
    @Test func nonInviteRetransmitsOnTimerEAndTimesOutOnF() {
        var tx = NonInviteClientTransaction(request: request(.bye))
        var clock = ManualClock<SIPTimer>()
        var log: [String] = []
        func apply(_ actions: [NonInviteClientTransaction.Action], _ c: inout ManualClock<SIPTimer>) {
            for a in actions {
                switch a {
                case .send: c.sent.append((c.now, "BYE"))
                case .startTimer(let t, let d): c.arm(t, d)
                case .cancelTimer(let t): c.cancel(t)
                case .reportTimeout: log.append("timeout@\(c.now)")
                case .terminated: log.append("terminated")
                case .deliver(let r): log.append("deliver \(r.status.rawValue)")
                case .reportTransportError: log.append("error")
                }
            }
        }
        apply(tx.start(), &clock)
        clock.run(until: 40_000) { t, c in apply(tx.event(.timerFired(t)), &c) }
        #expect(Array(clock.sent.map(\.at).prefix(6)) == [0, 500, 1500, 3500, 7500, 11500])
        #expect(log == ["timeout@32000", "terminated"])
    }

    @Test func nonInviteDeliversTheFinalResponseOnce() {
        var tx = NonInviteClientTransaction(request: request(.bye))
        _ = tx.start()
        let ok = SIPResponse(to: request(.bye), status: .ok)
        let actions = tx.event(.receivedResponse(ok))
        #expect(actions.contains(.deliver(ok)))
        #expect(actions.contains(.startTimer(.k, .seconds(5))))
        #expect(tx.event(.receivedResponse(ok)).isEmpty)
        #expect(tx.event(.timerFired(.k)) == [.terminated])
    }

    @Test func inviteClientAcksAFailureAndReAcksItsRetransmission() {
        let invite = request(.invite)
        var tx = InviteClientTransaction(request: invite)
        #expect(tx.start() == [.send(invite), .startTimer(.a, .milliseconds(500)), .startTimer(.b, .seconds(32))])
        var busy = SIPResponse(to: invite, status: .busyHere, toTag: "callee")
        busy.headers.append(.contact, "<sip:callee@127.0.0.1>")
        let actions = tx.event(.receivedResponse(busy))
        let ack = InviteClientTransaction.ack(for: invite, response: busy)
        #expect(actions.contains(.send(ack)))
        #expect(ack.cseq == SIPCSeq(1, .ack))
        #expect(ack.to?.tag == "callee")
        #expect(ack.topVia?.branch == invite.topVia?.branch, "ACK for non-2xx shares the INVITE's branch")
        #expect(tx.event(.receivedResponse(busy)) == [.send(ack)])
    }

    @Test func inviteClientHandsA2xxToTheTU() {
        let invite = request(.invite)
        var tx = InviteClientTransaction(request: invite)
        _ = tx.start()
        let ok = SIPResponse(to: invite, status: .ok, toTag: "callee")
        #expect(tx.event(.receivedResponse(ok)).contains(.deliver(ok)))
        #expect(tx.state == .accepted)
        #expect(tx.event(.receivedResponse(ok)) == [.deliver(ok)], "retransmitted 2xx goes to the TU to re-ACK")
    }
}

@Suite struct TransactionKeyTests {
    @Test func ackMatchesItsInviteAndCancelDoesNot() {
        let invite = SIPTransactionKey(serverRequest: request(.invite))
        let ack = SIPTransactionKey(serverRequest: request(.ack))
        let cancel = SIPTransactionKey(serverRequest: request(.cancel))
        #expect(invite == ack)
        #expect(invite != cancel)
        #expect(cancel?.branch == invite?.branch)
    }

    @Test func legacyBranchesUseTheFallbackFields() {
        let a = SIPTransactionKey(serverRequest: request(.invite, branch: "oldstyle"))
        var other = request(.invite, branch: "oldstyle")
        other.headers.set(.cseq, "2 INVITE")
        let b = SIPTransactionKey(serverRequest: other)
        #expect(a != b)
    }
}
