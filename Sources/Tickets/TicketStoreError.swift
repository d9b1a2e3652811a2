// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: every way a ticket store can fail, typed so callers can tell them apart.

/// Why a ticket store could not open, write or read.
public enum TicketStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database file or its directory could not be created or opened.
    case cannotOpen(path: String, reason: String)
    /// Another store already writes this database (another server process, most likely).
    /// One writer per file keeps ticket numbers unique and crash recovery honest.
    case locked(path: String)
    /// The database was migrated by a newer Hotline; this one does not know its schema.
    case schemaTooNew(path: String)
    /// The database has no tickets (read-only opening of an SQLite file, say).
    case notATicketDatabase(path: String)
    /// The database has an older schema and a read-only opening cannot migrate it; open it
    /// once with the backend's store (the server, or `SQLiteTicketStore.upgrade(path:options:)`).
    case schemaTooOld(path: String)
    /// The store was closed.
    case closed
    /// The schema refused the row; `message` names the constraint, e.g.
    /// `CHECK constraint failed: sip_status_final`.
    case constraintViolated(message: String)
    /// No ticket has this number.
    case ticketNotFound(TicketID)
    /// The ticket is already finished.
    case alreadyFinished(TicketID)
    /// The write does not fit the call's state (e.g. ``TicketStore/open(_:onCommit:)`` of a
    /// ticket that already has a disposition).
    case invalidWrite(TicketID, reason: String)
    /// No work order has this number.
    case workOrderNotFound(TicketID)
    /// The work order's lifecycle refused the event (an illegal transition, a wrong unit...).
    case eventRefused(TicketID, TicketLifecycleError)
    /// No active unit has this id (it is not in `units.yaml`, or no longer).
    case unknownUnit(UnitID)
    /// The work order is not with this unit or a unit under it, so someone acting for the
    /// unit may not see or change it.
    case outsideUnit(TicketID, unit: UnitID)
    /// No knowledge-base article has this id.
    case unknownArticle(KnowledgeArticleID)
    /// The article breaks a rule of the knowledge base (``KnowledgeArticle/problems``).
    case invalidArticle(KnowledgeArticleID, reason: String)
    /// A query the store cannot run (a limit out of range...).
    case invalidQuery(String)
    /// No hand-off has this id (for the partner named).
    case handoffNotFound(String)
    /// A stored row could not be read back as a ticket.
    case corruptRow(id: String, column: String)
    /// Any other database failure (I/O error, disk full...), with the backend's result code
    /// (SQLite's extended result code; -1 when there is none).
    case database(code: Int32, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open ticket database \(path): \(reason)"
        case .locked(let path): "ticket database \(path) is already open for writing by another process"
        case .schemaTooNew(let path): "ticket database \(path) was written by a newer Hotline"
        case .notATicketDatabase(let path): "\(path) is not a Hotline ticket database"
        case .schemaTooOld(let path):
            "ticket database \(path) has an older schema; open it once for writing (hotline serve) to migrate it"
        case .closed: "the ticket store is closed"
        case .constraintViolated(let message): "ticket rejected by the schema: \(message)"
        case .ticketNotFound(let id): "no ticket \(id)"
        case .alreadyFinished(let id): "ticket \(id) is already finished"
        case .invalidWrite(let id, let reason): "invalid write to ticket \(id): \(reason)"
        case .workOrderNotFound(let id): "no work order \(id)"
        case .eventRefused(let id, let error): "work order \(id): \(error)"
        case .unknownUnit(let unit): "no unit '\(unit)' (units come from units.yaml)"
        case .outsideUnit(let id, let unit): "work order \(id) is not with unit \(unit) or a unit under it"
        case .unknownArticle(let id): "no knowledge-base article '\(id)'"
        case .invalidArticle(let id, let reason): "knowledge-base article '\(id)' is invalid: \(reason)"
        case .invalidQuery(let reason): "invalid query: \(reason)"
        case .handoffNotFound(let id): "no hand-off \(id)"
        case .corruptRow(let id, let column): "ticket \(id) has an unreadable \(column)"
        case .database(let code, let message): "ticket database error \(code): \(message)"
        }
    }
}
