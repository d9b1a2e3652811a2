// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the work-order form an agent fills while talking (the agent desk), filed to the
// call's own work order.

import Foundation

/// What an agent wrote about a call: the matter's category, subject and description, and what
/// became of it — kept open for later, answered on the phone, or dispatched to a unit.
///
/// Filed with ``WorkOrderWriting/fileForm(_:onCommit:)``. The form goes to the call's own work
/// order (the one numbered like the call): created by the first filing if the call has none
/// yet (the agent writes while the caller talks; the call's end then opens no second one), its
/// text replaced while it is still `accepted`. The resolution is an event on its log, by the agent.
public struct WorkOrderForm: Sendable, Equatable, Hashable {
    public enum Resolution: Sendable, Equatable, Hashable {
        /// Saved as it stands; the work order waits, `accepted`.
        case pending
        /// Answered on the phone (`answered_directly`).
        case answeredDirectly
        /// Sent to a unit (`dispatched`), with its SLA clocks.
        case dispatched(UnitID)
    }

    /// The call the agent took.
    public var call: TicketID
    /// The caller's number, as the call has it.
    public var caller: String
    /// The business line the call reached (or the agent chose).
    public var businessLine: String?
    public var category: TicketCategory?
    public var subject: String?
    public var details: String
    public var resolution: Resolution
    /// Who filed it (`agent:a1001`).
    public var actor: String
    public var at: Date
    /// A note on the resolution's event.
    public var note: String?

    public init(call: TicketID, caller: String, businessLine: String?, category: TicketCategory?, subject: String?,
                details: String, resolution: Resolution, actor: String, at: Date, note: String? = nil) {
        self.call = call
        self.caller = caller
        self.businessLine = businessLine
        self.category = category
        self.subject = subject
        self.details = details
        self.resolution = resolution
        self.actor = actor
        self.at = TicketTimestamp.normalized(at)
        self.note = note
    }
}
