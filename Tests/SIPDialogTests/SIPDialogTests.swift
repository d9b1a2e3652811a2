import Testing
import SIPCore
import SIPTransaction
@testable import SIPDialog

func invite() -> SIPRequest {
    var r = SIPRequest(method: .invite, uri: try! SIPURI.parse("sip:12345@127.0.0.1"))
    r.headers.append(.via, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1")
    r.headers.append(.recordRoute, "<sip:proxy1.example.com;lr>, <sip:proxy2.example.com;lr>")
    r.headers.append(.from, "\"Caller\" <sip:13800000000@127.0.0.1>;tag=remote1")
    r.headers.append(.to, "<sip:12345@127.0.0.1>")
    r.headers.append(.callID, "call-1")
    r.headers.append(.cseq, "10 INVITE")
    r.headers.append(.contact, "<sip:caller@127.0.0.1:5070>")
    return r
}

@Suite struct SIPDialogTests {
    @Test func uasDialogTakesItsStateFromTheInvite() throws {
        let d = try #require(SIPDialog(uasFor: invite(), localTag: "local1"))
        #expect(d.id == SIPDialogID(callID: "call-1", localTag: "local1", remoteTag: "remote1"))
        #expect(d.remoteTarget.description == "sip:caller@127.0.0.1:5070")
        #expect(d.routeSet == ["<sip:proxy1.example.com;lr>", "<sip:proxy2.example.com;lr>"])
        #expect(d.nextHop.host == "proxy1.example.com")
        #expect(d.remoteSequence == 10)
    }

    @Test func inviteWithoutContactOrFromTagMakesNoDialog() {
        var noContact = invite()
        noContact.headers.remove(.contact)
        #expect(SIPDialog(uasFor: noContact, localTag: "x") == nil)
        var noTag = invite()
        noTag.headers.set(.from, "<sip:a@127.0.0.1>")
        #expect(SIPDialog(uasFor: noTag, localTag: "x") == nil)
    }

    @Test func remoteCSeqMustGrow() throws {
        var d = try #require(SIPDialog(uasFor: invite(), localTag: "l"))
        var bye = invite()
        bye.method = .bye
        bye.headers.set(.cseq, "9 BYE")
        #expect(d.receive(bye) == .outOfOrder)
        bye.headers.set(.cseq, "11 BYE")
        #expect(d.receive(bye) == .accept)
        #expect(d.receive(bye) == .duplicate)
        var ack = invite()
        ack.method = .ack
        ack.headers.set(.cseq, "10 ACK")
        #expect(d.receive(ack) == .accept, "ACK reuses the INVITE's number")
    }

    @Test func reInviteRefreshesTheRemoteTarget() throws {
        var d = try #require(SIPDialog(uasFor: invite(), localTag: "l"))
        var reinvite = invite()
        reinvite.headers.set(.cseq, "11 INVITE")
        reinvite.headers.set(.contact, "<sip:caller@192.0.2.7:6000>")
        #expect(d.receive(reinvite) == .accept)
        #expect(d.remoteTarget.host == "192.0.2.7")
    }

    @Test func byeFromTheUASSwapsFromAndToAndFollowsTheRouteSet() throws {
        var d = try #require(SIPDialog(uasFor: invite(), localTag: "local1"))
        let bye = d.makeRequest(.bye, via: SIPVia(host: "127.0.0.1", port: 5060, branch: "z9hG4bKbye"))
        let again = d.makeRequest(.bye, via: SIPVia(host: "127.0.0.1", port: 5060, branch: "z9hG4bKbye2"))
        #expect(bye.uri.description == "sip:caller@127.0.0.1:5070")
        #expect(bye.from?.tag == "local1")
        #expect(bye.from?.uri.user == "12345")
        #expect(bye.to?.tag == "remote1")
        #expect(bye.cseq == SIPCSeq(2, .bye))
        #expect(again.cseq == SIPCSeq(3, .bye))
        #expect(bye.headers.values(.route) == ["<sip:proxy1.example.com;lr>", "<sip:proxy2.example.com;lr>"])
        // and it parses back
        #expect(throws: Never.self) { try SIPMessageParser.parse(datagram: bye.serialized) }
    }
}

@Suite struct UASAnswerRetransmissionTests {
    @Test func retransmitsTheOKUntilACKWithTheTimerGSchedule() {
        var m = UASAnswerRetransmission()
        let ok = SIPResponse(status: .ok)
        var now: Int64 = 0
        var timers: [UASAnswerRetransmission.Timer: Int64] = [:]
        var resends: [Int64] = []
        var timedOut: Int64?
        func apply(_ actions: [UASAnswerRetransmission.Action]) {
            for a in actions {
                switch a {
                case .send: resends.append(now)
                case .startTimer(let t, let d): timers[t] = now + d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
                case .cancelTimer(let t): timers[t] = nil
                case .reportACKTimeout: timedOut = now
                }
            }
        }
        apply(m.event(.sent(ok)))
        while let (t, at) = timers.min(by: { $0.value < $1.value }), at <= 40_000 {
            now = at
            timers[t] = nil
            apply(m.event(.timerFired(t)))
        }
        #expect(resends == [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500])
        #expect(timedOut == 32_000)
        #expect(m.state == .timedOut)
    }

    @Test func ackCancelsBothTimers() {
        var m = UASAnswerRetransmission()
        _ = m.event(.sent(SIPResponse(status: .ok)))
        #expect(m.event(.receivedACK) == [.cancelTimer(.retransmit), .cancelTimer(.ackTimeout)])
        #expect(m.state == .confirmed)
        #expect(m.event(.timerFired(.retransmit)).isEmpty)
    }
}

@Suite struct UACDialogTests {
    func ok() -> SIPResponse {
        var r = SIPResponse(to: invite(), status: .ok, toTag: "uas9")
        r.headers.append(.contact, "<sip:12345@192.0.2.1:5062>")
        r.headers.append(.recordRoute, "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>")
        return r
    }

    @Test func uacDialogTakesItsStateFromInviteAndResponse() throws {
        let d = try #require(SIPDialog(uacFor: invite(), response: ok()))
        #expect(d.id == SIPDialogID(callID: "call-1", localTag: "remote1", remoteTag: "uas9"))
        #expect(d.state == .confirmed)
        #expect(d.remoteTarget.description == "sip:12345@192.0.2.1:5062")
        #expect(d.routeSet == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"], "§12.1.2: reversed")
        #expect(d.localSequence == 10)
        #expect(d.remoteSequence == 0)
    }

    @Test func earlyDialogFromAProvisionalWithTag() throws {
        let ringing = SIPResponse(to: invite(), status: .ringing, toTag: "uas9")
        let d = try #require(SIPDialog(uacFor: invite(), response: ringing))
        #expect(d.state == .early)
        #expect(SIPDialog(uacFor: invite(), response: SIPResponse(to: invite(), status: .trying)) == nil, "no To tag")
    }

    @Test func ackKeepsTheInviteSequenceAndByeTakesTheNext() throws {
        var d = try #require(SIPDialog(uacFor: invite(), response: ok()))
        let ack = d.makeACK(via: SIPVia(host: "127.0.0.1", port: 5070, branch: "z9hG4bKack"), inviteSequence: 10)
        #expect(ack.method == .ack)
        #expect(ack.cseq == SIPCSeq(10, .ack))
        #expect(ack.uri.description == "sip:12345@192.0.2.1:5062")
        #expect(ack.to?.tag == "uas9")
        #expect(ack.from?.tag == "remote1")
        #expect(ack.headers.values(.route) == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"])
        let bye = d.makeRequest(.bye, via: SIPVia(host: "127.0.0.1", port: 5070, branch: "z9hG4bKbye"))
        #expect(bye.cseq == SIPCSeq(11, .bye))
        #expect(d.makeACK(via: SIPVia(host: "127.0.0.1", port: 5070, branch: "z9hG4bKack2"), inviteSequence: 10).cseq == SIPCSeq(10, .ack))
        #expect(throws: Never.self) { try SIPMessageParser.parse(datagram: ack.serialized) }
    }

    @Test func aRequestFromTheUASIsCheckedAgainstAnEmptyRemoteSequence() throws {
        var d = try #require(SIPDialog(uacFor: invite(), response: ok()))
        var bye = SIPRequest(method: .bye, uri: try SIPURI.parse("sip:caller@127.0.0.1:5070"))
        bye.headers.append(.cseq, "1 BYE")
        #expect(d.receive(bye) == .accept)
        #expect(d.receive(bye) == .duplicate)
    }
}
