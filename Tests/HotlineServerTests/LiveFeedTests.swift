import Foundation
import Synchronization
import Testing
@testable import AdminWeb
import HotlineServer

/// The console's push feed: a first snapshot on subscribing, one per burst of changes, and
/// streams that end when the server stops.
@Suite struct LiveFeedTests {
    final class Source: Sendable {
        let version = Mutex(0)
        let taken = Mutex(0)
        func snapshot() -> String? {
            taken.withLock { $0 += 1 }
            return "{\"version\":\(version.withLock { $0 })}"
        }
    }

    @Test func aSubscriberGetsTheCurrentSnapshotThenEachChange() async throws {
        let source = Source()
        let feed = LiveFeed(event: "contact_centre") { source.snapshot() }
        var frames = feed.subscribe().makeAsyncIterator()
        #expect(await frames.next() == "retry: 2000\n\n")
        #expect(await frames.next() == "event: contact_centre\ndata: {\"version\":0}\n\n")
        source.version.withLock { $0 = 1 }
        feed.changed()
        #expect(await frames.next() == "event: contact_centre\ndata: {\"version\":1}\n\n")
        #expect(feed.subscriberCount == 1)
        feed.close()
        #expect(await frames.next() == nil, "the stream ends when the feed closes")
        #expect(feed.subscriberCount == 0)
    }

    @Test func changesWithoutSubscribersTakeNoSnapshot() async throws {
        let source = Source()
        let feed = LiveFeed(event: "e") { source.snapshot() }
        for _ in 0..<100 { feed.changed() }
        #expect(source.taken.withLock { $0 } == 0)
    }

    @Test func aBurstOfChangesIsCoalesced() async throws {
        let source = Source()
        let gate = AsyncStream.makeStream(of: Void.self)
        let entered = AsyncStream.makeStream(of: Void.self)
        let blocking = Mutex(false)
        let feed = LiveFeed(event: "e") {
            if blocking.withLock({ $0 }) {
                entered.continuation.yield()
                var it = gate.stream.makeAsyncIterator()
                _ = await it.next()
            }
            return source.snapshot()
        }
        var frames = feed.subscribe().makeAsyncIterator()
        _ = await frames.next()
        _ = await frames.next()
        blocking.withLock { $0 = true }
        feed.changed()
        var inside = entered.stream.makeAsyncIterator()
        _ = await inside.next() // the pump is taking a snapshot
        blocking.withLock { $0 = false }
        for _ in 0..<50 { feed.changed() } // all while it is busy
        let before = source.taken.withLock { $0 }
        gate.continuation.yield()
        _ = await frames.next()
        _ = await frames.next()
        #expect(source.taken.withLock { $0 } - before == 2, "the busy snapshot and one more for the 50 changes")
        feed.close()
    }

    @Test func framesCarryMultiLineDataLineByLine() {
        #expect(LiveFeed.frame(event: "x", data: "a\nb") == "event: x\ndata: a\ndata: b\n\n")
    }
}
