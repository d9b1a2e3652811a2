// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: ticket numbers unique across nodes, still `YYYYMMDD-NNNNNN`, without a round trip
// per call.
//
// Choice: each node leases blocks of sequences per day from `ticket_days`
// (`INSERT ... ON CONFLICT (day) DO UPDATE SET next_sequence = next_sequence + n RETURNING`),
// one statement, atomic under concurrency, and hands numbers out of its block in memory. When
// half a block is used it leases the next one in the background, so allocation normally never
// waits. Numbers a node leased and never used (it stopped, the day ended) are skipped, never
// reused: numbers are unique and increase per node, not gapless — as with SQLite after a crash.
// Alternatives rejected: a sequence per day (a round trip per call, or a CACHE that makes
// numbers jump per connection anyway), node-prefixed numbers (no longer the 12345 format).
// If the block runs out while PostgreSQL is unreachable, the node leases synchronously and,
// failing that, numbers from an outage range (sequence 900,000,000 + a per-node slice of
// 99,000 picked by a hash of the node name): distinct nodes collide only if their names hash
// to the same slice of 1,000. Documented as the one weak spot of a long outage.
// A call loop never waits on PostgreSQL: the store leases today's block when it opens and the
// heartbeat leases tomorrow's before midnight (``prepare(at:)``); if a call loop still finds no
// block, it takes an outage-range number and the lease runs in the background.

import Foundation
import NIOPosix
import Synchronization
import Tickets

final class PostgresTicketNumbering: Sendable {
    private struct Day {
        var next: Int
        var end: Int
        /// Where the block in use started (the floor of a give-back).
        var start: Int
        /// The block leased ahead, taken when this one runs out.
        var spare: (next: Int, end: Int)?
        var leasing = false
    }

    private struct State {
        var days: [Int: Day] = [:]
        var outage: [Int: Int] = [:]
        /// Days with a first lease running in the background.
        var leasing: Set<Int> = []
    }

    let url: PostgresURL
    let node: String
    let blockSize: Int
    private let calendar: Calendar
    private let state = Mutex(State())
    /// The leasing connection (its own, so a lease never waits behind the writer). Once
    /// closed, a lease still running in the background does not reconnect.
    private let connection: PostgresSessionSlot

