// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: filters and keyset paging for listing work orders (`GET /api/tickets`).

import Foundation

/// Which work orders to list, newest accepted first. Every filter is optional and they
/// combine with AND. Paging is by keyset: pass the previous page's ``WorkOrderPage/next`` as
/// ``after``, so pages stay consistent while new work orders arrive and the database never
/// counts past skipped rows.
public struct WorkOrderQuery: Sendable, Equatable, Hashable {
    /// Any of these statuses; empty for any status.
    public var statuses: Set<TicketStatus>
    /// Work orders whose current unit is this unit or any unit under it (what a unit's staff
    /// may see).
    public var unit: UnitID?
    public var category: TicketCategory?
    public var businessLine: String?
    public var channel: TicketChannel?
    /// The caller's exact number.
    public var caller: String?
    /// Accepted at or after this instant.
    public var acceptedFrom: Date?
    /// Accepted before this instant.
    public var acceptedBefore: Date?
    /// Only work orders overdue at this instant (``WorkOrder/isOverdue(at:)``).
    public var overdueAt: Date?
    /// At most this many per page, 1 to ``maximumLimit``.
    public var limit: Int
    /// The page after this cursor; nil for the first page.
    public var after: WorkOrderCursor?

    /// The largest page.
    public static let maximumLimit = 1000

    public init(statuses: Set<TicketStatus> = [], unit: UnitID? = nil, category: TicketCategory? = nil,
                businessLine: String? = nil, channel: TicketChannel? = nil, caller: String? = nil,
                acceptedFrom: Date? = nil, acceptedBefore: Date? = nil, overdueAt: Date? = nil, limit: Int = 50,
                after: WorkOrderCursor? = nil) {
        self.statuses = statuses
        self.unit = unit
        self.category = category
        self.businessLine = businessLine
        self.channel = channel
        self.caller = caller
        self.acceptedFrom = acceptedFrom
        self.acceptedBefore = acceptedBefore
        self.overdueAt = overdueAt
        self.limit = limit
        self.after = after
    }
}

/// Where a page of work orders ended: opaque text for clients (`?after=...`), the accepted
/// time in milliseconds and the number of the last work order of the page.
public struct WorkOrderCursor: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    /// The accepted time of the page's last work order.
    public let acceptedAt: Date
    /// The number of the page's last work order.
    public let id: String

    /// Parses a cursor a previous page returned; nil if it is not one.
    public init?(rawValue: String) {
        let parts = rawValue.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let milliseconds = Int64(parts[0]), milliseconds >= 0,
              TicketID(rawValue: String(parts[1])) != nil
        else { return nil }
        self.rawValue = rawValue
        self.acceptedAt = TicketTimestamp.date(milliseconds: milliseconds)
        self.id = String(parts[1])
    }

    public init(after order: WorkOrder) {
        let milliseconds = TicketTimestamp.milliseconds(of: order.acceptedAt)
        rawValue = "\(milliseconds)_\(order.id.rawValue)"
        acceptedAt = order.acceptedAt
        id = order.id.rawValue
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let cursor = WorkOrderCursor(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a work order cursor: \(text)")
        }
        self = cursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// One page of work orders.
public struct WorkOrderPage: Sendable, Equatable, Hashable {
    public var items: [WorkOrder]
    /// The cursor of the next page; nil on the last page.
    public var next: WorkOrderCursor?

    public init(items: [WorkOrder], next: WorkOrderCursor?) {
        self.items = items
        self.next = next
    }
}
