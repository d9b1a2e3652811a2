// `hotline tickets bench`: durable tickets per second through the real store (SQLite, or
// PostgreSQL with --db postgres://...), with group commit or one commit per write, for
// Benchmarks/tickets-throughput.sh and Benchmarks/tickets-pg-vs-sqlite.sh. A thin front: the
// store does the work; this only submits, waits and counts.
import ArgumentParser
import Foundation
import Synchronization
import Tickets
import TicketsPostgres
import TicketsSQLite

extension TicketsCommand {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure durable tickets per second on a fresh database (Benchmarks/tickets-throughput.sh, tickets-pg-vs-sqlite.sh).",
            discussion: """
                Submits --tickets answered calls at once (or at --rate), as the server writes them: each ticket is \
                opened (the server answers only once that commit is durable), then finished with the \
                enterprise business line, which opens its work order in the same transaction. The \
                run ends when every finish is committed. Prints one line of key=value figures. \
                With --db postgres://USER@HOST:PORT/DB the same workload goes through the PostgreSQL \
                store (node bench-<pid>) on a throwaway database created beside DB on that server \
                and dropped at the end; opens commit with synchronous_commit = on, as in the server.
                """)

        @Option(help: "Directory for the SQLite database (a real disk: fsync on tmpfs costs nothing).") var dir = "var/bench"
        @Option(help: "postgres://USER@HOST:PORT/DB: bench the PostgreSQL store on a throwaway database of that server (default: SQLite in --dir).")
        var db: String?
        @Option(help: "How many tickets (calls).") var tickets = 5000
        @Option(help: "SQLite: 'full' (fsync every commit) or 'normal'. PostgreSQL: always synchronous_commit = on for opens.")
        var durability = "full"
        @Option(name: .customLong("max-writes-per-commit"),
                help: "At most this many writes per transaction (1: one commit per write); default: group commit.")
        var maxWritesPerCommit: Int?
        @Option(help: "Offer the tickets at this many per second instead of all at once (a steady load: the open-to-durable latency is what a caller's 200 OK waits for).")
        var rate: Double?

        func validate() throws {
            guard tickets > 0 else { throw ValidationError("--tickets must be positive") }
            guard ["full", "normal"].contains(durability) else { throw ValidationError("--durability is full or normal") }
            if let maxWritesPerCommit, maxWritesPerCommit < 1 { throw ValidationError("--max-writes-per-commit is at least 1") }
            if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
            if let db {
                guard PostgresURL.looksLikePostgres(db) else { throw ValidationError("--db is a postgres:// URL (SQLite uses --dir)") }
                guard durability == "full" else {
                    throw ValidationError("--durability normal is SQLite's; the PostgreSQL store always commits opens with synchronous_commit = on")
                }
            }
        }

        func run() async throws {
            let pid = ProcessInfo.processInfo.processIdentifier
            if let db {
                // A throwaway database per run, so runs never see each other's rows or ticket days.
                let server = try PostgresURL(parsing: db)
                let name = "hotline_bench_\(pid)"
                try PostgresAdmin.dropDatabase(name, on: server)
                let url = try PostgresAdmin.createDatabase(name, on: server)
                defer { try? PostgresAdmin.dropDatabase(name, on: server) }
                // No heartbeat thread: the bench measures the writer, and no other node shares the database.
                let store = try PostgresTicketStore(url: url, options: .init(
                    node: "bench-\(pid)", maxWritesPerCommit: maxWritesPerCommit, heartbeatInterval: nil))
                try await measure(store, store: "postgres", durability: "synchronous_commit_on")
                return
            }
            let path = URL(fileURLWithPath: dir).appendingPathComponent("tickets-bench-\(pid).sqlite").path
            defer {
                for suffix in ["", "-wal", "-shm", ".writer-lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            let store = try SQLiteTicketStore(path: path, options: .init(
                durability: durability == "full" ? .full : .normal, maxWritesPerCommit: maxWritesPerCommit))
            try await measure(store, store: "sqlite", durability: durability)
        }

        /// Runs the workload on `store`, closes it and prints the figures (`store=` names the backend).
        private func measure(_ store: some TicketStore, store backend: String, durability: String) async throws {
            let count = tickets
            let state = Mutex(BenchState(openLatencies: [Double](repeating: 0, count: count)))
            let clock = ContinuousClock()
            let start = clock.now
            let now = Date()
            let done = AsyncStream<Void>.makeStream()
            for index in 0..<count {
                if let rate {
                    let due = start + .seconds(Double(index) / rate)
                    if due > clock.now { try await clock.sleep(until: due, tolerance: .microseconds(100)) }
                }
                let arrived = now.addingTimeInterval(Double(index) / 1000)
                let id = store.allocateID(at: arrived)
                let ticket = CallTicket(id: id, callID: "bench-\(index)@127.0.0.1", caller: String(13_000_000_000 + index),
                                        dialled: "12345", arrivedAt: arrived, answeredAt: arrived, dialplanVersion: "bench")
                let submitted = clock.now
                store.open(ticket) { result in
                    let latency = (clock.now - submitted) / .milliseconds(1)
                    state.withLock { $0.openLatencies[index] = latency; if case .failure = result { $0.failures += 1 } }
                    let outcome = CallOutcome(endedAt: arrived.addingTimeInterval(3), keys: "3", menuPath: ["bench_menu:3"],
                                              businessLine: "enterprise", disposition: .completedInIVR, sipStatus: 200)
                    store.finish(id: id, outcome: outcome) { result in
                        let finished = state.withLock { state in
                            if case .failure = result { state.failures += 1 }
                            state.finished += 1
                            return state.finished
                        }
                        if finished == count { done.continuation.finish() }
                    }
                }
            }
            for await _ in done.stream {}
            let seconds = (clock.now - start) / .seconds(1)
            let metrics = store.metrics
            store.close()
            let (latencies, failures) = state.withLock { ($0.openLatencies.sorted(), $0.failures) }
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            let offered = rate.map { "rate=" + String(format: "%.0f", $0) } ?? "rate=burst"
            let mode = maxWritesPerCommit.map { $0 == 1 ? "one_commit_per_write" : "max_\($0)_per_commit" } ?? "group_commit"
            print([
                "mode=\(mode)", "durability=\(durability)", offered, "tickets=\(count)", "failures=\(failures)",
                "seconds=" + String(format: "%.3f", seconds),
                "tickets_per_s=" + String(format: "%.0f", Double(count) / seconds),
                "commits=\(metrics.commits)",
                "writes_per_commit=" + String(format: "%.1f", Double(metrics.writesCommitted) / Double(max(1, metrics.commits))),
                "work_orders=\(metrics.workOrdersOpened)",
                "open_p50_ms=" + String(format: "%.1f", percentile(0.5)),
                "open_p99_ms=" + String(format: "%.1f", percentile(0.99)),
                "store=\(backend)",
            ].joined(separator: " "))
            if failures > 0 { throw ExitCode(1) }
        }
    }
}

private struct BenchState {
    var openLatencies: [Double]
    var finished = 0
    var failures = 0
}
