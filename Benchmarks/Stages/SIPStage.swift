// The `sip` stage: one call's SIP signalling through the real SIPEndpoint (parser, transaction
// machines, timers, serialiser), with the SIP and SDP work CallEngine does around it (SDP
// offer parsed and answered, the UAS dialog, the INFO's DTMF body, the BYE built from the
// dialog), on a manual clock. The caller's datagrams are SIPp's (ivr-key3-info.xml); what the
// endpoint transmits is dropped after counting.

import Foundation
import NIOCore
import SDP
import SIPCore
import SIPDialog
import SIPEndpoint
import SIPTransaction
import SIPTransport
import Timers

final class SIPStage: Stage, SIPEndpointDelegate {
    /// Where SIPp sends from, and the address our responses go to (rport is not used: SIPp's
    /// Via has a sent-by port).
    let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 5061)
    let contactHost = "127.0.0.1"
    let negotiator = SDPNegotiator()
    /// The RTP port our answer names (the stage binds no socket).
    let rtpPort: UInt16 = 20_000
    var now = Instant(nanoseconds: 1_000_000_000)
    private(set) var endpoint: SIPEndpoint!
    var datagramsSent = 0
    var bytesSent = 0

    // The call in progress (CallEngine's Call, reduced to its SIP part).
    var dialog: SIPDialog?
    var inviteKey: SIPTransactionKey?
    var invite: SIPRequest?
    var byeResponses = 0
    var digits = 0
    var answered = 0
    var unexpected: [String] = []

    init() {
        let endpoint = SIPEndpoint(configuration: .init(host: "127.0.0.1", port: 5060), clock: { [unowned self] in self.now },
                                   transmit: { [unowned self] buffer, _ in
                                       self.datagramsSent += 1
                                       self.bytesSent += buffer.readableBytes
                                   })
        self.endpoint = endpoint
        endpoint.delegate = self
    }

    /// Moves the manual clock to `offset` after the call began and fires what is due, as the
    /// server's 10 ms tick does.
    private func advance(to instant: Instant) {
        now = instant
        endpoint.processTimers(now: now)
    }

    @inline(never)
    func call(_ index: Int) {
        // Calls one after the other, 40 s apart: every transaction of a call (Timer L, J, K:
        // 32 s at most) has expired before the next begins.
        let start = Instant(nanoseconds: 1_000_000_000 + UInt64(index) * 40_000_000_000)
        advance(to: start)
        // INVITE with SDP: the endpoint sends 100 Trying, we answer 200 with SDP at once (the
        // server waits for the ticket commit and the RTP socket first).
        endpoint.receive(SIPpPeer.invite(index), from: peer)
        guard let dialog else { return }
        let toTag = dialog.id.localTag
        advance(to: start + .milliseconds(2))
        endpoint.receive(SIPpPeer.ack(index, toTag: toTag), from: peer)
        // SIPp pauses 1.5 s after the ACK, then sends INFO with Signal=3.
        advance(to: start + .milliseconds(1502))
        endpoint.receive(SIPpPeer.info(index, toTag: toTag), from: peer)
        // The key-3 prompt (1.5 s), then the server hangs up: BYE in a client transaction.
        advance(to: start + .milliseconds(3002))
        sendBYE()
        advance(to: start + .milliseconds(3003))
        // SIPp's 200 OK copies the BYE's Via, From, To, Call-ID and CSeq.
        endpoint.receive(SIPpPeer.byeOK(lastBYE!), from: peer)
        // Timer K (5 s), L (INVITE, 32 s), J (INFO, 32 s): everything has expired by +36 s.
        advance(to: start + .milliseconds(8004))
        advance(to: start + .seconds(33))
        advance(to: start + .seconds(36))
        self.dialog = nil
        invite = nil
        inviteKey = nil
        lastBYE = nil
    }

    var lastBYE: SIPRequest?

    /// CallEngine.sendBYE: BYE in the dialog to its next hop (RFC 3261 §15.1.1).
    private func sendBYE() {
        guard var dialog else { return }
        let bye = dialog.makeRequest(.bye, via: endpoint.makeVia(), extraHeaders: [(.reason, "SIP;cause=200;text=\"Call completed\"")])
        self.dialog = dialog
        lastBYE = bye
        endpoint.send(request: bye, to: nextHop(dialog)) { [unowned self] event in
            if case .response(let response) = event, response.status == .ok { self.byeResponses += 1 }
        }
    }

    /// CallEngine.nextHop for a caller on UDP: the route set's first hop or the remote target.
    private func nextHop(_ dialog: SIPDialog) -> SocketAddress {
        let hop = dialog.nextHop
        return (try? SocketAddress(ipAddress: hop.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: hop.port ?? 5060)) ?? peer
    }

    // MARK: SIPEndpointDelegate (CallEngine's SIP handling, reduced to this call)

    func endpoint(_ endpoint: SIPEndpoint, received request: SIPRequest, transaction key: SIPTransactionKey, from source: SocketAddress) {
        switch request.method {
        case .invite where request.to?.tag == nil:
            newCall(request, key, source)
        case .info:
            guard let dialog = dialogFor(request) else { return unexpected.append("INFO outside the dialog") }
            switch SIPDTMFInfo.parse(contentType: request.contentType, body: request.body) {
            case .key:
                respond(request, on: key, .ok, toTag: dialog.id.localTag)
                digits += 1
            default:
                unexpected.append("INFO without a key")
            }
        default:
            unexpected.append("\(request.method)")
        }
    }

    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPRequest, from source: SocketAddress) {
        guard SIPDialogID(incoming: ack) == dialog?.id else { return unexpected.append("stray ACK") }
        _ = dialog?.receive(ack)
        dialog?.confirm()
    }

    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: SIPTransactionKey) { unexpected.append("CANCEL") }
    func endpoint(_ endpoint: SIPEndpoint, ackTimedOut invite: SIPTransactionKey) { unexpected.append("ACK timeout") }

    /// CallEngine.dialogCall: the call an in-dialog request names, its CSeq checked.
    private func dialogFor(_ request: SIPRequest) -> SIPDialog? {
        guard let id = SIPDialogID(incoming: request), id == dialog?.id else { return nil }
        switch dialog?.receive(request) {
        case .accept, .duplicate: return dialog
        default: return nil
        }
    }

    /// CallEngine.newCall and startCall's SIP part: checks, the SDP offer answered (once to
    /// check it, again with the bound RTP port as openMedia does), the dialog, and
    /// sendAnswer's 200 OK.
    private func newCall(_ request: SIPRequest, _ key: SIPTransactionKey, _ source: SocketAddress) {
        guard request.required.filter({ !$0.isEmpty }).isEmpty,
              request.body.isEmpty || request.contentType == "application/sdp",
              let dialled = request.uri.decodedUser, dialled == "12345" else { return unexpected.append("INVITE refused") }
        let offer: SessionDescription
        do {
            offer = try SessionDescription.parse(request.bodyText)
            _ = try negotiator.answer(to: offer, localAddress: contactHost, localPort: 0, sessionID: 0, sessionVersion: 1)
        } catch {
            return unexpected.append("SDP: \(error)")
        }
        let localTag = endpoint.makeTag()
        guard let dialog = SIPDialog(uasFor: request, localTag: localTag) else { return unexpected.append("no dialog") }
        _ = request.from?.uri.decodedUser // the caller, for the ticket
        self.dialog = dialog
        invite = request
        inviteKey = key
        guard let (answer, _) = try? negotiator.answer(to: offer, localAddress: contactHost, localPort: rtpPort,
                                                       sessionID: 1_000 + UInt64(answered), sessionVersion: 1) else {
            return unexpected.append("no SDP answer")
        }
        var ok = SIPResponse(to: request, status: .ok, toTag: dialog.id.localTag)
        ok.headers.append(.contact, "<" + endpoint.configuration.listening.contactURI(user: dialled, host: contactHost,
                                                                                     over: endpoint.transport(to: source)) + ">")
        ok.headers.append(.allow, SIPStage.allow)
        for route in request.headers.fields where route.name == .recordRoute {
            ok.headers.append(.recordRoute, route.value)
        }
        ok.headers.append(.contentType, "application/sdp")
        ok.body = Array(answer.serialize().utf8)
        endpoint.respond(ok, to: key)
        answered += 1
    }

    static let allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"

    /// CallEngine.respond: a response in its transaction with Allow on a 2xx (not to BYE).
    private func respond(_ request: SIPRequest, on key: SIPTransactionKey, _ status: SIPStatus, toTag: String) {
        var response = SIPResponse(to: request, status: status, toTag: toTag)
        if status.isSuccess && request.method != .bye { response.headers.append(.allow, SIPStage.allow) }
        endpoint.respond(response, to: key)
    }

    func verify(calls: Int) -> String? {
        if !unexpected.isEmpty { return "unexpected: \(unexpected.prefix(5))" }
        guard answered == calls, digits == calls, byeResponses == calls else {
            return "answered \(answered), digits \(digits), BYE answered \(byeResponses) of \(calls) calls"
        }
        // 100, 200 (INVITE), 200 (INFO), BYE.
        guard datagramsSent == 4 * calls else { return "\(datagramsSent) datagrams sent for \(calls) calls" }
        guard endpoint.serverTransactionCount == 0, endpoint.clientTransactionCount == 0, endpoint.timerCount == 0 else {
            return "transactions left: \(endpoint.serverTransactionCount) server, \(endpoint.clientTransactionCount) client, \(endpoint.timerCount) timers"
        }
        return nil
    }

    func finish() {}
}

