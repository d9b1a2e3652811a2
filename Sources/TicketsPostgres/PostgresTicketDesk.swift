// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: work-order events from outside the server processes (`hotline tickets dispatch`
// beside a running cluster), committed on return.

import Foundation
import Synchronization
import Tickets

/// Appends work-order events on a connection of its own, in one short transaction with the
/// store's checks (the log replayed through ``TicketLifecycle``, active units, SLA deadlines by
/// the policy given here). The work order's row is locked for the transaction, so the desk
/// and the nodes' writers take turns on it.
public final class PostgresTicketDesk: TicketEventDesk, @unchecked Sendable {
    public let url: PostgresURL
    private let policy: WorkOrderPolicy
    private let session: Mutex<PostgresSession>

    /// Connects to a migrated database (refused if it is older or newer than this build).
    public init(url: PostgresURL, policy: WorkOrderPolicy, units: UnitDirectory? = nil) throws(TicketStoreError) {
        self.url = url
        self.policy = policy
        let session = try PostgresSession.connect(url)
        do {
            let version = try session.query("SELECT coalesce(max(version), 0) FROM schema_migrations").first?.decode(Int.self) ?? 0
            if version > PostgresSchema.latestVersion { throw TicketStoreError.schemaTooNew(path: url.description) }
            if version < PostgresSchema.latestVersion { throw TicketStoreError.schemaTooOld(path: url.description) }
            if let units {
                try session.script("BEGIN")
                try PostgresWriteTransaction(session: session, node: "-").syncUnits(units)
                try session.script("COMMIT")
            }
        } catch {
            session.close()
            throw TicketStoreError.postgres(error)
        }
        self.session = Mutex(session)
    }

    deinit {
        session.withLock { $0.close() }
    }

    public func append(_ event: TicketEvent, to id: TicketID, within unit: UnitID? = nil) throws(TicketStoreError) -> WorkOrder {
        do {
            return try session.withLock { session in
                try session.script("BEGIN")
                do {
                    let order = try TicketWriteRules.append(event, to: id, scope: unit, policy: policy.sla,
                                                            in: PostgresWriteTransaction(session: session, node: "-"))
                    try session.script("COMMIT")
                    return order
                } catch {
                    try? session.script("ROLLBACK")
                    throw error
                }
            }
        } catch {
            throw TicketStoreError.postgres(error)
        }
    }
}
