import Foundation
import SDP
import Testing
import Timers
@testable import LoadGen

@Suite struct SLOTests {
    @Test func parsesClausesWithUnits() throws {
        let slo = try SLO.parse("setup_p99<50ms, failed=0,key_to_prompt_p50<=0.2s,loss_pct<1%,gap_max<40000us,rate>=99.5")
        #expect(slo.clauses.map(\.metric) == ["setup_p99", "failed", "key_to_prompt_p50", "loss_pct", "gap_max", "rate"])
        #expect(slo.clauses.map(\.comparison) == [.less, .equal, .lessOrEqual, .less, .less, .greaterOrEqual])
        #expect(slo.clauses.map(\.threshold) == [50, 0, 200, 1, 40, 99.5])
        #expect(try SLO.parse("failed==0").clauses[0].comparison == .equal)
        #expect(try SLO.parse("answered!=0").clauses[0].comparison == .notEqual)
    }

    @Test func refusesWhatItCannotMeasure() {
        for bad in ["", "setup<50ms", "setup_p99", "setup_p99<fast", "failed<3ms", "latency_p99<5", "setup_p99~5"] {
            #expect(throws: FloodSyntaxError.self, "\(bad)") { try SLO.parse(bad) }
        }
        do {
            _ = try SLO.parse("setup_p99<5,faild=0")
        } catch {
            #expect(error.description.contains("did you mean 'failed'?"))
        }
    }

    static func report(setupMicroseconds: [UInt64], failures: [FailureCause?]) -> FloodReport {
        var s = FloodStatistics()
        for (i, failure) in failures.enumerated() {
            var outcome = CallOutcome(callID: "c\(i)", behaviour: "default", inviteSentAt: .zero, endedAt: Instant(nanoseconds: 5_000_000_000), end: .serverBye)
            if i < setupMicroseconds.count { outcome.answeredAt = Instant(nanoseconds: setupMicroseconds[i] * 1000) }
            outcome.finalStatus = failure.flatMap { if case .rejected(let c) = $0 { c } else { nil } } ?? 200
            outcome.failure = failure
            var record = CallRecord(outcome: outcome)
            record.packetsReceived = 100
            record.packetsLost = i == 0 ? 2 : 0
            s.started += 1
            s.record(record)
        }
        let conf = FloodReport.Configuration(target: "127.0.0.1:5060", number: "12345", schedule: "10/s", calls: failures.count,
                                             duration_seconds: nil, max_concurrent: nil, loops: 2, sip_sockets: 2, source_addresses: 1, behaviours: [])
        return FloodReport(configuration: conf, statistics: s, identified: true, elapsed: .seconds(10), cpu: .seconds(1),
                           scheduleSpan: .seconds(10), tickets: nil)
    }

    @Test func evaluatesAgainstAReport() throws {
        // 99 calls set up in 1..99 ms, one rejected with 503.
        let report = Self.report(setupMicroseconds: (1...99).map { UInt64($0) * 1000 }, failures: Array(repeating: nil, count: 99) + [.rejected(503)])
        #expect(report.calls.started == 100)
        #expect(report.calls.answered == 99)
        #expect(report.calls.failed == 1)
        #expect(report.failures == ["503": 1])
        #expect(report.final_statuses["503"] == 1)
        // HdrHistogram answers with the top of the value's bucket (three significant digits).
        #expect(abs(report.metric("setup_p50")! - 50) < 0.05)
        #expect(abs(report.metric("setup_max")! - 99) < 0.05)
        #expect(report.metric("failed_pct") == 1)
        #expect(report.metric("loss_pct") == 0.02)
        #expect(report.metric("key_to_prompt_p99") == nil, "no keys, no data")
        #expect(report.calls.achieved_rate == 10)

        var r = report
        r.apply(try SLO.parse("setup_p99<100ms,failed<=1,rate>=10"))
        #expect(r.slo_ok)
        r.apply(try SLO.parse("setup_p99<50ms,failed=0,key_to_prompt_p99<1s"))
        #expect(!r.slo_ok)
        #expect(r.slo.map(\.ok) == [false, false, false])
        #expect(abs(r.slo[0].actual! - 99) < 0.05)
        #expect(r.slo[2].actual == nil)
        #expect(r.text.contains("slo           BREACH setup_p99<50ms  (actual 99.0 ms)"))
        #expect(r.text.contains("slo           BREACH failed=0  (actual 1)"))
        #expect(r.text.contains("slo           BREACH key_to_prompt_p99<1s  (actual no data)"))
    }

    @Test func jsonCarriesEveryMeasure() throws {
        var report = Self.report(setupMicroseconds: [1500, 2500], failures: [nil, .missingBye])
        report.apply(try SLO.parse("failed=0"))
        let object = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as! [String: Any]
        let calls = object["calls"] as! [String: Any]
        #expect(calls["started"] as? Int == 2)
        #expect((object["failures"] as! [String: Int]) == ["missing_bye": 1])
        let setup = object["setup_ms"] as! [String: Any]
        #expect(setup["count"] as? Int == 2)
        #expect(abs((setup["max"] as? Double ?? 0) - 2.5) < 0.01)
        #expect(object["slo_ok"] as? Bool == false)
        #expect(object["key_to_prompt_ms"] == nil)
        let decoded = try JSONDecoder().decode(FloodReport.self, from: Data(report.json().utf8))
        #expect(decoded.calls.failed == 1)
    }

    @Test func textReportReadsLikeASummary() {
        let text = Self.report(setupMicroseconds: [1000, 2000, 3000], failures: [nil, nil, .rejected(486)]).text
        #expect(text.contains("calls         started 3  answered 3  succeeded 2  failed 1"))
        #expect(text.contains("failures      486 ×1"))
        #expect(text.contains("setup         p50 2.00  p90 3.00  p99 3.00  max 3.00 ms  (n=3; INVITE → 200)"), "\(text)")
        #expect(text.contains("generator     CPU 1 s (10 % of one core)"))
    }

    @Test func statisticsMergeAcrossLoops() {
        var a = FloodStatistics(), b = FloodStatistics()
        _ = a.setup.record(1000)
        _ = b.setup.record(3000)
        a.failures["503"] = 2
        b.failures["503"] = 1
        b.failures["timeout"] = 1
        a.merge(b)
        #expect(a.setup.totalCount == 2)
        #expect(a.failures == ["503": 3, "timeout": 1])
    }
}
