import Dialplan
import Foundation
import NIOCore
import SIPCore
import SIPDialog
import SIPTransaction
import Testing
import Tickets
@testable import HotlineServer

/// A recording's file is named only from what the server made, whatever the caller sent.
@Suite struct RecordingFileNameTests {
    static let dialplan = try! Dialplan.parse(yaml: """
        dialplan: recording-names
        languages: [en]
        entries:
          - number: "12345"
            start: bye
        nodes:
          bye: {type: hangup, disposition: completed_in_ivr}
        """)

    /// A call as the engine builds it from an INVITE carrying `callID`.
    static func call(callID: String, number: UInt64) throws -> Call {
        var invite = SIPRequest(method: .invite, uri: try SIPURI.parse("sip:12345@127.0.0.1"))
        invite.headers.append(.via, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1")
        invite.headers.append(.from, "<sip:13800000000@127.0.0.1>;tag=remote1")
        invite.headers.append(.to, "<sip:12345@127.0.0.1>")
        invite.headers.append(.callID, callID)
        invite.headers.append(.cseq, "1 INVITE")
        invite.headers.append(.contact, "<sip:caller@127.0.0.1:5070>")
        let dialog = try #require(SIPDialog(uasFor: invite, localTag: "local1"))
        #expect(dialog.id.callID == callID)
        let entry = try #require(dialplan.entry(forNumber: "12345"))
        return Call(id: number, inviteKey: try #require(SIPTransactionKey(serverRequest: invite)), invite: invite,
                    source: try SocketAddress(ipAddress: "127.0.0.1", port: 5070), dialog: dialog,
                    execution: DialplanExecution(dialplan: dialplan, entry: entry,
                                                 context: CallContext(caller: "13800000000", dialledNumber: "12345", callID: callID)),
                    arrivedAt: Date(timeIntervalSince1970: 1_800_000_000), caller: "13800000000", dialled: "12345",
                    sipTimers: .rfc3261, maxDuration: .seconds(14_400), isAgentFeature: false)
    }

    @Test(arguments: ["../../etc/x", "a/b", "/tmp/evil", "..", "x\u{0}y"])
    func aHostileCallIDNeverNamesTheFile(callID: String) throws {
        let call = try Self.call(callID: callID, number: 7)
        // No ticket yet (an agent's feature call, or one cut off before answer).
        let name = call.recordingFileName(loop: 2, suffix: "1")
        #expect(name == "call-1800000000-2.7-1.wav")
        #expect(!name.contains("/") && !name.contains(".."))
        #expect(URL(fileURLWithPath: "/var/rec").appendingPathComponent(name).deletingLastPathComponent().path == "/var/rec")
    }

    @Test func aCallWithATicketIsNamedAfterIt() throws {
        let call = try Self.call(callID: "../../etc/x", number: 7)
        call.ticketID = TicketID(rawValue: "20261129-000042")
        #expect(call.recordingFileName(loop: 0, suffix: "queue") == "20261129-000042-queue.wav")
    }
}
