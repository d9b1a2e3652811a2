// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: hand-offs to and from partners (the 110 linkage), migration v8: the SQLite
// schema's `work_order_handoffs` (its v6) with the same named rules, its writes and reads.

import Foundation
import PostgresNIO
import Tickets

enum PostgresHandoffs {
    /// Migration v8 (versions 6 and 7 are other features'; the migrator applies each missing
    /// version on its own, so gaps are fine).
    static let v8 = """
        CREATE TABLE work_order_handoffs (
            work_order_id text NOT NULL REFERENCES work_orders(id),
            partner text NOT NULL CONSTRAINT handoff_partner_not_empty CHECK (partner <> ''),
            id text NOT NULL CONSTRAINT handoff_id_format CHECK (length(id) BETWEEN 1 AND 100),
            direction text NOT NULL CONSTRAINT handoff_direction_known CHECK (direction IN ('out', 'in')),
            state text NOT NULL CONSTRAINT handoff_state_known CHECK (state IN ('pending', 'delivered', 'failed', 'received')),
            attempts integer NOT NULL DEFAULT 0 CONSTRAINT handoff_attempts CHECK (attempts >= 0),
            partner_reference text,
            partner_status text CONSTRAINT handoff_partner_status_not_empty CHECK (partner_status <> ''),
            partner_status_at text CHECK (partner_status_at ~ \(PostgresSchema.timestamp)),
            partner_note text,
            last_error text,
            body text NOT NULL,
            created_at text NOT NULL CHECK (created_at ~ \(PostgresSchema.timestamp)),
            updated_at text NOT NULL CHECK (updated_at ~ \(PostgresSchema.timestamp)),
            delivered_at text CHECK (delivered_at ~ \(PostgresSchema.timestamp)),
            next_attempt_at text CHECK (next_attempt_at ~ \(PostgresSchema.timestamp)),
            PRIMARY KEY (partner, direction, id),
            CONSTRAINT handoff_state_fits_direction CHECK ((direction = 'in') = (state = 'received')),
            CONSTRAINT handoff_next_attempt_iff_pending CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL)),
            CONSTRAINT handoff_delivered_at CHECK ((state = 'delivered') = (delivered_at IS NOT NULL))
        );
        CREATE INDEX work_order_handoffs_work_order ON work_order_handoffs(work_order_id, created_at);
        CREATE INDEX work_order_handoffs_due ON work_order_handoffs(next_attempt_at) WHERE state = 'pending';
        CREATE TRIGGER work_order_handoffs_no_delete BEFORE DELETE ON work_order_handoffs
            FOR EACH ROW EXECUTE FUNCTION hotline_refuse('hand-offs are never deleted');
        CREATE TRIGGER work_order_handoffs_identity_fixed
            BEFORE UPDATE OF work_order_id, partner, id, direction, body, created_at ON work_order_handoffs
            FOR EACH ROW WHEN (OLD.work_order_id IS DISTINCT FROM NEW.work_order_id OR OLD.partner IS DISTINCT FROM NEW.partner
                               OR OLD.id IS DISTINCT FROM NEW.id OR OLD.direction IS DISTINCT FROM NEW.direction
                               OR OLD.body IS DISTINCT FROM NEW.body OR OLD.created_at IS DISTINCT FROM NEW.created_at)
            EXECUTE FUNCTION hotline_refuse('a hand-off keeps its work order, partner, id, direction and body');
        """

    static let columns = """
        work_order_id, partner, id, direction, state, attempts, partner_reference, partner_status, partner_status_at,
        partner_note, last_error, body, created_at, updated_at, delivered_at, next_attempt_at
        """

    static func insert(_ handoff: Handoff, session: PostgresSession) throws {
        try session.execute("""
            INSERT INTO work_order_handoffs (\(columns))
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            """, [
                .text(handoff.workOrderID.rawValue), .text(handoff.partner), .text(handoff.id), .text(handoff.direction.rawValue),
                .text(handoff.state.rawValue), .int(handoff.attempts), .text(handoff.partnerReference),
                .text(handoff.partnerStatus), .text(PostgresTime.format(handoff.partnerStatusAt)), .text(handoff.partnerNote),
                .text(handoff.lastError), .text(handoff.body), .text(PostgresTime.format(handoff.createdAt)),
                .text(PostgresTime.format(handoff.updatedAt)), .text(PostgresTime.format(handoff.deliveredAt)),
                .text(PostgresTime.format(handoff.nextAttemptAt)),
            ])
    }

    static func update(_ handoff: Handoff, session: PostgresSession) throws {
        try session.execute("""
            UPDATE work_order_handoffs SET state = $1, attempts = $2, partner_reference = $3, partner_status = $4,
                partner_status_at = $5, partner_note = $6, last_error = $7, updated_at = $8, delivered_at = $9,
                next_attempt_at = $10
            WHERE partner = $11 AND direction = $12 AND id = $13
            """, [
                .text(handoff.state.rawValue), .int(handoff.attempts), .text(handoff.partnerReference),
                .text(handoff.partnerStatus), .text(PostgresTime.format(handoff.partnerStatusAt)), .text(handoff.partnerNote),
                .text(handoff.lastError), .text(PostgresTime.format(handoff.updatedAt)),
                .text(PostgresTime.format(handoff.deliveredAt)), .text(PostgresTime.format(handoff.nextAttemptAt)),
                .text(handoff.partner), .text(handoff.direction.rawValue), .text(handoff.id),
            ])
    }

