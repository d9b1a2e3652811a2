// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: how a finished call becomes a work order, inside the writer's transaction.

import Foundation

/// Decides, when a call's ticket is finished (or recorded finished), whether the call opens a
/// work order, is answered directly, or joins a work order the caller already has.
///
/// The rule, applied by the store in the same transaction as the call's row:
/// 1. Only an answered call that reached a business line (the dialplan's `ticket` node set
///    `business_line`) concerns a work order. Rejected, cancelled and unanswered calls, and
///    answered calls that never chose a line (no input, operator not available), do not.
/// 2. A repeat call: if the caller ``PhoneNumber/identifiesCaller`` and has a work order on the
///    same business line and category that still ``TicketStatus/acceptsRepeatCalls`` and was
///    accepted within ``repeatCallWindow``, the call is linked to the newest such work order
///    and opens nothing.
/// 3. Otherwise the call opens a work order numbered like the call (the number the caller was
///    given), status `accepted` (actor `ivr`, at the call's end). If the call's category or
///    business line is one the IVR answers directly and the call ended `completed_in_ivr`
///    (the caller heard the answer to the end), an `answered_directly` event follows at once.
///
/// ``CallOutcome/resolution`` lets the server override step 3 for one call.
public struct IntakePolicy: Sendable, Equatable {
    /// Categories whose IVR messages answer the caller: `consultation` by default.
    public var directAnswerCategories: Set<TicketCategory>
    /// Business lines whose IVR messages answer the caller. None by default.
    public var directAnswerBusinessLines: Set<String>
    /// How far back a repeat call looks for the caller's open work order; nil turns linking off.
    /// 30 days by default.
    public var repeatCallWindow: Duration?

    public init(directAnswerCategories: Set<TicketCategory> = [.consultation], directAnswerBusinessLines: Set<String> = [],
                repeatCallWindow: Duration? = .seconds(30 * 86_400)) {
        self.directAnswerCategories = directAnswerCategories
        self.directAnswerBusinessLines = directAnswerBusinessLines
        self.repeatCallWindow = repeatCallWindow
    }

    /// What a finished call's row means for work orders, by step 1 and 3 above (step 2 needs
    /// the database and is the store's).
    public func resolution(for call: CallTicket, override: CallResolution? = nil) -> CallResolution {
        guard call.answeredAt != nil, call.businessLine != nil, call.disposition != nil else { return .noWorkOrder }
        if let override { return override }
        let direct = call.category.map(directAnswerCategories.contains) == true
            || call.businessLine.map(directAnswerBusinessLines.contains) == true
        return direct && call.disposition == .completedInIVR ? .answeredDirectly : .workOrder
    }
}

/// What a call resolved, for its work order.
public enum CallResolution: String, Sendable, Hashable, Codable {
    /// No work order (the call did not reach a business line).
    case noWorkOrder = "none"
    /// A work order, accepted, for the centre to answer or dispatch (or the caller's open one).
    case workOrder = "work_order"
    /// A work order answered in the call itself: accepted, then answered directly.
    case answeredDirectly = "answered_directly"

    /// The resolution a dialplan `ticket` node names (`resolution:`, see the dialplan
    /// language): `direct_answer` is answered directly; `dispatch`, `callback` and `message`
    /// leave a work order for the centre. nil for anything else (the intake rule decides).
    public init?(dialplanName: String) {
        switch dialplanName {
        case "direct_answer": self = .answeredDirectly
        case "dispatch", "callback", "message": self = .workOrder
        default: return nil
        }
    }
}

/// The rules the store applies to work orders: SLA clocks and call intake. Loaded from
/// `Dialplans/tickets/sla.yaml` by ``load(contentsOf:calendar:)``.
public struct WorkOrderPolicy: Sendable, Equatable {
    public var sla: SLAPolicy
    public var intake: IntakePolicy

    public init(sla: SLAPolicy, intake: IntakePolicy = IntakePolicy()) {
        self.sla = sla
        self.intake = intake
    }

    /// ``SLAPolicy/standard(timeZone:)`` and the default intake.
    public static func standard(timeZone: TimeZone) -> WorkOrderPolicy {
        WorkOrderPolicy(sla: .standard(timeZone: timeZone))
    }
}
