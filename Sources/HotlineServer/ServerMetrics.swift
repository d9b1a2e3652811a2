// /metrics on swift-prometheus: each server owns one `PrometheusCollectorRegistry` (tests run
// several servers in a process, so nothing global and no `MetricsSystem.bootstrap`). Latencies
// are recorded into the registry's histograms where they happen; counters the call loops keep
// as plain integers (no shared atomics per SIP or RTP packet) are published into it on each scrape.

import CoreMetrics
import Prometheus
import Synchronization
import Tickets
import Timers

/// One server's metrics registry, its latency histograms, and the publisher of scraped figures.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    /// Histogram bucket upper bounds: fine below 10 ms where SIP and RTP targets live, coarse
    /// above. The series names and these bounds are what Benchmarks/ parses: keep them.
    static let latencyBuckets: [Duration] = [
        250_000, 500_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000,
        6_000_000, 8_000_000, 10_000_000, 12_000_000, 15_000_000, 20_000_000, 25_000_000,
        30_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 5_000_000_000,
    ].map { Duration.nanoseconds($0) }

    /// INVITE read to 200 OK written, answered calls (the server's share of RFC 6076 SRD).
    let setupTime: CoreMetrics.Timer
    /// Ticket open submitted to its commit seen back on the call's loop.
    let ticketOpenTime: CoreMetrics.Timer
    let rtpTickLateness: CoreMetrics.Timer
    let rtpTickDuration: CoreMetrics.Timer
    let ticketWriter: TicketWriterTimers
    private let publisher: Mutex<MetricsPublisher>

    /// `node` names the node in a cluster: every series then carries a `node="NAME"` label
    /// (Prometheus has no registry-wide labels, so each series is made with it).
    init(node: String? = nil) {
        let registry = self.registry
        let common: [(String, String)] = node.map { [("node", $0)] } ?? []
        func timer(_ name: String, _ help: String) -> CoreMetrics.Timer {
            let histogram = registry.makeDurationHistogram(descriptor: .named(name, help: help), labels: common, buckets: Self.latencyBuckets)
            return CoreMetrics.Timer(label: name, dimensions: [], handler: histogram)
        }
        setupTime = timer("hotline_call_setup_seconds",
                          "Answered calls: from reading the INVITE to writing the 200 OK (the server's share of the setup time).")
        ticketOpenTime = timer("hotline_ticket_open_seconds",
                               "Answered calls: from the ticket open to its commit seen on the call's loop (part of the setup time).")
        ticketWriter = TicketWriterTimers(
            commitTime: timer("hotline_ticket_commit_seconds", "Ticket writer: how long each group commit took, BEGIN to COMMIT (fsync included)."),
            queueWait: timer("hotline_ticket_queue_wait_seconds", "Ticket writer: how long each batch's first write waited before its transaction began."))
        rtpTickLateness = timer("hotline_rtp_tick_lateness_seconds", "How late the 20 ms RTP pacing tick started after its deadline.")
        rtpTickDuration = timer("hotline_rtp_tick_duration_seconds", "How long one RTP pacing tick took.")
        publisher = Mutex(MetricsPublisher(registry: registry, commonLabels: common))
    }

    /// The Prometheus text (format 0.0.4) after `publish` has written this scrape's counters
    /// and gauges. Scrapes are serialised, so two never interleave their updates.
    func exposition(_ publish: (inout MetricsPublisher) -> Void) -> String {
        publisher.withLock { publisher in
            publisher.beginScrape()
            publish(&publisher)
            publisher.endScrape()
            return registry.emitToString()
        }
    }
}

/// Writes one scrape's figures into a registry, with the call shape of a text renderer
/// (name, type, help, labels, value) so that each component lists its own series.
///
/// A counter's value is the component's running total: the registry's counter rises by what
/// it gained since the last scrape (a total that went down, a restarted component, resets it).
/// A gauge not reported in a scrape (a queue removed, an agent state nobody is in) leaves the
/// output, as it would from a freshly rendered text.
struct MetricsPublisher: Sendable {
    enum Kind: Sendable { case counter, gauge }

    private struct Series: Hashable, Sendable {
        var name: String
        var labels: [String]
        init(_ name: String, _ labels: [(String, String)]) {
            self.name = name
            self.labels = labels.map { "\($0.0)=\($0.1)" }
        }
    }

    private let registry: PrometheusCollectorRegistry
    /// Labels every series carries first (the node's name).
    private let commonLabels: [(String, String)]
    private var counters: [Series: (counter: Prometheus.Counter, total: UInt64)] = [:]
    private var gauges: [Series: Prometheus.Gauge] = [:]
    private var reported: Set<Series> = []

    init(registry: PrometheusCollectorRegistry, commonLabels: [(String, String)] = []) {
        self.registry = registry
        self.commonLabels = commonLabels
    }

    mutating func beginScrape() { reported.removeAll(keepingCapacity: true) }

    mutating func endScrape() {
        for (series, gauge) in gauges where !reported.contains(series) {
            registry.unregisterGauge(gauge)
            gauges[series] = nil
        }
    }

    mutating func add<N: BinaryInteger>(_ name: String, _ kind: Kind, help: String, labels: [(String, String)] = [], value: N) {
        switch kind {
        case .counter: count(name, help: help, labels: labels, total: UInt64(clamping: value))
        case .gauge: add(name, .gauge, help: help, labels: labels, value: Double(value))
        }
    }

    mutating func add(_ name: String, _ kind: Kind, help: String, labels: [(String, String)] = [], value: Double) {
        switch kind {
        case .counter:
            count(name, help: help, labels: labels, total: value.isFinite && value > 0 ? UInt64(value) : 0)
        case .gauge:
            let labels = commonLabels + labels
            let series = Series(name, labels)
            reported.insert(series)
            let gauge = gauges[series] ?? registry.makeGauge(descriptor: .named(name, help: help), labels: labels)
            gauges[series] = gauge
            gauge.set(value)
        }
    }

    private mutating func count(_ name: String, help: String, labels: [(String, String)], total: UInt64) {
        let labels = commonLabels + labels
        let series = Series(name, labels)
        let known = counters[series] ?? (registry.makeCounter(descriptor: .named(name, help: help), labels: labels), 0)
        if total >= known.total {
            known.counter.increment(by: Int64(clamping: total - known.total))
        } else {
            known.counter.reset()
            known.counter.increment(by: Int64(clamping: total))
        }
        counters[series] = (known.counter, total)
    }
}

extension MetricNameDescriptor {
    /// A whole metric name as it appears in the output (Prometheus joins the non-empty parts).
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

extension CoreMetrics.Timer {
    /// Records a `Duration`; a negative one (clock skew between readers) counts as zero.
    func record(_ duration: Duration) {
        recordNanoseconds(max(0, duration.nanosecondsClamped))
    }
}
