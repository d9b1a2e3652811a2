// A database made by the v1 schema (one `tickets` row per call) migrates forward: its calls
// keep every field, and the calls that were work orders get one.

import Foundation
import GRDB
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

@Suite struct MigrationTests {
    /// Writes a v1 database the way the previous release did: the v1 migration only, rows
    /// inserted with v1's own statement.
    static func makeV1Database(at path: String, calls: [CallTicket]) throws {
        let queue = try DatabaseQueue(path: path)
        try TicketSchema.migrator.migrate(queue, upTo: "v1_tickets")
        try queue.write { db in
            for call in calls {
                try db.execute(sql: """
                    INSERT INTO tickets (id, call_id, caller, dialled, arrived_at, answered_at, ended_at,
                        keys, menu_path, business_line, category, disposition, sip_status, dialplan_version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [
                        call.id.rawValue, call.callID, call.caller, call.dialled, TicketTimestamp.format(call.arrivedAt),
                        call.answeredAt.map(TicketTimestamp.format), call.endedAt.map(TicketTimestamp.format), call.keys,
                        "[\"main_menu:2\"]", call.businessLine, call.category?.rawValue, call.disposition?.rawValue,
                        call.sipStatus, call.dialplanVersion,
                    ])
            }
        }
        try queue.close()
    }

    static func v1Calls() throws -> [CallTicket] {
        let noon = date(2026, 11, 20, 12)
        func call(_ sequence: Int, _ change: (inout CallTicket) -> Void) throws -> CallTicket {
            var ticket = arrivingTicket(try TicketID(year: 2026, month: 11, day: 20, sequence: sequence),
                                        at: noon.addingTimeInterval(Double(sequence) * 60))
            ticket.menuPath = ["main_menu:2"]
            change(&ticket)
            return ticket
        }
        return [
            // A complaint: a work order, accepted.
            try call(1) {
                $0.answeredAt = $0.arrivedAt.addingTimeInterval(1)
                $0.endedAt = $0.arrivedAt.addingTimeInterval(40)
                $0.businessLine = "complaints"
                $0.category = .complaint
                $0.disposition = .completedInIVR
                $0.sipStatus = 200
            },
            // A consultation heard to the end: answered directly.
            try call(2) {
                $0.answeredAt = $0.arrivedAt.addingTimeInterval(1)
                $0.endedAt = $0.arrivedAt.addingTimeInterval(30)
                $0.businessLine = "policy"
                $0.category = .consultation
                $0.disposition = .completedInIVR
                $0.sipStatus = 200
            },
            // The same caller again about the complaint: v1 had no links, so its own work order.
            try call(3) {
                $0.answeredAt = $0.arrivedAt.addingTimeInterval(1)
                $0.endedAt = $0.arrivedAt.addingTimeInterval(40)
                $0.businessLine = "complaints"
                $0.category = .complaint
                $0.disposition = .callerHangup
                $0.sipStatus = 200
            },
            // Rejected, and a call in progress when v1 stopped: no work orders.
            try call(4) {
                $0.endedAt = $0.arrivedAt
                $0.disposition = .rejected
                $0.sipStatus = 404
            },
            try call(5) { $0.answeredAt = $0.arrivedAt.addingTimeInterval(1) },
        ]
    }

    @Test func aV1DatabaseMigratesForward() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("v1.sqlite")
        let calls = try Self.v1Calls()
        try Self.makeV1Database(at: path, calls: calls)

        // A reader cannot migrate, and says so.
        #expect(throws: TicketStoreError.schemaTooOld(path: path)) { try SQLiteTicketReader(path: path) }

        let store = try SQLiteTicketStore(path: path, options: .init(timeZone: shanghai, units: testUnits))
        #expect(store.recoveredTicketCount == 1, "the call left in progress")
        // Every call is there, unchanged (the one in progress now interrupted).
        let stored = try store.list(limit: 10).sorted { $0.id < $1.id }
        var expected = calls
        expected[4].disposition = .interrupted
        #expect(stored == expected)
        // Work orders for the calls that were work orders.
        let orders = try store.workOrders(WorkOrderQuery()).items.sorted { $0.id < $1.id }
        #expect(orders.map(\.id) == [calls[0].id, calls[1].id, calls[2].id])
        #expect(orders.map(\.status) == [.accepted, .answeredDirectly, .accepted])
        #expect(orders[0].acceptedAt == calls[0].endedAt)
        #expect(try store.workOrderDetail(id: calls[1].id)?.events.map(\.event.kind) == [.accepted, .answeredDirectly])
        // Numbering continues after the migrated rows, and new calls go through intake.
        #expect(store.allocateID(at: date(2026, 11, 20, 13)).sequence == 6)
        let id = try await store.call(TestCall(caller: calls[0].caller, arrivedAt: date(2026, 11, 20, 14),
                                               businessLine: "complaints", category: .complaint))
        #expect(try store.workOrders(ofCall: id) == [calls[2].id], "linked to the newest open one")
        store.close()

        // Migrated once: reopening does nothing more, and a reader is happy.
        let reader = try SQLiteTicketReader(path: path)
        #expect(try reader.countWorkOrders(WorkOrderQuery()) == 3)
        #expect(try reader.list(limit: 10).count == 6)
        let again = try SQLiteTicketStore(path: path, options: .init(timeZone: shanghai))
        #expect(try again.countWorkOrders(WorkOrderQuery()) == 3)
        again.close()
    }

    @Test func upgradeMigratesForTools() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("v1.sqlite")
        try Self.makeV1Database(at: path, calls: try Self.v1Calls())
        #expect(try SQLiteTicketStore.upgrade(path: path, options: .init(timeZone: shanghai)) == 1)
        #expect(try SQLiteTicketReader(path: path).countWorkOrders(WorkOrderQuery()) == 3)
    }

    @Test func freshDatabasesHaveEveryTableAndIndex() throws {
        let directory = try TemporaryDirectory()
        let store = try directory.workOrderStore()
        defer { store.close() }
        let tables = try store.rawRows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb%' ORDER BY name")
        #expect(tables == ["calls", "kb_articles", "kb_articles_fts", "kb_articles_fts_config", "kb_articles_fts_data",
                           "kb_articles_fts_docsize", "kb_articles_fts_idx", "outbound_attempts", "outbound_campaigns", "outbound_jobs",
                           "units", "work_order_calls", "work_order_dispatches", "work_order_events", "work_order_handoffs", "work_orders"])
        let indexes = try store.rawRows("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        #expect(indexes == ["calls_arrived_at", "calls_call_id", "calls_in_progress", "calls_queue", "kb_articles_business_line",
                            "outbound_attempts_work_order", "outbound_jobs_campaign", "outbound_jobs_pending", "outbound_jobs_work_order",
                            "units_parent", "work_order_calls_call", "work_order_dispatches_unit", "work_order_events_article",
                            "work_order_handoffs_due", "work_order_handoffs_work_order", "work_orders_accepted_at", "work_orders_caller",
                            "work_orders_category", "work_orders_status", "work_orders_unit"])
    }

    /// A v2 database (work orders, no queue columns) gains them: its calls read back with no
    /// queue, and new calls keep theirs.
    @Test func aV2DatabaseGainsTheQueueColumns() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("v2.sqlite")
        let queue = try DatabaseQueue(path: path)
        try TicketSchema.migrator.migrate(queue, upTo: "v2_work_orders")
        let old = rejectedTicket(try TicketID(year: 2026, month: 11, day: 20, sequence: 1), at: date(2026, 11, 20, 12))
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO calls (id, call_id, caller, dialled, arrived_at, ended_at, keys, menu_path, disposition,
                    sip_status, dialplan_version)
                VALUES (?, ?, ?, ?, ?, ?, '', '[]', ?, ?, ?)
                """, arguments: [old.id.rawValue, old.callID, old.caller, old.dialled, TicketTimestamp.format(old.arrivedAt),
                                 old.endedAt.map(TicketTimestamp.format), old.disposition?.rawValue, old.sipStatus,
                                 old.dialplanVersion])
        }
        try queue.close()
        #expect(throws: TicketStoreError.schemaTooOld(path: path)) { try SQLiteTicketReader(path: path) }

        let store = try SQLiteTicketStore(path: path, options: .init(timeZone: shanghai))
        defer { store.close() }
        #expect(try store.ticket(id: old.id) == old)
        #expect(try store.ticket(id: old.id)?.queue == nil)
        let arrived = date(2026, 11, 20, 13)
        let id = store.allocateID(at: arrived)
        var ticket = arrivingTicket(id, at: arrived)
        ticket.answeredAt = arrived.addingTimeInterval(0.1)
        #expect(await store.openAndWait(ticket).succeeded)
        let visit = QueueOutcome(queue: "operator", agent: "a1001", enqueuedAt: arrived.addingTimeInterval(5),
                                 agentAnsweredAt: arrived.addingTimeInterval(12), waitMilliseconds: 7000, talkMilliseconds: 60_000)
        let outcome = CallOutcome(endedAt: arrived.addingTimeInterval(72), disposition: .callerHangup, sipStatus: 200, queue: visit)
        #expect(await store.finishAndWait(id: id, outcome: outcome).succeeded)
        #expect(try store.ticket(id: id)?.queue == visit)
        #expect(try store.ticket(id: id) == ticket.finished(with: outcome))
    }
}
