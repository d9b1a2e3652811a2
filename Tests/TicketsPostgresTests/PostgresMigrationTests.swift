import Foundation
import Testing
import Tickets
@testable import TicketsPostgres

@Suite struct PostgresMigrationTests {
    @Test func aFreshDatabaseGetsEveryMigrationOnceAndARerunChangesNothing() throws {
        let database = try PostgresTestDatabase()
        let session = try database.session()
        defer { session.close() }
        #expect(try PostgresMigrator.migrate(session, url: database.url) == PostgresSchema.migrations.map(\.version))
        #expect(try PostgresMigrator.migrate(session, url: database.url) == [])
        #expect(try database.count("SELECT count(*) FROM schema_migrations") == PostgresSchema.migrations.count)
        for table in ["calls", "work_orders", "work_order_events", "work_order_dispatches", "work_order_calls", "units",
                      "nodes", "ticket_days", "committed_batches", "kb_articles"] {
            #expect(try database.count("SELECT count(*) FROM information_schema.tables WHERE table_name = '\(table)'") == 1,
                    "\(table)")
        }
    }

    @Test func aDatabaseMigratedByANewerHotlineIsRefused() throws {
        let database = try PostgresTestDatabase()
        let session = try database.session()
        defer { session.close() }
        try PostgresMigrator.migrate(session, url: database.url)
        try session.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')")
        #expect(throws: TicketStoreError.schemaTooNew(path: database.url.description)) {
            try PostgresMigrator.migrate(session, url: database.url)
        }
        #expect(throws: TicketStoreError.schemaTooNew(path: database.url.description)) {
            try database.open()
        }
    }

    @Test func theSchemaRefusesNonsenseNamingTheRule() throws {
        let database = try PostgresTestDatabase()
        let store = try database.open()
        store.close()
        let session = try database.session()
        defer { session.close() }
        func refusal(_ sql: String) -> String {
            do {
                try session.execute(sql)
                return "accepted"
            } catch {
                return TicketStoreError.postgres(error).description
            }
        }
        #expect(refusal("""
            INSERT INTO calls (id, call_id, caller, dialled, arrived_at, dialplan_version, keys)
            VALUES ('20261102-000001', 'c', '1', '2', '2026-11-02T02:00:00.000Z', 'v', 'x')
            """).contains("keys_dtmf"))
        #expect(refusal("""
            INSERT INTO calls (id, call_id, caller, dialled, arrived_at, dialplan_version)
            VALUES ('20261102-000001', 'c', '1', '2', '2026-11-02 02:00', 'v')
            """).contains("arrived_at_format"))
        #expect(refusal("""
            INSERT INTO calls (id, call_id, caller, dialled, arrived_at, dialplan_version)
            VALUES ('2026110-0000001', 'c', '1', '2', '2026-11-02T02:00:00.000Z', 'v')
            """).contains("id_format"))
        #expect(refusal("""
            INSERT INTO work_orders (id, channel, caller, status, accepted_at, event_count, updated_at)
            VALUES ('20261102-000001', 'phone', '1', 'accepted', '2026-11-02T02:00:00.000Z', 1, '2026-11-02T02:00:00.000Z')
            """) == "accepted")
        #expect(refusal("""
            INSERT INTO work_order_events (work_order_id, seq, kind, at, actor)
            VALUES ('20261102-000001', 1, 'closed', '2026-11-02T02:00:00.000Z', 'x')
            """).contains("accepted_first"))
        #expect(refusal("""
            INSERT INTO work_order_events (work_order_id, seq, kind, at, actor)
            VALUES ('20261102-000001', 1, 'accepted', '2026-11-02T02:00:00.000Z', 'x')
            """) == "accepted")
        #expect(refusal("""
            INSERT INTO work_order_events (work_order_id, seq, kind, at, actor)
            VALUES ('20261102-000001', 3, 'handled', '2026-11-02T02:00:00.000Z', 'x')
            """).contains("events_in_order"))
        #expect(refusal("UPDATE work_order_events SET actor = 'y'").contains("append-only"))
        #expect(refusal("DELETE FROM work_order_events").contains("append-only"))
        #expect(refusal("DELETE FROM work_orders").contains("never deleted"))
        #expect(refusal("UPDATE work_orders SET channel = 'web'").contains("never change"))
    }
}
