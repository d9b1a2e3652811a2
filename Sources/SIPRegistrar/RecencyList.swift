// SIPRegistrar: REGISTER handling as a sans-IO state machine. This file: an ordered set of keys
// with O(1) append, removal and first, the order behind the failure tracker's LRU eviction.

/// Keys in the order they were appended, as a doubly linked list threaded through a dictionary:
/// appending, removing any key and reading the first are O(1) (amortised, as the dictionary is).
/// `OrderedSet` would shift its storage on every removal from the front or middle, which is
/// exactly what an LRU does on every touch.
struct RecencyList<Key: Hashable & Sendable>: Hashable, Sendable {
    private struct Links: Hashable, Sendable {
        var previous: Key?
        var next: Key?
    }

    private var links: [Key: Links] = [:]
    /// The least recently appended key.
    private(set) var first: Key?
    private var last: Key?

    var count: Int { links.count }

    func contains(_ key: Key) -> Bool { links[key] != nil }

    /// Puts `key` last (the most recent), moving it there if it is already in the list.
    mutating func append(_ key: Key) {
        remove(key)
        links[key] = Links(previous: last, next: nil)
        if let last { links[last]!.next = key } else { first = key }
        last = key
    }

    /// Takes `key` out of the list; nothing if it is not in it.
    mutating func remove(_ key: Key) {
        guard let removed = links.removeValue(forKey: key) else { return }
        if let previous = removed.previous { links[previous]!.next = removed.next } else { first = removed.next }
        if let next = removed.next { links[next]!.previous = removed.previous } else { last = removed.previous }
    }

    /// The keys from the least to the most recent (O(count), for tests and diagnostics).
    var keys: [Key] {
        var out: [Key] = []
        var cursor = first
        while let key = cursor {
            out.append(key)
            cursor = links[key]!.next
        }
        return out
    }
}
