// SIPAuth: SIP digest authentication. This file: replay protection by nonce count, in
// bounded memory.

/// The highest nonce count seen per (nonce, username), for at most `capacity` nonces.
///
/// RFC 7616 §3.4 lets a server refuse a request whose `nc` is not above the last one for that
/// nonce: a captured REGISTER replayed later is then refused. Memory is bounded without
/// opening a hole: when the table is full, expired nonces are dropped first, then the
/// oldest-issued one, and the **floor** rises to that nonce's stamp. A nonce at or below the
/// floor that is not in the table is refused as replayed (the client is told `stale=true` and
/// simply takes a new nonce), so forgetting a nonce never lets its old requests through again.
public struct NonceCountTracker: Hashable, Sendable {
    public let capacity: Int
    private var entries: [Key: Entry] = [:]
    /// Nonces stamped at or before this are refused unless tracked.
    public private(set) var floor: NonceStamp?

    struct Key: Hashable, Sendable {
        var nonce: String
        var username: String
    }

    struct Entry: Hashable, Sendable {
        var stamp: NonceStamp
        var highest: UInt32
    }

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public var count: Int { entries.count }

    /// Records `count` for the nonce; false if it is a replay (not above the highest seen, or
    /// the nonce was forgotten under the floor).
    public mutating func accept(nonce: String, username: String, count: UInt32, stamp: NonceStamp, now: UnixTime,
                                lifetime: Duration) -> Bool {
        let key = Key(nonce: nonce, username: username)
        if var entry = entries[key] {
            guard count > entry.highest else { return false }
            entry.highest = count
            entries[key] = entry
            return true
        }
        if let floor, stamp <= floor { return false }
        guard count >= 1 else { return false }
        if entries.count >= capacity { makeRoom(now: now, lifetime: lifetime) }
        entries[key] = Entry(stamp: stamp, highest: count)
        return true
    }

    private mutating func makeRoom(now: UnixTime, lifetime: Duration) {
        // Expired nonces are refused by their time anyway; forgetting them costs nothing,
        // but the floor still rises past them so the rule above stays simple.
        let expired = entries.filter { now - $0.value.stamp.issued > lifetime }
        for (key, entry) in expired {
            entries[key] = nil
            raiseFloor(to: entry.stamp)
        }
        while entries.count >= capacity, let oldest = entries.min(by: { $0.value.stamp < $1.value.stamp }) {
            entries[oldest.key] = nil
            raiseFloor(to: oldest.value.stamp)
        }
    }

    private mutating func raiseFloor(to stamp: NonceStamp) {
        if floor == nil || floor! < stamp { floor = stamp }
    }
}
