// The outbound schedule on a manual clock: retries by outcome, quiet hours and holidays from
// the flow's calendar, the pace of the server, the trunk and the campaign, pause and resume.

import Foundation
import Outbound
import Testing
import WorkCalendar

@Suite struct OutboundSchedulerTests {
    static let zone = TimeZone(identifier: "Asia/Shanghai")!
    /// Mon-Sat 09:00-20:00; 2026-12-25 (a Friday) a holiday for the test.
    static let calendar = WorkCalendar(
        timeZone: zone,
        weeklyHours: Dictionary(uniqueKeysWithValues: [Weekday.monday, .tuesday, .wednesday, .thursday, .friday, .saturday]
            .map { ($0, [ClockRange(parsing: "09:00-20:00")!]) }),
        holidays: [LocalDate(year: 2026, month: 12, day: 25)!])
    static let trunk = Trunk(name: "carrier", host: "127.0.0.1", port: 5070, callerID: "12345", callsPerSecond: 1000, maxConcurrent: 1000)

    static func at(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        f.timeZone = zone
        f.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate, .withTimeZone]
        return f.date(from: text + "+08:00")!
    }

    func scheduler(callsPerSecond: Double = 1000, trunk: Trunk = trunk) throws -> OutboundScheduler {
        var s = OutboundScheduler(configuration: .init(callsPerSecond: callsPerSecond, maxConcurrent: 1000),
                                  trunks: TrunksFile(trunks: [trunk]), flows: ["return_visit": Optional(Self.calendar), "notice": Optional<WorkCalendar>.none])
        try s.addCampaign(OutboundCampaign(id: "return_visit", flow: "return_visit", createdAt: Self.at("2026-12-01T00:00:00")))
        return s
    }

    func job(_ id: String, at: Date, maxAttempts: Int = 3) -> OutboundJob {
        OutboundJob(id: id, campaign: "return_visit", flow: "return_visit", number: "1380000\(id)", workOrder: "20261201-000001",
                    maxAttempts: maxAttempts, notBefore: at, createdAt: at)
    }

    func dialled(_ actions: [OutboundScheduler.Action]) -> [String] {
        actions.compactMap { if case .dial(let job, _) = $0 { return job.id } else { return nil } }
    }

    @Test func busyThenAnswerFollowsTheRetryScheduleInsideTheAllowedHours() throws {
        var s = try scheduler()
        let monday10 = Self.at("2026-12-07T10:00:00")
        _ = try s.add(job("0001", at: monday10), now: monday10)
        #expect(dialled(s.tick(now: monday10)) == ["0001"])
        #expect(dialled(s.tick(now: monday10)) == [], "one attempt at a time")
        // Busy: again 10 minutes later, not before.
        let busyAt = monday10.addingTimeInterval(20)
        let afterBusy = s.attemptEnded(job: "0001", outcome: .busy, result: nil, now: busyAt)
        guard case .save(let saved)? = afterBusy.first else { Issue.record("no save"); return }
        #expect(saved.state == .scheduled && saved.notBefore == busyAt.addingTimeInterval(600) && saved.attempts == 1)
        #expect(dialled(s.tick(now: busyAt.addingTimeInterval(599))) == [])
        let second = s.tick(now: busyAt.addingTimeInterval(600))
        #expect(dialled(second) == ["0001"])
        // Answered with a score: completed, nothing more.
        let done = s.attemptEnded(job: "0001", outcome: .answered, result: "5", now: busyAt.addingTimeInterval(660))
        #expect(done.contains { if case .finished(let j) = $0 { return j.state == .completed && j.result == "5" && j.attempts == 2 } else { return false } })
        #expect(s.jobs.isEmpty)
    }

    @Test func noCallIsPlacedAtNightOrOnAHolidayTheJobWaitsForTheNextOpening() throws {
        var s = try scheduler()
        // Friday 2026-12-25 is a holiday; 21:30 on Thursday is night.
        let thursdayNight = Self.at("2026-12-24T21:30:00")
        _ = try s.add(job("0002", at: thursdayNight), now: thursdayNight)
        let actions = s.tick(now: thursdayNight)
        #expect(dialled(actions) == [])
        #expect(s.jobs["0002"]?.notBefore == Self.at("2026-12-26T09:00:00"), "the holiday is skipped too")
        for hour in stride(from: 0.0, to: 35.5 * 3600, by: 1800) {
            #expect(dialled(s.tick(now: thursdayNight.addingTimeInterval(hour))) == [], "quiet at +\(hour / 3600) h")
        }
        #expect(dialled(s.tick(now: Self.at("2026-12-26T09:00:00"))) == ["0002"])
    }

    @Test func aRetryThatWouldFallAtNightMovesToTheMorning() throws {
        var s = try scheduler()
        let late = Self.at("2026-12-07T19:50:00")
        _ = try s.add(job("0003", at: late), now: late)
        #expect(dialled(s.tick(now: late)) == ["0003"])
        _ = s.attemptEnded(job: "0003", outcome: .noAnswer, result: nil, now: late.addingTimeInterval(45))
        #expect(s.jobs["0003"]?.notBefore == Self.at("2026-12-08T09:00:00"))
    }

    @Test func refusedIsFinalAndAttemptsRunOut() throws {
        var s = try scheduler()
        let t = Self.at("2026-12-07T10:00:00")
        _ = try s.add(job("0004", at: t), now: t)
        _ = try s.add(job("0005", at: t, maxAttempts: 2), now: t)
        #expect(Set(dialled(s.tick(now: t))) == ["0004", "0005"])
        let refused = s.attemptEnded(job: "0004", outcome: .rejected, result: nil, now: t)
        #expect(refused.contains { if case .finished(let j) = $0 { return j.state == .failed } else { return false } })
        _ = s.attemptEnded(job: "0005", outcome: .unreachable, result: nil, now: t)
        #expect(dialled(s.tick(now: t.addingTimeInterval(900))) == ["0005"])
        let last = s.attemptEnded(job: "0005", outcome: .unreachable, result: nil, now: t.addingTimeInterval(960))
        #expect(last.contains { if case .finished(let j) = $0 { return j.state == .failed && j.attempts == 2 } else { return false } })
        // An answer without the flow's result is retried like no answer.
        _ = try s.add(job("0006", at: t), now: t)
        _ = s.tick(now: t)
        _ = s.attemptEnded(job: "0006", outcome: .answered, result: nil, now: t)
        #expect(s.jobs["0006"]?.state == .scheduled)
    }

    @Test func thePaceOfTheServerTheTrunkAndTheCampaignHold() throws {
        var s = try scheduler(callsPerSecond: 10)
        let t = Self.at("2026-12-07T10:00:00")
        for i in 0..<100 { _ = try s.add(job(String(format: "%04d", 100 + i), at: t), now: t) }
        var placed = 0
        // Ten seconds in 20 ms ticks: about 10 calls a second, never a burst above a tick's share.
        for step in 0...500 {
            let n = dialled(s.tick(now: t.addingTimeInterval(Double(step) * 0.02))).count
            #expect(n <= 1)
            placed += n
        }
        #expect((95...102).contains(placed), "\(placed) in 10 s at 10/s")
        // A slower trunk binds first.
        var slow = try scheduler(callsPerSecond: 1000, trunk: Trunk(name: "carrier", host: "127.0.0.1", callerID: "12345",
                                                                     callsPerSecond: 2, maxConcurrent: 3))
        for i in 0..<10 { _ = try slow.add(job(String(format: "%04d", 300 + i), at: t), now: t) }
        var slowPlaced = 0
        for step in 0...100 { slowPlaced += dialled(slow.tick(now: t.addingTimeInterval(Double(step) * 0.1))).count }
        #expect(slowPlaced == 3, "max_concurrent 3 holds while none ends")
    }

    @Test func aPausedCampaignPlacesNothingUntilResumed() throws {
        var s = try scheduler()
        let t = Self.at("2026-12-07T10:00:00")
        _ = try s.add(job("0007", at: t), now: t)
        _ = try s.setPaused(true, campaign: "return_visit")
        #expect(dialled(s.tick(now: t)) == [])
        #expect(s.progress(campaign: "return_visit").byState["scheduled"] == 1)
        _ = try s.setPaused(false, campaign: "return_visit")
        #expect(dialled(s.tick(now: t.addingTimeInterval(1))) == ["0007"])
        #expect(throws: OutboundScheduler.SchedulerError.unknownCampaign("nope")) { try s.setPaused(true, campaign: "nope") }
    }

    @Test func aJobFoundDialingAfterARestartIsScheduledAgain() throws {
        var s = try scheduler()
        let t = Self.at("2026-12-07T10:00:00")
        var cut = job("0008", at: t)
        cut.state = .dialing
        cut.attempts = 1
        let actions = try s.add(cut, now: t, isNew: false)
        #expect(actions.count == 1 && s.jobs["0008"]?.state == .scheduled)
        #expect(dialled(s.tick(now: t)) == ["0008"])
        #expect(s.jobs["0008"]?.attempts == 2)
    }

    @Test(arguments: [
        (200, false, OutboundOutcome.answered), (486, true, .busy), (600, false, .busy), (480, true, .noAnswer),
        (487, true, .noAnswer), (408, false, .unreachable), (408, true, .noAnswer), (404, false, .rejected),
        (603, true, .rejected), (503, false, .unreachable), (407, false, .unreachable),
    ])
    func finalResponsesAreToldApart(status: Int, provisional: Bool, expected: OutboundOutcome) {
        #expect(OutboundOutcome.classify(status: status, provisional: provisional) == expected)
    }

    @Test func noResponseAtAllIsUnreachableARingingPhoneThatNeverAnswersIsNoAnswer() {
        #expect(OutboundOutcome.classify(status: nil, provisional: false) == .unreachable)
        #expect(OutboundOutcome.classify(status: nil, provisional: true) == .noAnswer)
    }
}
