// AdminWeb: the admin listener on Hummingbird 2.
// This file: pushes to the console (server-sent events). The server says "something changed"
// from any thread, as often as it likes; the feed takes one fresh snapshot per burst of changes
// (changes that arrive while a snapshot is being taken make one more, not one each) and sends
// it to every open page. A slow page skips to the newest snapshot instead of queueing them.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

public final class LiveFeed: Sendable {
    /// The SSE event name (`contact_centre`) the pages listen for.
    public let event: String
    private let snapshot: @Sendable () async -> String?
    private let state = Mutex(State())

    struct State {
        var subscribers: [UInt64: AsyncStream<String>.Continuation] = [:]
        var next: UInt64 = 0
        var dirty = false
        var pumping = false
        var closed = false
    }

    /// `snapshot` gives the event's data (one line of JSON), or nil when there is none to send.
    public init(event: String, snapshot: @escaping @Sendable () async -> String?) {
        self.event = event
        self.snapshot = snapshot
    }

    /// Something the snapshot shows has changed. Cheap, from any thread.
    public func changed() {
        let start = state.withLock { state -> Bool in
            guard !state.closed, !state.subscribers.isEmpty else { return false }
            state.dirty = true
            if state.pumping { return false }
            state.pumping = true
            return true
        }
        if start { Task { await pump() } }
    }

    private func pump() async {
        while true {
            let go = state.withLock { state -> Bool in
                guard state.dirty, !state.closed else {
                    state.pumping = false
                    return false
                }
                state.dirty = false
                return true
            }
            guard go else { return }
            guard let data = await snapshot() else { continue }
            let frame = Self.frame(event: event, data: data)
            let subscribers = state.withLock { Array($0.subscribers.values) }
            for subscriber in subscribers { subscriber.yield(frame) }
        }
    }

    /// How many pages are listening (for tests and /metrics).
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// A stream of SSE frames for one page: the current snapshot first, then one per change.
    public func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(2))
        let id = state.withLock { state -> UInt64? in
            guard !state.closed else { return nil }
            state.next += 1
            state.subscribers[state.next] = continuation
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        // The browser retries after 2 s if the connection drops.
        continuation.yield("retry: 2000\n\n")
        let snapshot = self.snapshot, event = self.event
        Task {
            if let data = await snapshot() { continuation.yield(Self.frame(event: event, data: data)) }
        }
        return stream
    }

    /// Ends every page's stream (the server is stopping); later subscribers get an empty one.
    public func close() {
        let subscribers = state.withLock { state in
            state.closed = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    /// One SSE frame: each line of `data` on a `data:` line of its own (text/event-stream).
    static func frame(event: String, data: String) -> String {
        var frame = "event: \(event)\n"
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { frame += "data: \(line)\n" }
        return frame + "\n"
    }

    /// The streaming response of one subscriber.
    public func response() -> Response {
        let stream = subscribe()
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            for await frame in stream {
                try await writer.write(ByteBuffer(string: frame))
            }
            try await writer.finish(nil)
        })
    }
}