/// SIPp's side of ivr-key3-info.xml, byte for byte as SIPp fills the templates (local
/// 127.0.0.1:5061, media port 6000, pid 4242). Written straight into a buffer: a few hundred
/// instructions per message, against the endpoint's tens of thousands.
enum SIPpPeer {
    static let pid = "4242"

    private static func write(_ buffer: inout ByteBuffer, _ parts: String...) {
        for part in parts { buffer.writeString(part) }
    }

    /// The three values SIPp derives from the call number.
    private static func ids(_ index: Int) -> (callID: String, fromTag: String, branchStem: String) {
        let n = String(index + 1)
        return (n + "-" + pid + "@127.0.0.1", pid + "Tag" + n, "z9hG4bK-" + pid + "-" + n + "-")
    }

    static let sdp = "v=0\r\no=conf 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        + "m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        + "a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
    static let sdpLength = String(sdp.utf8.count)

    static func invite(_ index: Int) -> ByteBuffer {
        let (callID, fromTag, branch) = ids(index)
        var b = ByteBufferAllocator().buffer(capacity: 768)
        write(&b, "INVITE sip:12345@127.0.0.1:5060 SIP/2.0\r\n",
              "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=", branch, "0\r\n",
              "From: \"tests\" <sip:4000", String(index + 1), "@127.0.0.1:5061>;tag=", fromTag, "\r\n",
              "To: <sip:12345@127.0.0.1:5060>\r\n",
              "Call-ID: ", callID, "\r\n",
              "CSeq: 1 INVITE\r\n",
              "Contact: <sip:tests@127.0.0.1:5061>\r\n",
              "Max-Forwards: 70\r\n",
              "User-Agent: hotline-tests\r\n",
              "Content-Type: application/sdp\r\n",
              "Content-Length: ", sdpLength, "\r\n\r\n", sdp)
        return b
    }

