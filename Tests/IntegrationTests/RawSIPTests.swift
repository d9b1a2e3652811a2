import Foundation
import Testing
import Tickets

/// Behaviour SIPp cannot show: malformed input, a withheld ACK, and a kill -9.
extension LoopbackClusterSuites {
@Suite(.serialized)
struct RawSIPTests {
    static func invite(port: Int, callID: String, branch: String, sdpPort: Int = 49170) -> String {
        let sdp = "v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio \(sdpPort) RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        return "INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(port);branch=\(branch);rport\r\n"
            + "From: <sip:13800000000@127.0.0.1:\(port)>;tag=raw1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: \(callID)\r\n"
            + "CSeq: 1 INVITE\r\nContact: <sip:raw@127.0.0.1:\(port)>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\n"
            + "Content-Length: \(sdp.utf8.count)\r\n\r\n" + sdp
    }

    @Test func malformedRequestsGet400AndTheServerKeepsServing() async throws {
        let server = try await ServerProcess()
        let udp = try RawUDP()
        // No Call-ID: answerable (Via is fine), so 400 with the reason.
        udp.send("OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(udp.port);branch=z9hG4bKbad1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:12345@127.0.0.1>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", to: server.sipPort)
        let bad = try #require(udp.receive(timeout: .seconds(5)))
        #expect(bad.hasPrefix("SIP/2.0 400 Bad Request - missing Call-ID header"), "\(bad)")
        // Content-Length beyond the datagram.
        udp.send("OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(udp.port);branch=z9hG4bKbad2\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 500\r\n\r\nshort", to: server.sipPort)
        #expect(udp.receive(timeout: .seconds(5))?.hasPrefix("SIP/2.0 400") == true)
        // Garbage: nothing to answer, nothing sent back.
        udp.send("\u{16}\u{03}\u{01} hello", to: server.sipPort)
        #expect(udp.receive(timeout: .milliseconds(300)) == nil)
        // ...and a proper call still works.
        let call = try await server.sipp("ivr-key3-info")
        #expect(call.status == 0, "sipp: \(call.stderr)")
        let metrics = try await server.http("/metrics")
        #expect(metrics.contains("hotline_sip_parse_errors_total 3"), "\(metrics)")
        #expect(metrics.contains("hotline_sip_dropped_total 1"))
        #expect(await server.stop() == 0, "clean shutdown")
    }

