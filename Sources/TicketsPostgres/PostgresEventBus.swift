// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: events between the nodes of a cluster over PostgreSQL LISTEN/NOTIFY (the ACD's
// transport, issue 13): no extra server, the same connection settings as the store, and a
// NOTIFY sent inside a write transaction is delivered only if that transaction commits.
//
// NOTIFY reaches only the sessions listening at that moment: a node that was disconnected has
// missed events. So the bus says `.resync` each time it (re)starts listening, and a
// subscriber then rebuilds its view from the tables (which the events only announce).

import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import Tickets

public final class PostgresEventBus: Sendable {
    public enum Event: Sendable, Equatable {
        /// Listening (again): events may have been missed, read the state from the tables.
        case resync
        /// A node's message.
        case message(from: String, payload: String)
    }

    public let url: PostgresURL
    public let node: String
    public let channel: String
    private let listener = Mutex<Task<Void, Never>?>(nil)
    private let publisher: PostgresSessionSlot

    /// `channel`: a lowercase SQL identifier (`hotline_acd`).
    public init(url: PostgresURL, node: String, channel: String) {
        precondition(channel.allSatisfy { $0.isLetter && $0.isLowercase || $0.isNumber || $0 == "_" } && !channel.isEmpty,
                     "a channel is a lowercase identifier")
        self.url = url
        self.publisher = PostgresSessionSlot(url: url)
        self.node = node
        self.channel = channel
    }

    /// Listens until ``close()``, reconnecting (every `retry`) whenever the session ends.
    public func events(retry: Duration = .milliseconds(500)) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let url = self.url, channel = self.channel
        let task = Task {
            while !Task.isCancelled {
                let (configuration, logger) = PostgresSession.configuration(url, timeout: .seconds(2))
                do {
                    let connection = try await PostgresConnection.connect(
                        on: PostgresSession.eventLoops.any(), configuration: configuration,
                        id: Int.random(in: 1...Int(Int32.max)), logger: logger)
                    do {
                        try await connection.listen(on: channel) { notifications in
                            continuation.yield(.resync)
                            for try await notification in notifications {
                                continuation.yield(Self.decode(notification.payload))
                            }
                        }
                    } catch {}
                    try? await connection.close()
                } catch {}
                try? await Task.sleep(for: retry)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        listener.withLock { $0 = task }
        return stream
    }

    /// Sends `payload` (at most about 7,900 bytes) to every node listening, this one included.
    /// Blocking (a round trip): never on a call loop.
    public func publish(_ payload: String) throws(TicketStoreError) {
        let message = Self.encode(from: node, payload)
        _ = try publisher.withSession { session in try session.query("SELECT pg_notify($1, $2)", [.text(channel), .text(message)]) }
    }

    public func close() {
        listener.withLock { $0?.cancel() }
        publisher.close()
    }

    /// `node` and payload, split at the first newline (node names have none).
    static func encode(from node: String, _ payload: String) -> String { node + "\n" + payload }

    static func decode(_ text: String) -> Event {
        guard let newline = text.firstIndex(of: "\n") else { return .message(from: "", payload: text) }
        return .message(from: String(text[..<newline]), payload: String(text[text.index(after: newline)...]))
    }
}
