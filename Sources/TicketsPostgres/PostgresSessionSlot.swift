// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: one lazily opened connection, reopened after it fails, closed for good by
// `close()`: the reader's, the node table's, the numbering's, the seats', the lockouts' and
// NOTIFY's connections all work this way.

import Foundation
import Synchronization
import Tickets

final class PostgresSessionSlot: Sendable {
    /// After which errors the connection is dropped (and the next use reconnects).
    enum Drop: Sendable {
        /// Any error: the session may be left mid-way (bookkeeping statements).
        case afterAnyError
        /// Only a lost connection: a refused statement leaves the session usable (reads).
        case afterConnectionFailure
    }

    let url: PostgresURL
    private let timeout: Duration
    private let drop: Drop
    /// Statements run on each new connection (session settings).
    private let setup: String?
    private let state = Mutex<(session: PostgresSession?, closed: Bool)>((nil, false))

    init(url: PostgresURL, timeout: Duration = .seconds(2), drop: Drop = .afterAnyError, setup: String? = nil) {
        self.url = url
        self.setup = setup
        self.timeout = timeout
        self.drop = drop
    }

    /// Runs `body` on the connection (connecting if needed), one caller at a time; errors
    /// become store errors, ``TicketStoreError/closed`` once closed.
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws(TicketStoreError) -> T {
        do {
            return try state.withLock { state in
                guard !state.closed else { throw TicketStoreError.closed }
                if state.session == nil || state.session!.isClosed {
                    let session = try PostgresSession.connect(url, timeout: timeout)
                    // Short statements (numbers, seats, lockouts, events); reads may run long.
                    if drop == .afterAnyError { session.roundTripLimit = .seconds(10) }
                    if let setup {
                        do { try session.script(setup) } catch {
                            session.close()
                            throw error
                        }
                    }
                    state.session = session
                }
                do {
                    return try body(state.session!)
                } catch {
                    if drop == .afterAnyError || PostgresSession.isConnectionFailure(error) {
                        state.session?.close()
                        state.session = nil
                    }
                    throw error
                }
            }
        } catch let error as TicketStoreError where error == .closed {
            throw .closed
        } catch {
            throw TicketStoreError.postgres(error)
        }
    }

    /// Closes the connection; later uses fail with ``TicketStoreError/closed`` (a lease still
    /// running in the background must not reconnect after the store closed).
    func close() {
        state.withLock { state in
            state.closed = true
            state.session?.close()
            state.session = nil
        }
    }
}
