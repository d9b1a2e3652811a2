// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the storage primitives TicketWriteRules composes (TicketWriteTransaction), as
// PostgreSQL statements on the writer's session inside its open transaction.

import Foundation
import PostgresNIO
import Tickets

/// The primitives of one open transaction on the writer's session.
struct PostgresWriteTransaction: TicketWriteTransaction {
    let session: PostgresSession
    /// Stamped on calls this node opens, so crash recovery closes only its own.
    let node: String

    static let insertCallSQL = """
        INSERT INTO calls (id, call_id, caller, dialled, arrived_at, answered_at, ended_at, keys, menu_path,
            business_line, category, disposition, sip_status, dialplan_version,
            queue, agent, enqueued_at, agent_answered_at, wait_ms, talk_ms, abandoned, overflowed, callback, node, direction)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
        """

    /// The bound values of a call's row, in the column order of ``insertCallSQL``.
    func callValues(_ ticket: CallTicket) -> [PostgresValue] {
        let queue = ticket.queue
        return [
            .text(ticket.id.rawValue), .text(ticket.callID), .text(ticket.caller), .text(ticket.dialled),
            .text(PostgresTime.format(ticket.arrivedAt)), .text(PostgresTime.format(ticket.answeredAt)),
            .text(PostgresTime.format(ticket.endedAt)), .text(ticket.keys), .text(PostgresRows.menuPathJSON(ticket.menuPath)),
            .text(ticket.businessLine), .text(ticket.category?.rawValue), .text(ticket.disposition?.rawValue),
            .int(ticket.sipStatus), .text(ticket.dialplanVersion),
            .text(queue?.queue), .text(queue?.agent), .text(PostgresTime.format(queue?.enqueuedAt)),
            .text(PostgresTime.format(queue?.agentAnsweredAt)), .int(queue?.waitMilliseconds), .int(queue?.talkMilliseconds),
            .bool(queue?.abandoned ?? false), .bool(queue?.overflowed ?? false), .bool(queue?.callback ?? false),
            .text(node), .text(ticket.direction.rawValue),
        ]
    }

    func insertCall(_ ticket: CallTicket) throws {
        try session.execute(Self.insertCallSQL, callValues(ticket))
    }

    /// One round trip: the update reads back what intake needs (`RETURNING`).
    func finishCall(id: TicketID, outcome: CallOutcome) throws -> CallTicket? {
        guard let row = try session.query("""
            UPDATE calls SET
                answered_at = CASE WHEN $1 THEN NULL ELSE coalesce($2, answered_at) END, ended_at = $3, keys = $4,
                menu_path = $5, business_line = $6, category = $7, disposition = $8, sip_status = $9
            WHERE id = $10 AND disposition IS NULL
            RETURNING caller, arrived_at, answered_at
            """, [.bool(outcome.unanswered), .text(PostgresTime.format(outcome.answeredAt)),
                  .text(PostgresTime.format(outcome.endedAt)), .text(outcome.keys),
                  .text(PostgresRows.menuPathJSON(outcome.menuPath)), .text(outcome.businessLine),
                  .text(outcome.category?.rawValue), .text(outcome.disposition.rawValue), .int(outcome.sipStatus),
                  .text(id.rawValue)]).first
        else { return nil }
        if let queue = outcome.queue {
            try session.execute("""
                UPDATE calls SET queue = $1, agent = $2, enqueued_at = $3, agent_answered_at = $4, wait_ms = $5,
                    talk_ms = $6, abandoned = $7, overflowed = $8, callback = $9
                WHERE id = $10
                """, [.text(queue.queue), .text(queue.agent), .text(PostgresTime.format(queue.enqueuedAt)),
                      .text(PostgresTime.format(queue.agentAnsweredAt)), .int(queue.waitMilliseconds),
                      .int(queue.talkMilliseconds), .bool(queue.abandoned), .bool(queue.overflowed), .bool(queue.callback),
                      .text(id.rawValue)])
        }
        let r = PostgresRowReader(row, id: id.rawValue)
        return CallTicket(id: id, callID: "-", caller: try r.text("caller"), dialled: "", arrivedAt: try r.date("arrived_at"),
                          answeredAt: try r.optionalDate("answered_at"), endedAt: outcome.endedAt,
                          businessLine: outcome.businessLine, category: outcome.category, disposition: outcome.disposition,
                          sipStatus: outcome.sipStatus, dialplanVersion: "")
    }

