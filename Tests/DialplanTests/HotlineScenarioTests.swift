import Foundation
import Testing

@testable import Dialplan

/// One simulated call to the 12345 line: keys and a time in, the outcome and some steps out.
struct Scenario: CustomTestStringConvertible, Sendable {
    var name: String
    var keys: String
    /// Beijing time, `YYYY-MM-DDTHH:MM`.
    var time: String
    var transferSucceeds = true
    var disposition: Disposition
    var menuPath: [String]
    var ticket: String
    var language: Language = .zh
    /// Trace lines that must appear, in this order (others may come between).
    var steps: [String] = []
    var testDescription: String { name }
}

@Suite("The 12345 line, simulated")
struct HotlineScenarioTests {
    static let scenarios: [Scenario] = [
        Scenario(
            name: "English, key 3: the enterprise line; holding on registers the request",
            keys: "2 3", time: "2026-12-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:2", "main_menu:3", "enterprise_menu:no_input"],
            ticket: "business_line=enterprise category=complaint", language: .en,
            steps: ["> play p3 [en/heating_notice]", "> play p5 [en/enterprise_menu]", "> play p6 [en/enterprise_line]",
                    "> hangup completed_in_ivr"]),
        Scenario(
            name: "Mandarin, key 3: the enterprise line in Mandarin too",
            keys: "1 3 1", time: "2026-07-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:3", "enterprise_menu:1"],
            ticket: "business_line=enterprise category=complaint",
            steps: ["> play p4 [zh/enterprise_menu]", "> play p5 [zh/enterprise_line]"]),
        Scenario(
            name: "no key at the language menu keeps Mandarin",
            keys: "- 3 1", time: "2026-07-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:no_input", "main_menu:3", "enterprise_menu:1"],
            ticket: "business_line=enterprise category=complaint"),
        Scenario(
            name: "enterprise consultation: the experts' queue with a skills override, then the policies",
            keys: "1 3 2", time: "2026-07-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:3", "enterprise_menu:2"],
            ticket: "business_line=enterprise category=consultation",
            steps: ["> enqueue enterprise_experts (zh) priority 5 skills [business_environment]", "< queue unavailable",
                    "> play p5 [zh/business_consult_line]"]),
        Scenario(
            name: "enterprise expert callback request",
            keys: "2 3 3", time: "2026-07-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:2", "main_menu:3", "enterprise_menu:3"],
            ticket: "business_line=enterprise category=consultation resolution=callback summary.callback_number=13800000000 summary.expert=requested",
            language: .en),
        Scenario(
            name: "winter: key 5 is the heating desk",
            keys: "1 5", time: "2026-12-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:5"], ticket: "business_line=heating category=report",
            steps: ["= heating: season heating → heating_desk", "> enqueue heating (zh) priority 3", "> play p5 [zh/heating_recorded]"]),
        Scenario(
            name: "the season wraps the new year: still heating on 03-15",
            keys: "1 5", time: "2027-03-15T23:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:5"], ticket: "business_line=heating category=report"),
        Scenario(
            name: "summer: no heating notice, key 5 gives the season's dates and the menu again",
            keys: "1 5 1", time: "2026-07-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:5", "main_menu:1"], ticket: "business_line=policy category=consultation",
            steps: ["= seasonal_notice: else → main_menu", "= heating: else → heating_off_season", "> play p4 [zh/heating_off_season]",
                    "> play p5 [zh/main_menu]"]),
        Scenario(
            name: "key 9: blind transfer to the 110 linkage",
            keys: "1 9", time: "2026-07-01T03:00", disposition: .transferred,
            menuPath: ["language_menu:1", "main_menu:9"], ticket: "business_line=police_linkage category=help",
            steps: ["> play p4 [zh/police_transfer]", "> transfer sip:110@110-linkage.example", "< transfer succeeded",
                    "> hangup transferred"]),
        Scenario(
            name: "key 9: a failed transfer says to dial 110",
            keys: "1 9", time: "2026-07-01T03:00", transferSucceeds: false, disposition: .notRouted,
            menuPath: ["language_menu:1", "main_menu:9"], ticket: "business_line=police_linkage category=help",
            steps: ["< transfer failed", "> play p5 [zh/police_unavailable]", "> hangup not_routed"]),
        Scenario(
            name: "key 0 on a working day at 10:00: the operator queue, unavailable: a callback offer",
            keys: "1 0 0", time: "2026-12-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:0", "callback_offer:0"], ticket: "",
            steps: ["= operator_hours: operators open → operator", "> enqueue operator (zh)", "< queue unavailable",
                    "> play p5 [zh/operator_unavailable]", "> play p6 [zh/callback_offer]"]),
        Scenario(
            name: "key 0 at 20:30 on a working day: after hours",
            keys: "1 0 0", time: "2026-12-01T20:30", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:0", "callback_offer:0"], ticket: "",
            steps: ["= operator_hours: else → after_hours", "> play p5 [zh/after_hours]"]),
        Scenario(
            name: "key 0 on National Day: the holiday message",
            keys: "1 0 0", time: "2026-10-03T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:0", "callback_offer:0"], ticket: "",
            steps: ["= operator_hours: operators holiday → holiday_closed", "> play p4 [zh/holiday_closed]"]),
        Scenario(
            name: "key 0 on a make-up Sunday at 19:00: weekday hours, open",
            keys: "1 0 0", time: "2026-09-20T19:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:0", "callback_offer:0"], ticket: "",
            steps: ["= operator_hours: operators open → operator"]),
        Scenario(
            name: "key 0 on an ordinary Sunday at 19:00: weekend hours end at 17:00",
            keys: "1 0 0", time: "2026-09-13T19:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:0", "callback_offer:0"], ticket: "",
            steps: ["= operator_hours: else → after_hours"]),
        Scenario(
            name: "after hours: a callback on this number, a 6 s message, the ticket number read back",
            keys: "1 0 1 #+10s", time: "2026-12-01T20:30", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:0", "callback_offer:1"],
            ticket: "resolution=callback summary.callback_number=13800000000 summary.requested_at=2026-12-01T20:30:22+08:00",
            steps: ["= set callback_number = \"13800000000\"", "> play p7 [zh/leave_message]", "> play p8 [zh/beep]",
                    "> record r1 max 1m", "< key #", "> stop recording r1", "< recorded r1 6s",
                    "> play p9 [zh/callback_registered, zh/ticket_number, zh/digit_2, zh/digit_0, zh/digit_2, zh/digit_6, zh/digit_1, zh/digit_2, zh/digit_0, zh/digit_1, zh/digit_0, zh/digit_0, zh/digit_0, zh/digit_0, zh/digit_0, zh/digit_1]"]),
        Scenario(
            name: "after hours: another number, first too short, then read back and confirmed",
            keys: "1 0 2 12345# 13912345678# 1 #+10s", time: "2026-12-01T22:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:0", "callback_offer:2", "callback_other_number:collected", "confirm_menu:1"],
            ticket: "resolution=callback summary.callback_number=13912345678 summary.requested_at=2026-12-01T22:00:54+08:00",
            steps: ["= callback_other_number: invalid input 12345, offered again (2 of 3)",
                    "> play p8 [zh/invalid_number, zh/enter_callback_number]",
                    "> play p9 [zh/you_entered, zh/digit_1, zh/digit_3, zh/digit_9, zh/digit_1, zh/digit_2, zh/digit_3, zh/digit_4, zh/digit_5, zh/digit_6, zh/digit_7, zh/digit_8]",
                    "= callback_checked: confirmed == \"yes\" → leave_message_prompt"]),
        Scenario(
            name: "move my car: plate digits collected, read back, confirmed, the location keyed; the owner is called",
            keys: "1 4 12345# 1 88#", time: "2026-12-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:4", "move_car_plate:collected", "confirm_menu:1", "move_car_location:collected"],
            ticket: "business_line=move_car category=help summary.location=88 summary.plate=12345",
            steps: ["= set plate = \"12345\"", "> play p6 [zh/you_entered, zh/digit_1, zh/digit_2, zh/digit_3, zh/digit_4, zh/digit_5]",
                    "> play p7 [zh/confirm_or_retry]", "> play p8 [zh/enter_location]", "= set location = \"88\"",
                    "> play p9 [zh/move_car]"]),
        Scenario(
            name: "move my car in English: six digits end the input without #; 2 re-enters",
            keys: "2 4 123456 2 5678# 1 7#", time: "2026-12-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:2", "main_menu:4", "move_car_plate:collected", "confirm_menu:2",
                       "move_car_plate:collected", "confirm_menu:1", "move_car_location:collected"],
            ticket: "business_line=move_car category=help summary.location=7 summary.plate=5678", language: .en,
            steps: ["= set plate = \"123456\"", "= move_car_checked: else → move_car_plate", "= set plate = \"5678\"",
                    "> play p9 [en/you_entered, en/digit_5, en/digit_6, en/digit_7, en/digit_8]"]),
        Scenario(
            name: "move my car: the input ends when no key comes for 4 s; no location keyed is location 0",
            keys: "1 4 1234 1+6s", time: "2026-12-01T10:00", disposition: .completedInIVR,
            menuPath: ["language_menu:1", "main_menu:4", "move_car_plate:collected", "confirm_menu:1", "move_car_location:no_input"],
            ticket: "business_line=move_car category=help summary.location=0 summary.plate=1234",
            steps: ["> start t7 4s", "< fired t7", "= set plate = \"1234\""]),
        Scenario(
            name: "move my car: three short plates end with invalid_input",
            keys: "1 4 1# 12# 123#", time: "2026-12-01T10:00", disposition: .invalidInput,
            menuPath: ["language_menu:1", "main_menu:4", "move_car_plate:invalid_input"],
            ticket: "business_line=move_car category=help",
            steps: ["> play p6 [zh/invalid_plate, zh/enter_plate]", "> play p7 [zh/invalid_plate, zh/enter_plate]", "> play p8 [zh/goodbye]"]),
        Scenario(
            name: "the main menu offered three times with no key: no_input",
            keys: "1", time: "2026-07-01T10:00", disposition: .noInput,
            menuPath: ["language_menu:1", "main_menu:no_input"], ticket: "",
            steps: ["> play p4 [zh/no_input, zh/main_menu]", "> play p5 [zh/no_input, zh/main_menu]", "> play p6 [zh/goodbye]"]),
    ]

    static let beijing = TimeZone(identifier: "Asia/Shanghai")!

    @Test("keys and time in, outcome and steps out", arguments: scenarios)
    func scenario(_ scenario: Scenario) throws {
        let plan = try loadShipped("12345.yaml")
        let start = try #require(DialplanSimulation.parseTime(scenario.time, defaultZone: Self.beijing))
        let simulation = DialplanSimulation(transferSucceeds: scenario.transferSucceeds)
        let keys = try DialplanSimulation.parseScript(scenario.keys)
        let result = try #require(simulation.run(plan, number: "12345", keys: keys, startTime: start))
        let trace = result.trace.joined(separator: "\n")
        #expect(result.execution.disposition == scenario.disposition, "\(trace)")
        #expect(result.outcome == "hangup \(scenario.disposition)")
        #expect(result.finalAction == "hangup \(scenario.disposition)")
        #expect(result.execution.menuPath == scenario.menuPath, "\(trace)")
        #expect(result.execution.ticket.description == scenario.ticket)
        #expect(result.execution.language == scenario.language)
        #expect(result.unusedKeys.isEmpty, "keys left over: \(result.unusedKeys)")
        var rest = result.steps.map { "\($0.kind == .command ? ">" : $0.kind == .event ? "<" : "=") \($0.text)" }[...]
        for step in scenario.steps {
            guard let found = rest.firstIndex(of: step) else {
                Issue.record("step '\(step)' not found (in order) in:\n\(trace)")
                break
            }
            rest = rest[(found + 1)...]
        }
    }

    @Test("the enterprise line's own number enters its menu directly")
    func enterpriseDirectNumber() throws {
        let plan = try loadShipped("12345.yaml")
        let keys = try DialplanSimulation.parseScript("1")
        let result = try #require(DialplanSimulation().run(plan, number: "123453", keys: keys))
        #expect(result.execution.menuPath == ["enterprise_menu:1"])
        #expect(result.trace.prefix(3) == ["0.000 > answer", "0.000 > ticket business_line=enterprise category=complaint",
                                           "0.000 > play p1 [zh/enterprise_menu]"])
        #expect(DialplanSimulation().run(plan, number: "1234", keys: []) == nil, "no entry: 404")
    }

    @Test("with the real prompt files, the key-3 call in English ends well within the integration test's 40 s",
          .enabled(if: Repository.hasPromptsDirectory))
    func realPromptLengths() throws {
        let plan = try loadShipped("12345.yaml")
        let durations = DialplanSimulation.promptDurations(directory: Repository.promptsDirectory, languages: plan.languages)
        #expect(durations(PromptRef(language: .en, name: "goodbye")) == .milliseconds(2466))
        let simulation = DialplanSimulation(promptDuration: durations)
        // As tests/IntegrationTests' ivr-12345-english-key3: key 2 at 1 s, key 3 at 4 s (by SIP INFO).
        let start = try #require(DialplanSimulation.parseTime("2026-12-01T10:00", defaultZone: Self.beijing))
        let keys = try DialplanSimulation.parseScript("2@1s 3@4s")
        let result = try #require(simulation.run(plan, number: "12345", keys: keys, startTime: start))
        #expect(result.execution.disposition == .completedInIVR)
        #expect(result.milliseconds < 34_000, "the call lasted \(result.milliseconds) ms")
        #expect(result.execution.keysPressed == "23")
        #expect(result.execution.ticket.businessLine == "enterprise")
    }
}
