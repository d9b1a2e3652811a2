#if canImport(Glibc)
import ConfigFiles
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RTP
import Tickets
import TicketsSQLite

/// Runs a flood: one ``FloodWorker`` per event loop, a shared start instant, the report at
/// the end (with `--verify-db` and `--slo` applied by the caller's choice).
public final class FloodRunner: Sendable {
    public let configuration: FloodConfiguration
    public let progress = FloodProgress()
    private let workers = NIOLockedValueBox<[NIOLoopBound<FloodWorker>]>([])
    private let stopped = NIOLockedValueBox(false)

    public init(configuration: FloodConfiguration) {
        self.configuration = configuration
    }

    public enum RunError: Error, CustomStringConvertible {
        case invalid(FloodSyntaxError)
        case bind(String)
        public var description: String {
            switch self {
            case .invalid(let e): "\(e)"
            case .bind(let why): "cannot open the generator's sockets: \(why)"
            }
        }
    }

    /// Places the calls and returns the report once every call has ended (or the drain bound
    /// passed). `onProgress` is called about once a second from a background task.
    public func run(onProgress: (@Sendable (FloodProgress.Snapshot, Duration) -> Void)? = nil) async throws -> FloodReport {
        do { try configuration.validate() } catch { throw RunError.invalid(error) }
        raiseFileLimit(to: configuration.sources.addresses.count * 2 + 1024)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.loops)
        defer { group.shutdownGracefully { _ in } }
        let runID = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let payloads = CallerPayloads()
        let loops = (0..<configuration.loops).map { _ in group.next() }
        var bounds: [NIOLoopBound<FloodWorker>] = []
        for (i, loop) in loops.enumerated() {
            let bound = try await loop.submit { [configuration, progress] in
                let worker = try FloodWorker(eventLoop: loop, index: i, workerCount: loops.count, configuration: configuration,
                                             runID: runID, payloads: payloads, progress: progress)
                return NIOLoopBound(worker, eventLoop: loop)
            }.get()
            do {
                try await loop.flatSubmit { bound.value.bind() }.get()
            } catch {
                throw RunError.bind("\(error)")
            }
            bounds.append(bound)
        }
        workers.withLockedValue { $0 = bounds }
        if stopped.withLockedValue({ $0 }) { stop() }

        let cpuBefore = Self.cpuTime()
        let wallStart = Date()
        let clockStart = ContinuousClock.now
        let start = NIODeadline.now() + .milliseconds(20)
        let futures = bounds.map { bound in bound.eventLoop.flatSubmit { bound.value.run(startingAt: start) } }

