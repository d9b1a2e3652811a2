import Foundation
import Testing
@testable import HotlineServer
import Tickets

/// The value of one sample (`name{labels}` before the value), nil if absent.
private func sample(_ text: String, _ series: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
}

private func lines(_ text: String, startingWith prefix: String) -> [Substring] {
    text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
}

@Suite struct ServerMetricsTests {
    @Test("counters are the loops' running totals: each scrape shows the latest, a smaller total resets")
    func countersPublishRunningTotals() {
        let metrics = ServerMetrics()
        func scrape(_ total: UInt64) -> String {
            metrics.exposition { p in
                p.add("calls_total", .counter, help: "Calls.", labels: [("disposition", "a\"b\\c\nd")], value: total)
                p.add("calls_total", .counter, help: "Calls.", labels: [("disposition", "x")], value: 4)
            }
        }
        let first = scrape(3)
        #expect(sample(first, #"calls_total{disposition="a\"b\\c\nd"}"#) == 3, "label escaped as the text format wants")
        #expect(sample(first, #"calls_total{disposition="x"}"#) == 4)
        #expect(lines(first, startingWith: "# HELP calls_total").count == 1)
        #expect(lines(first, startingWith: "# TYPE calls_total counter").count == 1)
        #expect(sample(scrape(10), #"calls_total{disposition="a\"b\\c\nd"}"#) == 10)
        #expect(sample(scrape(10), #"calls_total{disposition="x"}"#) == 4, "no double counting across scrapes")
        #expect(sample(scrape(2), #"calls_total{disposition="a\"b\\c\nd"}"#) == 2, "a restarted component resets its counter")
    }

    @Test("a gauge reported no more leaves the output")
    func staleGaugesLeave() {
        let metrics = ServerMetrics()
        let both = metrics.exposition { p in
            p.add("hotline_queue_waiting", .gauge, help: "Callers waiting, by queue.", labels: [("queue", "a")], value: 1)
            p.add("hotline_queue_waiting", .gauge, help: "Callers waiting, by queue.", labels: [("queue", "b")], value: 2)
            p.add("ratio", .gauge, help: "A ratio.", value: 0.25)
        }
        #expect(sample(both, #"hotline_queue_waiting{queue="b"}"#) == 2)
        #expect(sample(both, "ratio") == 0.25)
        let one = metrics.exposition { p in
            p.add("hotline_queue_waiting", .gauge, help: "Callers waiting, by queue.", labels: [("queue", "a")], value: 5)
        }
        #expect(sample(one, #"hotline_queue_waiting{queue="a"}"#) == 5)
        #expect(sample(one, #"hotline_queue_waiting{queue="b"}"#) == nil)
        #expect(sample(one, "ratio") == nil)
        #expect(!one.contains("# TYPE ratio "))
    }

    @Test("latency histograms keep their names and bucket bounds, in seconds")
    func histogramsKeepTheirBuckets() throws {
        let metrics = ServerMetrics()
        metrics.setupTime.record(Duration.microseconds(1200))
        metrics.setupTime.record(Duration.seconds(7))
        metrics.setupTime.record(Duration.milliseconds(-1)) // clock skew: counts as zero
        let text = metrics.exposition { _ in }
        let bounds = lines(text, startingWith: "hotline_call_setup_seconds_bucket{le=").map { line in
            line.split(separator: "\"")[1]
        }
        let expected: [Double] = [0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.012,
                                  0.015, 0.02, 0.025, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 5]
        #expect(bounds.dropLast().map { Double($0)! } == expected)
        #expect(bounds.last == "+Inf")
        #expect(text.contains("# TYPE hotline_call_setup_seconds histogram"))
        #expect(sample(text, #"hotline_call_setup_seconds_bucket{le="0.00025"}"#) == 1)
        #expect(sample(text, #"hotline_call_setup_seconds_bucket{le="0.001"}"#) == 1)
        #expect(sample(text, #"hotline_call_setup_seconds_bucket{le="0.0015"}"#) == 2)
        #expect(sample(text, #"hotline_call_setup_seconds_bucket{le="+Inf"}"#) == 3)
        #expect(sample(text, "hotline_call_setup_seconds_count") == 3)
        #expect(try #require(sample(text, "hotline_call_setup_seconds_sum")) == 7.0012)
        for name in ["hotline_ticket_open_seconds", "hotline_ticket_commit_seconds", "hotline_ticket_queue_wait_seconds",
                     "hotline_rtp_tick_lateness_seconds", "hotline_rtp_tick_duration_seconds"] {
            #expect(sample(text, name + "_count") == 0, "\(name) is declared before anything is recorded")
        }
    }

