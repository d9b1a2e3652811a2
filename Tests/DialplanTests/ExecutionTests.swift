import Testing

@testable import Dialplan

/// One event fed to an execution and the commands it must answer with.
struct Step: Sendable {
    var event: DialplanEvent
    var commands: [DialplanCommand]
    init(_ event: DialplanEvent, _ commands: [DialplanCommand]) {
        self.event = event
        self.commands = commands
    }
}

/// A whole call: the commands `start()` gives, each step, and what the execution must record.
struct CallTrace: CustomTestStringConvertible, Sendable {
    var name: String
    var file: String
    var number: String
    var start: [DialplanCommand]
    var steps: [Step]
    var disposition: Disposition
    var keysPressed: String
    var menuPath: [String]
    var language: Language
    var testDescription: String { name }
}

private let benchAnswer: [DialplanCommand] = [.answer, .play(p(1), en("bench_menu"))]
private let enterprise = DialplanCommand.annotateTicket(TicketAnnotation(businessLine: "enterprise"))
private let hotlineAnswer: [DialplanCommand] = [.answer, .play(p(1), zh("welcome"))]

@Suite("Executing dialplans")
struct ExecutionTests {
    static let traces: [CallTrace] = [
        CallTrace(
            name: "bench: key 3 during the menu prompt barges in", file: "bench.yaml", number: "12345",
            start: benchAnswer,
            steps: [
                Step(.keyPressed("3"), [.stopPlayback(p(1)), enterprise, .play(p(2), en("bench_key3"))]),
                Step(.playbackFinished(p(1)), []),  // the stopped playback reporting late: stale
                Step(.playbackFinished(p(2)), [.hangup(disposition: .completedInIVR)]),
                Step(.keyPressed("1"), []),  // after hangup nothing happens
            ],
            disposition: .completedInIVR, keysPressed: "3", menuPath: ["bench_menu:3"], language: .en),

        CallTrace(
            name: "bench: key 3 after the prompt cancels the timeout", file: "bench.yaml", number: "12345",
            start: benchAnswer,
            steps: [
                Step(.playbackFinished(p(1)), [.startTimer(t(1), .seconds(5))]),
                Step(.keyPressed("3"), [.cancelTimer(t(1)), enterprise, .play(p(2), en("bench_key3"))]),
                Step(.timerFired(t(1)), []),  // cancelled timer firing anyway: stale
                Step(.playbackFinished(p(2)), [.hangup(disposition: .completedInIVR)]),
            ],
            disposition: .completedInIVR, keysPressed: "3", menuPath: ["bench_menu:3"], language: .en),

        CallTrace(
            name: "bench: no input three times, then goodbye and no_input", file: "bench.yaml", number: "12345",
            start: benchAnswer,
            steps: [
                Step(.playbackFinished(p(1)), [.startTimer(t(1), .seconds(5))]),
                Step(.timerFired(t(1)), [.play(p(2), en("bench_menu"))]),
                Step(.playbackFinished(p(2)), [.startTimer(t(2), .seconds(5))]),
                Step(.timerFired(t(2)), [.play(p(3), en("bench_menu"))]),
                Step(.playbackFinished(p(3)), [.startTimer(t(3), .seconds(5))]),
                Step(.timerFired(t(3)), [.play(p(4), en("goodbye"))]),
                Step(.playbackFinished(p(4)), [.hangup(disposition: .noInput)]),
            ],
            disposition: .noInput, keysPressed: "", menuPath: ["bench_menu:no_input"], language: .en),

        CallTrace(
            name: "bench: an invalid key repeats the menu, then a valid key is followed", file: "bench.yaml",
            number: "12345", start: benchAnswer,
            steps: [
                Step(.playbackFinished(p(1)), [.startTimer(t(1), .seconds(5))]),
                Step(.keyPressed("9"), [.cancelTimer(t(1)), .play(p(2), en("bench_menu"))]),
                Step(.keyPressed("3"), [.stopPlayback(p(2)), enterprise, .play(p(3), en("bench_key3"))]),
                Step(.playbackFinished(p(3)), [.hangup(disposition: .completedInIVR)]),
            ],
            disposition: .completedInIVR, keysPressed: "93", menuPath: ["bench_menu:3"], language: .en),

        CallTrace(
            name: "bench: invalid keys share the retry limit and end with invalid_input", file: "bench.yaml",
            number: "12345", start: benchAnswer,
            steps: [
                Step(.keyPressed("1"), [.stopPlayback(p(1)), .play(p(2), en("bench_menu"))]),
                Step(.keyPressed("2"), [.stopPlayback(p(2)), .play(p(3), en("bench_menu"))]),
                Step(.keyPressed("#"), [.stopPlayback(p(3)), .play(p(4), en("goodbye"))]),
                Step(.playbackFinished(p(4)), [.hangup(disposition: .invalidInput)]),
            ],
            disposition: .invalidInput, keysPressed: "12#", menuPath: ["bench_menu:invalid_input"], language: .en),

        CallTrace(
            name: "bench: stale playback and timer ids change nothing", file: "bench.yaml", number: "12345",
            start: benchAnswer,
            steps: [
                Step(.playbackFinished(p(1)), [.startTimer(t(1), .seconds(5))]),
                Step(.playbackFinished(p(1)), []),
                Step(.timerFired(t(1)), [.play(p(2), en("bench_menu"))]),
                Step(.timerFired(t(1)), []),
                Step(.playbackFinished(p(1)), []),
                Step(.timerFired(t(99)), []),
                Step(.queueUnavailable, []),
                Step(.playbackFinished(p(2)), [.startTimer(t(2), .seconds(5))]),
                Step(.keyPressed("3"), [.cancelTimer(t(2)), enterprise, .play(p(3), en("bench_key3"))]),
                Step(.timerFired(t(2)), []),
                Step(.playbackFinished(p(3)), [.hangup(disposition: .completedInIVR)]),
            ],
            disposition: .completedInIVR, keysPressed: "3", menuPath: ["bench_menu:3"], language: .en),

        CallTrace(
            name: "bench 12346: rings for 2 s before answering; keys while ringing are ignored", file: "bench.yaml",
            number: "12346", start: [.ring, .startTimer(t(1), .seconds(2))],
            steps: [
                Step(.keyPressed("3"), []),
                Step(.playbackFinished(p(1)), []),
                Step(.timerFired(t(1)), benchAnswer),
                Step(.playbackFinished(p(1)), [.startTimer(t(2), .seconds(5))]),
                Step(.keyPressed("3"), [.cancelTimer(t(2)), enterprise, .play(p(2), en("bench_key3"))]),
                Step(.playbackFinished(p(2)), [.hangup(disposition: .completedInIVR)]),
            ],
            disposition: .completedInIVR, keysPressed: "3", menuPath: ["bench_menu:3"], language: .en),

        CallTrace(
            name: "12345: no key at the language menu keeps Mandarin; key 3 is the enterprise line, 1 its complaints",
            file: "12345.yaml", number: "12345", start: hotlineAnswer,
            steps: [
                Step(.playbackFinished(p(1)), [.play(p(2), zh("choose_language"))]),
                Step(.playbackFinished(p(2)), [.startTimer(t(1), .seconds(4))]),
                // 2026-12-01 is in the heating season: the notice comes before the main menu.
                Step(.timerFired(t(1)), [.play(p(3), zh("heating_notice"))]),
                Step(.playbackFinished(p(3)), [.play(p(4), zh("main_menu"))]),
                Step(.keyPressed("3"), [
                    .stopPlayback(p(4)),
                    .annotateTicket(TicketAnnotation(businessLine: "enterprise", category: "complaint")),
                    .play(p(5), zh("enterprise_menu")),
                ]),
                Step(.keyPressed("1"), [
                    .stopPlayback(p(5)),
                    .annotateTicket(TicketAnnotation(category: "complaint")),
                    .play(p(6), zh("enterprise_line")),
                ]),
                Step(.playbackFinished(p(6)), [.play(p(7), zh("goodbye"))]),
                Step(.playbackFinished(p(7)), [.hangup(disposition: .completedInIVR)]),
            ],
            disposition: .completedInIVR, keysPressed: "31",
            menuPath: ["language_menu:no_input", "main_menu:3", "enterprise_menu:1"], language: .zh),

        CallTrace(
            name: "12345: key 2 switches to English and every later prompt is English", file: "12345.yaml",
            number: "12345", start: hotlineAnswer,
            steps: [
                Step(.playbackFinished(p(1)), [.play(p(2), zh("choose_language"))]),
                Step(.keyPressed("2"), [.stopPlayback(p(2)), .setLanguage(.en), .play(p(3), en("heating_notice"))]),
                Step(.playbackFinished(p(3)), [.play(p(4), en("main_menu"))]),
                Step(.playbackFinished(p(4)), [.startTimer(t(1), .seconds(5))]),
                Step(.keyPressed("1"), [
                    .cancelTimer(t(1)),
                    .annotateTicket(TicketAnnotation(businessLine: "policy", category: "consultation")),
                    .play(p(5), en("policy_line")),
                ]),
                Step(.playbackFinished(p(5)), [.play(p(6), en("goodbye"))]),
                Step(.playbackFinished(p(6)), [.hangup(disposition: .completedInIVR)]),
            ],
            disposition: .completedInIVR, keysPressed: "21", menuPath: ["language_menu:2", "main_menu:1"],
            language: .en),

        CallTrace(
            name: "12345: keys during the welcome are type-ahead through the language menu and the heating notice",
            file: "12345.yaml", number: "12345", start: hotlineAnswer,
            steps: [
                Step(.keyPressed("2"), [.stopPlayback(p(1)), .setLanguage(.en), .play(p(2), en("heating_notice"))]),
                Step(.keyPressed("3"), [
                    .stopPlayback(p(2)),
                    .annotateTicket(TicketAnnotation(businessLine: "enterprise", category: "complaint")),
                    .play(p(3), en("enterprise_menu")),
                ]),
                Step(.playbackFinished(p(3)), [.startTimer(t(1), .seconds(4))]),
                // Holding on registers the request: the server's key-3 integration test relies on it.
                Step(.timerFired(t(1)), [.play(p(4), en("enterprise_line"))]),
                Step(.keyPressed("5"), []),  // a play without barge-in ignores keys
                Step(.playbackFinished(p(4)), [.play(p(5), en("goodbye"))]),
                Step(.playbackFinished(p(5)), [.hangup(disposition: .completedInIVR)]),
            ],
            disposition: .completedInIVR, keysPressed: "235",
            menuPath: ["language_menu:2", "main_menu:3", "enterprise_menu:no_input"], language: .en),

        CallTrace(
            name: "12345: invalid, no input, invalid: retry prompts, then goodbye and invalid_input",
            file: "12345.yaml", number: "12345", start: hotlineAnswer,
            steps: [
                Step(.keyPressed("1"), [.stopPlayback(p(1)), .setLanguage(.zh), .play(p(2), zh("heating_notice"))]),
                Step(.playbackFinished(p(2)), [.play(p(3), zh("main_menu"))]),
                Step(.keyPressed("7"), [.stopPlayback(p(3)), .play(p(4), zh("invalid_key", "main_menu"))]),
                Step(.playbackFinished(p(4)), [.startTimer(t(1), .seconds(5))]),
                Step(.timerFired(t(1)), [.play(p(5), zh("no_input", "main_menu"))]),
                Step(.playbackFinished(p(5)), [.startTimer(t(2), .seconds(5))]),
                Step(.keyPressed("8"), [.cancelTimer(t(2)), .play(p(6), zh("goodbye"))]),
                Step(.playbackFinished(p(6)), [.hangup(disposition: .invalidInput)]),
            ],
            disposition: .invalidInput, keysPressed: "178", menuPath: ["language_menu:1", "main_menu:invalid_input"],
            language: .zh),

        CallTrace(
            name: "12345: no input three times at the main menu, then goodbye and no_input", file: "12345.yaml",
            number: "12345", start: hotlineAnswer,
            steps: [
                Step(.keyPressed("1"), [.stopPlayback(p(1)), .setLanguage(.zh), .play(p(2), zh("heating_notice"))]),
                Step(.playbackFinished(p(2)), [.play(p(3), zh("main_menu"))]),
                Step(.playbackFinished(p(3)), [.startTimer(t(1), .seconds(5))]),
                Step(.timerFired(t(1)), [.play(p(4), zh("no_input", "main_menu"))]),
                Step(.playbackFinished(p(4)), [.startTimer(t(2), .seconds(5))]),
                Step(.timerFired(t(2)), [.play(p(5), zh("no_input", "main_menu"))]),
                Step(.playbackFinished(p(5)), [.startTimer(t(3), .seconds(5))]),
                Step(.timerFired(t(3)), [.play(p(6), zh("goodbye"))]),
                Step(.playbackFinished(p(6)), [.hangup(disposition: .noInput)]),
            ],
            disposition: .noInput, keysPressed: "1", menuPath: ["language_menu:1", "main_menu:no_input"],
            language: .zh),

        CallTrace(
            name: "12345: key 0 in office hours enqueues for the operator; unavailable offers a callback",
            file: "12345.yaml", number: "12345", start: hotlineAnswer,
            steps: [
                Step(.keyPressed("1"), [.stopPlayback(p(1)), .setLanguage(.zh), .play(p(2), zh("heating_notice"))]),
                Step(.keyPressed("0"), [.stopPlayback(p(2)), .enqueue(QueueRequest(queue: "operator", language: .zh))]),
                Step(.keyPressed("5"), []),
                Step(.playbackFinished(p(2)), []),
                Step(.queueUnavailable, [.play(p(3), zh("operator_unavailable"))]),
                Step(.queueUnavailable, []),
                Step(.playbackFinished(p(3)), [.play(p(4), zh("callback_offer"))]),
                Step(.keyPressed("0"), [.stopPlayback(p(4)), .play(p(5), zh("goodbye"))]),
                Step(.playbackFinished(p(5)), [.hangup(disposition: .completedInIVR)]),
            ],
            disposition: .completedInIVR, keysPressed: "1050", menuPath: ["language_menu:1", "main_menu:0", "callback_offer:0"],
            language: .zh),
    ]

