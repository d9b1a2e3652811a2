// Tickets: one durable row per SIP call (a "ticket"), written by one group-committing writer.
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
    /// The file is an SQLite database but has no tickets (read-only opening).
    case notATicketDatabase(path: String)
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
    /// A stored row could not be read back as a ticket.
    case corruptRow(id: String, column: String)
    /// Any other database failure (I/O error, disk full...), with SQLite's result code.
    case database(code: Int32, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open ticket database \(path): \(reason)"
        case .locked(let path): "ticket database \(path) is already open for writing by another process"
        case .schemaTooNew(let path): "ticket database \(path) was written by a newer Hotline"
        case .notATicketDatabase(let path): "\(path) is not a Hotline ticket database"
        case .closed: "the ticket store is closed"
        case .constraintViolated(let message): "ticket rejected by the schema: \(message)"
        case .ticketNotFound(let id): "no ticket \(id)"
        case .alreadyFinished(let id): "ticket \(id) is already finished"
        case .invalidWrite(let id, let reason): "invalid write to ticket \(id): \(reason)"
        case .corruptRow(let id, let column): "ticket \(id) has an unreadable \(column)"
        case .database(let code, let message): "ticket database error \(code): \(message)"
        }
    }
}
