// Outbound: the calls the server places. This file: when to try again.

import ConfigFiles
import Foundation
import WorkCalendar

/// When a failed attempt is tried again, by outcome; a refusal is final. The next attempt also
/// waits for the flow's calendar to be open (no calls at night or on holidays).
public struct RetryPolicy: Sendable, Hashable {
    /// Delay before the next attempt, by outcome; an outcome absent here is not retried.
    public var delays: [OutboundOutcome: Duration]

    public init(delays: [OutboundOutcome: Duration] = RetryPolicy.defaultDelays) {
        self.delays = delays
    }

    /// Busy lines clear quickly; a phone nobody answers is tried later in the day.
    public static let defaultDelays: [OutboundOutcome: Duration] = [
        .busy: .seconds(10 * 60), .noAnswer: .seconds(30 * 60), .unreachable: .seconds(15 * 60),
        // Answered but the flow got no result (no key pressed): as if unanswered.
        .answered: .seconds(30 * 60),
    ]

    /// The instant of the next attempt after one that ended at `now` with `outcome`, or nil
    /// when there is none (refused, or no attempts left). `calendar`: the hours calls are allowed.
    public func nextAttempt(after outcome: OutboundOutcome, attempts: Int, maxAttempts: Int, now: Date,
                            calendar: WorkCalendar?) -> Date? {
        guard attempts < maxAttempts, let delay = delays[outcome] else { return nil }
        let earliest = now.addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        return Self.allowed(atOrAfter: earliest, calendar: calendar)
    }

    /// `date` if calls are allowed then, else the calendar's next opening (nil: never).
    public static func allowed(atOrAfter date: Date, calendar: WorkCalendar?) -> Date? {
        guard let calendar else { return date }
        return calendar.isOpen(at: date) ? date : calendar.nextOpening(atOrAfter: date)
    }
}
