// AdminWeb: the admin listener on Hummingbird 2.
// This file: one live feed per key (an agent desk per agent), made on first subscription, all
// told at once when the state they read from changes; each takes its snapshot only while a
// page listens.
import Synchronization

/// Something the listener ends when it stops.
public protocol ClosableFeed: Sendable {
    func close()
}

extension LiveFeed: ClosableFeed {}

public final class KeyedLiveFeeds: ClosableFeed {
    public let event: String
    private let snapshot: @Sendable (String) async -> String?
    private let feeds = Mutex<[String: LiveFeed]>([:])

    /// `snapshot(key)` gives the data of `key`'s feed.
    public init(event: String, snapshot: @escaping @Sendable (String) async -> String?) {
        self.event = event
        self.snapshot = snapshot
    }

    /// The feed of `key`.
    public func feed(for key: String) -> LiveFeed {
        feeds.withLock { feeds in
            if let feed = feeds[key] { return feed }
            let snapshot = self.snapshot
            let feed = LiveFeed(event: event) { await snapshot(key) }
            feeds[key] = feed
            return feed
        }
    }

    /// The state changed: every feed with a page listening takes a fresh snapshot.
    public func changed() {
        for feed in feeds.withLock({ Array($0.values) }) { feed.changed() }
    }

    public func close() {
        for feed in feeds.withLock({ Array($0.values) }) { feed.close() }
    }
}
