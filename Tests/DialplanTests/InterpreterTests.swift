import Foundation
import Testing

@testable import Dialplan

/// The interpreter, node type by node type: events and a manual clock in, commands out.
@Suite("Interpreting the language")
struct InterpreterTests {
    static let beijing = TimeZone(identifier: "Asia/Shanghai")!

    /// `2026-12-01T10:00` style Beijing time, for `now`.
    static func time(_ text: String) -> Date {
        DialplanSimulation.parseTime(text, defaultZone: beijing)!
    }

    /// A started execution of inline YAML, entered at number "1".
    static func call(_ yaml: String, caller: String = "13800000000", now: Date = testEpoch,
                     sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> (DialplanExecution, [DialplanCommand]) {
        let plan = try dialplan(yaml, sourceLocation: sourceLocation)
        let entry = try #require(plan.entry(forNumber: "1"))
        var execution = DialplanExecution(dialplan: plan, entry: entry,
                                          context: CallContext(caller: caller, dialledNumber: "1", callID: "c1"))
        execution.recordsNotes = true
        let commands = execution.start(now: now)
        return (execution, commands)
    }

    // MARK: - Menus with several keys per option

    static let twoKeyMenu = """
        dialplan: t
        languages: [en]
        entries:
          - {number: "1", start: menu}
        nodes:
          menu:
            type: menu
            prompt: m
            inter_key_timeout: 2s
            retries: 1
            keys: {"1": one, "2": two, "21": twenty_one, "22": twenty_two}
          one: {type: hangup, disposition: one}
          two: {type: hangup, disposition: two}
          twenty_one: {type: hangup, disposition: twenty_one}
          twenty_two: {type: hangup, disposition: twenty_two}
        """

    @Test("a key that begins a longer option waits for the next key")
    func twoKeyOption() throws {
        var (execution, start) = try Self.call(Self.twoKeyMenu)
        #expect(start == [.answer, .play(p(1), en("m"))])
        #expect(execution.event(.keyPressed("2")) == [.stopPlayback(p(1)), .startTimer(t(1), .seconds(2))])
        #expect(execution.isWaitingForKey)
        #expect(execution.event(.keyPressed("1")) == [.cancelTimer(t(1)), .hangup(disposition: "twenty_one")])
        #expect(execution.menuPath == ["menu:21"])
    }

    @Test("when the inter-key timer fires, the keys so far are taken as they are")
    func interKeyTimeoutTakesShorterOption() throws {
        var (execution, _) = try Self.call(Self.twoKeyMenu)
        #expect(execution.event(.playbackFinished(p(1))) == [.startTimer(t(1), .seconds(5))])
        #expect(execution.event(.keyPressed("2")) == [.cancelTimer(t(1)), .startTimer(t(2), .seconds(2))])
        #expect(execution.event(.timerFired(t(1))) == [], "the cancelled first-key timer is stale")
        #expect(execution.event(.timerFired(t(2))) == [.hangup(disposition: "two")])
        #expect(execution.menuPath == ["menu:2"])
    }

    @Test("keys that begin no option are invalid at once; a wrong second key too")
    func invalidSequences() throws {
        var (first, _) = try Self.call(Self.twoKeyMenu)
        #expect(first.event(.keyPressed("3")) == [.stopPlayback(p(1)), .play(p(2), en("m"))])
        #expect(first.event(.keyPressed("2")) == [.stopPlayback(p(2)), .startTimer(t(1), .seconds(2))])
        #expect(first.event(.keyPressed("9")) == [.cancelTimer(t(1)), .hangup(disposition: .invalidInput)])
        #expect(first.menuPath == ["menu:invalid_input"])
        #expect(first.keysPressed == "329")
        #expect(first.notes.map(\.description) == [
            "menu: invalid input 3, offered again (2 of 2)", "menu: invalid input 29, retries used up",
        ])
    }

    @Test("type-ahead from a barge-in play feeds a multi-key menu without its prompt")
    func typeAheadIntoMultiKeyMenu() throws {
        let yaml = Self.twoKeyMenu.replacingOccurrences(of: "start: menu}", with: "start: hello}")
            + "\n  hello: {type: play, prompts: [hello], barge_in: true, next: menu}\n"
        var (execution, start) = try Self.call(yaml)
        #expect(start == [.answer, .play(p(1), en("hello"))])
        #expect(execution.event(.keyPressed("2")) == [.stopPlayback(p(1)), .startTimer(t(1), .seconds(2))])
        #expect(execution.event(.keyPressed("2")) == [.cancelTimer(t(1)), .hangup(disposition: "twenty_two")])
    }

    // MARK: - Collect

    static let collect = """
        dialplan: t
        languages: [en]
        entries:
          - {number: "1", start: ask}
        nodes:
          ask:
            type: collect
            prompt: enter
            variable: code
            min_length: 3
            max_length: 5
            pattern: "[0-9]+"
            timeout: 4s
            inter_key_timeout: 2s
            retries: 1
            invalid_prompt: bad
            no_input_prompt: nothing
            next: say_it
            on_no_input: silent
            on_invalid: wrong
          say_it: {type: say, value: "${code}", as: digits, next: done}
          done: {type: hangup}
          silent: {type: hangup, disposition: no_input}
          wrong: {type: hangup, disposition: invalid_input}
        """

    @Test("collect: the terminator ends the input and is not part of the value")
    func collectTerminator() throws {
        var (execution, start) = try Self.call(Self.collect)
        #expect(start == [.answer, .play(p(1), en("enter"))])
        #expect(execution.event(.keyPressed("1")) == [.stopPlayback(p(1)), .startTimer(t(1), .seconds(2))])
        #expect(execution.event(.keyPressed("2")) == [.cancelTimer(t(1)), .startTimer(t(2), .seconds(2))])
        #expect(execution.event(.keyPressed("3")) == [.cancelTimer(t(2)), .startTimer(t(3), .seconds(2))])
        #expect(execution.event(.keyPressed("#")) == [.cancelTimer(t(3)), .play(p(2), en("digit_1", "digit_2", "digit_3"))])
        #expect(execution.variables == ["code": "123"])
        #expect(execution.menuPath == ["ask:collected"])
    }

    @Test("collect: max_length ends the input by itself; the inter-key timeout does too")
    func collectEnds() throws {
        var (full, _) = try Self.call(Self.collect)
        for key in "1234" { _ = full.event(.keyPressed(DTMFKey(rawValue: key)!)) }
        #expect(full.event(.keyPressed("5")) == [.cancelTimer(t(4)), .play(p(2), en("digit_1", "digit_2", "digit_3", "digit_4", "digit_5"))])

        var (paused, _) = try Self.call(Self.collect)
        #expect(paused.event(.playbackFinished(p(1))) == [.startTimer(t(1), .seconds(4))])
        for key in "987" { _ = paused.event(.keyPressed(DTMFKey(rawValue: key)!)) }
        #expect(paused.event(.timerFired(t(4))) == [.play(p(2), en("digit_9", "digit_8", "digit_7"))])
        #expect(paused.variables["code"] == "987")
    }

    @Test("collect: too short or not matching is invalid, nothing is no input; both count against retries")
    func collectFailures() throws {
        var (short, _) = try Self.call(Self.collect)
        _ = short.event(.keyPressed("1"))
        #expect(short.event(.keyPressed("#")) == [.cancelTimer(t(1)), .play(p(2), en("bad", "enter"))])
        _ = short.event(.keyPressed("1"))
        _ = short.event(.keyPressed("*"))
        _ = short.event(.keyPressed("2"))
        #expect(short.event(.keyPressed("#")) == [.cancelTimer(t(4)), .hangup(disposition: .invalidInput)],
                "1*2 fails the pattern")
        #expect(short.menuPath == ["ask:invalid_input"])

        var (silent, _) = try Self.call(Self.collect)
        #expect(silent.event(.playbackFinished(p(1))) == [.startTimer(t(1), .seconds(4))])
        #expect(silent.event(.timerFired(t(1))) == [.play(p(2), en("nothing", "enter"))])
        #expect(silent.event(.keyPressed("#")) == [.stopPlayback(p(2)), .hangup(disposition: .noInput)],
                "the terminator alone is no input")
        #expect(silent.variables.isEmpty)
    }

    @Test("collect: with terminator none, # is an ordinary key")
    func collectWithoutTerminator() throws {
        let yaml = Self.collect.replacingOccurrences(of: "pattern: \"[0-9]+\"", with: "terminator: none")
        var (execution, _) = try Self.call(yaml)
        for key in "12#" { _ = execution.event(.keyPressed(DTMFKey(rawValue: key)!)) }
        #expect(execution.event(.timerFired(t(3))) == [.play(p(2), en("digit_1", "digit_2"))])
        #expect(execution.variables["code"] == "12#")
    }

    // MARK: - Variables, set, ticket, say

    @Test("set and ticket render templates over built-in and dialplan variables")
    func templates() throws {
        var (execution, start) = try Self.call("""
            dialplan: t
            languages: [zh, en]
            time_zone: Asia/Shanghai
            entries:
              - {number: "1", start: menu}
            nodes:
              menu: {type: menu, prompt: m, keys: {"1": remember}}
              remember:
                type: set
                variables:
                  who: "${caller}"
                  line: "${dialled_number}/${language}"
                  both: "${who} via ${line}, keys ${keys}, ticket ${ticket_id}, at ${time}, $5 ${unset_but_declared}"
                  unset_but_declared: "later"
                next: note
              note:
                type: ticket
                business_line: move_car
                summary: {caller: "${who}", when: "${time}", both: "${both}"}
                next: done
              done: {type: hangup}
            """, caller: "13900000001", now: Self.time("2026-12-01T20:15"))
        #expect(start.count == 2)
        execution.assignTicketID("20261201-000042")
        let commands = execution.event(.keyPressed("1"), now: Self.time("2026-12-01T20:15:30"))
        #expect(execution.variables == [
            "who": "13900000001", "line": "1/zh", "unset_but_declared": "later",
            "both": "13900000001 via 1/zh, keys 1, ticket 20261201-000042, at 2026-12-01T20:15:30+08:00, $5 ",
        ])
        #expect(commands == [
            .stopPlayback(p(1)),
            .annotateTicket(TicketAnnotation(businessLine: "move_car", summary: [
                "caller": "13900000001", "when": "2026-12-01T20:15:30+08:00", "both": execution.variables["both"]!,
            ])),
            .hangup(disposition: .completedInIVR),
        ])
        #expect(execution.ticket.businessLine == "move_car")
        #expect(execution.notes.first?.description == "menu: key 1 → remember")
    }

    @Test("say reads the value in the call's language; an unreadable value plays only before and after")
    func say() throws {
        let yaml = """
            dialplan: t
            languages: [zh, en]
            entries:
              - {number: "1", start: amount}
            nodes:
              amount: {type: set, variables: {amount: "2005", bad: "abc"}, next: zh_number}
              zh_number: {type: say, value: "${amount}", as: number, next: english}
              english: {type: language, language: en, next: en_number}
              en_number: {type: say, before: [it_is], value: "${amount}", as: number, after: [yuan], next: broken}
              broken: {type: say, before: [it_is], value: "${bad}", as: number, next: done}
              done: {type: hangup}
            """
        var (execution, start) = try Self.call(yaml)
        #expect(start == [.answer, .play(p(1), zh("num_liang", "num_1000", "digit_0", "digit_5"))])
        #expect(execution.event(.playbackFinished(p(1))) == [
            .setLanguage(.en), .play(p(2), en("it_is", "digit_2", "num_1000", "digit_5", "yuan")),
        ])
        #expect(execution.event(.playbackFinished(p(2))) == [.play(p(3), en("it_is"))])
        #expect(execution.notes.last?.description == "broken: cannot say: 'abc' is not a whole number from 0 to 999999999")
    }

    // MARK: - Branch, against the clock

    static let branching = """
        dialplan: t
        languages: [en]
        time_zone: Asia/Shanghai
        calendars:
          office:
            hours: {mon-fri: ["09:00-12:00", "13:30-17:30"], sat: ["09:00-12:00"]}
            holidays: [2026-10-01..2026-10-07]
            working_days: [2026-10-10]
          utc_desk:
            time_zone: UTC
            hours: {mon-sun: ["00:00-02:00"]}
        seasons:
          heating: "11-15..03-15"
        entries:
          - {number: "1", start: route}
        nodes:
          route:
            type: branch
            cases:
              - if: {caller_prefix: ["110", "+86110"]}
                next: police
              - if: {calendar: office, open: true}
                next: open
              - if: {calendar: office, holiday: true}
                next: holiday
              - if: {calendar: utc_desk, open: true}
                next: night_desk
              - if: {all: [{season: heating}, {calendar: office, working_day: false}]}
                next: winter_weekend
            else: closed
          police: {type: hangup, disposition: police}
          open: {type: hangup, disposition: open}
          holiday: {type: hangup, disposition: holiday}
          night_desk: {type: hangup, disposition: night_desk}
          winter_weekend: {type: hangup, disposition: winter_weekend}
          closed: {type: hangup, disposition: closed}
        """

    @Test("time branches in the calendar's own time zone", arguments: [
        ("2026-12-01T10:00", "13800000000", "open"),            // Tuesday morning
        ("2026-12-01T12:30", "13800000000", "closed"),          // lunch break (a Tuesday in winter: a working day)
        ("2026-12-01T17:30", "13800000000", "closed"),          // the end is not included
        ("2026-12-05T11:59", "13800000000", "open"),            // Saturday morning
        ("2026-12-06T11:00", "13800000000", "winter_weekend"),  // Sunday in the heating season
        ("2026-07-05T11:00", "13800000000", "closed"),          // Sunday in summer
        ("2026-10-02T10:00", "13800000000", "holiday"),         // National Day, a Friday
        ("2026-10-10T10:00", "13800000000", "open"),            // a make-up Saturday keeps Monday's hours
        ("2026-10-10T15:00", "13800000000", "open"),            // ... including the afternoon
        ("2026-07-01T08:30", "13800000000", "night_desk"),      // 00:30 UTC
        ("2026-12-01T10:00", "+8611012345", "police"),          // caller_prefix comes first
        ("2027-03-15T23:59", "13800000000", "closed"),          // Monday night: winter but a working day
        ("2027-03-20T10:00", "13800000000", "open"),            // Saturday after the season: open hours
        ("2027-03-21T10:00", "13800000000", "closed"),          // Sunday after the season
    ])
    func timeBranches(_ time: String, _ caller: String, _ expected: String) throws {
        let (execution, commands) = try Self.call(Self.branching, caller: caller, now: Self.time(time))
        #expect(commands == [.answer, .hangup(disposition: Disposition(rawValue: expected))], "at \(time)")
        #expect(execution.notes.count == 1)
    }

    @Test("variable tests: equals, not_equals, in, matches, is_set, not, any", arguments: [
        ("12345", "five_digits"), ("9", "nine"), ("", "empty"), ("x12", "other"), ("7", "seven_or_eight"),
    ])
    func variableTests(_ value: String, _ expected: String) throws {
        let (_, commands) = try Self.call("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: init}
            nodes:
              init: {type: set, variables: {v: "\(value)"}, next: route}
              route:
                type: branch
                cases:
                  - if: {variable: v, matches: "[0-9]{5}"}
                    next: five_digits
                  - if: {variable: v, equals: "9"}
                    next: nine
                  - if: {not: {variable: v, is_set: true}}
                    next: empty
                  - if: {any: [{variable: v, in: ["7", "8"]}, {variable: v, equals: "never"}]}
                    next: seven_or_eight
                  - if: {variable: v, not_equals: "x12"}
                    next: unexpected
                else: other
              five_digits: {type: hangup, disposition: five_digits}
              nine: {type: hangup, disposition: nine}
              empty: {type: hangup, disposition: empty}
              seven_or_eight: {type: hangup, disposition: seven_or_eight}
              unexpected: {type: hangup, disposition: unexpected}
              other: {type: hangup, disposition: other}
            """)
        #expect(commands.last == .hangup(disposition: Disposition(rawValue: expected)))
    }

    // MARK: - Sub-flows and goto

    @Test("call and return nest; goto jumps")
    func callReturn() throws {
        let (execution, commands) = try Self.call("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: outer}
            nodes:
              outer: {type: call, flow: a, next: after_a}
              a: {type: set, variables: {trail: "a"}, next: inner}
              inner: {type: call, flow: b, next: after_b}
              b: {type: set, variables: {trail: "${trail}b"}, next: b_done}
              b_done: {type: return}
              after_b: {type: set, variables: {trail: "${trail}c"}, next: a_done}
              a_done: {type: return}
              after_a: {type: goto, next: finish}
              finish: {type: ticket, summary: {trail: "${trail}"}, next: done}
              done: {type: hangup}
            """)
        #expect(execution.variables["trail"] == "abc")
        #expect(commands == [.answer, .annotateTicket(TicketAnnotation(summary: ["trail": "abc"])), .hangup(disposition: .completedInIVR)])
    }

    @Test("runaway recursion ends the call with dialplan_error")
    func recursionLimit() throws {
        let (execution, commands) = try Self.call("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1", start: again}
            nodes:
              again: {type: call, flow: again, next: done}
              done: {type: hangup}
            """.replacingOccurrences(of: "dialplan: t", with: "dialplan: t"), now: testEpoch)
        #expect(commands.last == .hangup(disposition: .dialplanError))
        #expect(execution.failureReason == "calls nested more than 16 deep at node 'again'")
    }

    // MARK: - Queue, transfer, record

    static let outcomes = """
        dialplan: t
        languages: [en]
        queues: [experts]
        transfer_targets: ["sip:110@linkage.example"]
        entries:
          - {number: "1", start: queue}
          - {number: "2", start: transfer}
          - {number: "3", start: record}
          - {number: "4", start: silent_record}
        nodes:
          queue: {type: queue, queue: experts, priority: 7, skills: [tax, english], on_unavailable: transfer}
          transfer: {type: transfer, to: "sip:110@linkage.example", on_failure: fallback}
          fallback: {type: transfer, to: "sip:110@linkage.example"}
          record: {type: record, beep: beep, max_duration: 30s, terminator: "*", next: thanks, on_failure: nothing}
          silent_record: {type: record, max_duration: 5s, next: thanks}
          thanks: {type: hangup, disposition: message}
          nothing: {type: hangup, disposition: nothing}
        """

    static func outcomeCall(_ number: String) throws -> (DialplanExecution, [DialplanCommand]) {
        let plan = try dialplan(outcomes)
        var execution = DialplanExecution(dialplan: plan, entry: try #require(plan.entry(forNumber: number)),
                                          context: CallContext(caller: "1", dialledNumber: number, callID: "c"))
        let commands = execution.start(now: testEpoch)
        return (execution, commands)
    }

    @Test("queue: the request carries priority, skills and language; unavailable goes on")
    func queueRequest() throws {
        var (execution, start) = try Self.outcomeCall("1")
        #expect(start == [.answer, .enqueue(QueueRequest(queue: "experts", priority: 7, skills: ["tax", "english"], language: .en))])
        #expect(execution.event(.transferFailed) == [], "an outcome nobody asked for is ignored")
        #expect(execution.event(.queueUnavailable) == [.transfer("sip:110@linkage.example")])
    }

    @Test("transfer: success ends the call transferred; failure goes on, then not_routed")
    func transfer() throws {
        var (succeeding, start) = try Self.outcomeCall("2")
        #expect(start == [.answer, .transfer("sip:110@linkage.example")])
        #expect(succeeding.event(.keyPressed("1")) == [], "keys do nothing while transferring")
        #expect(succeeding.event(.queueUnavailable) == [])
        #expect(succeeding.event(.transferSucceeded) == [.hangup(disposition: .transferred)])
        #expect(succeeding.event(.transferFailed) == [])
        #expect(succeeding.keysPressed == "1")

        var (failing, _) = try Self.outcomeCall("2")
        #expect(failing.event(.transferFailed) == [.transfer("sip:110@linkage.example")])
        #expect(failing.event(.transferFailed) == [.hangup(disposition: .notRouted)])
    }

    @Test("record: beep, then record until the terminator; the finished event moves on")
    func record() throws {
        var (execution, start) = try Self.outcomeCall("3")
        #expect(start == [.answer, .play(p(1), en("beep"))])
        #expect(execution.event(.keyPressed("*")) == [], "keys during the beep are ignored")
        #expect(!execution.isWaitingForKey)
        let recording = RecordingID(rawValue: 1)
        #expect(execution.event(.playbackFinished(p(1))) == [.startRecording(recording, maxDuration: .seconds(30))])
        #expect(execution.isWaitingForKey)
        #expect(execution.event(.keyPressed("1")) == [], "only the terminator stops the recording")
        #expect(execution.event(.keyPressed("*")) == [.stopRecording(recording)])
        #expect(execution.event(.keyPressed("*")) == [])
        #expect(execution.event(.recordingFinished(RecordingID(rawValue: 9), .seconds(3))) == [], "a stale recording id")
        #expect(execution.event(.recordingFinished(recording, .milliseconds(12_500))) == [.hangup(disposition: "message")])
    }

    @Test("record: without a beep it starts at once; nothing recorded takes on_failure, else next")
    func recordOutcomes() throws {
        var (silent, start) = try Self.outcomeCall("4")
        let recording = RecordingID(rawValue: 1)
        #expect(start == [.answer, .startRecording(recording, maxDuration: .seconds(5))])
        #expect(silent.event(.recordingFinished(recording, .zero)) == [.hangup(disposition: "message")], "no on_failure: next")

        var (empty, _) = try Self.outcomeCall("3")
        _ = empty.event(.playbackFinished(p(1)))
        #expect(empty.event(.recordingFinished(recording, .zero)) == [.hangup(disposition: "nothing")])
    }
}
