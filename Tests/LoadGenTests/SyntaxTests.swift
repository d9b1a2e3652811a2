import ConfigFiles
import RTP
import Randomness
import Testing
@testable import LoadGen

@Suite struct SyntaxTests {
    @Test func durations() {
        #expect(DurationSyntax.parse("1.5s", .commandLine) == .milliseconds(1500))
        #expect(DurationSyntax.parse("500ms", .commandLine) == .milliseconds(500))
        #expect(DurationSyntax.parse("250us", .commandLine) == .microseconds(250))
        #expect(DurationSyntax.parse("2m", .commandLine) == .seconds(120))
        #expect(DurationSyntax.parse("1h", .commandLine) == .seconds(3600))
        #expect(DurationSyntax.parse("3", .commandLine) == .seconds(3))
        #expect(DurationSyntax.parse(" 30s ", .commandLine) == .seconds(30))
        for bad in ["", "s", "-1s", "1.5x", "abc", "1e30s"] { #expect(DurationSyntax.parse(bad, .commandLine) == nil, "\(bad)") }
        #expect(DurationSyntax.format(.milliseconds(1500)) == "1.5s")
        #expect(DurationSyntax.format(.milliseconds(20)) == "20ms")
    }

    @Test func constantRateSpacesCallsEvenly() throws {
        let s = try RateSchedule.parse(rate: "100")
        #expect(s.startTime(ofCall: 0) == 0)
        #expect(abs(s.startTime(ofCall: 100)! - 1) < 1e-9)
        #expect(abs(s.calls(by: 2.5) - 250) < 1e-9)
        #expect(s.description == "100/s")
        #expect(throws: FloodSyntaxError.self) { try RateSchedule.parse(rate: "0") }
        #expect(throws: FloodSyntaxError.self) { try RateSchedule.parse(rate: "fast") }
    }

    /// 0:50,30s:400,90s:400 — a linear rise then a plateau; start times invert the integral.
    @Test func rampIntegratesPiecewiseLinearly() throws {
        let s = try RateSchedule.parse(ramp: "0:50,30s:400,90s:400")
        #expect(s.points.count == 3)
        #expect(s.rate(at: 15) == 225)
        #expect(s.rate(at: 60) == 400)
        #expect(s.rate(at: 200) == 400)
        // ∫0..30 of 50→400 = 30 × 225 = 6750; then 400/s.
        #expect(abs(s.calls(by: 30) - 6750) < 1e-6)
        #expect(abs(s.calls(by: 90) - (6750 + 60 * 400)) < 1e-6)
        for n in [0, 1, 10, 1000, 6750, 6751, 20_000, 40_000] {
            let t = try #require(s.startTime(ofCall: n))
            #expect(abs(s.calls(by: t) - Double(n)) < 1e-6, "call \(n) at \(t)")
        }
        #expect(s.lastCorner == .seconds(90))
    }

    @Test func rampThatEndsAtZeroRunsOut() throws {
        let s = try RateSchedule.parse(ramp: "0:10,10s:0")
        #expect(abs(s.calls(by: 10) - 50) < 1e-9)
        #expect(s.startTime(ofCall: 49) != nil)
        #expect(s.startTime(ofCall: 51) == nil)
    }

    @Test func badRamps() {
        for bad in ["", "0:50,30s", "30s:400,10s:100", "0:0,10s:0", "0:-5", "x:1"] {
            #expect(throws: FloodSyntaxError.self, "\(bad)") { try RateSchedule.parse(ramp: bad) }
        }
    }

    @Test func holdTimes() throws {
        #expect(try HoldTime.parse("3s") == .fixed(.seconds(3)))
        #expect(try HoldTime.parse("uniform:2s-5s") == .uniform(.seconds(2), .seconds(5)))
        #expect(throws: FloodSyntaxError.self) { try HoldTime.parse("uniform:5s-2s") }
        #expect(throws: FloodSyntaxError.self) { try HoldTime.parse("normal:3s") }
        var rng = SplitMix64(seed: 42)
        let draws = (0..<1000).map { _ in HoldTime.uniform(.seconds(2), .seconds(5)).sample(using: &rng) }
        #expect(draws.allSatisfy { $0 >= .seconds(2) && $0 <= .seconds(5) })
        let mean = draws.map(\.secondsDouble).reduce(0, +) / 1000
        #expect(abs(mean - 3.5) < 0.15)
        #expect(HoldTime.uniform(.seconds(2), .seconds(5)).maximum == .seconds(5))
    }

    @Test func keys() throws {
        #expect(try CallerBehaviour.parse(keys: "3") == [.three])
        #expect(try CallerBehaviour.parse(keys: "12#*a") == [.one, .two, .pound, .star, .a])
        #expect(throws: FloodSyntaxError.self) { try CallerBehaviour.parse(keys: "3x") }
    }

    @Test func sourcesStayOnLoopback() throws {
        #expect(try SourceAddresses.parse("3").addresses == ["127.0.0.1", "127.0.0.2", "127.0.0.3"])
        #expect(try SourceAddresses.parse("256").addresses.last == "127.0.1.2", ".255 and .0 skipped")
        #expect(try SourceAddresses.parse("127.0.0.0/30").addresses == ["127.0.0.1", "127.0.0.2"])
        let eight = try SourceAddresses.parse("127.0.0.0/8")
        #expect(eight.addresses.count == SourceAddresses.maximumCount)
        #expect(eight.blockSize == (1 << 24) - 2)
        #expect(try SourceAddresses.parse("127.0.0.7,127.1.2.3").addresses == ["127.0.0.7", "127.1.2.3"])
        for bad in ["10.0.0.0/8", "192.168.1.5", "0", "5000", "127.0.0.0/4", "127.0.0.300"] {
            #expect(throws: FloodSyntaxError.self, "\(bad)") { try SourceAddresses.parse(bad) }
        }
    }

    @Test func targetsOffLoopbackAndUnboundedRunsAreRefused() {
        var c = FloodConfiguration(targetHost: "192.0.2.1", targetPort: 5060, number: "12345", calls: 10)
        #expect(throws: FloodSyntaxError.self) { try c.validate() }
        c.targetHost = "127.0.0.1"
        #expect(throws: Never.self) { try c.validate() }
        c.calls = nil
        #expect(throws: FloodSyntaxError.self) { try c.validate() }
        c.duration = .seconds(30)
        #expect(throws: Never.self) { try c.validate() }
        c.duration = .seconds(100_000)
        #expect(throws: FloodSyntaxError.self) { try c.validate() }
    }
}

@Suite struct ScenarioTests {
    static let yaml = """
        # 60% press 1, 30% press 3, 10% abandon after 5 s
        callers:
          - {name: press1, weight: 60, keys: "1"}
          - name: press3
            weight: 30
            keys: "3"
            dtmf: info
            expect_prompts: [bench_menu, bench_key3]
          - {name: abandon, weight: 10, hangup: caller, hold: 5s}
        """

