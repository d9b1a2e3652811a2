// Helpers for the ticket store tests, whatever the backend: temporary directories, fixed
// dates in a fixed time zone, tickets, and callbacks turned into awaitable values.

import Foundation
import Synchronization
import Tickets

/// A fresh directory under the system temporary directory, removed on deinit.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hotline-tickets-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

public let shanghai = TimeZone(identifier: "Asia/Shanghai")!

/// A date given as wall-clock time in `timeZone` (Shanghai unless said otherwise).
public func date(
    _ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0,
    milliseconds: Int = 0, in timeZone: TimeZone = shanghai
) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    let parts = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    return calendar.date(from: parts)!.addingTimeInterval(Double(milliseconds) / 1000)
}

/// A ticket of a call that has just arrived.
public func arrivingTicket(_ id: TicketID, callID: String? = nil, at arrival: Date) -> CallTicket {
    CallTicket(
        id: id, callID: callID ?? "call-\(id.rawValue)@10.0.0.1", caller: "13800138000", dialled: "12345",
        arrivedAt: arrival, dialplanVersion: "2026.11.1")
}

/// A ticket of a call rejected with `status`.
public func rejectedTicket(_ id: TicketID, at arrival: Date, status: Int = 404) -> CallTicket {
    var ticket = arrivingTicket(id, at: arrival)
    ticket.endedAt = arrival.addingTimeInterval(0.004)
    ticket.disposition = .rejected
    ticket.sipStatus = status
    return ticket
}

extension TicketStore {
    /// Opens a ticket and waits for the commit callback.
    public func openAndWait(_ ticket: CallTicket) async -> Result<Void, TicketStoreError> {
        await withCheckedContinuation { continuation in
            open(ticket) { continuation.resume(returning: $0) }
        }
    }

    /// Finishes a ticket and waits for the commit callback.
    public func finishAndWait(id: TicketID, outcome: CallOutcome) async -> Result<Void, TicketStoreError> {
        await withCheckedContinuation { continuation in
            finish(id: id, outcome: outcome) { continuation.resume(returning: $0) }
        }
    }

    /// Records a ticket and waits for the commit callback.
    public func recordAndWait(_ ticket: CallTicket) async -> Result<Void, TicketStoreError> {
        await withCheckedContinuation { continuation in
            record(ticket) { continuation.resume(returning: $0) }
        }
    }
}

extension Result where Failure == TicketStoreError {
    public var error: TicketStoreError? {
        if case .failure(let error) = self { error } else { nil }
    }

    public var succeeded: Bool { error == nil }
}

extension TicketStoreError {
    /// The SQLite message of a constraint violation, nil for any other error.
    public var constraintMessage: String? {
        if case .constraintViolated(let message) = self { message } else { nil }
    }
}

/// Collects values from many threads.
public final class Collector<Value: Sendable>: Sendable {
    public init() {}

    private let values = Mutex<[Value]>([])

    public func append(_ value: Value) {
        values.withLock { $0.append(value) }
    }

    public var all: [Value] { values.withLock { $0 } }
}
