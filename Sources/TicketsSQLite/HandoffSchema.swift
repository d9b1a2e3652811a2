// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: hand-offs to and from partners (the 110 linkage), migration v6: the table that
// is both the outbound outbox and the record of partners' hand-offs, its writes and reads.

import Foundation
import Tickets
import GRDB

enum HandoffSchema {
    /// Migration v6. One row per hand-off; a partner and an id name it for good (the unique
    /// key makes a partner's re-sent hand-off a no-op). The schema keeps states and directions
    /// apart: only outbound rows are pending, delivered or failed, only pending ones wait for
    /// an attempt, and a delivered one has its time.
    static let v6 = """
        CREATE TABLE work_order_handoffs (
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            partner TEXT NOT NULL CONSTRAINT handoff_partner_not_empty CHECK (partner <> ''),
            id TEXT NOT NULL CONSTRAINT handoff_id_format CHECK (length(id) BETWEEN 1 AND 100),
            direction TEXT NOT NULL CONSTRAINT handoff_direction_known CHECK (direction IN ('out', 'in')),
            state TEXT NOT NULL CONSTRAINT handoff_state_known CHECK (state IN ('pending', 'delivered', 'failed', 'received')),
            attempts INTEGER NOT NULL DEFAULT 0 CONSTRAINT handoff_attempts CHECK (attempts >= 0),
            partner_reference TEXT,
            partner_status TEXT CONSTRAINT handoff_partner_status_not_empty CHECK (partner_status <> ''),
            partner_status_at TEXT CHECK (partner_status_at GLOB \(TicketSchema.timestamp)),
            partner_note TEXT,
            last_error TEXT,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL CHECK (created_at GLOB \(TicketSchema.timestamp)),
            updated_at TEXT NOT NULL CHECK (updated_at GLOB \(TicketSchema.timestamp)),
            delivered_at TEXT CHECK (delivered_at GLOB \(TicketSchema.timestamp)),
            next_attempt_at TEXT CHECK (next_attempt_at GLOB \(TicketSchema.timestamp)),
            PRIMARY KEY (partner, direction, id),
            CONSTRAINT handoff_state_fits_direction CHECK ((direction = 'in') = (state = 'received')),
            CONSTRAINT handoff_next_attempt_iff_pending CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL)),
            CONSTRAINT handoff_delivered_at CHECK ((state = 'delivered') = (delivered_at IS NOT NULL))
        ) STRICT;
        CREATE INDEX work_order_handoffs_work_order ON work_order_handoffs(work_order_id, created_at);
        CREATE INDEX work_order_handoffs_due ON work_order_handoffs(next_attempt_at) WHERE state = 'pending';
        CREATE TRIGGER work_order_handoffs_no_delete BEFORE DELETE ON work_order_handoffs
        BEGIN SELECT RAISE(ABORT, 'hand-offs are never deleted'); END;
        CREATE TRIGGER work_order_handoffs_identity_fixed
            BEFORE UPDATE OF work_order_id, partner, id, direction, body, created_at ON work_order_handoffs
        BEGIN SELECT RAISE(ABORT, 'a hand-off keeps its work order, partner, id, direction and body'); END;
        """

    static let columns = """
        work_order_id, partner, id, direction, state, attempts, partner_reference, partner_status, partner_status_at,
        partner_note, last_error, body, created_at, updated_at, delivered_at, next_attempt_at
        """

    static func insert(_ handoff: Handoff, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO work_order_handoffs (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [
                handoff.workOrderID.rawValue, handoff.partner, handoff.id, handoff.direction.rawValue, handoff.state.rawValue,
                handoff.attempts, handoff.partnerReference, handoff.partnerStatus, format(handoff.partnerStatusAt),
                handoff.partnerNote, handoff.lastError, handoff.body, format(handoff.createdAt), format(handoff.updatedAt),
                format(handoff.deliveredAt), format(handoff.nextAttemptAt),
            ])
    }

