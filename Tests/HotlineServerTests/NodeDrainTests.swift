import Testing
@testable import HotlineServer
import Timers

@Suite struct NodeDrainTests {
    let t0 = Instant(nanoseconds: 1_000_000_000)

    @Test("active: new calls accepted, the front's OPTIONS probe gets 200")
    func activeAnswers() {
        let drain = NodeDrain()
        #expect(drain.state == .active)
        #expect(drain.acceptsNewCalls)
        #expect(drain.optionsStatus == .ok)
    }

    @Test("a drain refuses new calls and answers OPTIONS 503; the node finishes when its last call ends")
    func drainsWhenTheLastCallEnds() {
        var drain = NodeDrain()
        #expect(drain.requestDrain(now: t0, timeout: .seconds(10)) == [.refuseNewCalls])
        #expect(drain.state == .draining)
        #expect(!drain.acceptsNewCalls)
        #expect(drain.optionsStatus == .serviceUnavailable)
        #expect(drain.observe(activeCalls: 3, now: t0 + .seconds(1)) == [], "calls in progress go on")
        #expect(drain.observe(activeCalls: 1, now: t0 + .seconds(9)) == [])
        #expect(drain.observe(activeCalls: 0, now: t0 + .seconds(9.5)) == [.finish])
        #expect(drain.state == .drained)
        #expect(drain.observe(activeCalls: 0, now: t0 + .seconds(10)) == [], "finishes once")
    }

    @Test("a node with no call drains at the first observation")
    func idleNodeDrainsAtOnce() {
        var drain = NodeDrain()
        _ = drain.requestDrain(now: t0, timeout: .seconds(120))
        #expect(drain.observe(activeCalls: 0, now: t0) == [.finish])
    }

    @Test("past the timeout the remaining calls are hung up once, then the node finishes when they have ended")
    func timeoutHangsUpOnce() {
        var drain = NodeDrain()
        _ = drain.requestDrain(now: t0, timeout: .seconds(2))
        #expect(drain.observe(activeCalls: 2, now: t0 + .milliseconds(1999)) == [])
        #expect(drain.observe(activeCalls: 2, now: t0 + .seconds(2)) == [.hangUpRemaining])
        #expect(drain.observe(activeCalls: 1, now: t0 + .seconds(3)) == [], "hung up once")
        #expect(drain.observe(activeCalls: 0, now: t0 + .seconds(3.1)) == [.finish])
    }

    @Test("calls that outlive their BYE by the grace period do not hold the node forever")
    func graceAfterHangUp() {
        var drain = NodeDrain(hangUpGrace: .seconds(5))
        _ = drain.requestDrain(now: t0, timeout: .seconds(2))
        #expect(drain.observe(activeCalls: 1, now: t0 + .seconds(2)) == [.hangUpRemaining])
        #expect(drain.observe(activeCalls: 1, now: t0 + .seconds(6.9)) == [])
        #expect(drain.observe(activeCalls: 1, now: t0 + .seconds(7)) == [.finish])
    }

    @Test("a second drain request changes nothing: the first timeout stands")
    func secondRequestIgnored() {
        var drain = NodeDrain()
        _ = drain.requestDrain(now: t0, timeout: .seconds(2))
        #expect(drain.requestDrain(now: t0 + .seconds(1), timeout: .seconds(100)) == [])
        #expect(drain.deadline == t0 + .seconds(2))
        #expect(drain.observe(activeCalls: 1, now: t0 + .seconds(2)) == [.hangUpRemaining])
    }

    @Test("nothing happens before a drain is requested")
    func observeWhileActive() {
        var drain = NodeDrain()
        #expect(drain.observe(activeCalls: 0, now: t0 + .seconds(1000)) == [])
        #expect(drain.state == .active)
    }
}
