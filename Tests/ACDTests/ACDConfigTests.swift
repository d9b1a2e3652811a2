import ACD
import ACDConfig
import Dialplan
import Foundation
import SIPAuth
import Testing

@Suite("ACDConfig: agents.yaml and queues.yaml")
struct ACDConfigTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let agents = """
        realm: hotline
        licensed_seats: 2
        agents:
          - id: a1
            name: 王芳
            sip_username: "1001"
            seat: home
            skills: {tax: 4}
            ha1_md5: \(DigestCredentials(username: "1001", realm: "hotline", password: "pw").ha1[.md5]!)
            ha1_sha256: \(DigestCredentials(username: "1001", realm: "hotline", password: "pw").ha1[.sha256]!)

        """
    static let queues = """
        queues:
          tax:
            skills: {tax: 2}
            overflow: {queue: general}
          general: {overflow: voicemail}

        """

    @Test("the shipped files load clean and define every queue the shipped dialplans use")
    func shipped() throws {
        let setup = try ACDSetup.load(agentsPath: "\(Self.root)/Dialplans/acd/agents.yaml",
                                      queuesPath: "\(Self.root)/Dialplans/acd/queues.yaml")
        #expect(setup.warnings.isEmpty, "\(setup.warnings)")
        #expect(setup.agents.agents.count == 6)
        #expect(setup.configuration.licensedSeats == 4)
        #expect(setup.credentials["1001"]?.ha1[.sha256] == DigestCredentials(username: "1001", realm: "hotline", password: "demo-1001").ha1[.sha256])
        for name in ["12345.yaml", "bench.yaml"] {
            let plan = try Dialplan.load(path: "\(Self.root)/Dialplans/\(name)")
            #expect(setup.checkDialplanQueues(plan.queues, dialplanName: plan.name).isEmpty, "\(name)")
        }
        #expect(setup.checkDialplanQueues(["operatr"], dialplanName: "x").first?.hint == "did you mean 'operator'?")
    }

    @Test("a small pair of files maps onto the ACD configuration and the registrar's credentials")
    func mapping() throws {
        let setup = try ACDSetup.parse(agentsYAML: Self.agents, queuesYAML: Self.queues)
        let configuration = setup.configuration
        #expect(configuration.agents == [AgentProfile(id: "a1", name: "王芳", sipUsername: "1001", skills: ["tax": 4], seat: .home)])
        #expect(configuration.queues.map(\.name) == ["tax", "general"])
        #expect(configuration.queues[0].overflow == .queue("general"))
        #expect(configuration.queues[0].skills == ["tax": 2])
        #expect(configuration.queues[1].overflow == .voicemail)
        #expect(setup.agentsBySIPUsername == ["1001": "a1"])
        #expect(setup.agents.digestAlgorithms == [.sha256, .md5])
    }

    @Test("the HA1 helper prints lines that load back as the same credentials")
    func passwordHelper() throws {
        let lines = AgentsFile.ha1Lines(sipUsername: "1001", password: "pw")
        #expect(lines.hasPrefix("ha1_md5: "))
        let yaml = Self.agents.components(separatedBy: "\n").filter { !$0.contains("ha1_") }.joined(separator: "\n")
            + lines.components(separatedBy: "\n").filter { !$0.isEmpty }.map { "    " + $0 }.joined(separator: "\n") + "\n"
        let setup = try ACDSetup.parse(agentsYAML: yaml, queuesYAML: Self.queues)
        #expect(setup.credentials["1001"] == DigestCredentials(username: "1001", realm: "hotline", password: "pw"))
    }

    func issues(agents: String = agents, queues: String = queues) -> [String] {
        do {
            let setup = try ACDSetup.parse(agentsYAML: agents, queuesYAML: queues)
            return setup.warnings.map(\.description)
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test("media_encryption: none by default, optional or required per agent; anything else is a located error")
    func mediaEncryption() throws {
        let setup = try ACDSetup.parse(agentsYAML: Self.agents, queuesYAML: Self.queues)
        #expect(setup.agents.agents.map(\.mediaEncryption.rawValue) == ["none"])
        for policy in ["optional", "required"] {
            let yaml = Self.agents.replacingOccurrences(of: "    seat: home\n", with: "    seat: home\n    media_encryption: \(policy)\n")
            let parsed = try ACDSetup.parse(agentsYAML: yaml, queuesYAML: Self.queues)
            #expect(parsed.agents.agents.map(\.mediaEncryption.rawValue) == [policy])
        }
        let bad = Self.agents.replacingOccurrences(of: "    seat: home\n", with: "    seat: home\n    media_encryption: zrtp\n")
        #expect(issues(agents: bad).contains { $0.hasPrefix("agents.yaml:8:23: error: unknown media_encryption 'zrtp' [agents.0.media_encryption]") },
                "\(issues(agents: bad))")
    }

    @Test("errors carry file:line:column, the key path and a hint; every issue is reported at once")
    func errors() {
        let badAgents = """
            licensed_seats: two
            agents:
              - id: A1
                name: x
                sip_username: "10@01"
                seat: office
                skills: {tax: 7}
                password: secret
                ha1_md5: abc
                ha1_sha256: \(String(repeating: "0", count: 64))

            """
        let found = issues(agents: badAgents)
        #expect(found.contains("agents.yaml:1:17: error: 'two' is not a whole number [licensed_seats]"))
        #expect(found.contains { $0.hasPrefix("agents.yaml:3:9: error: 'A1' is not a valid agent id [agents.0.id]") })
        #expect(found.contains { $0.hasPrefix("agents.yaml:5:19: error: '10@01' is not a usable SIP username") })
        #expect(found.contains("agents.yaml:6:11: error: unknown seat 'office' [agents.0.seat] (home or on_site)"))
        #expect(found.contains("agents.yaml:7:19: error: 7 is out of range 1…5 [agents.0.skills.tax]"))
        #expect(found.contains { $0.hasPrefix("agents.yaml:8:5: error: unknown key 'password' [agents.0.password] (passwords are never stored") })
        #expect(found.contains { $0.hasPrefix("agents.yaml:9:14: error: ha1_md5 must be 32 hexadecimal digits") })
    }

    @Test("queue errors: unknown strategy with a suggestion, bare numbers as durations, undefined and looping overflow")
    func queueErrors() {
        let bad = """
            queues:
              a:
                strategy: longest_idel
                ring_timeout: 20
                overflow: {queue: b}
              b:
                overflow: {queue: a}
              c:
                overflow: {queue: nowhere}
                widen:
                  - {after: 60s, skills: {}}
                  - {after: 30s, skills: {}}
                colour: blue

            """
        let found = issues(queues: bad)
        #expect(found.contains("queues.yaml:3:15: error: unknown strategy 'longest_idel' [queues.a.strategy] (did you mean 'longest_idle'?)"))
        #expect(found.contains("queues.yaml:4:19: error: '20' is not a duration [queues.a.ring_timeout] (add a unit: '20s')"))
        #expect(found.contains { $0.contains("overflow goes round in a loop: a → b → a") })
        #expect(found.contains { $0.hasPrefix("queues.yaml:9:15: error: overflow queue 'nowhere' is not defined") })
        #expect(found.contains { $0.hasPrefix("queues.yaml:12:9: error: widening steps must come later") })
        #expect(found.contains { $0.hasPrefix("queues.yaml:13:5: error: unknown key 'colour'") })
    }

    @Test("warnings: a queue whose skills no agent has", arguments: ["queues:\n  heating: {skills: {heating: 1}}\n"])
    func warnings(queues: String) throws {
        let setup = try ACDSetup.parse(agentsYAML: Self.agents, queuesYAML: queues)
        #expect(setup.warnings.map(\.description) == [
            "queues.yaml:2:3: warning: no agent in agents.yaml has the skills {heating: 1}: nobody can serve this queue [queues.heating.skills]",
        ])
    }

    @Test("YAML syntax errors and duplicate keys are located")
    func syntax() {
        #expect(issues(queues: "queues:\n  a: {skills: {tax: 1}\n").first?.hasPrefix("queues.yaml:") == true)
        let duplicate = issues(queues: "queues:\n  a: {}\n  a: {}\n")
        #expect(duplicate.first?.contains("duplicate key 'a'") == true)
    }

    @Test("a loaded setup runs: the ACD routes with the configured queues")
    func runs() throws {
        let setup = try ACDSetup.parse(agentsYAML: Self.agents, queuesYAML: Self.queues)
        var machine = ACDStateMachine<ContinuousClock.Instant>(configuration: setup.configuration, now: .now)
        let now = ContinuousClock.now
        _ = machine.event(.agentReachabilityChanged("a1", reachable: true), now: now)
        _ = machine.event(.loginRequested("a1"), now: now)
        let actions = machine.event(.callerArrived("c1", EnqueueRequest(queue: "tax")), now: now)
        #expect(actions.contains { if case .offer("c1", "a1", _) = $0 { true } else { false } })
    }
}
