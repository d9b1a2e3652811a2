// SIPRegistrar: REGISTER handling as a sans-IO state machine. This file: counting failed
// authentications per source address and per username, and locking them out for a while.

import SIPAuth

/// When repeated failures lock a subject (an address or a username) out.
public struct LockoutPolicy: Hashable, Sendable {
    /// Failures within `window` that start a lockout; 0 disables it.
    public var threshold: Int
    public var window: Duration
    /// How long a lockout lasts (every request is answered `403` meanwhile).
    public var duration: Duration

    public init(threshold: Int, window: Duration = .seconds(300), duration: Duration = .seconds(900)) {
        self.threshold = threshold
        self.window = window
        self.duration = duration
    }
}

/// Failure counts per key in bounded memory. When full, the entry seen least recently that is
/// not locked is forgotten first (an attacker spraying addresses can only make us forget
/// old, harmless counts, never end a lockout early unless every entry is a lockout).
struct FailureTracker: Hashable, Sendable {
    let policy: LockoutPolicy
    let capacity: Int
    private(set) var entries: [String: Record] = [:]

    struct Record: Hashable, Sendable {
        /// Failure instants inside the window, oldest first (at most `threshold` kept).
        var failures: [UnixTime] = []
        var lockedUntil: UnixTime?
        var lastSeen: UnixTime
    }

    init(policy: LockoutPolicy, capacity: Int) {
        self.policy = policy
        self.capacity = max(1, capacity)
    }

    /// The end of the key's lockout, if it is locked at `now`.
    func lockedUntil(_ key: String, now: UnixTime) -> UnixTime? {
        guard let until = entries[key]?.lockedUntil, until > now else { return nil }
        return until
    }

    /// Records a failure; returns the lockout's end when this failure starts one.
    mutating func recordFailure(_ key: String, now: UnixTime) -> UnixTime? {
        guard policy.threshold > 0 else { return nil }
        if entries[key] == nil, entries.count >= capacity { evict(now: now) }
        var record = entries[key] ?? Record(lastSeen: now)
        record.lastSeen = now
        if let until = record.lockedUntil, until <= now { record.lockedUntil = nil }
        record.failures = record.failures.filter { now - $0 < policy.window } + [now]
        if record.failures.count > policy.threshold { record.failures.removeFirst(record.failures.count - policy.threshold) }
        var started: UnixTime?
        if record.lockedUntil == nil, record.failures.count >= policy.threshold {
            record.lockedUntil = now + policy.duration
            record.failures = []
            started = record.lockedUntil
        }
        entries[key] = record
        return started
    }

    /// Forgets the key's failures (after a success); an active lockout stays.
    mutating func reset(_ key: String) {
        guard var record = entries[key] else { return }
        record.failures = []
        if record.lockedUntil == nil { entries[key] = nil } else { entries[key] = record }
    }

    private mutating func evict(now: UnixTime) {
        let unlocked = entries.filter { $0.value.lockedUntil.map { $0 <= now } ?? true }
        if let victim = unlocked.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
            entries[victim.key] = nil
        } else if let victim = entries.min(by: { ($0.value.lockedUntil ?? now) < ($1.value.lockedUntil ?? now) }) {
            entries[victim.key] = nil
        }
    }
}
