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

/// Failure counts per key in bounded memory, a least-recently-used cache with O(1) amortised
/// lookup, insert and eviction: keys include usernames an attacker chooses, so a flood of new
/// ones must not cost a pass over the table each.
///
/// When full, the unlocked entry whose last failure is oldest is forgotten first (a lockout that
/// has expired counts as unlocked). An active lockout goes only when every entry is one, the
/// soonest-ending first: an attacker spraying names or addresses can make us forget old,
/// harmless counts, never end a lockout early while there is anything else to forget.
struct FailureTracker: Hashable, Sendable {
    let policy: LockoutPolicy
    let capacity: Int
    private var records: [String: Record] = [:]
    /// Keys never locked since their last reset, least recently failed first.
    private var unlocked = RecencyList<String>()
    /// Keys with a lockout, in the order it started: with one `policy.duration`, also the order
    /// in which they end.
    private var locked = RecencyList<String>()

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

    /// Keys tracked (never above `capacity`).
    var count: Int { records.count }

    /// The tracked keys, least recently failed first, then the locked ones by lockout start.
    var keysInEvictionOrder: [String] { unlocked.keys + locked.keys }

    /// The end of the key's lockout, if it is locked at `now`.
    func lockedUntil(_ key: String, now: UnixTime) -> UnixTime? {
        guard let until = records[key]?.lockedUntil, until > now else { return nil }
        return until
    }

    /// Records a failure; returns the lockout's end when this failure starts one.
    mutating func recordFailure(_ key: String, now: UnixTime) -> UnixTime? {
        guard policy.threshold > 0 else { return nil }
        if records[key] == nil, records.count >= capacity { evict(now: now) }
        var record = records[key] ?? Record(lastSeen: now)
        record.lastSeen = now
        if let until = record.lockedUntil, until <= now {
            record.lockedUntil = nil
            locked.remove(key)
        }
        record.failures.removeAll { now - $0 >= policy.window }
        record.failures.append(now)
        if record.failures.count > policy.threshold { record.failures.removeFirst(record.failures.count - policy.threshold) }
        var started: UnixTime?
        if record.lockedUntil == nil, record.failures.count >= policy.threshold {
            record.lockedUntil = now + policy.duration
            record.failures = []
            started = record.lockedUntil
        }
        if record.lockedUntil == nil {
            unlocked.append(key)
        } else if !locked.contains(key) {
            unlocked.remove(key)
            locked.append(key)
        }
        records[key] = record
        return started
    }

    /// Locks the key until `until` (a lockout the rest of the cluster counted); a longer one
    /// already in place stays.
    mutating func lock(_ key: String, until: UnixTime, now: UnixTime) {
        guard until > now else { return }
        if records[key] == nil, records.count >= capacity { evict(now: now) }
        var record = records[key] ?? Record(lastSeen: now)
        if let current = record.lockedUntil, current >= until { return }
        record.lockedUntil = until
        record.failures = []
        unlocked.remove(key)
        if !locked.contains(key) { locked.append(key) }
        records[key] = record
    }

    /// Forgets the key's failures (after a success); an active lockout stays.
    mutating func reset(_ key: String) {
        guard var record = records[key] else { return }
        record.failures = []
        if record.lockedUntil == nil {
            forget(key)
        } else {
            records[key] = record
        }
    }

    private mutating func forget(_ key: String) {
        records[key] = nil
        unlocked.remove(key)
        locked.remove(key)
    }

    /// Drops one entry: the least recently failed of the unlocked and the expired lockouts,
    /// else the lockout that ends soonest.
    private mutating func evict(now: UnixTime) {
        let oldestUnlocked = unlocked.first
        // Lockouts end in the order they started, so if any has expired the first one has.
        let expiredLock = locked.first.flatMap { key in records[key]!.lockedUntil! <= now ? key : nil }
        switch (oldestUnlocked, expiredLock) {
        case (let a?, let b?): forget(records[a]!.lastSeen <= records[b]!.lastSeen ? a : b)
        case (let a?, nil): forget(a)
        case (nil, let b?): forget(b)
        case (nil, nil): if let soonest = locked.first { forget(soonest) }
        }
    }
}
