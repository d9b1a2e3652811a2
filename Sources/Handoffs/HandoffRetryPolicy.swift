// Handoffs: the signed webhook between 12345 and a partner centre, sans-IO.
// This file: when the outbox tries a hand-off again, and when it gives up.

import Foundation

/// Exponential backoff: the first retry after `first`, each next one twice as late, never more
/// than `maximum` apart; after `attempts` attempts in all the hand-off is failed (and shown so
/// on its work order, for someone to phone 110).
public struct HandoffRetryPolicy: Sendable, Equatable {
    public var first: Duration
    public var maximum: Duration
    public var attempts: Int

    /// 2 s, 4 s, 8 s... at most 5 min apart, 20 attempts: about an hour and a quarter of outage.
    public init(first: Duration = .seconds(2), maximum: Duration = .seconds(300), attempts: Int = 20) {
        self.first = first
        self.maximum = maximum
        self.attempts = max(1, attempts)
    }

    /// When to try again after attempt number `attempt` (1 for the first) failed at `now`;
    /// nil: give up.
    public func nextAttempt(after attempt: Int, failedAt now: Date) -> Date? {
        guard attempt < attempts else { return nil }
        let firstSeconds = Double(first.components.seconds) + Double(first.components.attoseconds) / 1e18
        let maximumSeconds = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
        let delay = min(maximumSeconds, firstSeconds * pow(2, Double(min(max(attempt - 1, 0), 30))))
        return now.addingTimeInterval(delay)
    }
}
