// Events between nodes over LISTEN/NOTIFY on a real PostgreSQL: delivered to every listener,
// and a listener whose session is killed reconnects and says `.resync` (it may have missed events).

import Foundation
import Testing
@testable import TicketsPostgres

@Suite struct PostgresEventBusTests {
    /// The next event of `iterator`, or a failure after `timeout`.
    private func next(_ stream: AsyncStream<PostgresEventBus.Event>, timeout: Duration = .seconds(15)) async -> PostgresEventBus.Event? {
        await withTaskGroup(of: PostgresEventBus.Event?.self) { group in
            group.addTask {
                var iterator = stream.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func everyListenerGetsEachMessageAndAKilledListenerResyncs() async throws {
        let database = try PostgresTestDatabase()
        let a = PostgresEventBus(url: database.url, node: "node-a", channel: "hotline_test_bus")
        let b = PostgresEventBus(url: database.url, node: "node-b", channel: "hotline_test_bus")
        defer { a.close(); b.close() }
        let eventsA = a.events(retry: .milliseconds(100))
        let eventsB = b.events(retry: .milliseconds(100))
        #expect(await next(eventsA) == .resync, "listening")
        #expect(await next(eventsB) == .resync)

        try a.publish("enqueued call-1 at node-a")
        #expect(await next(eventsA) == .message(from: "node-a", payload: "enqueued call-1 at node-a"), "the sender hears itself")
        #expect(await next(eventsB) == .message(from: "node-a", payload: "enqueued call-1 at node-a"))
        try b.publish("multi\nline")
        #expect(await next(eventsA) == .message(from: "node-b", payload: "multi\nline"))
        #expect(await next(eventsB) == .message(from: "node-b", payload: "multi\nline"))

        // Kill b's listening session: it reconnects and asks for a resync.
        let admin = try database.session()
        defer { admin.close() }
        let killed = try admin.query("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'
            """)
        #expect(killed.count == 2, "both listening sessions")
        #expect(await next(eventsB, timeout: .seconds(20)) == .resync, "b listens again")
        #expect(await next(eventsA, timeout: .seconds(20)) == .resync)
        try a.publish("after the cut")
        #expect(await next(eventsB) == .message(from: "node-a", payload: "after the cut"))
    }
}