    static func update(_ handoff: Handoff, in db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE work_order_handoffs SET state = ?, attempts = ?, partner_reference = ?, partner_status = ?,
                partner_status_at = ?, partner_note = ?, last_error = ?, updated_at = ?, delivered_at = ?, next_attempt_at = ?
            WHERE partner = ? AND direction = ? AND id = ?
            """).execute(arguments: [
                handoff.state.rawValue, handoff.attempts, handoff.partnerReference, handoff.partnerStatus,
                format(handoff.partnerStatusAt), handoff.partnerNote, handoff.lastError, format(handoff.updatedAt),
                format(handoff.deliveredAt), format(handoff.nextAttemptAt), handoff.partner, handoff.direction.rawValue,
                handoff.id,
            ])
    }

    /// Outbound first when `direction` is nil ('out' sorts after 'in', hence DESC).
    static func handoff(partner: String, id: String, direction: HandoffDirection?, in db: Database) throws -> Handoff? {
        try Row.fetchOne(db, sql: """
            SELECT \(columns) FROM work_order_handoffs WHERE partner = ? AND id = ? AND (? IS NULL OR direction = ?)
            ORDER BY direction DESC LIMIT 1
            """, arguments: [partner, id, direction?.rawValue, direction?.rawValue]).map(handoff(from:))
    }

    static func handoffs(ofWorkOrder id: TicketID, in db: Database) throws -> [Handoff] {
        try Row.fetchAll(db, sql: """
            SELECT \(columns) FROM work_order_handoffs WHERE work_order_id = ? ORDER BY created_at, direction, id
            """, arguments: [id.rawValue]).map(handoff(from:))
    }

    static func due(at now: Date, limit: Int, in db: Database) throws -> [Handoff] {
        try Row.fetchAll(db, sql: """
            SELECT \(columns) FROM work_order_handoffs WHERE state = 'pending' AND next_attempt_at <= ?
            ORDER BY next_attempt_at, id LIMIT ?
            """, arguments: [TicketTimestamp.format(now), max(0, limit)]).map(handoff(from:))
    }

    static func nextAttempt(in db: Database) throws -> Date? {
        try String.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM work_order_handoffs WHERE state = 'pending'")
            .flatMap(TicketTimestamp.parse)
    }

    static func handoff(from row: Row) throws(TicketStoreError) -> Handoff {
        let id: String = (row["id"] as String?) ?? "?"
        let dates = RowDates(row: row, id: id)
        guard let workOrder = TicketID(rawValue: (row["work_order_id"] as String?) ?? "") else {
            throw .corruptRow(id: id, column: "work_order_handoffs.work_order_id")
        }
        guard let direction = HandoffDirection(rawValue: (row["direction"] as String?) ?? ""),
              let state = HandoffState(rawValue: (row["state"] as String?) ?? "")
        else { throw .corruptRow(id: id, column: "work_order_handoffs.state") }
        return Handoff(id: id, workOrderID: workOrder, direction: direction, partner: row["partner"], state: state,
                       attempts: row["attempts"], partnerReference: row["partner_reference"],
                       partnerStatus: row["partner_status"], partnerStatusAt: try dates.optional("partner_status_at"),
                       partnerNote: row["partner_note"], lastError: row["last_error"], body: row["body"],
                       createdAt: try dates.required("created_at"), updatedAt: try dates.required("updated_at"),
                       deliveredAt: try dates.optional("delivered_at"), nextAttemptAt: try dates.optional("next_attempt_at"))
    }

    private static func format(_ date: Date?) -> String? { date.map(TicketTimestamp.format) }
}

extension SQLiteWriteTransaction {
    func insertHandoff(_ handoff: Handoff) throws {
        try HandoffSchema.insert(handoff, in: db)
    }

    func handoff(partner: String, id: String, direction: HandoffDirection?) throws -> Handoff? {
        try HandoffSchema.handoff(partner: partner, id: id, direction: direction, in: db)
    }

    func updateHandoff(_ handoff: Handoff) throws {
        try HandoffSchema.update(handoff, in: db)
    }
}

extension SQLiteTicketReads {
    public func handoffs(ofWorkOrder id: TicketID) throws(TicketStoreError) -> [Handoff] {
        try readSnapshot { db in try HandoffSchema.handoffs(ofWorkOrder: id, in: db) }
    }

    public func handoff(partner: String, id: String) throws(TicketStoreError) -> Handoff? {
        try readSnapshot { db in try HandoffSchema.handoff(partner: partner, id: id, direction: nil, in: db) }
    }

    public func dueHandoffs(at now: Date, limit: Int) throws(TicketStoreError) -> [Handoff] {
        try readSnapshot { db in try HandoffSchema.due(at: now, limit: limit, in: db) }
    }

    public func nextHandoffAttempt() throws(TicketStoreError) -> Date? {
        try readSnapshot { db in try HandoffSchema.nextAttempt(in: db) }
    }
}
