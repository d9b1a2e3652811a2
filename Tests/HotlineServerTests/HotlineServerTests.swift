import Testing
@testable import HotlineServer

@Suite struct ServerConfigurationTests {
    @Test func defaultsAreValidAndServeTheHotlineFromTheRepoRoot() throws {
        let config = ServerConfiguration()
        try config.validate()
        #expect(config.dialplanPath == "Dialplans/12345.yaml")
        #expect(config.databasePath == "var/hotline.sqlite")
        #expect(config.sipPort == 5060)
    }

    @Test func wildcardListenNeedsAnAdvertisedAddress() {
        var config = ServerConfiguration()
        config.sipHost = "0.0.0.0"
        #expect(throws: ServerConfiguration.ValidationError.self) { try config.validate() }
        config.advertisedHost = "192.0.2.10"
        #expect(throws: Never.self) { try config.validate() }
        #expect(config.contactHost == "192.0.2.10")
    }

    @Test func rtpRangeMustBeUsable() {
        var config = ServerConfiguration()
        config.rtpPorts = 80...90
        #expect(throws: ServerConfiguration.ValidationError.self) { try config.validate() }
    }

    @Test func theDefaultCallCapFollowsThePortsAndFileLimitNotAFixedNumber() {
        var config = ServerConfiguration()
        #expect(config.maxCalls == nil)
        // 10,000 ports hold 5,000 even RTP ports; a generous file limit leaves them the bound.
        #expect(config.carryingCapacity(openFileLimit: 1_048_576) == 5000)
        config.rtpPorts = 20000...39999
        #expect(config.carryingCapacity(openFileLimit: 1_048_576) == 10_000)
        // A small file limit binds first, keeping 1,024 descriptors for everything else.
        #expect(config.carryingCapacity(openFileLimit: 4096) == 3072)
        #expect(config.carryingCapacity(openFileLimit: 100) == 1)
        config.maxCalls = 300
        #expect(config.effectiveMaxCalls == 300)
    }
}

@Suite struct AdminRoutingTests {
    @Test func splitsPathAndDecodesTheQuery() {
        let (path, query) = AdminRequest.split("/api/tickets?limit=10&since=2026-11-29T00%3A00")
        #expect(path == "/api/tickets")
        #expect(query == ["limit": "10", "since": "2026-11-29T00:00"])
        #expect(AdminRequest.split("/health").0 == "/health")
    }
}

import Timers

@Suite struct AdmissionControlTests {
    func at(_ ms: Int) -> Instant { Instant(nanoseconds: UInt64(ms) * 1_000_000) }

    @Test func capsConcurrentCallsAndDraining() {
        var a = AdmissionControl(limits: .init(maxCalls: 2))
        #expect(a.admit(source: "s", activeCalls: 1, draining: false, now: at(0)) == .admit)
        #expect(a.admit(source: "s", activeCalls: 2, draining: false, now: at(0)) == .reject(.maxCalls))
        #expect(a.admit(source: "s", activeCalls: 0, draining: true, now: at(0)) == .reject(.draining))
        #expect(a.rejections == [.maxCalls: 1, .draining: 1])
    }

    @Test func tokenBucketAdmitsTheRateWithOneSecondOfBurst() {
        var a = AdmissionControl(limits: .init(maxCalls: 10_000, callsPerSecond: 100))
        // A burst of 150 at once: the first 100 (one second's worth) pass.
        let burst = (0..<150).map { _ in a.admit(source: "s", activeCalls: 0, draining: false, now: at(1000)) }
        #expect(burst.filter { $0 == .admit }.count == 100)
        // Then one call every 10 ms is exactly the rate: all pass.
        let steady = (1...200).map { a.admit(source: "s", activeCalls: 0, draining: false, now: at(1000 + 10 * $0)) }
        #expect(steady.allSatisfy { $0 == .admit })
        // Twice the rate: about half pass.
        let fast = (1...400).map { a.admit(source: "s", activeCalls: 0, draining: false, now: at(3000 + 5 * $0)) }
        #expect((195...205).contains(fast.filter { $0 == .admit }.count))
    }

    @Test func perSourceLimitLeavesOtherSourcesAlone() {
        var a = AdmissionControl(limits: .init(maxCalls: 10_000, perSourceCallsPerSecond: 2))
        let noisy = (0..<5).map { _ in a.admit(source: "192.0.2.1", activeCalls: 0, draining: false, now: at(0)) }
        #expect(noisy == [.admit, .admit, .reject(.sourceRate), .reject(.sourceRate), .reject(.sourceRate)])
        #expect(a.admit(source: "192.0.2.2", activeCalls: 0, draining: false, now: at(0)) == .admit)
        #expect(a.admit(source: "192.0.2.1", activeCalls: 0, draining: false, now: at(600)) == .admit, "refilled")
    }

    @Test func shedsWhileTheLoopIsLateAndRecoversWithHysteresis() {
        var a = AdmissionControl(limits: .init(maxCalls: 10_000, shedAbove: .milliseconds(60), recoverBelow: .milliseconds(20)))
        a.observeLag(.milliseconds(200)) // one stall: smoothed to 25 ms
        #expect(!a.shedding)
        for _ in 0..<20 { a.observeLag(.milliseconds(200)) }
        #expect(a.shedding)
        #expect(a.admit(source: "s", activeCalls: 0, draining: false, now: at(0)) == .reject(.overload))
        for _ in 0..<5 { a.observeLag(.zero) }
        #expect(a.shedding, "not below the recovery threshold yet")
        for _ in 0..<30 { a.observeLag(.zero) }
        #expect(!a.shedding)
        #expect(a.admit(source: "s", activeCalls: 0, draining: false, now: at(0)) == .admit)
    }
}

@Suite struct AnswerDelayShedding {
    @Test func slowAnswersShedUntilTheWaitingCallsAreFastAgain() {
        var a = AdmissionControl(limits: .init(maxCalls: 100))
        for _ in 0..<20 { a.observeAnswerDelay(.milliseconds(5)) }
        #expect(!a.shedding)
        for _ in 0..<30 { a.observeAnswerDelay(.seconds(1)) }
        #expect(a.shedding)
        #expect(a.admit(source: "s", activeCalls: 0, draining: false, now: .zero) == .reject(.overload))
        // Nothing is answered while shedding; the tick reports no answer waiting any more.
        for _ in 0..<40 { a.observePendingAnswer(oldest: .zero) }
        #expect(!a.shedding)
        a.observePendingAnswer(oldest: .seconds(5))
        #expect(a.smoothedAnswerDelay < .milliseconds(100), "ignored while not shedding")
    }
}