    @Test("event → command trace", arguments: traces)
    func trace(_ trace: CallTrace) throws {
        let plan = try loadShipped(trace.file)
        var (execution, started) = try startCall(plan, number: trace.number)
        #expect(started == trace.start)
        for (index, step) in trace.steps.enumerated() {
            #expect(!execution.isFinished || step.commands.isEmpty, "step \(index) expects commands after hangup")
            let commands = execution.event(step.event)
            #expect(commands == step.commands, "step \(index): \(step.event)")
        }
        let finished = execution.isFinished
        #expect(finished)
        #expect(execution.disposition == trace.disposition)
        #expect(execution.keysPressed == trace.keysPressed)
        #expect(execution.menuPath == trace.menuPath)
        #expect(execution.language == trace.language)
        let version = execution.dialplan.version
        #expect(version == plan.version, "the call keeps the dialplan it started with")
    }

    @Test("start() gives commands once")
    func startTwice() throws {
        var (execution, first) = try startCall(try loadShipped("bench.yaml"), number: "12345")
        #expect(first == benchAnswer)
        #expect(execution.start(now: testEpoch) == [])
        #expect(execution.currentNode == "bench_menu")
        #expect(!execution.isWaitingForKey)
        _ = execution.event(.playbackFinished(p(1)))
        #expect(execution.isWaitingForKey)
    }

