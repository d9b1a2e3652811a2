/// Service-level objectives checked at the end of a run (`--slo "setup_p99<50ms,failed=0"`):
/// comma-separated clauses `METRIC OP VALUE[UNIT]`. A breach makes `hotline flood` exit 2.
///
/// Metrics: `setup_`, `first_audio_`, `key_to_prompt_`, `gap_`, `jitter_` followed by `p50`,
/// `p90`, `p95`, `p99`, `p999`, `min`, `mean` or `max` (milliseconds; `us` and `s` units
/// convert); counts `started`, `answered`, `succeeded`, `failed`, `unidentified`,
/// `missing_tickets`; percentages `failed_pct`, `answered_pct`, `loss_pct`, `cpu_pct`; and
/// `rate` (achieved calls/s). Operators: `<`, `<=`, `>`, `>=`, `=`, `!=`. A clause whose metric
/// has no data (no keys pressed, say) is a breach: an objective that was not measured is not met.
public struct SLO: Sendable, Equatable {
    public enum Comparison: String, Sendable, Equatable, CaseIterable {
        case lessOrEqual = "<=", greaterOrEqual = ">=", notEqual = "!=", equal = "=", less = "<", greater = ">"

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .less: a < b
            case .lessOrEqual: a <= b
            case .greater: a > b
            case .greaterOrEqual: a >= b
            case .equal: abs(a - b) < 1e-9
            case .notEqual: abs(a - b) >= 1e-9
            }
        }
    }

    public struct Clause: Sendable, Equatable {
        public var metric: String
        public var comparison: Comparison
        /// In the metric's unit: milliseconds, a count, a percentage or calls/s.
        public var threshold: Double
        public var text: String
    }

    public var clauses: [Clause]

    static let timeMeasures = ["setup", "first_audio", "key_to_prompt", "gap", "jitter"]
    static let statistics = ["p50", "p90", "p95", "p99", "p999", "min", "mean", "max"]
    static let plainMetrics = ["started", "answered", "succeeded", "failed", "unidentified", "missing_tickets",
                               "failed_pct", "answered_pct", "loss_pct", "cpu_pct", "rate"]

    static var allMetrics: Set<String> {
        var all = Set(plainMetrics)
        for m in timeMeasures { for s in statistics { all.insert(m + "_" + s) } }
        return all
    }

    public static func parse(_ text: String) throws(FloodSyntaxError) -> SLO {
        var clauses: [Clause] = []
        for part in text.split(separator: ",") {
            let clause = part.trimmingWhitespace()
            guard !clause.isEmpty else { continue }
            // The first operator character splits metric from value; two-character operators first.
            guard let opStart = clause.firstIndex(where: { "<>=!".contains($0) }) else {
                throw FloodSyntaxError(clause, expected: "METRIC OP VALUE, e.g. setup_p99<50ms")
            }
            let metric = clause[..<opStart].trimmingWhitespace().lowercased()
            let rest = clause[opStart...]
            guard let comparison = Comparison.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
                throw FloodSyntaxError(clause, expected: "an operator: < <= > >= = !=")
            }
            var valueText = rest.dropFirst(comparison.rawValue.count).trimmingWhitespace().lowercased()
            if valueText.hasPrefix("=") { valueText.removeFirst() } // `==`
            guard allMetrics.contains(metric) else {
                let hint = Suggest.closest(to: metric, in: allMetrics).map { " (did you mean '\($0)'?)" } ?? ""
                throw FloodSyntaxError(String(metric), expected: "a metric such as setup_p99, failed, loss_pct\(hint)")
            }
            let isTime = timeMeasures.contains { metric.hasPrefix($0 + "_") }
            var scale = 1.0
            for (unit, factor) in [("ms", 1.0), ("us", 0.001), ("µs", 0.001), ("s", 1000.0), ("%", 1.0)] where valueText.hasSuffix(unit) {
                guard isTime || unit == "%" else { throw FloodSyntaxError(clause, expected: "a plain number for \(metric)") }
                valueText = String(valueText.dropLast(unit.count))
                scale = factor
                break
            }
            guard let value = Double(valueText.trimmingWhitespace()) else {
                throw FloodSyntaxError(clause, expected: "a number after the operator")
            }
            clauses.append(Clause(metric: metric, comparison: comparison, threshold: value * scale, text: clause))
        }
        guard !clauses.isEmpty else { throw FloodSyntaxError(text, expected: "at least one clause, e.g. setup_p99<50ms,failed=0") }
        return SLO(clauses: clauses)
    }

    /// Each clause against a report.
    public func evaluate(_ report: FloodReport) -> [FloodReport.SLOResult] {
        clauses.map { clause in
            guard let actual = report.metric(clause.metric) else {
                return FloodReport.SLOResult(clause: clause.text, actual: nil, ok: false)
            }
            return FloodReport.SLOResult(clause: clause.text, actual: (actual * 1000).rounded() / 1000,
                                         ok: clause.comparison.holds(actual, clause.threshold))
        }
    }
}
