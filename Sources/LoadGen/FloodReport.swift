import Foundation
import Histogram

/// The result of a run, as text for people and JSON for scripts (`--json`).
public struct FloodReport: Codable, Sendable {
    /// Percentiles of one measure, in milliseconds.
    public struct Distribution: Codable, Sendable, Equatable {
        public var count: UInt64
        public var min: Double
        public var mean: Double
        public var p50: Double
        public var p90: Double
        public var p95: Double
        public var p99: Double
        public var p999: Double
        public var max: Double

        init?(_ h: Histogram<UInt64>) {
            guard h.totalCount > 0 else { return nil }
            func ms(_ us: UInt64) -> Double { (Double(us) / 1000 * 1000).rounded() / 1000 }
            count = h.totalCount
            min = ms(h.min)
            mean = (h.mean / 1000 * 1000).rounded() / 1000
            p50 = ms(h.valueAtPercentile(50))
            p90 = ms(h.valueAtPercentile(90))
            p95 = ms(h.valueAtPercentile(95))
            p99 = ms(h.valueAtPercentile(99))
            p999 = ms(h.valueAtPercentile(99.9))
            max = ms(h.max)
        }

        /// `p50`, `p99`, `max`... by name.
        public func value(_ statistic: String) -> Double? {
            switch statistic {
            case "min": min
            case "mean", "avg": mean
            case "p50", "median": p50
            case "p90": p90
            case "p95": p95
            case "p99": p99
            case "p999", "p99.9": p999
            case "max": max
            default: nil
            }
        }
    }

    public struct Configuration: Codable, Sendable {
        public var target: String
        public var number: String
        public var schedule: String
        public var calls: Int?
        public var duration_seconds: Double?
        public var max_concurrent: Int?
        public var loops: Int
        public var sip_sockets: Int
        public var source_addresses: Int
        public var behaviours: [String]
    }

    public struct Calls: Codable, Sendable {
        public var started: Int
        public var answered: Int
        public var succeeded: Int
        public var failed: Int
        public var achieved_rate: Double
        public var peak_active: Int
    }

    public struct RTP: Codable, Sendable {
        public var packets_received: Int
        public var packets_lost: Int
        public var loss_percent: Double
        public var packets_sent: Int
        public var stray_packets: Int
        public var gap_ms: Distribution?
        public var jitter_ms: Distribution?
    }

    public struct Prompts: Codable, Sendable {
        public var identified: Bool
        public var sequences: [String: Int]
        public var heard: [String: Int]
        public var unidentified: Int
    }

    public struct Tickets: Codable, Sendable {
        public var database: String
        public var answered_calls: Int
        public var with_ticket: Int
        public var missing: Int
        public var dispositions: [String: Int]
        public var unfinished: Int
    }

    public struct Generator: Codable, Sendable {
        public var cpu_seconds: Double
        public var cpu_percent_of_one_core: Double
        public var elapsed_seconds: Double
    }

    public struct SLOResult: Codable, Sendable, Equatable {
        public var clause: String
        public var actual: Double?
        public var ok: Bool
    }

    public var configuration: Configuration
    public var calls: Calls
    public var failures: [String: Int]
    public var final_statuses: [String: Int]
    public var ends: [String: Int]
    public var behaviours: [String: Int]
    public var setup_ms: Distribution?
    public var first_audio_ms: Distribution?
    public var key_to_prompt_ms: Distribution?
    public var rtp: RTP
    public var prompts: Prompts
    public var tickets: Tickets?
    public var generator: Generator
    public var slo: [SLOResult]
    public var slo_ok: Bool

    public init(configuration: Configuration, statistics s: FloodStatistics, identified: Bool, elapsed: Duration, cpu: Duration,
                scheduleSpan: Duration, tickets: Tickets?) {
        self.configuration = configuration
        let seconds = scheduleSpan.secondsDouble
        calls = Calls(started: s.started, answered: s.answered, succeeded: s.succeeded, failed: s.failed,
                      achieved_rate: seconds > 0 ? (Double(s.started) / seconds * 100).rounded() / 100 : 0, peak_active: s.peakActive)
        failures = s.failures
        final_statuses = Dictionary(uniqueKeysWithValues: s.finalStatuses.map { (String($0.key), $0.value) })
        ends = s.ends
        behaviours = s.behaviours
        setup_ms = Distribution(s.setup)
        first_audio_ms = Distribution(s.firstAudio)
        key_to_prompt_ms = Distribution(s.keyToPrompt)
        let expected = s.packetsReceived + s.packetsLost
        rtp = RTP(packets_received: s.packetsReceived, packets_lost: s.packetsLost,
                  loss_percent: expected > 0 ? (Double(s.packetsLost) / Double(expected) * 100_000).rounded() / 1000 : 0,
                  packets_sent: s.packetsSent, stray_packets: s.strayPackets, gap_ms: Distribution(s.gap), jitter_ms: Distribution(s.jitter))
        prompts = Prompts(identified: identified, sequences: s.promptSequences, heard: s.promptsHeard, unidentified: s.unidentified)
        self.tickets = tickets
        let elapsedSeconds = elapsed.secondsDouble
        generator = Generator(cpu_seconds: (cpu.secondsDouble * 1000).rounded() / 1000,
                              cpu_percent_of_one_core: elapsedSeconds > 0 ? (cpu.secondsDouble / elapsedSeconds * 1000).rounded() / 10 : 0,
                              elapsed_seconds: (elapsedSeconds * 1000).rounded() / 1000)
        slo = []
        slo_ok = true
    }

