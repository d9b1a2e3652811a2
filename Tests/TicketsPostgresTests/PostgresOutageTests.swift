// PostgreSQL away mid-calls, on a private server this test stops (or kills) and restarts:
// the node keeps answering (writes queued), refuses past the bound, and loses nothing.

import Foundation
import Synchronization
import Testing
import Tickets
@testable import TicketsPostgres
import TicketsTestSupport

@Suite struct PostgresOutageTests {
    @Test(arguments: ["stop", "kill"])
    func callsAreAnsweredDuringAnOutageAndEveryTicketArrivesOnceAfter(_ how: String) async throws {
        let server = try PrivatePostgresServer()
        let store = try PostgresTicketStore(url: server.url, options: .init(
            node: "node-a", timeZone: shanghai, maxQueuedWrites: 200, retryInitial: .milliseconds(20),
            retryMaximum: .milliseconds(200), numberBlock: 5000, heartbeatInterval: nil))
        defer { store.close() }
        var acknowledged: [TicketID] = []
        for index in 0..<30 {
            let id = store.allocateID(at: monday(plus: Double(index)))
            try await store.openAndWait(arriving(id, at: monday(plus: Double(index)))).get()
            acknowledged.append(id)
        }
        #expect(store.admission == .accepting)

        try server.run(how)
        // Calls keep being answered: each open is acknowledged once queued.
        var refused = 0
        var finished: [TicketID] = []
        for index in 30..<400 {
            let at = monday(plus: Double(index))
            let id = store.allocateID(at: at)
            switch await store.openAndWait(arriving(id, at: at)) {
            case .success:
                acknowledged.append(id)
                if index % 10 == 0 {
                    store.finish(id: id, outcome: CallOutcome(endedAt: at.addingTimeInterval(30), disposition: .callerHangup,
                                                              sipStatus: 200))
                    finished.append(id)
                }
            case .failure(let error):
                #expect(error == PostgresTicketStore.saturated)
                refused += 1
            }
        }
        #expect(acknowledged.count > 200, "answered while PostgreSQL was away")
        #expect(refused > 0, "past the bound, new calls are refused")
        #expect(store.admission == .refusing)
        let health = store.health
        #expect(!health.connected)
        #expect(health.queuedWrites >= 200)
        #expect(health.lastError != nil)

        // After a kill, the dead postmaster's backends hold its lock for a moment: retry (bounded).
        var started = false
        for _ in 0..<50 where !started {
            started = (try? server.run("start")) != nil
            if !started { try await Task.sleep(for: .milliseconds(200)) }
        }
        try #require(started, "PostgreSQL did not come back")
        await store.flush()
        #expect(store.admission == .accepting)
        #expect(store.health.reconnects >= 1)
        let session = try PostgresSession.connect(server.url)
        defer { session.close() }
        let stored = try session.query("SELECT id FROM calls ORDER BY id").map { try $0.decode(String.self) }
        #expect(stored == acknowledged.map(\.rawValue).sorted(), "every acknowledged call's ticket, once, nothing else")
        let ended = try session.query("SELECT id FROM calls WHERE disposition = 'caller_hangup' ORDER BY id")
            .map { try $0.decode(String.self) }
        #expect(ended == finished.map(\.rawValue).sorted())
    }
}
