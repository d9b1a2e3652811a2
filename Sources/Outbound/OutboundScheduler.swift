// Outbound: the calls the server places. This file: the schedule as a sans-IO state machine.
// Jobs in, `dial` actions out, at the pace the trunks, the campaigns and the whole server
// allow, only in the hours the flow's calendar allows; attempts' outcomes in, retries or
// endings out. Time is an input; the controller persists what `save` names.

import Foundation
import HeapModule
import WorkCalendar

public struct OutboundScheduler: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// New calls per second for the whole server, and calls up at once.
        public var callsPerSecond: Double
        public var maxConcurrent: Int
        public var retry: RetryPolicy

        public init(callsPerSecond: Double = 20, maxConcurrent: Int = 100, retry: RetryPolicy = RetryPolicy()) {
            self.callsPerSecond = callsPerSecond
            self.maxConcurrent = maxConcurrent
            self.retry = retry
        }
    }

    public enum Action: Sendable, Hashable {
        /// Place an attempt of this job (its `attempts` already counts it) through `trunk`.
        case dial(OutboundJob, Trunk)
        /// The job changed: persist it.
        case save(OutboundJob)
        /// The job reached a final state (completed, failed, cancelled).
        case finished(OutboundJob)
    }

    public enum SchedulerError: Error, Sendable, Hashable, CustomStringConvertible {
        case unknownCampaign(String)
        case unknownFlow(String)
        case unknownTrunk(String)
        case duplicateJob(String)

        public var description: String {
            switch self {
            case .unknownCampaign(let c): "no campaign '\(c)'"
            case .unknownFlow(let f): "the dialplan has no outbound flow '\(f)'"
            case .unknownTrunk(let t): "no trunk '\(t)'"
            case .duplicateJob(let j): "job '\(j)' exists already"
            }
        }
    }

    public private(set) var configuration: Configuration
    public private(set) var trunks: TrunksFile
    /// The outbound flows the dialplan defines, with the calendar each may call in (nil: any time).
    public private(set) var flows: [String: WorkCalendar?]
    public private(set) var campaigns: [String: OutboundCampaign] = [:]
    public private(set) var jobs: [String: OutboundJob] = [:]
    /// Scheduled jobs by when they fall due (oldest first), so a tick looks only at what is
    /// due instead of sorting every job. Entries are checked against `jobs` when taken (a job
    /// moved or finished since leaves a stale entry behind).
    private var due = Heap<DueEntry>()

    private var global: TokenBucket
    private var trunkBuckets: [String: TokenBucket] = [:]
    private var campaignBuckets: [String: TokenBucket] = [:]
    private var dialingByTrunk: [String: Int] = [:]
    private var dialingByCampaign: [String: Int] = [:]
    private var dialing = 0

    public init(configuration: Configuration, trunks: TrunksFile, flows: [String: WorkCalendar?]) {
        self.configuration = configuration
        self.trunks = trunks
        self.flows = flows
        self.global = TokenBucket(rate: configuration.callsPerSecond)
    }

    /// New trunks, flows or limits (a reload, a dialplan publish): calls in progress go on.
    public mutating func reconfigure(_ configuration: Configuration, trunks: TrunksFile, flows: [String: WorkCalendar?]) {
        self.configuration = configuration
        self.trunks = trunks
        self.flows = flows
        global.rate = configuration.callsPerSecond
        trunkBuckets = [:]
    }

    public var callsInProgress: Int { dialing }

    static let examinedPerTick = 256

    // MARK: campaigns and jobs

    public mutating func addCampaign(_ campaign: OutboundCampaign) throws(SchedulerError) {
        guard flows[campaign.flow] != nil else { throw .unknownFlow(campaign.flow) }
        if let trunk = campaign.trunk, trunks.trunk(named: trunk) == nil { throw .unknownTrunk(trunk) }
        campaigns[campaign.id] = campaign
        campaignBuckets[campaign.id] = campaign.callsPerSecond.map { TokenBucket(rate: $0) }
    }

    /// Pauses or resumes a campaign: a paused one places no new attempt (calls up go on).
    public mutating func setPaused(_ paused: Bool, campaign id: String) throws(SchedulerError) -> OutboundCampaign {
        guard var campaign = campaigns[id] else { throw .unknownCampaign(id) }
        let resumed = campaign.paused && !paused
        campaign.paused = paused
        campaigns[id] = campaign
        if resumed { // its jobs left the due order while it was paused
            for job in jobs.values where job.campaign == id && job.state == .scheduled {
                due.insert(DueEntry(notBefore: job.notBefore, createdAt: job.createdAt, id: job.id))
            }
        }
        return campaign
    }

    /// Takes a job (new, or loaded from the store after a restart: one found `dialing` was cut
    /// off by the restart and is scheduled again). Returns `save` for a new one.
    public mutating func add(_ job: OutboundJob, now: Date, isNew: Bool = true) throws(SchedulerError) -> [Action] {
        guard campaigns[job.campaign] != nil else { throw .unknownCampaign(job.campaign) }
        guard flows[job.flow] != nil else { throw .unknownFlow(job.flow) }
        if let trunk = job.trunk, trunks.trunk(named: trunk) == nil { throw .unknownTrunk(trunk) }
        if isNew, jobs[job.id] != nil { throw .duplicateJob(job.id) }
        var job = job
        var actions: [Action] = []
        if job.state == .dialing {
            job.state = .scheduled
            job.updatedAt = now
            actions.append(.save(job))
        } else if isNew {
            actions.append(.save(job))
        }
        if !job.state.isFinal { store(job) }
        return actions
    }

    /// Withdraws a job not yet finished (its work order was closed, an admin cancelled it).
    /// An attempt in progress goes on; its outcome no longer schedules anything.
    public mutating func cancel(job id: String, now: Date) -> [Action] {
        guard var job = jobs[id], !job.state.isFinal else { return [] }
        if job.state == .dialing { release(job) }
        job.state = .cancelled
        job.updatedAt = now
        jobs[id] = nil
        return [.save(job), .finished(job)]
    }

    public func progress(campaign id: String, finished: OutboundProgress = OutboundProgress()) -> OutboundProgress {
        var progress = finished
        for job in jobs.values where job.campaign == id {
            progress.jobs += 1
            progress.byState[job.state.rawValue, default: 0] += 1
            progress.attempts += job.attempts
            if let outcome = job.lastOutcome { progress.lastOutcomes[outcome.rawValue, default: 0] += 1 }
        }
        return progress
    }

    // MARK: time

    /// Places what is due and allowed now, oldest due first, within every pace and limit. A job
    /// due outside its flow's hours moves to the next opening (saved).
    public mutating func tick(now: Date) -> [Action] {
        var actions: [Action] = []
        var skipped: [DueEntry] = []
        defer { for entry in skipped { due.insert(entry) } }
        // Trunks that can take no more this tick: once all are, the rest waits for the next.
        var blockedTrunks = Set<String>()
        // At most this many due jobs looked at per tick, so jobs held back by their campaign's
        // own pace cost a bounded amount each tick; the others come first in the next ticks.
        var examined = 0
        while let top = due.min, top.notBefore <= now, examined < Self.examinedPerTick {
            guard dialing < configuration.maxConcurrent, global.allows(now: now), blockedTrunks.count < trunks.trunks.count else { break }
            examined += 1
            let entry = due.removeMin()
            guard let candidate = jobs[entry.id], candidate.state == .scheduled, candidate.notBefore == entry.notBefore else {
                continue // stale: the job moved, is dialling or is finished
            }
            guard let campaign = campaigns[candidate.campaign] else { continue }
            if campaign.paused { continue } // taken up again by resuming
            guard let calendar = flows[candidate.flow] else { // a flow gone from the dialplan waits for its return
                skipped.append(entry)
                continue
            }
            if let calendar, !calendar.isOpen(at: now) {
                guard let opening = calendar.nextOpening(atOrAfter: now) else { skipped.append(entry); continue }
                var job = candidate
                job.notBefore = opening
                job.updatedAt = now
                store(job)
                actions.append(.save(job))
                continue
            }
            guard let trunk = trunks.trunk(named: candidate.trunk ?? campaign.trunk) else {
                skipped.append(entry)
                continue
            }
            var trunkBucket = trunkBuckets[trunk.name] ?? TokenBucket(rate: trunk.callsPerSecond)
            guard dialingByTrunk[trunk.name, default: 0] < trunk.maxConcurrent, trunkBucket.allows(now: now) else {
                blockedTrunks.insert(trunk.name)
                skipped.append(entry)
                continue
            }
            guard campaign.maxConcurrent.map({ dialingByCampaign[campaign.id, default: 0] < $0 }) ?? true,
                  campaignBuckets[campaign.id]?.allows(now: now) ?? true else {
                skipped.append(entry)
                continue
            }
            trunkBucket.take(now: now)
            trunkBuckets[trunk.name] = trunkBucket
            if var bucket = campaignBuckets[campaign.id] {
                bucket.take(now: now)
                campaignBuckets[campaign.id] = bucket
            }
            global.take(now: now)
            var job = candidate
            job.state = .dialing
            job.attempts += 1
            job.trunk = trunk.name
            job.updatedAt = now
            jobs[job.id] = job
            dialing += 1
            dialingByTrunk[trunk.name, default: 0] += 1
            dialingByCampaign[campaign.id, default: 0] += 1
            actions += [.save(job), .dial(job, trunk)]
        }
        return actions
    }

    /// Keeps `job`, and its place in the due order while it is scheduled.
    private mutating func store(_ job: OutboundJob) {
        jobs[job.id] = job
        if job.state == .scheduled { due.insert(DueEntry(notBefore: job.notBefore, createdAt: job.createdAt, id: job.id)) }
    }

    /// The earliest instant a scheduled job falls due (for the controller's next wake-up).
    public var nextDue: Date? {
        jobs.values.lazy.filter { $0.state == .scheduled }.map(\.notBefore).min()
    }

    /// An attempt ended. `result`: what the flow reported on an answered call (a score); an
    /// answered call without the result the flow should give counts as not done.
    public mutating func attemptEnded(job id: String, outcome: OutboundOutcome, result: String?, resultExpected: Bool = true,
                                      now: Date) -> [Action] {
        guard var job = jobs[id], job.state == .dialing else { return [] }
        release(job)
        job.lastOutcome = outcome
        job.updatedAt = now
        if outcome == .answered, result != nil || !resultExpected {
            job.result = result
            job.state = .completed
            jobs[id] = nil
            return [.save(job), .finished(job)]
        }
        let calendar = flows[job.flow] ?? nil
        if let next = configuration.retry.nextAttempt(after: outcome, attempts: job.attempts, maxAttempts: job.maxAttempts,
                                                      now: now, calendar: calendar) {
            job.state = .scheduled
            job.notBefore = next
            store(job)
            return [.save(job)]
        }
        job.state = .failed
        jobs[id] = nil
        return [.save(job), .finished(job)]
    }

    private mutating func release(_ job: OutboundJob) {
        dialing -= 1
        if let trunk = job.trunk { dialingByTrunk[trunk, default: 1] -= 1 }
        dialingByCampaign[job.campaign, default: 1] -= 1
    }
}

