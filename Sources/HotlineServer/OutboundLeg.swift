// HotlineServer: the composition root.
// This file: a call the server places (RFC 3261 UAC): what it asks for and what became of it.
import Dialplan
import Foundation
import Media
import NIOCore
import Outbound
import SDP
import SIPCore
import SIPDialog
import Tickets

/// What the outbound service asks an engine to place.
struct OutboundCallRequest: Sendable {
    var job: OutboundJob
    var trunk: Trunk
    /// The dialplan's `outbound:` entry run once the citizen answers; nil for a callback's
    /// citizen leg, which is bridged to the agent instead.
    var entry: DialplanEntry?
    /// The trunk's address, resolved by the service (we do not resolve names on the call path).
    var destination: SocketAddress
}

/// How an attempt ended, for the schedule and the work order.
struct OutboundCallResult: Sendable {
    var outcome: OutboundOutcome
    /// The final SIP status of our INVITE, nil when none came.
    var sipStatus: Int?
    /// The call's ticket, once answered.
    var ticket: TicketID?
    /// What the flow wrote on the ticket (a survey's `return_visit_score`).
    var summary: [String: String]
    var startedAt: Date
    var endedAt: Date
}

/// Our INVITE to a citizen until it is answered (then the call is a `Call` running the flow)
/// or fails. Confined to the engine's event loop.
final class OutboundLeg {
    enum State: Equatable {
        case opening, inviting, cancelling, answered, ended
    }

    let request: OutboundCallRequest
    let startedAt: Date
    let completion: (OutboundCallResult) -> Void
    var state: State = .opening
    var invite: SIPRequest?
    var cseq: UInt32 = 1
    let callID: String
    let fromTag: String
    var provisional = false
    var cancelSent = false
    var ringTimedOut = false
    var authAttempted = false
    var rtp: RTPSession?
    var localSDP: SessionDescription?
    var dialog: SIPDialog?
    /// The answered call, whose ending reports the result.
    weak var call: Call?
    var ringTimer: Scheduled<Void>?
    /// A callback's citizen leg: the agent's leg it is bridged to once answered.
    var bridgeTo: AgentLeg?
    var answeredAt: Date?

    init(request: OutboundCallRequest, callID: String, fromTag: String, startedAt: Date,
         completion: @escaping (OutboundCallResult) -> Void) {
        self.request = request
        self.callID = callID
        self.fromTag = fromTag
        self.startedAt = startedAt
        self.completion = completion
    }
}