    init(url: PostgresURL, node: String, blockSize: Int, timeZone: TimeZone) {
        self.url = url
        self.node = node
        self.blockSize = max(1, blockSize)
        self.connection = PostgresSessionSlot(url: url, timeout: .seconds(1))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    private func stamp(of instant: Date) -> Int {
        // The day of the millisecond the ticket will store (see TicketIDAllocator).
        let date = Date(timeIntervalSince1970: Double(PostgresTime.milliseconds(of: instant)) / 1000)
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return parts.year! * 10_000 + parts.month! * 100 + parts.day!
    }

    /// Leases (blocking; never on a call loop) a block for the day of `now` and, in the last
    /// hour before midnight, for the next day, where none is held yet.
    func prepare(at now: Date) {
        var days = [stamp(of: now)]
        let later = stamp(of: now.addingTimeInterval(3600))
        if later != days[0] { days.append(later) }
        for day in days where state.withLock({ $0.days[day] == nil }) {
            guard let block = try? lease(day: day) else { continue }
            install(block, day: day)
        }
    }

    private func install(_ block: (next: Int, end: Int), day stamp: Int) {
        state.withLock { state in
            if var day = state.days[stamp], day.next < day.end {
                day.spare = day.spare ?? block
                state.days[stamp] = day
            } else {
                state.days[stamp] = Day(next: block.next, end: block.end, start: block.next)
            }
        }
    }

    func allocate(at instant: Date) -> TicketID {
        let stamp = stamp(of: instant)
        while true {
            enum Step { case number(Int), leaseAhead(Int), leaseNow }
            let step: Step = state.withLock { state in
                guard var day = state.days[stamp] else { return .leaseNow }
                if day.next >= day.end, let spare = day.spare {
                    day.next = spare.next
                    day.start = spare.next
                    day.end = spare.end
                    day.spare = nil
                }
                guard day.next < day.end else { return .leaseNow }
                let number = day.next
                day.next += 1
                var ahead = false
                if day.spare == nil, !day.leasing, day.end - day.next <= blockSize / 2 {
                    day.leasing = true
                    ahead = true
                }
                state.days[stamp] = day
                return ahead ? .leaseAhead(number) : .number(number)
            }
            switch step {
            case .number(let number):
                return id(stamp, number)
            case .leaseAhead(let number):
                Thread.detachNewThread { [self] in
                    let block = try? lease(day: stamp)
                    state.withLock { state in
                        state.days[stamp]?.leasing = false
                        if let block { state.days[stamp]?.spare = block }
                    }
                }
                return id(stamp, number)
            case .leaseNow:
                if MultiThreadedEventLoopGroup.currentEventLoop != nil {
                    // A call loop: never wait for PostgreSQL; this call takes an outage number.
                    let start = state.withLock { $0.leasing.insert(stamp).inserted }
                    if start {
                        Thread.detachNewThread { [self] in
                            if let block = try? lease(day: stamp) { install(block, day: stamp) }
                            _ = state.withLock { $0.leasing.remove(stamp) }
                        }
                    }
                } else if let block = try? lease(day: stamp) {
                    install(block, day: stamp)
                    continue
                }
                // PostgreSQL unreachable and no numbers left: the outage range (see above).
                let number = state.withLock { state in
                    let next = (state.outage[stamp] ?? 0) + 1
                    state.outage[stamp] = next
                    return next
                }
                return id(stamp, Self.outageBase(node: node) + number % 99_000)
            }
        }
    }

    static func outageBase(node: String) -> Int {
        // FNV-1a: stable across processes, unlike Hasher.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in node.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return 900_000_000 + Int(hash % 1000) * 99_000
    }

    private func id(_ stamp: Int, _ sequence: Int) -> TicketID {
        // The stamp came from the calendar and the sequence is in range: always valid.
        (try? TicketID(year: stamp / 10_000, month: stamp / 100 % 100, day: stamp % 100, sequence: sequence))!
    }

    /// Leases the next block of `day`: [next, end). The first lease of a day starts after
    /// the highest number already stored that day (rows written by an older Hotline, by hand,
    /// or under numbers leased before `ticket_days` knew the day), read numerically because a
    /// day past 999,999 has longer numbers that sort wrongly as text.
    func lease(day: Int) throws -> (next: Int, end: Int) {
        try connection.withSession { session in
            let row = try session.query("""
                INSERT INTO ticket_days (day, next_sequence) VALUES ($1, (\(Self.highestStored)) + 1 + $2)
                ON CONFLICT (day) DO UPDATE SET next_sequence = ticket_days.next_sequence + $2
                RETURNING next_sequence
                """, [.int(day), .int(blockSize), .text("\(day)-"), .text("\(day).")]).first
            let end = try row!.decode(Int.self)
            return (end - blockSize, end)
        }
    }

    /// The highest sequence stored on the day of `$3`..`$4` (`YYYYMMDD-` to `YYYYMMDD.`).
    static let highestStored = """
        SELECT coalesce(max(substr(id, 10)::bigint), 0) FROM (
            SELECT id FROM calls WHERE id >= $3 AND id < $4
            UNION ALL SELECT id FROM work_orders WHERE id >= $3 AND id < $4) ids
        """

    /// Hands the unused tail of this node's last block of each day back, if no node leased
    /// after it (compare-and-set on `next_sequence`), down to the highest number stored: a
    /// node restarted alone continues where it stopped, as the SQLite store does. Called
    /// after the writer drained.
    func giveBack() {
        let days = state.withLock { state in
            let days = state.days
            state.days.removeAll()
            return days
        }
        for (stamp, day) in days {
            // The last block leased: the spare if there is one, else the one in use.
            let (floor, end) = day.spare.map { ($0.next, $0.end) } ?? (day.start, day.end)
            _ = try? connection.withSession { session in
                try session.execute("""
                    UPDATE ticket_days SET next_sequence = greatest($5::bigint, (\(Self.highestStored)) + 1)
                    WHERE day = $1 AND next_sequence = $2
                    """, [.int(stamp), .int(end), .text("\(stamp)-"), .text("\(stamp)."), .int(floor)])
            }
        }
    }

    func close() {
        connection.close()
    }

    deinit {
        close()
    }
}
