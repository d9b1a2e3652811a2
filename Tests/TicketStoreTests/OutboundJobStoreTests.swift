// The outbound schedule in both stores: campaigns, jobs (upserted as they move), attempts by
// work order, and the calls' direction.

import Foundation
import Testing
import Tickets
import TicketsTestSupport

@Suite struct OutboundJobStoreTests {
    @Test(arguments: StoreBackend.allCases)
    func campaignsJobsAndAttemptsRoundTrip(_ backend: StoreBackend) async throws {
        let database = try await TestDatabase(backend)
        let opened = try database.open()
        defer { opened.close() }
        let store = try #require(opened as? any HotlineStore & OutboundJobStore)
        let t = Date(timeIntervalSince1970: 1_796_000_000)
        var campaign = OutboundCampaign(id: "heating_notice", flow: "notice", trunk: "carrier", callsPerSecond: 2.5, maxConcurrent: 4,
                                        maxAttempts: 2, createdAt: t)
        try store.saveCampaign(campaign)
        campaign.paused = true
        try store.saveCampaign(campaign)
        #expect(try store.campaigns() == [campaign])

        let order = try await store.createWorkOrder(WorkOrderIntake(channel: .web, caller: "13800000088", category: .help,
                                                                    acceptedAt: t, actor: "test"))
        var job = OutboundJob(id: "ob-1", campaign: campaign.id, flow: "notice", number: "13800000088", workOrder: order.id.rawValue,
                              variables: ["plate": "12345"], maxAttempts: 2, notBefore: t, createdAt: t)
        try store.saveJob(job)
        job.state = .dialing
        job.attempts = 1
        job.updatedAt = t.addingTimeInterval(1)
        try store.saveJob(job)
        #expect(try store.pendingJobs() == [job])
        job.state = .completed
        job.lastOutcome = .answered
        job.result = "5"
        try store.saveJob(job)
        #expect(try store.pendingJobs().isEmpty)
        #expect(try store.job(id: "ob-1") == job && store.jobs(campaign: campaign.id) == [job])
        // Attempts beyond the maximum are refused by the schema.
        var tooMany = job
        tooMany.attempts = 3
        #expect(throws: TicketStoreError.self) { try store.saveJob(tooMany) }

        let attempt = OutboundAttempt(job: "ob-1", attempt: 1, startedAt: t, endedAt: t.addingTimeInterval(30), outcome: .busy,
                                      sipStatus: 486, ticket: nil, workOrder: order.id)
        try store.recordAttempt(attempt)
        try store.recordAttempt(attempt) // a replay adds nothing
        #expect(try store.attempts(workOrder: order.id) == [attempt])

        // Claiming: the first node to store a job places it; the next finds it taken.
        let due = OutboundJob(id: "rv-1", campaign: campaign.id, flow: "notice", number: "13800000089", maxAttempts: 2,
                              notBefore: t, createdAt: t)
        #expect(try store.claimJob(due))
        #expect(try !store.claimJob(due))
        #expect(try store.job(id: "rv-1") == due)

        // A call's direction is kept.
        let id = store.allocateID(at: t)
        let call = CallTicket(id: id, callID: "ob-call@test", caller: "13800000088", dialled: "12345", arrivedAt: t, answeredAt: t,
                              endedAt: t.addingTimeInterval(20), disposition: .completedInIVR, sipStatus: 200, dialplanVersion: "v",
                              direction: .outbound)
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            store.record(call) { c.resume(with: $0.mapError { $0 as Error }) }
        }
        #expect(try database.reader().ticket(id: id)?.direction == .outbound)
    }
}