    @Test func entriesInheritAndOverride() throws {
        let base = CallerBehaviour(keyDelay: .seconds(2), audio: .none)
        let s = try Scenario.parse(Self.yaml, base: base)
        #expect(s.entries.map(\.weight) == [60, 30, 10])
        #expect(s.entries.map(\.behaviour.name) == ["press1", "press3", "abandon"])
        #expect(s.entries[0].behaviour.keys == [.one])
        #expect(s.entries[0].behaviour.keyDelay == .seconds(2), "inherited")
        #expect(s.entries[0].behaviour.audio == AudioMode.none)
        #expect(s.entries[1].behaviour.dtmf == .info)
        #expect(s.entries[1].behaviour.expectedPrompts == ["bench_menu", "bench_key3"])
        #expect(s.entries[2].behaviour.hangup == .caller)
        #expect(s.entries[2].behaviour.hold == .fixed(.seconds(5)))
        #expect(s.entries[2].behaviour.keys == [])
    }

    /// Smooth weighted round robin: every 10 calls are exactly 6, 3 and 1, interleaved.
    @Test func callsFollowTheWeightsExactly() throws {
        var picker = WeightedRoundRobin(weights: [60, 30, 10])
        let picks = (0..<100).map { _ in picker.next() }
        for window in stride(from: 0, to: 100, by: 10) {
            let w = picks[window..<window + 10]
            #expect(w.filter { $0 == 0 }.count == 6)
            #expect(w.filter { $0 == 1 }.count == 3)
            #expect(w.filter { $0 == 2 }.count == 1)
        }
        #expect(picks.prefix(3) != [0, 0, 0], "interleaved, not in blocks")
    }

    @Test func mistakesPointAtTheirLine() {
        let typo = """
            callers:
              - weight: 1
                key_dely: 2s
            """
        do {
            _ = try Scenario.parse(typo, file: "mix.yaml", base: CallerBehaviour())
            Issue.record("accepted a typo")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 5)
            #expect(error.description == "mix.yaml:3:5: error: unknown caller key 'key_dely' (did you mean 'key_delay'?)")
        }
        #expect(throws: Scenario.Error.self) { try Scenario.parse("callers: []", base: CallerBehaviour()) }
        #expect(throws: Scenario.Error.self) { try Scenario.parse("callers:\n  - {dtmf: smoke}", base: CallerBehaviour()) }
        #expect(throws: Scenario.Error.self) { try Scenario.parse("callers:\n  - {weight: 0}", base: CallerBehaviour()) }
        #expect(throws: Scenario.Error.self) { try Scenario.parse("calls: 3", base: CallerBehaviour()) }
        #expect(throws: Scenario.Error.self) { try Scenario.parse("callers: [ {", base: CallerBehaviour()) }
    }
}