    @Test("each server has its own registry")
    func registriesAreNotShared() {
        let a = ServerMetrics(), b = ServerMetrics()
        a.ticketWriter.commitTime.recordNanoseconds(1_000_000)
        #expect(sample(a.exposition { _ in }, "hotline_ticket_commit_seconds_count") == 1)
        #expect(sample(b.exposition { _ in }, "hotline_ticket_commit_seconds_count") == 0)
    }

    @Test("the engines' snapshot publishes timers, calls and SIP counts summed over loops")
    func snapshotPublishesSums() {
        var one = EngineSnapshot(), two = EngineSnapshot()
        one.timersPending = 3; one.timersStored = 5; one.activeCalls = 2
        two.timersPending = 4; two.timersStored = 9; two.activeCalls = 1
        one.engine.answered = 2; two.engine.answered = 5
        one.sip.requestsIn["INVITE"] = 1; two.sip.requestsIn["INVITE"] = 2
        let text = ServerMetrics().exposition { p in (one + two).publish(into: &p, tickets: TicketStoreMetrics(), loops: 2) }
        #expect(sample(text, "hotline_timers_pending") == 7)
        #expect(sample(text, "hotline_timers_stored") == 14)
        #expect(sample(text, "hotline_active_calls") == 3)
        #expect(sample(text, "hotline_call_loops") == 2)
        #expect(sample(text, "hotline_calls_answered_total") == 7)
        #expect(sample(text, #"hotline_sip_requests_total{direction="in",method="INVITE"}"#) == 3)
        #expect(sample(text, #"hotline_admission_rejections_total{reason="rate"}"#) == 0)
        #expect(text.contains("# TYPE hotline_timers_stored gauge"))
    }

    @Test("open descriptors: numeric entries of the fd directory, less the one listing it")
    func countsDescriptors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["0", "1", "2", "17", "notanfd"] { _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: nil) }
        #expect(ProcessStatistics.openFileDescriptors(directory: dir.path) == 5 - 1)
        #expect(ProcessStatistics.openFileDescriptors(directory: dir.path + "/missing") == nil)
        let live = try #require(ProcessStatistics.openFileDescriptors())
        #expect(live >= 3, "stdin, stdout, stderr at least")
    }

    /// A server with thousands of RTP sockets has a large fd directory: each entry is read in
    /// place (copying whole `dirent`s read past readdir's buffer, and /metrics crashed at 630
    /// calls/s).
    @Test("open descriptors: a directory of 20,000 entries is counted exactly")
    func countsALargeDescriptorDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for fd in 0..<20_000 { _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(String(fd)).path, contents: nil) }
        #expect(ProcessStatistics.openFileDescriptors(directory: dir.path) == 20_000 - 1, "less the one listing it")
    }

    @Test("resident memory: statm's second field in pages")
    func readsResidentMemory() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("statm-\(UUID().uuidString)")
        try "1000 250 30 5 0 400 0\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        #expect(ProcessStatistics.residentMemoryBytes(statm: file.path) == 250 * page)
        let live = try #require(ProcessStatistics.residentMemoryBytes())
        #expect(live > 1 << 20)
        let text = ServerMetrics().exposition { p in
            ProcessStatistics(openFileDescriptors: 12, residentMemoryBytes: 4096).publish(into: &p)
        }
        #expect(sample(text, "hotline_open_fds") == 12)
        #expect(sample(text, "hotline_resident_memory_bytes") == 4096)
    }
}

@Suite struct NodeLabelTests {
    @Test("a node's name labels every series: counters, gauges and the latency histograms")
    func everySeriesCarriesTheNode() {
        let metrics = ServerMetrics(node: "node-1")
        metrics.setupTime.record(Duration.milliseconds(3))
        let text = metrics.exposition { p in
            p.add("calls_total", .counter, help: "Calls.", labels: [("disposition", "answered")], value: 5)
            p.add("active_calls", .gauge, help: "Calls.", value: 2)
        }
        #expect(sample(text, #"calls_total{node="node-1",disposition="answered"}"#) == 5)
        #expect(sample(text, #"active_calls{node="node-1"}"#) == 2)
        #expect(sample(text, #"hotline_call_setup_seconds_count{node="node-1"}"#) == 1)
        let unlabelled = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.contains("node=\"node-1\"") }
        #expect(unlabelled.isEmpty, "every sample names the node: \(unlabelled)")
    }
}
