// `outbound:` entries: flows for the calls the server places, entered by name (never by a
// dialled number), with the calendar of the hours such calls are allowed in.

import Testing

@testable import Dialplan

@Suite struct OutboundEntryTests {
    static let base = """
        dialplan: t
        languages: [zh]
        default_language: zh
        time_zone: Asia/Shanghai
        calendars:
          visits: {hours: {mon-fri: ["09:00-20:00"]}}
        entries:
          - number: "12345"
            start: bye
        %ENTRIES%
        nodes:
          survey: {type: ticket, summary: {return_visit_score: "5"}, next: bye}
          bye: {type: hangup, disposition: completed_in_ivr}
        """

    static func yaml(_ entries: String) -> String { base.replacingOccurrences(of: "%ENTRIES%", with: entries) }

    @Test func anOutboundFlowIsFoundByNameAndNeverByANumber() throws {
        let plan = try dialplan(Self.yaml("  - outbound: return_visit\n    start: survey\n    calendar: visits"))
        let entry = try #require(plan.outboundEntry(named: "return_visit"))
        #expect(entry.start == NodeID("survey") && entry.calendar == "visits")
        #expect(plan.entry(forNumber: "return_visit") == nil && plan.entry(forNumber: "12345")?.start == NodeID("bye"))
        #expect(!plan.warnings.contains { $0.code == .unreachableNode }, "the survey is reached from its entry")
        var execution = DialplanExecution(dialplan: plan, entry: entry, context: CallContext(caller: "13800000000", dialledNumber: "", callID: "o1"))
        let commands = execution.start(now: testEpoch)
        #expect(commands.first == .answer)
        #expect(execution.ticket.summary["return_visit_score"] == "5")
    }

    @Test func mistakesAreLocated() {
        let unknownCalendar = issues(Self.yaml("  - outbound: return_visit\n    start: survey\n    calendar: nights"))
        #expect(unknownCalendar.contains { $0.code == .undefinedName && $0.line == 12 && $0.message.contains("no calendar 'nights'") })
        let inboundCalendar = issues(Self.yaml("  - number: \"12346\"\n    start: survey\n    calendar: visits"))
        #expect(inboundCalendar.contains { $0.line == 12 && $0.message.contains("'calendar' is for outbound entries") })
        let twice = issues(Self.yaml("  - outbound: visit\n    start: survey\n  - outbound: visit\n    start: bye"))
        #expect(twice.contains { $0.code == .duplicateEntry && $0.line == 12 && $0.message.contains("outbound flow 'visit' already has an entry") })
        let badName = issues(Self.yaml("  - outbound: Return Visit\n    start: survey"))
        #expect(badName.contains { $0.line == 10 && $0.message.contains("is not an outbound flow name") })
    }

    @Test func theShippedReturnVisitSurveyScoresEachKey() throws {
        let plan = try loadShipped("12345.yaml")
        let entry = try #require(plan.outboundEntry(named: "return_visit"))
        #expect(entry.calendar == "return_visits")
        for (key, score) in [("1", "5"), ("2", "4"), ("3", "2")] {
            var execution = DialplanExecution(dialplan: plan, entry: entry, context: CallContext(caller: "13800000000", dialledNumber: "", callID: "o\(key)"))
            var commands = execution.start(now: testEpoch)
            // Let every prompt finish until the menu waits for a key, then press it.
            var guardCount = 0
            while let play = commands.compactMap({ if case .play(let id, _) = $0 { return id } else { return nil } }).last, guardCount < 5 {
                commands = execution.event(.playbackFinished(play), now: testEpoch)
                guardCount += 1
                if execution.isWaitingForKey { break }
            }
            _ = execution.event(.keyPressed(DTMFKey(rawValue: Character(key))!), now: testEpoch)
            #expect(execution.ticket.summary["return_visit_score"] == score, "key \(key)")
        }
    }
}

extension OutboundEntryTests {
    @Test func theShippedOwnerNoticeReadsThePlateAndLocationAndTakesTheAnswer() throws {
        let plan = try loadShipped("12345.yaml")
        let entry = try #require(plan.outboundEntry(named: "move_my_car"))
        #expect(entry.variables == ["plate", "location"] && entry.calendar == nil)
        for (key, result) in [("1", "will_move"), ("2", "not_mine")] {
            var execution = DialplanExecution(dialplan: plan, entry: entry, context: CallContext(caller: "13900000001", dialledNumber: "", callID: "m\(key)"))
            execution.preset("plate", "12345")
            execution.preset("location", "88")
            var commands = execution.start(now: testEpoch)
            var spoken: [String] = []
            var steps = 0
            while !execution.isWaitingForKey, steps < 10,
                  let (id, refs) = commands.compactMap({ if case .play(let id, let refs) = $0 { return (id, refs) } else { return nil } }).last {
                spoken += refs.map(\.name)
                commands = execution.event(.playbackFinished(id), now: testEpoch)
                steps += 1
            }
            #expect(spoken.contains("move_car_owner_notice") && spoken.contains("digit_1") && spoken.contains("digit_8"), "\(spoken)")
            _ = execution.event(.keyPressed(DTMFKey(rawValue: Character(key))!), now: testEpoch)
            #expect(execution.ticket.summary["move_car_result"] == result)
        }
    }
}
