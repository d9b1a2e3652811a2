// Helpers for the domain tests (no database): fixed dates in a fixed time zone, and values
// collected from many threads.

import Foundation
import Synchronization
@testable import Tickets

let shanghai = TimeZone(identifier: "Asia/Shanghai")!

/// A date given as wall-clock time in `timeZone` (Shanghai unless said otherwise).
func date(
    _ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0,
    milliseconds: Int = 0, in timeZone: TimeZone = shanghai
) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    let parts = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    return calendar.date(from: parts)!.addingTimeInterval(Double(milliseconds) / 1000)
}

/// Collects values from many threads.
final class Collector<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) {
        values.withLock { $0.append(value) }
    }

    var all: [Value] { values.withLock { $0 } }
}