    static func request(_ method: String, uri: String, port: Int, callID: String, branch: String, toTag: String? = nil, cseq: Int = 1) -> String {
        "\(method) \(uri) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(port);branch=\(branch);rport\r\n"
            + "From: <sip:13800000000@127.0.0.1:\(port)>;tag=raw1\r\nTo: <sip:12345@127.0.0.1>\(toTag.map { ";tag=" + $0 } ?? "")\r\n"
            + "Call-ID: \(callID)\r\nCSeq: \(cseq) \(method)\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    }

    /// RFC 3261 §8.2.2.1: a Request-URI scheme we do not understand gets 416 whatever the
    /// method, out of a dialog and in one; a method we do not serve keeps its 405 (§8.2.1
    /// inspects the method first).
    @Test func anUnsupportedURISchemeGets416ForEveryMethod() async throws {
        let server = try await ServerProcess()
        let udp = try RawUDP()
        for (i, method) in ["OPTIONS", "INVITE", "INFO", "BYE", "NOTIFY"].enumerated() {
            udp.send(Self.request(method, uri: "zzz:12345@x", port: udp.port, callID: "scheme-\(i)@127.0.0.1", branch: "z9hG4bKscheme\(i)"), to: server.sipPort)
            // The final answer (an INVITE may get its 100 Trying first).
            let answer = try #require(udp.receive(startingWith: "SIP/2.0 4", timeout: .seconds(5)), "\(method): no final answer")
            #expect(answer.hasPrefix("SIP/2.0 416 Unsupported URI Scheme"), "\(method): \(answer)")
            #expect(answer.sipHeader("CSeq") == "1 \(method)")
            if method == "INVITE" { // a final failure response is ACKed
                let toTag = try #require(answer.sipHeader("To")?.firstMatch(of: /tag=([^;>\s]+)/)).1
                udp.send(Self.request("ACK", uri: "zzz:12345@x", port: udp.port, callID: "scheme-\(i)@127.0.0.1", branch: "z9hG4bKscheme\(i)", toTag: String(toTag)), to: server.sipPort)
            }
        }
        udp.send(Self.request("MESSAGE", uri: "zzz:12345@x", port: udp.port, callID: "scheme-m@127.0.0.1", branch: "z9hG4bKschemem"), to: server.sipPort)
        #expect(udp.receive(startingWith: "SIP/2.0", timeout: .seconds(5))?.hasPrefix("SIP/2.0 405") == true, "MESSAGE: method first")
        udp.send(Self.request("OPTIONS", uri: "sip:12345@127.0.0.1", port: udp.port, callID: "scheme-ok@127.0.0.1", branch: "z9hG4bKschemeok"), to: server.sipPort)
        #expect(udp.receive(startingWith: "SIP/2.0", timeout: .seconds(5))?.hasPrefix("SIP/2.0 200") == true, "a sip: URI still gets 200")

        // In a dialog: a call up, then OPTIONS and INFO to a zzz: URI, then the BYE that ends it.
        udp.send(Self.invite(port: udp.port, callID: "scheme-call@127.0.0.1", branch: "z9hG4bKschemecall"), to: server.sipPort)
        let ok = try #require(udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5)))
        let toTag = String(try #require(ok.sipHeader("To")?.firstMatch(of: /tag=([^;>\s]+)/)).1)
        udp.send(Self.request("ACK", uri: "sip:12345@127.0.0.1:\(server.sipPort)", port: udp.port, callID: "scheme-call@127.0.0.1", branch: "z9hG4bKschemeack", toTag: toTag), to: server.sipPort)
        for (cseq, method) in [(2, "OPTIONS"), (3, "INFO")] {
            udp.send(Self.request(method, uri: "zzz:raw@127.0.0.1", port: udp.port, callID: "scheme-call@127.0.0.1", branch: "z9hG4bKschemein\(cseq)", toTag: toTag, cseq: cseq), to: server.sipPort)
            let answer = try #require(udp.receive(startingWith: "SIP/2.0 416", timeout: .seconds(5)), "in-dialog \(method)")
            #expect(answer.sipHeader("CSeq") == "\(cseq) \(method)")
        }
        udp.send(Self.request("BYE", uri: "sip:raw@127.0.0.1", port: udp.port, callID: "scheme-call@127.0.0.1", branch: "z9hG4bKschemebye", toTag: toTag, cseq: 4), to: server.sipPort)
        #expect(udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5))?.sipHeader("CSeq") == "4 BYE")
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        #expect(tickets.first { $0.callID == "scheme-1@127.0.0.1" }?.sipStatus == 416, "the refused INVITE has its ticket")
        #expect(tickets.first { $0.callID == "scheme-call@127.0.0.1" }?.disposition == .callerHangup)
        #expect(tickets.count == 2, "no other request made a ticket: \(tickets.map(\.callID))")
    }

    @Test func okIsRetransmittedUntilTheACKArrives() async throws {
        let server = try await ServerProcess()
        let udp = try RawUDP()
        udp.send(Self.invite(port: udp.port, callID: "retrans-1@127.0.0.1", branch: "z9hG4bKretrans1"), to: server.sipPort)
        let first = try #require(udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5)))
        let toTag = try #require(first.sipHeader("To")?.firstMatch(of: /tag=([^;>\s]+)/)).1
        // Withhold the ACK: T1 = 500 ms, so the 200 comes again at about 0.5 s and 1.5 s.
        let again = udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(2))
        #expect(again != nil, "200 OK retransmitted while no ACK")
        #expect(again?.sipHeader("CSeq") == "1 INVITE")
        udp.send("ACK sip:12345@127.0.0.1:\(server.sipPort) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(udp.port);branch=z9hG4bKack1;rport\r\nFrom: <sip:13800000000@127.0.0.1:\(udp.port)>;tag=raw1\r\nTo: <sip:12345@127.0.0.1>;tag=\(toTag)\r\nCall-ID: retrans-1@127.0.0.1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", to: server.sipPort)
        // After the ACK: no further 200 within the next retransmission interval (up to 4 s).
        let after = udp.drain(quietFor: .milliseconds(2500)).filter { $0.hasPrefix("SIP/2.0 200") }
        #expect(after.count <= 1, "at most one 200 crossed our ACK on the wire: \(after.count)")
        udp.send("BYE sip:raw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(udp.port);branch=z9hG4bKbye1;rport\r\nFrom: <sip:13800000000@127.0.0.1:\(udp.port)>;tag=raw1\r\nTo: <sip:12345@127.0.0.1>;tag=\(toTag)\r\nCall-ID: retrans-1@127.0.0.1\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", to: server.sipPort)
        #expect(udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5))?.sipHeader("CSeq") == "2 BYE")
        #expect(await server.stop() == 0, "clean shutdown")
        #expect(try server.tickets().first?.disposition == .callerHangup)
    }

    @Test func beyondMaxCallsAnInviteGets503WithRetryAfter() async throws {
        let server = try await ServerProcess(extra: ["--max-calls", "1"])
        let udp = try RawUDP()
        udp.send(Self.invite(port: udp.port, callID: "cap-1@127.0.0.1", branch: "z9hG4bKcap1"), to: server.sipPort)
        #expect(udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(5)) != nil)
        udp.send(Self.invite(port: udp.port, callID: "cap-2@127.0.0.1", branch: "z9hG4bKcap2", sdpPort: 49172), to: server.sipPort)
        let refused = try #require(udp.receive(startingWith: "SIP/2.0 503", timeout: .seconds(5)))
        #expect(refused.sipHeader("Retry-After") == "5")
        #expect(refused.sipHeader("Call-ID") == "cap-2@127.0.0.1")
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        #expect(tickets.first { $0.callID == "cap-2@127.0.0.1" }?.disposition == .rejectedCapacity)
        #expect(tickets.first { $0.callID == "cap-1@127.0.0.1" }?.disposition == .serverShutdown, "SIGTERM hung up the call in progress")
    }

    @Test func aFloodAtTwiceTheAdmittedRateGetsClean503sAndEveryCallATicket() async throws {
        let server = try await ServerProcess(extra: ["--max-cps", "20"])
        // 40 calls/s for 5 s against an admitted rate of 20/s (with one second of burst).
        let result = try await server.sipp("ivr-key3-info-or-503", calls: 200, rate: 40, timeout: .seconds(120))
        #expect(result.status == 0, "no call failed: each was completed or refused with 503: \(result.stderr.suffix(2000))")
        let metrics = try await server.http("/metrics")
        let refused = metrics.firstMatch(of: /hotline_admission_rejections_total\{reason="rate"\} (\d+)/).map { Int($0.1)! } ?? -1
        #expect((60...120).contains(refused), "about half refused: \(refused)")
        #expect(await server.stop() == 0, "clean shutdown")
        let tickets = try server.tickets()
        #expect(tickets.count == 200, "one ticket per call, refused ones included")
        let completed = tickets.filter { $0.disposition == .completedInIVR }
        #expect(tickets.filter { $0.disposition == .rejectedCapacity }.count == refused)
        #expect(completed.count == 200 - refused)
        #expect(tickets.filter { $0.disposition == .rejectedCapacity }.allSatisfy { $0.sipStatus == 503 })
        // The admitted calls were answered promptly: the refusals cost them nothing.
        let setup = completed.compactMap { t in t.answeredAt.map { $0.timeIntervalSince(t.arrivedAt) } }.sorted()
        #expect(setup.count == completed.count)
        #expect((setup.last ?? 1) < 0.5, "slowest answer \(setup.last ?? -1) s")
    }

    @Test func killMinus9LosesNoTicketOfAnAnsweredCall() async throws {
        let server = try await ServerProcess()
        let udp = try RawUDP()
        // Ten calls, each answered (200 seen by the caller) and left running.
        var answered: [String] = []
        for i in 0..<10 {
            let callID = "kill9-\(i)@127.0.0.1"
            udp.send(Self.invite(port: udp.port, callID: callID, branch: "z9hG4bKkill\(i)", sdpPort: 49200 + 2 * i), to: server.sipPort)
        }
        while answered.count < 10, let ok = udp.receive(startingWith: "SIP/2.0 200", timeout: .seconds(10)) {
            if let id = ok.sipHeader("Call-ID"), !answered.contains(id) { answered.append(id) }
        }
        #expect(answered.count == 10)
        await server.kill9()
        let tickets = try server.tickets()
        for id in answered {
            let ticket = tickets.first { $0.callID == id }
            #expect(ticket != nil, "ticket of answered call \(id) survived kill -9")
            #expect(ticket?.answeredAt != nil)
        }
        // A restart marks them interrupted, so operators see the cut calls.
        let restarted = try await ServerProcess(reusing: server)
        #expect(await restarted.stop() == 0, "SIGTERM right after the ready line still stops it cleanly")
        let recovered = try restarted.tickets().filter { answered.contains($0.callID) }
        #expect(recovered.count == 10)
        #expect(recovered.allSatisfy { $0.disposition == .interrupted })
    }
}
}
