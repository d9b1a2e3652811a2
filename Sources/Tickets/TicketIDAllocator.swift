// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: hands out ticket numbers in memory, so allocating one never waits for the disk.

import Foundation
import Synchronization

/// Allocates `YYYYMMDD-NNNNNN` numbers: the local date of the call in a given time zone, and
/// a sequence that starts at 1 each day. Seeded from the store at open, so numbers continue
/// where the previous process stopped. Thread-safe; the lock is held for a dictionary update
/// (plus a calendar computation once per day).
public final class TicketIDAllocator: Sendable {
    private struct State {
        /// The local day last allocated for and its bounds, so most calls skip the calendar.
        var cachedDay: (start: Date, end: Date, stamp: Int)?
        /// The last sequence used on each day (`YYYYMMDD` → sequence).
        var lastSequence: [Int: Int]
    }

    private let calendar: Calendar
    private let state: Mutex<State>

    /// - Parameters:
    ///   - timeZone: The zone whose calendar date starts each ticket number.
    ///   - lastSequences: The last sequence already used on each day, from the store.
    public init(timeZone: TimeZone, lastSequences: [Int: Int]) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        self.state = Mutex(State(cachedDay: nil, lastSequence: lastSequences))
    }

    public func allocate(at instant: Date) -> TicketID {
        // The day of the millisecond the ticket will store, so that a call arriving at
        // 23:59:59.9996 is not numbered on one day and stored as arriving on the next.
        let date = TicketTimestamp.normalized(instant)
        return state.withLock { state in
            let stamp: Int
            if let day = state.cachedDay, day.start <= date, date < day.end {
                stamp = day.stamp
            } else {
                let parts = calendar.dateComponents([.year, .month, .day], from: date)
                stamp = parts.year! * 10_000 + parts.month! * 100 + parts.day!
                if let interval = calendar.dateInterval(of: .day, for: date) {
                    state.cachedDay = (interval.start, interval.end, stamp)
                }
            }
            let sequence = (state.lastSequence[stamp] ?? 0) + 1
            state.lastSequence[stamp] = sequence
            return TicketID(dayStamp: stamp, sequence: sequence)
        }
    }
}