    func finishFailure(id: TicketID) throws -> TicketStoreError {
        try callExists(id) ? .alreadyFinished(id) : .ticketNotFound(id)
    }

    func callExists(_ id: TicketID) throws -> Bool {
        try !session.query("SELECT 1 FROM calls WHERE id = $1", [.text(id.rawValue)]).isEmpty
    }

    /// Locks the row for the rest of the transaction (`FOR UPDATE`): nodes' writers (and the
    /// CLI's desk) that change the same work order take turns, so none writes its projection
    /// from a stale read. A deadlock between two batches fails one write alone (its savepoint).
    func workOrder(id: TicketID) throws -> WorkOrder? {
        try session.query("SELECT \(PostgresRows.workOrderColumns) FROM work_orders WHERE id = $1 FOR UPDATE",
                          [.text(id.rawValue)])
            .first.map { row throws(TicketStoreError) in try PostgresRows.workOrder(row) }
    }

    func events(of id: TicketID) throws -> [RecordedTicketEvent] {
        try session.query("""
            SELECT seq, kind, at, actor, unit_id, score, reason, note, article_id FROM work_order_events
            WHERE work_order_id = $1 ORDER BY seq
            """, [.text(id.rawValue)]).map { row throws(TicketStoreError) in try PostgresRows.event(row, of: id) }
    }

    private static let repeatStatuses = TicketStatus.allCases.filter(\.acceptsRepeatCalls)
        .map { "'\($0.rawValue)'" }.joined(separator: ", ")

    func repeatCallCandidate(caller: String, acceptedFrom: Date, through: Date, businessLine: String?,
                             category: TicketCategory?) throws -> TicketID? {
        try session.query("""
            SELECT id FROM work_orders
            WHERE caller = $1 AND accepted_at >= $2 AND accepted_at <= $3
              AND business_line IS NOT DISTINCT FROM $4 AND category IS NOT DISTINCT FROM $5
              AND status IN (\(Self.repeatStatuses))
            ORDER BY accepted_at DESC, id DESC LIMIT 1
            """, [.text(caller), .text(PostgresTime.format(acceptedFrom)), .text(PostgresTime.format(through)),
                  .text(businessLine), .text(category?.rawValue)])
            .first.flatMap { TicketID(rawValue: (try? $0.decode(String.self)) ?? "") }
    }

    func insertWorkOrder(_ order: WorkOrder) throws {
        try session.execute("""
            INSERT INTO work_orders (id, channel, caller, business_line, category, subject, details, status,
                accepted_at, call_count, event_count, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """, [.text(order.id.rawValue), .text(order.channel.rawValue), .text(order.caller), .text(order.businessLine),
                  .text(order.category?.rawValue), .text(order.subject), .text(order.details), .text(order.status.rawValue),
                  .text(PostgresTime.format(order.acceptedAt)), .int(order.callCount), .int(order.eventCount),
                  .text(PostgresTime.format(order.updatedAt))])
    }