/// Calls per second, paced by the generic cell rate algorithm (ITU-T I.371): each call moves
/// the theoretical next-call time on by 1/rate; a call may go once that time is at most a
/// tenth of a second's worth of calls ahead. Exact over any tick length, and a backlog never
/// leaves in a burst.
struct TokenBucket: Sendable, Hashable {
    var rate: Double
    /// When the next call is due at the steady pace; nil before the first.
    var theoretical: Date?

    init(rate: Double, at now: Date? = nil) {
        self.rate = rate
    }

    /// How far ahead of the steady pace calls may run (one call's worth minimum: none).
    var tolerance: TimeInterval { max(0, (max(1, rate / 10) - 1) / rate) }

    func allows(now: Date) -> Bool {
        guard let theoretical else { return true }
        return now.timeIntervalSince(theoretical) >= -tolerance - 1e-6
    }

    mutating func take(now: Date) {
        let base = max(theoretical ?? now, now)
        theoretical = base.addingTimeInterval(1 / rate)
    }
}

/// A scheduled job's place in the due order: when, then first come, then id.
struct DueEntry: Comparable, Sendable {
    var notBefore: Date
    var createdAt: Date
    var id: String

    static func < (a: DueEntry, b: DueEntry) -> Bool {
        (a.notBefore, a.createdAt, a.id) < (b.notBefore, b.createdAt, b.id)
    }
}
