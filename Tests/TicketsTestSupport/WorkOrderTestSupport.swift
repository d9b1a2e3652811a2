// Helpers for the work-order tests: a store with units and an SLA policy in calendar time
// (so deadlines are easy to compute by hand), and calls written the way the server writes them.

import Foundation
import WorkCalendar
import Tickets

/// The units of the tests: a region with a city, two counties (one with a township), a city
/// department, and a regional department.
public let testUnits = try! UnitDirectory(units: [
    Unit(id: "ningxia", name: "宁夏回族自治区", kind: .region),
    Unit(id: "yinchuan", name: "银川市", kind: .city, parent: "ningxia"),
    Unit(id: "xingqing", name: "兴庆区", kind: .county, parent: "yinchuan"),
    Unit(id: "xingqing.fenghuang", name: "凤凰北街街道", kind: .township, parent: "xingqing"),
    Unit(id: "jinfeng", name: "金凤区", kind: .county, parent: "yinchuan"),
    Unit(id: "traffic_police", name: "银川市交警支队", kind: .department, parent: "yinchuan"),
    Unit(id: "market_regulation", name: "自治区市场监管厅", kind: .department, parent: "ningxia"),
])

/// Sign in within 2 hours, complete within 3 days; the move_car line 10 minutes and 1 hour.
public let testPolicy = WorkOrderPolicy(
    sla: SLAPolicy(calendar: .always(timeZone: shanghai),
                   defaultRule: SLARule(signIn: SLADuration(2, .hours), completion: SLADuration(3, .days)),
                   businessLines: ["move_car": SLARule(signIn: SLADuration(10, .minutes), completion: SLADuration(1, .hours))]),
    intake: IntakePolicy())

/// What a test call does.
public struct TestCall: Sendable {
    public var caller = "13800000001"
    public var arrivedAt: Date
    /// Seconds from arrival to answer; nil if never answered.
    public var answerAfter: Double? = 1
    /// Seconds from arrival to the end.
    public var duration: Double = 60
    public var businessLine: String?
    public var category: TicketCategory?
    public var disposition: CallDisposition = .completedInIVR
    public var sipStatus: Int?
    public var resolution: CallResolution?

    public init(caller: String = "13800000001", arrivedAt: Date, answerAfter: Double? = 1, duration: Double = 60,
                businessLine: String? = nil, category: TicketCategory? = nil, disposition: CallDisposition = .completedInIVR,
                sipStatus: Int? = nil, resolution: CallResolution? = nil) {
        self.caller = caller
        self.arrivedAt = arrivedAt
        self.answerAfter = answerAfter
        self.duration = duration
        self.businessLine = businessLine
        self.category = category
        self.disposition = disposition
        self.sipStatus = sipStatus
        self.resolution = resolution
    }
}

extension TicketStore where Self: WorkOrderWriting {
    /// Writes a call as the server does: answered calls with open() then finish(), others
    /// with record(). Returns its number.
    @discardableResult
    public func call(_ call: TestCall) async throws -> TicketID {
        let id = allocateID(at: call.arrivedAt)
        let ended = call.arrivedAt.addingTimeInterval(call.duration)
        if let answerAfter = call.answerAfter {
            var ticket = arrivingTicket(id, at: call.arrivedAt)
            ticket.caller = call.caller
            ticket.answeredAt = call.arrivedAt.addingTimeInterval(answerAfter)
            ticket.sipStatus = 200
            try await openAndWait(ticket).get()
            let outcome = CallOutcome(endedAt: ended, keys: "1", menuPath: ["main_menu:1"], businessLine: call.businessLine,
                                      category: call.category, disposition: call.disposition, sipStatus: 200,
                                      resolution: call.resolution)
            try await finishAndWait(id: id, outcome: outcome).get()
        } else {
            var ticket = arrivingTicket(id, at: call.arrivedAt)
            ticket.caller = call.caller
            ticket.endedAt = ended
            ticket.disposition = call.disposition
            ticket.sipStatus = call.sipStatus ?? 487
            try await recordAndWait(ticket).get()
        }
        return id
    }

    /// Appends an event at `at` by `actor`.
    @discardableResult
    public func event(_ kind: TicketEvent.Kind, to id: TicketID, at: Date, actor: String = "agent:1001",
               within unit: UnitID? = nil) async throws(TicketStoreError) -> WorkOrder {
        try await append(TicketEvent(kind, at: at, actor: actor), to: id, within: unit)
    }
}
