import Timers

/// Renders metrics in the Prometheus text exposition format (version 0.0.4).
struct PrometheusText {
    private(set) var text = ""
    private var declared: Set<String> = []

    enum Kind: String { case counter, gauge }

    mutating func add(_ name: String, _ kind: Kind, help: String, labels: [(String, String)] = [], value: Double) {
        if declared.insert(name).inserted {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
        }
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(PrometheusText.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + PrometheusText.format(value) + "\n"
    }

    mutating func add<N: BinaryInteger>(_ name: String, _ kind: Kind, help: String, labels: [(String, String)] = [], value: N) {
        add(name, kind, help: help, labels: labels, value: Double(value))
    }

    /// A histogram in seconds: cumulative `_bucket{le=...}` series, `_sum` and `_count`.
    mutating func add(_ name: String, help: String, histogram h: LatencyHistogram) {
        if declared.insert(name).inserted {
            text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        }
        var cumulative: UInt64 = 0
        for (index, bound) in LatencyHistogram.boundsNanoseconds.enumerated() {
            cumulative += h.counts[index]
            text += "\(name)_bucket{le=\"\(PrometheusText.format(Double(bound) / 1e9))\"} \(cumulative)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(h.count)\n"
        text += "\(name)_sum \(PrometheusText.format(Double(h.sumNanoseconds) / 1e9))\n"
        text += "\(name)_count \(h.count)\n"
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
