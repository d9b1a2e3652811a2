// Cluster: what the nodes of one hotline agree on, without IO.
// This file: who owns a cluster-wide decision (the ACD's distribution) at a time. Sans-IO: the
// driver feeds it the clock and the results of the lock operations it asked for, and carries
// out the actions it returns. The lock itself is the shared store's (a PostgreSQL advisory lock
// held by one session: released by PostgreSQL when that session ends, so a dead leader frees it).
//
// Safety: a leader decides only while it can prove it holds the lock: every `checkInterval` it
// asks the lock's session, and if no answer has confirmed the lock for `stepDownAfter` it steps
// down on its own and drops the session. PostgreSQL frees the lock of a vanished session after
// its keepalive timeout, which must exceed `stepDownAfter`: the old leader has stopped before
// another can acquire. Each acquisition bumps an epoch stored with the lock, so anything a
// leader writes can carry it and be refused once a newer leader exists (fencing).
import Timers

public struct LeaderElection: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        /// A follower tries the lock this often.
        public var retryInterval: Duration
        /// A leader confirms it still holds the lock this often.
        public var checkInterval: Duration
        /// A leader with no confirmation this long steps down (and drops its session).
        public var stepDownAfter: Duration

        public init(retryInterval: Duration = .seconds(1), checkInterval: Duration = .milliseconds(500),
                    stepDownAfter: Duration = .seconds(2)) {
            self.retryInterval = retryInterval
            self.checkInterval = checkInterval
            self.stepDownAfter = stepDownAfter
        }
    }

    public enum Role: Sendable, Equatable {
        case follower
        /// Leading under `epoch` (higher than every earlier leader's).
        case leader(epoch: Int64)
        /// Gave leadership up for good (a draining node): never tries again.
        case resigned

        public var isLeader: Bool {
            if case .leader = self { return true }
            return false
        }
    }

    public enum StepDownReason: String, Sendable, Equatable {
        /// The lock's session failed (connection lost, error).
        case sessionFailed = "session_failed"
        /// No check confirmed the lock for `stepDownAfter` (PostgreSQL unreachable or slow).
        case unconfirmed
        /// Asked to (drain, shutdown).
        case resigned
    }

    /// Names one operation the driver carries out, so an answer that comes back after the
    /// machine moved on (a check that hung past a step-down) is recognised as stale.
    public typealias Operation = UInt64

    public enum Action: Sendable, Equatable {
        /// Try to take the lock (without waiting for it); answer with ``acquired(_:epoch:now:)``,
        /// ``refused(_:now:)`` or ``failed(_:now:)``.
        case tryAcquire(Operation)
        /// Confirm the lock is still held by our session; answer ``confirmed(_:now:)`` or ``failed(_:now:)``.
        case check(Operation)
        /// Start deciding, stamping decisions with `epoch`.
        case becomeLeader(epoch: Int64)
        /// Stop deciding at once.
        case stepDown(StepDownReason)
        /// Close the lock's session (PostgreSQL then releases the lock); the next try opens a new one.
        case dropSession
    }

    public let configuration: Configuration
    public private(set) var role: Role = .follower
    /// The operation asked for and not yet answered.
    private var inFlight: Operation?
    private var lastOperation: Operation = 0
    private var nextAttempt: Instant?
    private var nextCheck: Instant?
    /// When the lock was last proven ours.
    private var confirmedAt: Instant?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var isLeader: Bool { role.isLeader }

    /// The clock moved on: try the lock, check it, or step down if it went unconfirmed too long.
    public mutating func tick(now: Instant) -> [Action] {
        switch role {
        case .resigned:
            return []
        case .follower:
            guard inFlight == nil, nextAttempt.map({ now >= $0 }) ?? true else { return [] }
            return [.tryAcquire(start())]
        case .leader:
            if let confirmedAt, now - confirmedAt >= configuration.stepDownAfter {
                return stepDown(.unconfirmed, now: now)
            }
            guard inFlight == nil, nextCheck.map({ now >= $0 }) ?? true else { return [] }
            return [.check(start())]
        }
    }

    private mutating func start() -> Operation {
        lastOperation += 1
        inFlight = lastOperation
        return lastOperation
    }

    /// Whether `operation` is the one awaited; if so it is no longer in flight.
    private mutating func answers(_ operation: Operation) -> Bool {
        guard inFlight == operation else { return false }
        inFlight = nil
        return true
    }

    /// The lock is ours, under `epoch`. A stale acquisition (the machine moved on, or
    /// resigned) holds a lock nobody will use: the session is dropped to free it.
    public mutating func acquired(_ operation: Operation, epoch: Int64, now: Instant) -> [Action] {
        guard role == .follower, answers(operation) else { return [.dropSession] }
        role = .leader(epoch: epoch)
        confirmedAt = now
        nextCheck = now + configuration.checkInterval
        return [.becomeLeader(epoch: epoch)]
    }

    /// Another node holds the lock.
    public mutating func refused(_ operation: Operation, now: Instant) -> [Action] {
        guard role == .follower, answers(operation) else { return [] }
        nextAttempt = now + configuration.retryInterval
        return []
    }

    /// A check proved the lock still ours. A confirmation that arrives after the leader
    /// already stepped down changes nothing: it stays down.
    public mutating func confirmed(_ operation: Operation, now: Instant) -> [Action] {
        guard case .leader = role, answers(operation) else { return [] }
        confirmedAt = now
        nextCheck = now + configuration.checkInterval
        return []
    }

    /// The operation failed (the session is unusable).
    public mutating func failed(_ operation: Operation, now: Instant) -> [Action] {
        guard answers(operation) else { return [] }
        switch role {
        case .leader:
            return stepDown(.sessionFailed, now: now)
        case .follower:
            nextAttempt = now + configuration.retryInterval
            return [.dropSession]
        case .resigned:
            return []
        }
    }

    /// Gives leadership up for good (drain, shutdown): a standby takes over at its next try.
    public mutating func resign(now: Instant) -> [Action] {
        switch role {
        case .resigned:
            return []
        case .leader:
            var actions = stepDown(.resigned, now: now)
            role = .resigned
            actions.removeAll { $0 == .dropSession }
            return actions + [.dropSession]
        case .follower:
            role = .resigned
            inFlight = nil
            return [.dropSession]
        }
    }

    private mutating func stepDown(_ reason: StepDownReason, now: Instant) -> [Action] {
        role = .follower
        // Whatever was in flight belongs to the dropped session: its answer is void.
        inFlight = nil
        confirmedAt = nil
        nextCheck = nil
        nextAttempt = now + configuration.retryInterval
        return [.stepDown(reason), .dropSession]
    }
}