    /// Outbound first when `direction` is nil ('out' sorts after 'in', hence DESC).
    static func handoff(partner: String, id: String, direction: HandoffDirection?, session: PostgresSession) throws -> Handoff? {
        try session.query("""
            SELECT \(columns) FROM work_order_handoffs
            WHERE partner = $1 AND id = $2 AND ($3::text IS NULL OR direction = $3::text)
            ORDER BY direction DESC LIMIT 1
            """, [.text(partner), .text(id), .text(direction?.rawValue)]).first.map { row throws(TicketStoreError) in
            try handoff(row)
        }
    }

    static func handoffs(ofWorkOrder id: TicketID, session: PostgresSession) throws -> [Handoff] {
        try session.query("""
            SELECT \(columns) FROM work_order_handoffs WHERE work_order_id = $1 ORDER BY created_at, direction, id
            """, [.text(id.rawValue)]).map { row throws(TicketStoreError) in try handoff(row) }
    }

    static func handoff(_ row: PostgresRow) throws(TicketStoreError) -> Handoff {
        let r = PostgresRowReader(row)
        guard let workOrder = TicketID(rawValue: try r.text("work_order_id")) else {
            throw .corruptRow(id: r.id, column: "work_order_handoffs.work_order_id")
        }
        guard let direction = HandoffDirection(rawValue: try r.text("direction")),
              let state = HandoffState(rawValue: try r.text("state"))
        else { throw .corruptRow(id: r.id, column: "work_order_handoffs.state") }
        return Handoff(id: r.id, workOrderID: workOrder, direction: direction, partner: try r.text("partner"), state: state,
                       attempts: try r.int("attempts"), partnerReference: try r.optionalText("partner_reference"),
                       partnerStatus: try r.optionalText("partner_status"),
                       partnerStatusAt: try r.optionalDate("partner_status_at"), partnerNote: try r.optionalText("partner_note"),
                       lastError: try r.optionalText("last_error"), body: try r.text("body"),
                       createdAt: try r.date("created_at"), updatedAt: try r.date("updated_at"),
                       deliveredAt: try r.optionalDate("delivered_at"), nextAttemptAt: try r.optionalDate("next_attempt_at"))
    }
}

extension PostgresWriteTransaction {
    func insertHandoff(_ handoff: Handoff) throws {
        try PostgresHandoffs.insert(handoff, session: session)
    }

    func handoff(partner: String, id: String, direction: HandoffDirection?) throws -> Handoff? {
        try PostgresHandoffs.handoff(partner: partner, id: id, direction: direction, session: session)
    }

    func updateHandoff(_ handoff: Handoff) throws {
        try PostgresHandoffs.update(handoff, session: session)
    }
}

extension PostgresTicketReader: HandoffReading {
    public func handoffs(ofWorkOrder id: TicketID) throws(TicketStoreError) -> [Handoff] {
        try read { session in try PostgresHandoffs.handoffs(ofWorkOrder: id, session: session) }
    }

    public func handoff(partner: String, id: String) throws(TicketStoreError) -> Handoff? {
        try read { session in try PostgresHandoffs.handoff(partner: partner, id: id, direction: nil, session: session) }
    }

    public func dueHandoffs(at now: Date, limit: Int) throws(TicketStoreError) -> [Handoff] {
        try read { session in
            try session.query("""
                SELECT \(PostgresHandoffs.columns) FROM work_order_handoffs WHERE state = 'pending' AND next_attempt_at <= $1
                ORDER BY next_attempt_at, id LIMIT $2
                """, [.text(PostgresTime.format(now)), .int(max(0, limit))])
                .map { row throws(TicketStoreError) in try PostgresHandoffs.handoff(row) }
        }
    }

    public func nextHandoffAttempt() throws(TicketStoreError) -> Date? {
        try read { session in
            try session.query("SELECT min(next_attempt_at) FROM work_order_handoffs WHERE state = 'pending'")
                .first.flatMap { try $0.decode(String?.self) }.flatMap(PostgresTime.parse)
        }
    }
}

extension PostgresTicketStore: HandoffWriting, HandoffReading {
    public func handOff(_ request: OutboundHandoff, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.handOff(request), completion: .workOrder(onCommit))
    }

    public func acceptHandoff(_ inbound: InboundHandoff, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.acceptHandoff(inbound, allocateID(at: inbound.receivedAt)), completion: .workOrder(onCommit))
    }

    public func recordDelivery(_ delivery: HandoffDelivery, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.recordDelivery(delivery), completion: .workOrder(onCommit))
    }

    public func recordPartnerStatus(_ update: HandoffStatusUpdate, onCommit: @escaping WorkOrderCommitCallback) {
        writer.submit(.recordPartnerStatus(update), completion: .workOrder(onCommit))
    }

    public func handoffs(ofWorkOrder id: TicketID) throws(TicketStoreError) -> [Handoff] {
        try reads.handoffs(ofWorkOrder: id)
    }

    public func handoff(partner: String, id: String) throws(TicketStoreError) -> Handoff? {
        try reads.handoff(partner: partner, id: id)
    }

    public func dueHandoffs(at now: Date, limit: Int) throws(TicketStoreError) -> [Handoff] {
        try reads.dueHandoffs(at: now, limit: limit)
    }

    public func nextHandoffAttempt() throws(TicketStoreError) -> Date? {
        try reads.nextHandoffAttempt()
    }
}