    /// Applies an SLO: records each clause's result.
    public mutating func apply(_ slo: SLO) {
        self.slo = slo.evaluate(self)
        slo_ok = self.slo.allSatisfy(\.ok)
    }

    /// The value of an SLO metric, if the run measured it.
    public func metric(_ name: String) -> Double? {
        switch name {
        case "started": return Double(calls.started)
        case "answered": return Double(calls.answered)
        case "succeeded": return Double(calls.succeeded)
        case "failed": return Double(calls.failed)
        case "failed_pct", "failure_rate":
            return calls.started > 0 ? Double(calls.failed) / Double(calls.started) * 100 : 0
        case "answered_pct":
            return calls.started > 0 ? Double(calls.answered) / Double(calls.started) * 100 : 0
        case "rate": return calls.achieved_rate
        case "loss_pct": return rtp.loss_percent
        case "unidentified": return Double(prompts.unidentified)
        case "missing_tickets": return tickets.map { Double($0.missing) }
        case "cpu_pct": return generator.cpu_percent_of_one_core
        default: break
        }
        guard let underscore = name.lastIndex(of: "_") else { return nil }
        let measure = String(name[..<underscore]), statistic = String(name[name.index(after: underscore)...])
        let distribution: Distribution?
        switch measure {
        case "setup": distribution = setup_ms
        case "first_audio": distribution = first_audio_ms
        case "key_to_prompt": distribution = key_to_prompt_ms
        case "gap": distribution = rtp.gap_ms
        case "jitter": distribution = rtp.jitter_ms
        default: return nil
        }
        return distribution?.value(statistic)
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The report as aligned text.
    public var text: String {
        var lines: [String] = []
        let c = configuration
        lines.append("hotline flood: \(calls.started) calls to sip:\(c.number)@\(c.target) at \(c.schedule) in \(fmt(generator.elapsed_seconds)) s"
                     + " (\(c.loops) event loops, \(c.sip_sockets) SIP sockets on \(c.source_addresses) source address\(c.source_addresses == 1 ? "" : "es"))")
        lines.append("calls         started \(calls.started)  answered \(calls.answered)  succeeded \(calls.succeeded)  failed \(calls.failed)"
                     + "  (achieved \(fmt(calls.achieved_rate)) calls/s, peak \(calls.peak_active) active)")
        if failures.isEmpty {
            lines.append("failures      none")
        } else {
            lines.append("failures      " + failures.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        if behaviours.count > 1 {
            lines.append("callers       " + behaviours.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        lines.append("ends          " + ends.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        lines.append(row("setup", setup_ms, "INVITE → 200"))
        lines.append(row("first audio", first_audio_ms, "200 → first RTP packet"))
        lines.append(row("key → prompt", key_to_prompt_ms, "key sent → next prompt's first packet"))
        lines.append("rtp           received \(rtp.packets_received)  lost \(rtp.packets_lost) (\(fmt(rtp.loss_percent)) %)  sent \(rtp.packets_sent)"
                     + (rtp.stray_packets > 0 ? "  stray \(rtp.stray_packets)" : ""))
        lines.append(row("rtp gap", rtp.gap_ms, "between packets of a talkspurt"))
        lines.append(row("rtp jitter", rtp.jitter_ms, "RFC 3550 interarrival jitter, per call"))
        if prompts.identified {
            let sequences = prompts.sequences.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            if sequences.isEmpty { lines.append("prompts       none heard") }
            for (i, (sequence, n)) in sequences.prefix(8).enumerated() {
                lines.append((i == 0 ? "prompts       " : "              ") + "\(sequence)  ×\(n)")
            }
            if sequences.count > 8 { lines.append("              … \(sequences.count - 8) more sequences (see --json)") }
            if prompts.unidentified > 0 { lines.append("              \(prompts.unidentified) stretch(es) of audio matched no prompt") }
        } else {
            lines.append("prompts       not identified (no prompt directory)")
        }
        if let t = tickets {
            var line = "tickets       \(t.with_ticket)/\(t.answered_calls) answered calls have a ticket in \(t.database)"
            if t.missing > 0 { line += "  MISSING \(t.missing)" }
            if !t.dispositions.isEmpty {
                line += "  (" + t.dispositions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
            }
            lines.append(line)
        }
        lines.append("generator     CPU \(fmt(generator.cpu_seconds)) s (\(fmt(generator.cpu_percent_of_one_core)) % of one core)")
        for result in slo {
            let isTime = SLO.timeMeasures.contains { result.clause.hasPrefix($0 + "_") }
            let actual = result.actual.map { isTime ? ms($0) + " ms" : fmt($0) } ?? "no data"
            lines.append("slo           \(result.ok ? "ok    " : "BREACH") \(result.clause)  (actual \(actual))")
        }
        return lines.joined(separator: "\n")
    }

    private func row(_ name: String, _ d: Distribution?, _ what: String) -> String {
        let label = name.padding(toLength: 14, withPad: " ", startingAt: 0)
        guard let d else { return label + "no data" }
        return label + "p50 \(ms(d.p50))  p90 \(ms(d.p90))  p99 \(ms(d.p99))  max \(ms(d.max)) ms  (n=\(d.count); \(what))"
    }

    /// Milliseconds with three significant digits or so.
    private func ms(_ v: Double) -> String {
        if abs(v) >= 100 { return String(format: "%.0f", v) }
        if abs(v) >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }

    private func fmt(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        if abs(v) >= 100 { return String(format: "%.0f", v) }
        if abs(v) >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }
}