    @Test("a menu with no failure branch hangs up with the failure's disposition")
    func menuWithoutFailureBranch() throws {
        let plan = try dialplan("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: menu}
            nodes:
              menu: {type: menu, prompt: m, timeout: 1s, retries: 0, keys: {"1": bye}}
              bye: {type: hangup}
            """)
        var (noKey, _) = try startCall(plan, number: "1")
        #expect(noKey.event(.playbackFinished(p(1))) == [.startTimer(t(1), .seconds(1))])
        #expect(noKey.event(.timerFired(t(1))) == [.hangup(disposition: .noInput)])
        #expect(noKey.menuPath == ["menu:no_input"])

        var (badKey, _) = try startCall(plan, number: "1")
        #expect(badKey.event(.keyPressed("*")) == [.stopPlayback(p(1)), .hangup(disposition: .invalidInput)])
        #expect(badKey.menuPath == ["menu:invalid_input"])
    }

    @Test("a queue with no on_unavailable hangs up not_routed")
    func queueWithoutFallback() throws {
        let plan = try dialplan("""
            dialplan: t
            languages: [en]
            queues: [agents]
            entries:
              - {number: "1", start: agents}
            nodes:
              agents: {type: queue, queue: agents}
            """)
        var (execution, started) = try startCall(plan, number: "1")
        #expect(started == [.answer, .enqueue(QueueRequest(queue: "agents", language: .en))])
        #expect(execution.event(.queueUnavailable) == [.hangup(disposition: .notRouted)])
        #expect(execution.disposition == .notRouted)
    }

    @Test("type-ahead skips barge-in plays; a play without barge-in drops it and ignores keys")
    func typeAheadRules() throws {
        let plan = try dialplan("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: first}
              - {number: "2", start: notice}
            nodes:
              first: {type: play, prompts: [a], barge_in: true, next: second}
              second: {type: play, prompts: [b], barge_in: true, next: menu}
              notice: {type: play, prompts: [legal], barge_in: true, next: must_hear}
              must_hear: {type: play, prompts: [c], next: menu}
              menu: {type: menu, prompt: m, keys: {"1": bye}}
              bye: {type: hangup}
            """)
        var (skipping, _) = try startCall(plan, number: "1")
        #expect(skipping.event(.keyPressed("1")) == [.stopPlayback(p(1)), .hangup(disposition: .completedInIVR)],
                "the key skips 'second' and answers the menu")
        #expect(skipping.menuPath == ["menu:1"])

