// HotlineServer: the composition root.
// This file: the B2BUA's second leg — our INVITE to an agent's phone — and what a queued call
// keeps about its time in the queues. Both live on the call's event loop.
import ACD
import Foundation
import Media
import NIOCore
import SDP
import SIPCore
import SIPDialog

/// Our call to an agent's phone for one offer (RFC 3261 UAC): INVITE in a client transaction,
/// CANCEL when the ACD withdraws the offer, ACK for the 2xx (the TU's, §13.2.2.4), BYE at the
/// end. Outlives the caller's `Call` while a CANCEL or a BYE is still on its way.
final class AgentLeg {
    enum State: Equatable {
        /// Binding the leg's RTP socket; nothing sent yet.
        case opening
        /// INVITE sent; no final response yet.
        case inviting
        /// 2xx received and ACKed; bridged to the caller.
        case answered
        /// Withdrawn before an answer: CANCEL sent (or waiting for the first provisional
        /// response, before which §9.1 forbids it).
        case cancelling
        case ended
    }

    let id: UInt64
    let agent: AgentID
    let acdID: CallID
    /// The caller's call number on this loop.
    let callNumber: UInt64
    let target: AgentTarget
    let isCallback: Bool
    var state: State = .opening
    var invite: SIPRequest?
    /// A provisional response came, so a CANCEL may be sent (RFC 3261 §9.1).
    var provisional = false
    var cancelSent = false
    var ringing = false
    /// A callback's number is being read to the agent.
    var callbackPlaying = false
    /// A callback's call to the citizen (with trunks configured), bridged once answered.
    var citizen: OutboundLeg?
    var dialog: SIPDialog?
    var rtp: RTPSession?
    var localSDP: SessionDescription?
    var negotiated: NegotiatedMedia?
    let offeredAt: Date
    var answeredAt: Date?

    init(id: UInt64, agent: AgentID, acdID: CallID, callNumber: UInt64, target: AgentTarget, isCallback: Bool, offeredAt: Date) {
        self.id = id
        self.agent = agent
        self.acdID = acdID
        self.callNumber = callNumber
        self.target = target
        self.isCallback = isCallback
        self.offeredAt = offeredAt
    }

    var isLive: Bool { state != .ended }
}

/// A call's time in the agent queues, for its ticket and its waiting media.
final class QueueVisit {
    enum Phase: Equatable {
        /// Queued: music and announcements; an offer may be ringing an agent.
        case waiting
        /// An agent answered: the legs are bridged.
        case connected
        /// Left the queues without an agent (overflow, callback, voicemail, unavailable).
        case left
    }

    let acdID: CallID
    var queue: String
    let enqueuedAt: Date
    var phase: Phase = .waiting
    /// Time in the queues once it is known (answered or left).
    var waited: Duration?
    var agent: AgentID?
    var agentAnsweredAt: Date?
    var abandoned = false
    var overflowed = false
    var callback = false
    /// The music looped while waiting, and the playback id of what the caller hears now
    /// (music or an announcement) on their RTP session.
    var music: String?
    var playback: UInt64?
    /// What follows the current playback.
    var afterPlayback: QueueAfterPlayback = .music

    init(acdID: CallID, queue: String, enqueuedAt: Date) {
        self.acdID = acdID
        self.queue = queue
        self.enqueuedAt = enqueuedAt
    }
}