        let reporter = Task { [progress] in
            guard let onProgress else { return }
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                onProgress(progress.snapshot, ContinuousClock.now - clockStart)
            }
        }
        var statistics = FloodStatistics(keepCallIDs: configuration.verifyDatabase != nil)
        for future in futures { statistics.merge(try await future.get()) }
        reporter.cancel()
        let elapsed = ContinuousClock.now - clockStart
        let cpu = Self.cpuTime() - cpuBefore
        workers.withLockedValue { $0 = [] }

        var tickets: FloodReport.Tickets?
        if let path = configuration.verifyDatabase {
            tickets = await TicketCheck.verify(path: path, calls: statistics.answeredCallIDs, since: wallStart.addingTimeInterval(-5))
            for _ in 0..<(tickets?.missing ?? 0) { statistics.reclassify(succeededAs: .noTicket) }
        }
        let c = configuration
        let conf = FloodReport.Configuration(
            target: "\(c.targetHost):\(c.targetPort)", number: c.number, schedule: c.schedule.description, calls: c.calls,
            duration_seconds: c.duration?.secondsDouble, max_concurrent: c.maxConcurrent, loops: c.loops,
            sip_sockets: max(c.loops, c.sources.addresses.count), source_addresses: c.sources.addresses.count,
            behaviours: c.scenario.entries.map { Self.describe($0) })
        // The span over which calls were placed, for the achieved rate.
        var span = elapsed
        if let duration = c.duration { span = min(span, duration) }
        if let calls = c.calls, let last = c.schedule.startTime(ofCall: max(0, calls - 1)), calls > 1 {
            span = min(span, .nanoseconds(Int64(last * 1e9 * Double(calls) / Double(calls - 1))))
        }
        return FloodReport(configuration: conf, statistics: statistics, identified: c.prompts != nil, elapsed: elapsed, cpu: cpu,
                           scheduleSpan: span, tickets: tickets)
    }

    /// Stops starting calls and ends those in progress (Ctrl-C). Safe from any thread.
    public func stop() {
        stopped.withLockedValue { $0 = true }
        for bound in workers.withLockedValue({ $0 }) {
            bound.eventLoop.execute { bound.value.stop() }
        }
    }

    /// Presses a key on the call(s) in progress (the console).
    public func press(_ key: DTMFKey) {
        for bound in workers.withLockedValue({ $0 }) {
            bound.eventLoop.execute { bound.value.press(key) }
        }
    }

    /// Hangs up the call(s) in progress (the console).
    public func hangUp() {
        for bound in workers.withLockedValue({ $0 }) {
            bound.eventLoop.execute { bound.value.hangUp() }
        }
    }

    static func describe(_ entry: Scenario.Entry) -> String {
        let b = entry.behaviour
        var parts = ["\(b.name) weight \(entry.weight)"]
        parts.append(b.keys.isEmpty ? "no keys" : "keys \(b.keys.map(\.description).joined()) by \(b.dtmf.rawValue) every \(DurationSyntax.format(b.keyDelay))")
        parts.append("audio \(b.audio.rawValue)")
        parts.append(b.hangup == .caller ? "caller hangs up after \(b.hold)" : "server hangs up (within \(DurationSyntax.format(b.byeTimeout)))")
        if let expected = b.expectedPrompts { parts.append("expects \(expected.joined(separator: " > "))") }
        return parts.joined(separator: ", ")
    }

    /// User + system CPU time of this process.
    static func cpuTime() -> Duration {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func d(_ t: timeval) -> Duration { .seconds(Int64(t.tv_sec)) + .microseconds(Int64(t.tv_usec)) }
        return d(usage.ru_utime) + d(usage.ru_stime)
    }

    /// Two sockets per source address: make sure the descriptor limit allows them.
    private func raiseFileLimit(to wanted: Int) {
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < rlim_t(wanted) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
        _ = setrlimit(resource, &limit)
    }
}

/// `--verify-db`: every answered call must have its ticket.
enum TicketCheck {
    static func verify(path: String, calls: [String], since: Date) async -> FloodReport.Tickets {
        var result = FloodReport.Tickets(database: path, answered_calls: calls.count, with_ticket: 0, missing: calls.count,
                                         dispositions: [:], unfinished: 0)
        let wanted = Set(calls)
        // The ticket of an answered call is committed before its 200 OK leaves; its final
        // disposition follows the BYE. Wait a few seconds for those to land.
        for attempt in 0..<10 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(500)) }
            guard let reader = try? SQLiteTicketReader(path: path),
                  let tickets = try? reader.list(limit: wanted.count * 2 + 10_000, since: since) else { continue }
            let ours = tickets.filter { wanted.contains($0.callID) && $0.answeredAt != nil }
            var found = Set<String>()
            var dispositions: [String: Int] = [:]
            var unfinished = 0
            for ticket in ours where !found.contains(ticket.callID) {
                found.insert(ticket.callID)
                if let d = ticket.disposition { dispositions[d.rawValue, default: 0] += 1 } else { unfinished += 1 }
            }
            result.with_ticket = found.count
            result.missing = wanted.count - found.count
            result.dispositions = dispositions
            result.unfinished = unfinished
            if result.missing == 0 && unfinished == 0 { break }
        }
        return result
    }
}