    func insertEvent(_ event: TicketEvent, sequence: Int, of id: TicketID) throws {
        var score: Int?, reason: String?
        if case .returnVisited(let value) = event.kind { score = value }
        if case .reopened(let value) = event.kind { reason = value }
        try session.execute("""
            INSERT INTO work_order_events (work_order_id, seq, kind, at, actor, unit_id, score, reason, note, article_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [.text(id.rawValue), .int(sequence), .text(event.kind.name), .text(PostgresTime.format(event.at)),
                  .text(event.actor), .text(event.kind.unit?.rawValue), .int(score), .text(reason), .text(event.note),
                  .text(event.article?.rawValue)])
    }

    func updateWorkOrder(_ order: WorkOrder) throws {
        func format(_ date: Date?) -> PostgresValue { .text(PostgresTime.format(date)) }
        try session.execute("""
            UPDATE work_orders SET status = $1, unit_id = $2, answered_directly_at = $3, dispatched_at = $4,
                sign_deadline = $5, completion_deadline = $6, signed_at = $7, handled_at = $8, fed_back_at = $9,
                visited_at = $10, closed_at = $11, satisfaction = $12, dispatch_count = $13, reopen_count = $14,
                event_count = $15, updated_at = $16
            WHERE id = $17
            """, [.text(order.status.rawValue), .text(order.unit?.rawValue), format(order.answeredDirectlyAt),
                  format(order.dispatchedAt), format(order.signDeadline), format(order.completionDeadline),
                  format(order.signedAt), format(order.handledAt), format(order.fedBackAt), format(order.visitedAt),
                  format(order.closedAt), .int(order.satisfaction), .int(order.dispatchCount), .int(order.reopenCount),
                  .int(order.eventCount), format(order.updatedAt), .text(order.id.rawValue)])
    }

    func updateWorkOrderText(_ order: WorkOrder) throws {
        try session.execute("""
            UPDATE work_orders SET business_line = $1, category = $2, subject = $3, details = $4, updated_at = $5 WHERE id = $6
            """, [.text(order.businessLine), .text(order.category?.rawValue), .text(order.subject), .text(order.details),
                  .text(PostgresTime.format(order.updatedAt)), .text(order.id.rawValue)])
    }

    func linkCall(_ call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason) throws {
        try insertCallLink(call, to: workOrder, at: at, reason: reason)
        try session.execute("""
            UPDATE work_orders SET call_count = call_count + 1, updated_at = greatest(updated_at, $1) WHERE id = $2
            """, [.text(PostgresTime.format(at)), .text(workOrder.rawValue)])
    }

    func insertCallLink(_ call: TicketID, to workOrder: TicketID, at: Date, reason: CallLinkReason) throws {
        try session.execute("""
            INSERT INTO work_order_calls (work_order_id, call_ticket_id, linked_at, reason) VALUES ($1, $2, $3, $4)
            """, [.text(workOrder.rawValue), .text(call.rawValue), .text(PostgresTime.format(at)), .text(reason.rawValue)])
    }

    func unitIsActive(_ unit: UnitID) throws -> Bool {
        try session.query("SELECT active FROM units WHERE id = $1", [.text(unit.rawValue)]).first?.decode(Bool.self) == true
    }

    func isWithin(_ unit: UnitID?, scope: UnitID) throws -> Bool {
        try Self.isWithin(unit, scope: scope, session: session)
    }

    static func isWithin(_ unit: UnitID?, scope: UnitID, session: PostgresSession) throws -> Bool {
        guard let unit else { return false }
        return try !session.query("""
            WITH RECURSIVE subtree(id) AS (
                SELECT $1::text UNION SELECT units.id FROM units JOIN subtree ON units.parent_id = subtree.id)
            SELECT 1 FROM subtree WHERE id = $2
            """, [.text(scope.rawValue), .text(unit.rawValue)]).isEmpty
    }

    func openDispatch(of id: TicketID, sequence: Int, unit: UnitID, at: Date, deadlines: SLADeadlines) throws {
        let at = PostgresTime.format(at)
        try session.execute("""
            UPDATE work_order_dispatches SET withdrawn_at = $1
            WHERE work_order_id = $2 AND handled_at IS NULL AND withdrawn_at IS NULL
            """, [.text(at), .text(id.rawValue)])
        try session.execute("""
            INSERT INTO work_order_dispatches (work_order_id, seq, unit_id, dispatched_at, sign_deadline, completion_deadline)
            VALUES ($1, $2, $3, $4, $5, $6)
            """, [.text(id.rawValue), .int(sequence), .text(unit.rawValue), .text(at),
                  .text(PostgresTime.format(deadlines.signIn)), .text(PostgresTime.format(deadlines.completion))])
    }

    func stampDispatch(of id: TicketID, _ stamp: DispatchStamp, at: Date) throws {
        let column = switch stamp {
        case .signed: "signed_at"
        case .handled: "handled_at"
        }
        try session.execute("""
            UPDATE work_order_dispatches SET \(column) = $1
            WHERE work_order_id = $2 AND seq = (SELECT max(seq) FROM work_order_dispatches WHERE work_order_id = $2)
            """, [.text(PostgresTime.format(at)), .text(id.rawValue)])
    }

    func articleExists(_ id: KnowledgeArticleID) throws -> Bool {
        try !session.query("SELECT 1 FROM kb_articles WHERE id = $1", [.text(id.rawValue)]).isEmpty
    }

    func syncUnits(_ directory: UnitDirectory) throws {
        try session.execute("UPDATE units SET active = false")
        for (position, unit) in directory.units.enumerated() {
            try session.execute("""
                INSERT INTO units (id, parent_id, name, kind, active, position) VALUES ($1, $2, $3, $4, true, $5)
                ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name, kind = excluded.kind,
                    active = true, position = excluded.position
                """, [.text(unit.id.rawValue), .text(unit.parent?.rawValue), .text(unit.name), .text(unit.kind.rawValue),
                      .int(position)])
        }
    }
}
