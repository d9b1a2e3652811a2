// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: work orders as `hotline tickets list` and `show` print them. Callers' numbers are
// masked unless asked for.

import Foundation

extension WorkOrder {
    /// A table of work orders, one per line, with a count.
    public static func table(_ orders: [WorkOrder], maskCallers: Bool = true, now: Date) -> String {
        var table = TextTable()
        table.append(["WORK ORDER", "ACCEPTED (UTC)", "CALLER", "LINE", "CATEGORY", "STATUS", "UNIT", "DUE", "CALLS"])
        for order in orders {
            var due = "-"
            if order.status == .dispatched, let deadline = order.signDeadline {
                due = "sign " + TicketTimestamp.format(deadline)
            } else if order.status == .signed, let deadline = order.completionDeadline {
                due = "done " + TicketTimestamp.format(deadline)
            }
            if order.isOverdue(at: now) { due += " OVERDUE" }
            table.append([order.id.rawValue, TicketTimestamp.format(order.acceptedAt),
                          maskCallers ? PhoneNumber.masked(order.caller) : order.caller, order.businessLine ?? "-",
                          order.category?.rawValue ?? "-", order.status.rawValue, order.unit?.rawValue ?? "-", due,
                          String(order.callCount)])
        }
        return table.render() + "\n\(orders.count) work order(s)\n"
    }
}

extension WorkOrderDetail {
    /// The work order, its events, dispatches and calls.
    public func text(maskCallers: Bool = true, now: Date) -> String {
        let order = workOrder
        func time(_ date: Date?) -> String { date.map(TicketTimestamp.format) ?? "-" }
        var out = ["Work order \(order.id): \(order.status.rawValue)" + (order.isOverdue(at: now) ? " (OVERDUE)" : "")]
        var fields = TextTable()
        fields.append(["caller", (maskCallers ? PhoneNumber.masked(order.caller) : order.caller) + " (\(order.channel))"])
        fields.append(["line, category", "\(order.businessLine ?? "-"), \(order.category?.rawValue ?? "-")"])
        if let subject = order.subject { fields.append(["subject", subject]) }
        if !order.details.isEmpty { fields.append(["details", order.details]) }
        fields.append(["accepted", time(order.acceptedAt)])
        if let unit = order.unit {
            fields.append(["unit", unit.rawValue])
            fields.append(["dispatched", time(order.dispatchedAt)])
            fields.append(["sign in by", time(order.signDeadline) + (order.signedAt.map {
                ", signed \(TicketTimestamp.format($0))" + (order.signedOnTime == true ? " (on time)" : " (late)")
            } ?? "")])
            fields.append(["complete by", time(order.completionDeadline) + (order.handledAt.map {
                ", handled \(TicketTimestamp.format($0))" + (order.completedOnTime == true ? " (on time)" : " (late)")
            } ?? "")])
        }
        if let satisfaction = order.satisfaction { fields.append(["satisfaction", "\(satisfaction)/5"]) }
        out.append(fields.render(indent: "  "))

        out.append("Events")
        var log = TextTable()
        for recorded in events {
            let event = recorded.event
            var what = event.kind.name
            switch event.kind {
            case .dispatched(let unit): what += " → \(unit)"
            case .signed(let unit): what += " by \(unit)"
            case .returnVisited(let score): what += " score \(score)"
            case .reopened(let reason): what += ": \(reason)"
            default: break
            }
            if let article = event.article { what += " (article \(article))" }
            log.append([String(recorded.sequence), TicketTimestamp.format(event.at), what, event.actor, event.note ?? ""])
        }
        out.append(log.render(indent: "  "))

        if dispatches.count > 1 {
            out.append("Dispatches")
            var table = TextTable()
            for dispatch in dispatches {
                table.append([dispatch.unit.rawValue, TicketTimestamp.format(dispatch.dispatchedAt),
                              "signed " + time(dispatch.signedAt), "handled " + time(dispatch.handledAt),
                              dispatch.withdrawnAt.map { "withdrawn \(TicketTimestamp.format($0))" } ?? ""])
            }
            out.append(table.render(indent: "  "))
        }

        out.append("Calls")
        if calls.isEmpty { out.append("  none") }
        var table = TextTable()
        for linked in calls {
            let call = linked.call
            table.append([call.id.rawValue, TicketTimestamp.format(call.arrivedAt), linked.reason.rawValue,
                          call.disposition?.rawValue ?? "in progress", "keys \(call.keys.isEmpty ? "-" : call.keys)",
                          call.menuPath.joined(separator: " > ")])
        }
        if !calls.isEmpty { out.append(table.render(indent: "  ")) }
        if !outboundAttempts.isEmpty {
            out.append("Calls placed")
            var placed = TextTable()
            for attempt in outboundAttempts {
                placed.append([TicketTimestamp.format(attempt.startedAt), attempt.job, "attempt \(attempt.attempt)", attempt.outcome.rawValue,
                               attempt.sipStatus.map { "SIP \($0)" } ?? "no response", attempt.ticket?.rawValue ?? ""])
            }
            out.append(placed.render(indent: "  "))
        }
        if !handoffs.isEmpty {
            out.append("Hand-offs")
            var handed = TextTable()
            for handoff in handoffs {
                let way = handoff.direction == .outbound ? "to \(handoff.partner)" : "from \(handoff.partner)"
                handed.append([way, handoff.state.rawValue, "attempts \(handoff.attempts)",
                               "their ref " + (handoff.partnerReference ?? "-"),
                               "status " + (handoff.partnerStatus.map { s in
                                   s + (handoff.partnerStatusAt.map { " at \(TicketTimestamp.format($0))" } ?? "")
                               } ?? "-"),
                               TicketTimestamp.format(handoff.createdAt), handoff.lastError ?? ""])
            }
            out.append(handed.render(indent: "  "))
        }
        out.append("Next: " + (allowedEvents.isEmpty ? "nothing" : allowedEvents.joined(separator: ", ")))
        return out.joined(separator: "\n") + "\n"
    }
}
