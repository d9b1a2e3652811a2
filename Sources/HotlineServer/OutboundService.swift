// HotlineServer: the composition root.
// This file: the outbound service. It owns the schedule (a sans-IO machine) on the control
// loop, keeps it in the store, hands `dial`s to the call loops, and turns what the calls gave
// into work-order events: a return visit's score, a dissatisfied citizen's reopened order.
import Dialplan
import Foundation
import Logging
import NIOCore
import NIOPosix
import Outbound
import Tickets
import WorkCalendar

final class OutboundService: @unchecked Sendable {
    /// The campaign of the automatic return visits.
    static let returnVisitCampaign = "return_visit"
    /// The campaign (and flow) of the move-my-car owner notices.
    static let moveCarCampaign = "move_my_car"
    static let tick: TimeAmount = .milliseconds(20)

    let loop: EventLoop
    private let engines: [CallEnginePeer]
    private let store: any TicketStore & OutboundJobStore & WorkOrderWriting & TicketReading
    private let logger: Logger
    private let configuration: ServerConfiguration
    private let owners: VehicleOwners?
    /// Store writes, in order, off the event loops.
    private let writes = DispatchQueue(label: "hotline-outbound-store")
    // Confined to `loop`:
    private var scheduler: OutboundScheduler
    private var dialplan: Dialplan
    private var destinations: [String: SocketAddress]
    private var nextEngine = 0
    private var tickTask: RepeatedTask?
    private var pollTask: RepeatedTask?
    private var polling = false
    private var idCounter: UInt64 = 0
    private let idPrefix = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)

    init(loop: EventLoop, engines: [CallEnginePeer], store: any TicketStore & OutboundJobStore & WorkOrderWriting & TicketReading,
         trunks: TrunksFile, dialplan: Dialplan, owners: VehicleOwners? = nil, configuration: ServerConfiguration,
         logger: Logger) throws {
        self.owners = owners
        self.loop = loop
        self.engines = engines
        self.store = store
        self.logger = logger
        self.configuration = configuration
        self.dialplan = dialplan
        self.destinations = try Self.resolve(trunks)
        scheduler = OutboundScheduler(configuration: configuration.outbound, trunks: trunks, flows: Self.flows(of: dialplan))
    }

    /// The trunks' addresses, resolved once (never on the call path).
    static func resolve(_ trunks: TrunksFile) throws -> [String: SocketAddress] {
        var addresses: [String: SocketAddress] = [:]
        for trunk in trunks.trunks {
            addresses[trunk.name] = try SocketAddress.makeAddressResolvingHost(trunk.host, port: trunk.port)
        }
        return addresses
    }

    /// The dialplan's outbound flows with the calendar each may call in.
    static func flows(of dialplan: Dialplan) -> [String: WorkCalendar?] {
        var flows: [String: WorkCalendar?] = [:]
        for entry in dialplan.entries {
            guard let name = entry.outboundName else { continue }
            flows[name] = entry.calendar.flatMap { dialplan.calendars[$0] }
        }
        return flows
    }

    /// Loads campaigns and unfinished jobs from the store, then ticks.
    func start() throws {
        let campaigns = try store.campaigns()
        let pending = try store.pendingJobs()
        try loop.submit { [self] in
            var known = Set<String>()
            for campaign in campaigns {
                do { try scheduler.addCampaign(campaign) } catch { logger.warning("campaign not loaded", metadata: ["campaign": "\(campaign.id)", "error": "\(error)"]) }
                known.insert(campaign.id)
            }
            // The services' own campaigns, when their flows exist (and, for the owners' notices,
            // the owners' table).
            for (id, wanted) in [(Self.returnVisitCampaign, configuration.returnVisits), (Self.moveCarCampaign, owners != nil)]
            where wanted && !known.contains(id) && scheduler.flows[id] != nil {
                let campaign = OutboundCampaign(id: id, flow: id, maxAttempts: id == Self.moveCarCampaign ? 2 : 3, createdAt: Date())
                try? scheduler.addCampaign(campaign)
                save { try $0.saveCampaign(campaign) }
            }
            let now = Date()
            for job in pending {
                do { perform(try scheduler.add(job, now: now, isNew: false)) } catch {
                    logger.warning("outbound job not loaded", metadata: ["job": "\(job.id)", "error": "\(error)"])
                }
            }
            tickTask = loop.scheduleRepeatedTask(initialDelay: Self.tick, delay: Self.tick) { [weak self] _ in self?.tick() }
            if scheduler.campaigns[Self.returnVisitCampaign] != nil || scheduler.campaigns[Self.moveCarCampaign] != nil {
                let poll = TimeAmount.nanoseconds(Int64(configuration.returnVisitPoll.nanosecondsClamped))
                pollTask = loop.scheduleRepeatedTask(initialDelay: .zero, delay: poll) { [weak self] _ in self?.pollWorkOrders() }
            }
        }.wait()
        logger.info("outbound calls", metadata: ["trunks": "\(scheduler.trunks.trunks.map(\.name).joined(separator: ","))",
                                                 "flows": "\(scheduler.flows.keys.sorted().joined(separator: ","))",
                                                 "pending": "\(pending.count)"])
    }

    func stop() {
        loop.execute { [self] in
            tickTask?.cancel()
            pollTask?.cancel()
        }
        writes.sync {}
    }

    /// A newly published dialplan: its outbound flows and calendars apply to the next attempts.
    func install(_ dialplan: Dialplan) {
        loop.execute { [self] in
            self.dialplan = dialplan
            scheduler.reconfigure(configuration.outbound, trunks: scheduler.trunks, flows: Self.flows(of: dialplan))
        }
    }

    // MARK: the API's operations (on the loop)

    func createCampaign(_ campaign: OutboundCampaign) -> EventLoopFuture<OutboundCampaign> {
        loop.submit { [self] in
            guard scheduler.campaigns[campaign.id] == nil else { throw CampaignError.exists(campaign.id) }
            try scheduler.addCampaign(campaign)
            save { try $0.saveCampaign(campaign) }
            return campaign
        }.flatMap { self.afterWrites($0) }
    }

    /// `value` once the store writes queued so far are done: the API answers only with what
    /// is stored (a 201 for jobs that a restart would not lose, progress that counts them).
    private func afterWrites<T: Sendable>(_ value: T) -> EventLoopFuture<T> {
        let promise = loop.makePromise(of: T.self)
        writes.async { promise.succeed(value) }
        return promise.futureResult
    }

    func addJobs(campaign: String, numbers: [(number: String, workOrder: String?, variables: [String: String])],
                 notBefore: Date?) -> EventLoopFuture<[OutboundJob]> {
        loop.submit { [self] in
            guard let c = scheduler.campaigns[campaign] else { throw OutboundScheduler.SchedulerError.unknownCampaign(campaign) }
            let now = Date()
            var jobs: [OutboundJob] = []
            for item in numbers {
                let job = OutboundJob(id: newJobID(), campaign: campaign, flow: c.flow, number: item.number, workOrder: item.workOrder,
                                      trunk: c.trunk, variables: item.variables, maxAttempts: c.maxAttempts, notBefore: notBefore ?? now,
                                      createdAt: now)
                perform(try scheduler.add(job, now: now))
                jobs.append(job)
            }
            return jobs
        }.flatMap { self.afterWrites($0) }
    }

    func setPaused(_ paused: Bool, campaign: String) -> EventLoopFuture<OutboundCampaign> {
        loop.submit { [self] in
            let c = try scheduler.setPaused(paused, campaign: campaign)
            save { try $0.saveCampaign(c) }
            return c
        }.flatMap { self.afterWrites($0) }
    }

    func campaigns() -> EventLoopFuture<[OutboundCampaign]> {
        loop.submit { [self] in scheduler.campaigns.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    /// A campaign's progress from the store (finished jobs included).
    func progress(campaign: String) throws -> OutboundProgress {
        var progress = OutboundProgress()
        for job in try store.jobs(campaign: campaign) {
            progress.jobs += 1
            progress.byState[job.state.rawValue, default: 0] += 1
            progress.attempts += job.attempts
            if let outcome = job.lastOutcome { progress.lastOutcomes[outcome.rawValue, default: 0] += 1 }
        }
        return progress
    }

    enum CampaignError: Error, CustomStringConvertible {
        case exists(String)
        var description: String {
            switch self { case .exists(let id): "campaign '\(id)' exists already" }
        }
    }

    // MARK: the schedule

    private func newJobID() -> String {
        idCounter += 1
        return "ob-\(idPrefix)-\(idCounter)"
    }

    private func tick() {
        perform(scheduler.tick(now: Date()))
    }

    private func perform(_ actions: [OutboundScheduler.Action]) {
        for action in actions {
            switch action {
            case .save(let job):
                save { try $0.saveJob(job) }
            case .finished(let job):
                logger.info("outbound job finished", metadata: ["job": "\(job.id)", "state": "\(job.state.rawValue)",
                                                                 "attempts": "\(job.attempts)", "result": "\(job.result ?? "-")"])
            case .dial(let job, let trunk):
                dial(job, trunk)
            }
        }
    }

    private func dial(_ job: OutboundJob, _ trunk: Trunk) {
        guard let entry = dialplan.outboundEntry(named: job.flow), let destination = destinations[trunk.name] else {
            return perform(scheduler.attemptEnded(job: job.id, outcome: .unreachable, result: nil, now: Date()))
        }
        let peer = engines[nextEngine % engines.count]
        nextEngine &+= 1
        let request = OutboundCallRequest(job: job, trunk: trunk, entry: entry, destination: destination)
        let loop = self.loop
        peer.eventLoop.execute {
            peer.engine.value.placeOutboundCall(request) { [weak self] result in
                loop.execute { [weak self] in self?.attemptEnded(job, result) }
            }
            peer.engine.value.transport?.flush()
        }
    }

    private func attemptEnded(_ job: OutboundJob, _ result: OutboundCallResult) {
        let resultKey: String? = switch job.flow {
        case Self.returnVisitCampaign: "return_visit_score"
        case Self.moveCarCampaign: "move_car_result"
        default: nil
        }
        let value = resultKey.flatMap { result.summary[$0] }
        let workOrder = job.workOrder.flatMap(TicketID.init(rawValue:))
        let attempt = OutboundAttempt(job: job.id, attempt: job.attempts, startedAt: result.startedAt, endedAt: result.endedAt,
                                      outcome: result.outcome, sipStatus: result.sipStatus, ticket: result.ticket, workOrder: workOrder)
        save { try $0.recordAttempt(attempt) }
        if let ticket = result.ticket, let workOrder {
            store.linkCall(ticket, to: workOrder, at: result.endedAt) { [logger] outcome in
                if case .failure(let error) = outcome {
                    logger.warning("outbound call not linked to its work order", metadata: ["ticket": "\(ticket)", "error": "\(error)"])
                }
            }
        }
        let actions = scheduler.attemptEnded(job: job.id, outcome: result.outcome, result: value, resultExpected: resultKey != nil,
                                             now: result.endedAt)
        perform(actions)
        let finished = actions.lazy.compactMap { action -> OutboundJob? in
            if case .finished(let j) = action { return j } else { return nil }
        }.first
        guard let finished, let workOrder else { return }
        switch job.flow {
        case Self.returnVisitCampaign:
            if finished.state == .completed, let value, let score = Int(value) {
                recordReturnVisit(score: score, workOrder: workOrder, at: result.endedAt, job: job.id)
            }
        case Self.moveCarCampaign:
            if finished.state == .completed, value == "will_move" {
                resolveMoveCar(workOrder, at: result.endedAt, job: job.id)
            } else {
                escalateMoveCar(workOrder, at: result.endedAt,
                                why: finished.state == .completed ? "the owner says it is not their vehicle" : "the owner was not reached")
            }
        default:
            break
        }
    }

    /// The owner will move the car: resolved by the hotline itself, so answered directly and
    /// closed.
    private func resolveMoveCar(_ workOrder: TicketID, at: Date, job: String) {
        let answered = TicketEvent(.answeredDirectly, at: at, actor: "move_my_car", note: "the owner agreed to move the vehicle (call \(job))")
        store.append(answered, to: workOrder) { [store, logger] outcome in
            guard case .success = outcome else {
                return logger.warning("move-my-car work order not resolved", metadata: ["work_order": "\(workOrder)"])
            }
            store.append(TicketEvent(.closed, at: at, actor: "move_my_car"), to: workOrder) { _ in }
        }
    }

    /// The owner was not found, not reached, or denies the vehicle: the escalation unit takes
    /// it (traffic police), or it waits at the desk.
    private func escalateMoveCar(_ workOrder: TicketID, at: Date, why: String) {
        logger.info("move-my-car escalated", metadata: ["work_order": "\(workOrder)", "why": "\(why)"])
        guard let unit = configuration.moveCarEscalationUnit else { return }
        store.append(TicketEvent(.dispatched(to: UnitID(unit)), at: at, actor: "move_my_car", note: why), to: workOrder) { [logger] outcome in
            if case .failure(let error) = outcome {
                logger.warning("move-my-car work order not escalated", metadata: ["work_order": "\(workOrder)", "error": "\(error)"])
            }
        }
    }

    /// The survey's score becomes the work order's `return_visit` event; a dissatisfied one
    /// then reopens the order for another round of handling.
    private func recordReturnVisit(score: Int, workOrder: TicketID, at: Date, job: String) {
        let event = TicketEvent(.returnVisited(score: score), at: at, actor: "return_visit", note: "survey call \(job)")
        let reopenAt = configuration.reopenAtOrBelowScore
        store.append(event, to: workOrder) { [store, logger] outcome in
            switch outcome {
            case .failure(let error):
                logger.warning("return-visit score not recorded", metadata: ["work_order": "\(workOrder)", "error": "\(error)"])
            case .success:
                guard score <= reopenAt else { return }
                let reopen = TicketEvent(.reopened(reason: "dissatisfied at the return visit (score \(score))"), at: at,
                                         actor: "return_visit")
                store.append(reopen, to: workOrder) { outcome in
                    if case .failure(let error) = outcome {
                        logger.warning("work order not reopened after a dissatisfied return visit",
                                       metadata: ["work_order": "\(workOrder)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Work orders in `feedback` (fed_back) without a return visit yet get one. The job's id
    /// is the work order's, so each order is visited once (a reopened and fed-back-again order
    /// is visited again: its id then carries the round). Move-my-car orders just accepted get
    /// their owner's notice (or are escalated at once when the plate has no known owner).
    private func pollWorkOrders() {
        guard !polling else { return }
        polling = true
        let wantVisits = scheduler.campaigns[Self.returnVisitCampaign] != nil
        let owners = scheduler.campaigns[Self.moveCarCampaign] != nil ? self.owners : nil
        writes.async { [self] in
            var due: [(workOrder: WorkOrder, jobID: String, flow: String)] = []
            do {
                if wantVisits {
                    for order in try store.workOrders(WorkOrderQuery(statuses: [.fedBack], limit: 500)).items {
                        let id = "rv-\(order.id.rawValue)" + (order.reopenCount > 0 ? "-\(order.reopenCount + 1)" : "")
                        if try store.job(id: id) == nil { due.append((order, id, Self.returnVisitCampaign)) }
                    }
                }
                if owners != nil {
                    for order in try store.workOrders(WorkOrderQuery(statuses: [.accepted], businessLine: "move_car", limit: 500)).items {
                        let id = "mc-\(order.id.rawValue)"
                        if try store.job(id: id) == nil { due.append((order, id, Self.moveCarCampaign)) }
                    }
                }
            } catch {
                logger.warning("outbound: cannot read work orders", metadata: ["error": "\(error)"])
            }
            let found = due
            loop.execute { [self] in
                polling = false
                let now = Date()
                var candidates: [(job: OutboundJob, noOwner: Bool)] = []
                for (order, id, flow) in found where scheduler.jobs[id] == nil {
                    guard let campaign = scheduler.campaigns[flow] else { continue }
                    var number = order.caller
                    var variables: [String: String] = [:]
                    if flow == Self.moveCarCampaign {
                        let fields = Self.summaryFields(order.details)
                        let plate = fields["plate"] ?? ""
                        guard let owner = owners?.owner(ofPlate: plate) else {
                            // Kept as a failed job so the order is not looked at again.
                            var job = OutboundJob(id: id, campaign: campaign.id, flow: flow, number: "0", workOrder: order.id.rawValue,
                                                  maxAttempts: 1, notBefore: now, createdAt: now)
                            job.state = .failed
                            job.result = "no_owner"
                            candidates.append((job, true))
                            continue
                        }
                        number = owner
                        variables = ["plate": plate, "location": fields["location"] ?? "0"]
                    }
                    candidates.append((OutboundJob(id: id, campaign: campaign.id, flow: campaign.flow, number: number,
                                                   workOrder: order.id.rawValue, trunk: campaign.trunk, variables: variables,
                                                   maxAttempts: campaign.maxAttempts, notBefore: now, createdAt: now), false))
                }
                claim(candidates)
            }
        }
    }

    /// Stores the new jobs only where no node has yet (nodes sharing a store find the same
    /// orders due), then schedules the ones this node claimed.
    private func claim(_ candidates: [(job: OutboundJob, noOwner: Bool)]) {
        guard !candidates.isEmpty else { return }
        writes.async { [self] in
            var claimed: [(job: OutboundJob, noOwner: Bool)] = []
            for candidate in candidates {
                do {
                    if try store.claimJob(candidate.job) { claimed.append(candidate) }
                } catch {
                    logger.warning("outbound job not stored", metadata: ["job": "\(candidate.job.id)", "error": "\(error)"])
                }
            }
            let mine = claimed
            loop.execute { [self] in
                let now = Date()
                for (job, noOwner) in mine {
                    if noOwner, let workOrder = job.workOrder.flatMap(TicketID.init(rawValue:)) {
                        escalateMoveCar(workOrder, at: now, why: "no owner is known for the plate")
                        continue
                    }
                    do { perform(try scheduler.add(job, now: now, isNew: false)) } catch {
                        logger.warning("outbound job not scheduled", metadata: ["job": "\(job.id)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// The work order's "name: value" detail lines (the dialplan's ticket summary).
    static func summaryFields(_ details: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in details.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon]).trimmingCharacters(in: .whitespaces)] =
                String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    private func save(_ body: @escaping @Sendable (any OutboundJobStore) throws -> Void) {
        let store = self.store
        writes.async { [logger] in
            do { try body(store) } catch { logger.error("outbound schedule not saved", metadata: ["error": "\(error)"]) }
        }
    }
}
