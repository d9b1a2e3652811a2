import Testing

@testable import Dialplan

@Suite("Simulating calls")
struct SimulationTests {
    let simulation = DialplanSimulation()

    @Test("bench: key 3 one second into the menu prompt")
    func benchKey3BargeIn() throws {
        let plan = try loadShipped("bench.yaml")
        let result = try #require(simulation.run(plan, number: "12345", keys: try DialplanSimulation.parseScript("3@1s")))
        #expect(result.trace == [
            "0.000 > answer",
            "0.000 > play p1 [en/bench_menu]",
            "1.000 < key 3",
            "1.000 = bench_menu: key 3 → enterprise",
            "1.000 > stop p1",
            "1.000 > ticket business_line=enterprise",
            "1.000 > play p2 [en/bench_key3]",
            "3.000 < finished p2",
            "3.000 > hangup completed_in_ivr",
        ])
        #expect(result.unusedKeys.isEmpty)
    }

    @Test("bench 12346: no key at all rings, offers the menu three times, says goodbye")
    func benchRingingNoInput() throws {
        let plan = try loadShipped("bench.yaml")
        let result = try #require(simulation.run(plan, number: "12346", keys: []))
        #expect(result.trace == [
            "0.000 > ring",
            "0.000 > start t1 2s",
            "2.000 < fired t1",
            "2.000 > answer",
            "2.000 > play p1 [en/bench_menu]",
            "4.000 < finished p1",
            "4.000 > start t2 5s",
            "9.000 < fired t2",
            "9.000 = bench_menu: no input, offered again (2 of 3)",
            "9.000 > play p2 [en/bench_menu]",
            "11.000 < finished p2",
            "11.000 > start t3 5s",
            "16.000 < fired t3",
            "16.000 = bench_menu: no input, offered again (3 of 3)",
            "16.000 > play p3 [en/bench_menu]",
            "18.000 < finished p3",
            "18.000 > start t4 5s",
            "23.000 < fired t4",
            "23.000 = bench_menu: no input, retries used up → goodbye_no_input",
            "23.000 > play p4 [en/goodbye]",
            "25.000 < finished p4",
            "25.000 > hangup no_input",
        ])
        #expect(result.execution.disposition == .noInput)
    }

    @Test("prompt lengths come from the caller's table; keys left over are reported")
    func promptDurationsAndLeftoverKeys() throws {
        let plan = try loadShipped("bench.yaml")
        let lengths: [String: Duration] = ["bench_menu": .milliseconds(2500), "bench_key3": .milliseconds(1500)]
        let simulation = DialplanSimulation(promptDuration: { lengths[$0.name] ?? .seconds(1) })
        let result = try #require(simulation.run(plan, number: "12345", keys: try DialplanSimulation.parseScript("3 1 2")))
        #expect(result.trace.contains("2.500 < key 3"))
        #expect(result.trace.contains("4.000 > hangup completed_in_ivr"))
        #expect(result.unusedKeys.map(\.key) == ["1", "2"])
        #expect(result.trace.last == "4.000 = keys never pressed: 1 2")
    }

    @Test("an unknown number has no simulation, like a 404")
    func unknownNumber() throws {
        #expect(simulation.run(try loadShipped("bench.yaml"), number: "999", keys: []) == nil)
    }

    @Test("key scripts", arguments: [
        ("3", [DialplanSimulation.KeyPress("3")]),
        ("1 *@2.5s #", [.init("1"), .init("*", .at(.milliseconds(2500))), .init("#")]),
        ("1,3+2s, - 12#", [.init("1"), .init("3", .after(.seconds(2))), .letTimeOut, .init("1"), .init("2"), .init("#")]),
        ("45@1s", [.init("4", .at(.seconds(1))), .init("5")]),
        ("", []),
    ] as [(String, [DialplanSimulation.KeyPress])])
    func parsesScripts(_ script: String, _ expected: [DialplanSimulation.KeyPress]) throws {
        #expect(try DialplanSimulation.parseScript(script) == expected)
    }

    @Test("bad key scripts name the bad token", arguments: ["x", "3@soon", "1x", "3@", "3+", "--"])
    func rejectsScripts(_ script: String) {
        #expect(throws: DialplanSimulation.ScriptError(token: script)) { try DialplanSimulation.parseScript(script) }
    }
}
