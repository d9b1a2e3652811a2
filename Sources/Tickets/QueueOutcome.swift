// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: what the agent queues (the ACD) did with a call, kept on its ticket.

import Foundation

/// A call's time in the agent queues: which queue, which agent answered, when, how long the
/// caller waited and talked, and whether they gave up, overflowed or left a callback request.
///
/// Stored in the `calls` table's queue columns (migration v3); a call that never reached a
/// `queue` node has none. Dates are rounded to the millisecond like the ticket's own.
public struct QueueOutcome: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The queue the caller was last in (after an overflow into another queue, that one).
    public var queue: String
    /// The agent id (`a1001`) who answered; nil if no agent did.
    public var agent: String?
    /// When the caller reached the `queue` node.
    public var enqueuedAt: Date { didSet { enqueuedAt = TicketTimestamp.normalized(enqueuedAt) } }
    /// When the agent's phone answered (the two legs were bridged).
    public var agentAnsweredAt: Date? { didSet { agentAnsweredAt = agentAnsweredAt.map(TicketTimestamp.normalized) } }
    /// Time in the queues: until an agent answered, or until the caller left them (hung up,
    /// overflowed out, became a callback request). Milliseconds.
    public var waitMilliseconds: Int?
    /// Time connected to the agent, until either side hung up. Milliseconds.
    public var talkMilliseconds: Int?
    /// The caller hung up while waiting.
    public var abandoned: Bool
    /// The caller was overflowed: into another queue, to voicemail, or back to the dialplan.
    public var overflowed: Bool
    /// The caller left a callback request that kept their place in the queue.
    public var callback: Bool

    public init(queue: String, agent: String? = nil, enqueuedAt: Date, agentAnsweredAt: Date? = nil,
                waitMilliseconds: Int? = nil, talkMilliseconds: Int? = nil, abandoned: Bool = false,
                overflowed: Bool = false, callback: Bool = false) {
        self.queue = queue
        self.agent = agent
        self.enqueuedAt = TicketTimestamp.normalized(enqueuedAt)
        self.agentAnsweredAt = agentAnsweredAt.map(TicketTimestamp.normalized)
        self.waitMilliseconds = waitMilliseconds
        self.talkMilliseconds = talkMilliseconds
        self.abandoned = abandoned
        self.overflowed = overflowed
        self.callback = callback
    }

    public var description: String {
        var parts = ["queue \(queue)"]
        if let agent { parts.append("agent \(agent)") }
        if let waitMilliseconds { parts.append("waited \(waitMilliseconds) ms") }
        if let talkMilliseconds { parts.append("talked \(talkMilliseconds) ms") }
        if abandoned { parts.append("abandoned") }
        if overflowed { parts.append("overflowed") }
        if callback { parts.append("callback") }
        return parts.joined(separator: ", ")
    }
}