        var (listening, _) = try startCall(plan, number: "2")
        #expect(listening.event(.keyPressed("1")) == [.stopPlayback(p(1)), .play(p(2), en("c"))])
        #expect(listening.event(.keyPressed("1")) == [], "no barge-in: keys are ignored")
        #expect(listening.event(.playbackFinished(p(2))) == [.play(p(3), en("m"))], "type-ahead was dropped")
        #expect(listening.keysPressed == "11")
        #expect(listening.menuPath == [])
    }

    /// A chain of `count` nodes: `count - 1` ticket nodes and a hangup.
    static func chain(of count: Int) -> String {
        var yaml = "dialplan: t\nlanguages: [en]\nentries:\n  - {number: \"1\", start: n1}\nnodes:\n"
        for index in 1..<count {
            yaml += "  n\(index): {type: ticket, business_line: line\(index), next: n\(index + 1)}\n"
        }
        yaml += "  n\(count): {type: hangup}\n"
        return yaml
    }

    @Test("the loop guard allows exactly maxTransitionsWithoutWaiting nodes between waits")
    func loopGuardBoundary() throws {
        let limit = DialplanExecution.maxTransitionsWithoutWaiting
        let (atLimit, commands) = try startCall(try dialplan(Self.chain(of: limit)), number: "1")
        #expect(commands.count == 1 + (limit - 1) + 1)
        #expect(commands.last == .hangup(disposition: .completedInIVR))
        #expect(atLimit.failureReason == nil)

        var (overLimit, overCommands) = try startCall(try dialplan(Self.chain(of: limit + 1)), number: "1")
        #expect(overCommands.last == .hangup(disposition: .dialplanError))
        #expect(overCommands.count == 1 + limit + 1, "the 101st node is not entered")
        #expect(overLimit.isFinished)
        #expect(overLimit.failureReason?.contains("n\(limit + 1)") == true)
        #expect(overLimit.event(.keyPressed("1")) == [])
    }

    @Test("a loop that never waits ends the call with dialplan_error instead of spinning")
    func runawayLoop() throws {
        let yaml = """
            dialplan: t
            languages: [zh, en]
            entries:
              - {number: "1", start: welcome}
            nodes:
              welcome: {type: play, prompts: [welcome], next: to_english}
              to_english: {type: language, language: en, next: to_chinese}
              to_chinese: {type: language, language: zh, next: to_english}
            """
        #expect(issues(yaml).map(\.code) == [.loopWithoutWait], "the loader refuses it")
        // The loader would refuse it; a hand-built dialplan (or one loaded by an older checker) must not hang the engine.
        let entry = DialplanEntry(match: .exact("1"), start: "welcome", location: DialplanLocation(file: "x", line: 1, column: 1))
        let here = DialplanLocation(file: "x", line: 1, column: 1)
        let plan = Dialplan(
            name: "t", languages: [.zh, .en], defaultLanguage: .zh, entries: [entry],
            nodes: [
                "welcome": DialplanNode(id: "welcome", kind: .play(.init(prompts: ["welcome"], next: "to_english")), location: here),
                "to_english": DialplanNode(id: "to_english", kind: .language(.init(language: .en, next: "to_chinese")), location: here),
                "to_chinese": DialplanNode(id: "to_chinese", kind: .language(.init(language: .zh, next: "to_english")), location: here),
            ],
            file: "x", version: "0")
        var (execution, _) = try startCall(plan, number: "1")
        let commands = execution.event(.playbackFinished(p(1)))
        #expect(commands.count == DialplanExecution.maxTransitionsWithoutWaiting + 1)
        #expect(commands.last == .hangup(disposition: .dialplanError))
        #expect(commands.dropLast().allSatisfy { if case .setLanguage = $0 { true } else { false } })
        #expect(execution.disposition == .dialplanError)
    }

    @Test("a hand-built dialplan pointing at a missing node fails the call, not the process")
    func missingNodeAtRunTime() {
        let entry = DialplanEntry(match: .exact("1"), start: "nowhere",
                                  location: DialplanLocation(file: "x", line: 1, column: 1))
        let plan = Dialplan(name: "x", languages: [.en], defaultLanguage: .en, entries: [entry], nodes: [:],
                            file: "x", version: "0")
        var execution = DialplanExecution(dialplan: plan, entry: entry,
                                          context: CallContext(caller: "", dialledNumber: "1", callID: "c"))
        #expect(execution.start(now: testEpoch) == [.answer, .hangup(disposition: .dialplanError)])
        #expect(execution.failureReason == "node 'nowhere' does not exist")
    }
}