    static func ack(_ index: Int, toTag: String) -> ByteBuffer {
        inDialog("ACK", cseq: "1 ACK", branchSuffix: "4", index, toTag: toTag)
    }

    static let infoBody = "Signal=3\r\nDuration=160\r\n"

    static func info(_ index: Int, toTag: String) -> ByteBuffer {
        inDialog("INFO", cseq: "2 INFO", branchSuffix: "7", index, toTag: toTag,
                 body: (type: "application/dtmf-relay", text: infoBody))
    }

    /// A request of the caller's dialog, as the scenario's ACK and INFO are written.
    private static func inDialog(_ method: String, cseq: String, branchSuffix: String, _ index: Int, toTag: String,
                                 body: (type: String, text: String)? = nil) -> ByteBuffer {
        let (callID, fromTag, branch) = ids(index)
        var b = ByteBufferAllocator().buffer(capacity: 512)
        write(&b, method, " sip:12345@127.0.0.1:5060 SIP/2.0\r\n",
              "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=", branch, branchSuffix, "\r\n",
              "From: \"tests\" <sip:4000", String(index + 1), "@127.0.0.1:5061>;tag=", fromTag, "\r\n",
              "To: <sip:12345@127.0.0.1:5060>;tag=", toTag, "\r\n",
              "Call-ID: ", callID, "\r\n",
              "CSeq: ", cseq, "\r\n",
              "Contact: <sip:tests@127.0.0.1:5061>\r\n",
              "Max-Forwards: 70\r\n")
        if let body {
            write(&b, "Content-Type: ", body.type, "\r\n",
                  "Content-Length: ", String(body.text.utf8.count), "\r\n\r\n", body.text)
        } else {
            write(&b, "Content-Length: 0\r\n\r\n")
        }
        return b
    }

    /// 200 OK to our BYE: [last_Via:] ... [last_CSeq:] copied from it.
    static func byeOK(_ bye: SIPRequest) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 512)
        write(&b, "SIP/2.0 200 OK\r\n",
              "Via: ", bye.headers[.via] ?? "", "\r\n",
              "From: ", bye.headers[.from] ?? "", "\r\n",
              "To: ", bye.headers[.to] ?? "", "\r\n",
              "Call-ID: ", bye.headers[.callID] ?? "", "\r\n",
              "CSeq: ", bye.headers[.cseq] ?? "", "\r\n",
              "Contact: <sip:tests@127.0.0.1:5061>\r\n",
              "Content-Length: 0\r\n\r\n")
        return b
    }
}
