// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the IO of ``LeaderElection`` on PostgreSQL: ownership of a cluster-wide decision
// (the ACD's distribution, issue 13) is a session-level advisory lock on a connection of its own.
//
// Why an advisory lock: PostgreSQL releases it the moment the holding session ends, so a
// leader that dies (kill -9: its socket closes) frees it at once and a standby takes it at its
// next try (`retryInterval`, 1 s). A leader cut off from PostgreSQL stops deciding on its own
// after `stepDownAfter` (2 s) without a confirmed check; PostgreSQL notices the silent session
// by its TCP keepalives, set on the lock's session to give up after about 3 s, above
// `stepDownAfter`: the deposed leader has stopped before anyone else can lead. Each
// acquisition bumps the epoch in `cluster_leadership` (fencing for what leaders write).
//
// Threads: a ticker feeds the clock to the machine every 50 ms; the lock's operations run on
// one IO thread; dropping the session closes it from the ticker, so a hung check cannot keep
// a deposed leader deciding.

import Cluster
import Dispatch
import Foundation
import Synchronization
import Tickets
import Timers

public final class PostgresLeadership: @unchecked Sendable {
    public enum Change: Sendable, Equatable {
        case becameLeader(epoch: Int64)
        case steppedDown(LeaderElection.StepDownReason)
    }

    public let url: PostgresURL
    public let node: String
    /// What is owned (`acd`): the lock key and the row of `cluster_leadership`.
    public let name: String
    private let machine: Mutex<LeaderElection>
    private let session = Mutex<PostgresSession?>(nil)
    private let io = DispatchQueue(label: "hotline-leadership-io")
    private let stopped = Mutex(false)
    private let onChange: @Sendable (Change) -> Void
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// Brings the database to this build's schema (the `cluster_leadership` table); competing
    /// starts with ``start()``, and ends with ``resign()``.
    public init(url: PostgresURL, node: String, name: String = "acd",
                configuration: LeaderElection.Configuration = .init(),
                onChange: @escaping @Sendable (Change) -> Void) throws(TicketStoreError) {
        try PostgresMigrator.migrate(url: url)
        self.url = url
        self.node = node
        self.name = name
        self.machine = Mutex(LeaderElection(configuration: configuration))
        self.onChange = onChange
        self.origin = clock.now
    }

    /// Starts competing.
    public func start() {
        let thread = Thread { [self] in
            while !stopped.withLock({ $0 }) {
                let now = self.now
                run(machine.withLock { $0.tick(now: now) })
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        thread.name = "hotline-leadership"
        thread.start()
    }

    public var role: LeaderElection.Role { machine.withLock { $0.role } }

    /// Gives leadership up for good and frees the lock (drain, shutdown).
    public func resign() {
        let now = self.now
        run(machine.withLock { $0.resign(now: now) })
        stopped.withLock { $0 = true }
    }

    private var now: Timers.Instant {
        let elapsed = clock.now - origin
        return Timers.Instant(nanoseconds: UInt64(max(0, elapsed.nanosecondsClamped)))
    }

    private func run(_ actions: [LeaderElection.Action]) {
        for action in actions {
            switch action {
            case .tryAcquire(let operation):
                io.async { [self] in
                    let result = Result { try tryAcquire() }
                    let now = self.now
                    let next = machine.withLock { election -> [LeaderElection.Action] in
                        switch result {
                        case .success(let epoch?): election.acquired(operation, epoch: epoch, now: now)
                        case .success(nil): election.refused(operation, now: now)
                        case .failure: election.failed(operation, now: now)
                        }
                    }
                    run(next)
                }
            case .check(let operation):
                io.async { [self] in
                    let alive = (try? holdsLock()) ?? false
                    let now = self.now
                    run(machine.withLock { alive ? $0.confirmed(operation, now: now) : $0.failed(operation, now: now) })
                }
            case .becomeLeader(let epoch):
                onChange(.becameLeader(epoch: epoch))
            case .stepDown(let reason):
                onChange(.steppedDown(reason))
            case .dropSession:
                // Not on the IO thread: it may be stuck in a check this unblocks. Nor on the
                // caller's (the tick thread): a graceful close waits for that check, and the
                // ticks must go on meanwhile.
                let dropped = session.withLock { current -> PostgresSession? in
                    defer { current = nil }
                    return current
                }
                if let dropped { DispatchQueue.global().async { dropped.close() } }
            }
        }
    }

    /// The lock's session, opened with keepalives that let PostgreSQL notice a vanished leader.
    private func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let current = try session.withLock { current -> PostgresSession in
            if let open = current, !open.isClosed { return open }
            let opened = try PostgresSession.connect(url, timeout: .seconds(2))
            current = opened
            return opened
        }
        return try body(current)
    }

    /// Whether the session that took the lock is still there and holds it. Never reconnects:
    /// a new session would answer, but it would not hold the lock.
    private func holdsLock() throws -> Bool {
        guard let current = session.withLock({ $0 }), !current.isClosed else { return false }
        return try current.query("""
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
            """).first?.decode(Int.self) ?? 0 > 0
    }

    /// The epoch if the lock was taken, nil if another session holds it.
    private func tryAcquire() throws -> Int64? {
        try withSession { session in
            try session.script("""
                SET tcp_keepalives_idle = 1; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 2
                """)
            let taken = try session.query("SELECT pg_try_advisory_lock(hashtext($1))", [.text("hotline.leadership." + name)])
                .first?.decode(Bool.self) ?? false
            guard taken else { return nil }
            let epoch = try session.query("""
                INSERT INTO cluster_leadership (name, epoch, leader, acquired_at) VALUES ($1, 1, $2, now())
                ON CONFLICT (name) DO UPDATE SET epoch = cluster_leadership.epoch + 1, leader = $2, acquired_at = now()
                RETURNING epoch
                """, [.text(name), .text(node)]).first?.decode(Int.self)
            return epoch.map(Int64.init)
        }
    }

    /// The current leader and epoch of `name` as the table says (for the cluster view).
    public static func current(_ name: String = "acd", url: PostgresURL) throws -> (leader: String, epoch: Int64)? {
        let session = try PostgresSession.connect(url, timeout: .seconds(2))
        defer { session.close() }
        guard let row = try session.query("SELECT leader, epoch FROM cluster_leadership WHERE name = $1", [.text(name)]).first else {
            return nil
        }
        let (leader, epoch) = try row.decode((String, Int).self)
        return (leader, Int64(epoch))
    }

    deinit {
        stopped.withLock { $0 = true }
        session.withLock { $0?.close() }
    }
}
