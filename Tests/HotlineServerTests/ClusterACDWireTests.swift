// What nodes and the ACD's leader exchange through PostgreSQL, as JSON.

@testable import ACD
import Foundation
import NIOCore
import SIPCore
import Testing
@testable import HotlineServer

@Suite struct ClusterACDWireTests {
    @Test func clusterCallIDsNameTheNodeAndItsRunAndStillGiveTheLoop() {
        let id = ACDService.callID(shard: 1, call: 42, suffix: ClusterCallID.suffix(node: "node-b", incarnation: "k3x9"))
        #expect(id.rawValue == "1-42@node-b#k3x9")
        #expect(ClusterCallID.node(of: id)! == ("node-b", "k3x9"))
        #expect(ACDService.owner(of: id)! == (1, 42))
        #expect(ClusterCallID.node(of: ACDService.callID(shard: 0, call: 7)) == nil, "a lone node's ids name no node")
        #expect(ACDService.owner(of: "0-7")! == (0, 7))
    }

    @Test func eventsAndCommandsRoundTrip() throws {
        let target = AgentTarget(agent: "a2001", name: "Agent", sipUsername: "2001",
                                 contact: try SIPURI.parse("sip:2001@192.168.1.20:5062;transport=udp"),
                                 destination: try SocketAddress(ipAddress: "127.0.0.1", port: 9150),
                                 route: [try SIPURI.parse("sip:127.0.0.1:9150;lr;received=sip:198.51.100.7:40000")], seat: .home)
        let commands: [ClusterACDCommand] = [
            .offer("0-1@n#i", target: target, Offer(queue: "tax", isCallback: false, priority: 2, waited: .milliseconds(1500),
                                                     ringTimeout: .seconds(15))),
            .cancelOffer("0-1@n#i", agent: "a2001", reason: .ringTimeout),
            .left("0-1@n#i", .overflowed(.dialplan, reason: .acdUnavailable, waited: .zero)),
            .announce("0-1@n#i", Announcement(position: 2, estimatedWait: .seconds(40))),
            .reply(id: 9, .refused(.login, .noSeatAvailable(licensed: 4, loggedIn: 4))),
        ]
        for command in commands {
            let text = ClusterACDCoding.encode(command)
            #expect(try ClusterACDCoding.decode(ClusterACDCommand.self, text) == command, "\(text)")
        }
        let events: [ClusterACDEvent] = [
            .acd(.callerArrived("0-1@n#i", EnqueueRequest(queue: "tax", priority: 3, skills: ["tax"]))),
            .acd(.offerFailed("0-1@n#i", agent: "a2001", .declined)),
            .request(id: 4, agent: "a2001", .pause, reason: "lunch", sentAt: 1_796_473_280_348),
            .reachability("a2001", reachable: true, target: target),
            .nodeStarted(incarnation: "k3x9"),
        ]
        for event in events {
            #expect(try ClusterACDCoding.decode(ClusterACDEvent.self, ClusterACDCoding.encode(event)) == event)
        }
        #expect(events[0].arrival == "0-1@n#i")
        #expect(events[1].arrival == nil)
    }

    @Test func theTimelineMapsInstantsToUnixMicrosecondsAndBack() {
        let timeline = ACDTimeline()
        let now = ContinuousClock.now
        let micros = timeline.time(now)
        #expect(abs(micros - Int64(Date().timeIntervalSince1970 * 1_000_000)) < 1_000_000)
        #expect(abs((timeline.instant(micros) - now).microseconds) <= 1)
        #expect(timeline.time(now.advanced(by: .milliseconds(250))) - micros == 250_000)
    }
}
