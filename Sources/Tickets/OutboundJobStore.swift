// Tickets: the store. This file: where the outbound schedule is kept, so a restart (or a
// crash) loses no return visit, callback or notice still to be made.

import Foundation
@_exported import Outbound

/// One attempt of an outbound job, as the work order shows it.
public struct OutboundAttempt: Sendable, Hashable, Codable {
    public var job: String
    public var attempt: Int
    public var startedAt: Date
    public var endedAt: Date
    public var outcome: OutboundOutcome
    /// The final SIP status, nil when none came.
    public var sipStatus: Int?
    /// The attempt's call ticket (answered calls; nil when none was opened).
    public var ticket: TicketID?
    public var workOrder: TicketID?

    public init(job: String, attempt: Int, startedAt: Date, endedAt: Date, outcome: OutboundOutcome, sipStatus: Int?,
                ticket: TicketID?, workOrder: TicketID?) {
        self.job = job
        self.attempt = attempt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.sipStatus = sipStatus
        self.ticket = ticket
        self.workOrder = workOrder
    }
}

/// Campaigns, jobs and attempts. Writes are small and rare next to calls' tickets: each is
/// its own short transaction, done off the event loops.
public protocol OutboundJobStore: Sendable {
    func saveCampaign(_ campaign: OutboundCampaign) throws(TicketStoreError)
    func campaigns() throws(TicketStoreError) -> [OutboundCampaign]
    func saveJob(_ job: OutboundJob) throws(TicketStoreError)
    /// Stores a new job unless one with its id exists; whether this call stored it. Nodes
    /// sharing a store each find the same work order due: only the one that claims it places
    /// the call.
    func claimJob(_ job: OutboundJob) throws(TicketStoreError) -> Bool
    /// Jobs not yet final (to take up again after a restart).
    func pendingJobs() throws(TicketStoreError) -> [OutboundJob]
    func jobs(campaign: String) throws(TicketStoreError) -> [OutboundJob]
    func job(id: String) throws(TicketStoreError) -> OutboundJob?
    func recordAttempt(_ attempt: OutboundAttempt) throws(TicketStoreError)
    func attempts(workOrder: TicketID) throws(TicketStoreError) -> [OutboundAttempt]
}
