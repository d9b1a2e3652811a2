// ACDConfig: agents.yaml and queues.yaml. This file: both files together, cross-checked, as
// what the server builds the ACD and the registrar from.

import ACD
import ConfigFiles
import SIPAuth
import Yams

/// Everything `agents.yaml` and `queues.yaml` configure, checked together.
public struct ACDSetup: Sendable {
    public var agents: AgentsFile
    public var queues: QueuesFile
    /// Warnings found along the way (errors make loading fail instead).
    public var warnings: [ACDConfigIssue]

    /// The ACD's configuration.
    public var configuration: ACDConfiguration {
        var routing = queues.routing
        routing.logoutUnreachableAfter = agents.logoutUnreachableAfter
        return ACDConfiguration(agents: agents.agents.map(\.profile), queues: queues.queues, licensedSeats: agents.licensedSeats,
                                routing: routing)
    }

    /// The registrar's credentials by SIP username.
    public var credentials: [String: DigestCredentials] {
        Dictionary(agents.agents.map { ($0.profile.sipUsername, $0.credentials) }, uniquingKeysWith: { a, _ in a })
    }

    /// SIP username → agent, to turn registrar events into ACD events.
    public var agentsBySIPUsername: [String: AgentID] {
        Dictionary(agents.agents.map { ($0.profile.sipUsername, $0.profile.id) }, uniquingKeysWith: { a, _ in a })
    }

    /// Loads both files; throws every issue if any is an error.
    public static func load(agentsPath: String, queuesPath: String) throws(ACDConfigError) -> ACDSetup {
        var agentsReader = LocatedYAMLReader(file: agentsPath)
        let agentsRoot = agentsReader.compose(contentsOf: agentsPath)
        var queuesReader = LocatedYAMLReader(file: queuesPath)
        let queuesRoot = queuesReader.compose(contentsOf: queuesPath)
        return try build(agentsRoot, &agentsReader, queuesRoot, &queuesReader)
    }

    /// Parses both files' text; the file names label issues.
    public static func parse(agentsYAML: String, agentsFile: String = "agents.yaml", queuesYAML: String,
                             queuesFile: String = "queues.yaml") throws(ACDConfigError) -> ACDSetup {
        var agentsReader = LocatedYAMLReader(file: agentsFile)
        let agentsRoot = agentsReader.compose(agentsYAML)
        var queuesReader = LocatedYAMLReader(file: queuesFile)
        let queuesRoot = queuesReader.compose(queuesYAML)
        return try build(agentsRoot, &agentsReader, queuesRoot, &queuesReader)
    }

    private static func build(_ agentsRoot: Node?, _ agentsReader: inout LocatedYAMLReader, _ queuesRoot: Node?,
                              _ queuesReader: inout LocatedYAMLReader) throws(ACDConfigError) -> ACDSetup {
        let agents = agentsRoot.flatMap { AgentsFile.parse($0, reader: &agentsReader) }
        let queues = queuesRoot.flatMap { QueuesFile.parse($0, reader: &queuesReader) }
        if let agents, let queues, !agentsReader.hasErrors { crossCheck(agents, queues, reader: &queuesReader) }
        let issues = agentsReader.issues + queuesReader.issues
        guard let agents, let queues, !issues.contains(where: { $0.severity == .error }) else {
            throw ACDConfigError(issues: issues)
        }
        return ACDSetup(agents: agents, queues: queues, warnings: issues)
    }

    /// Warnings for requirements no configured agent meets (a queue nobody can ever serve).
    private static func crossCheck(_ agents: AgentsFile, _ queues: QueuesFile, reader: inout LocatedYAMLReader) {
        let profiles = agents.agents.map(\.profile)
        for queue in queues.queues {
            let site = queues.locations[queue.name] ?? (1, 1)
            if !profiles.contains(where: { queue.skills.isSatisfied(by: $0.skills) }) {
                reader.issue("no agent in agents.yaml has the skills \(queue.skills): nobody can serve this queue",
                             line: site.line, column: site.column, path: "queues.\(queue.name).skills",
                             hint: queue.widening.isEmpty ? nil : "only callers whose skills have widened will be served",
                             severity: .warning)
            }
        }
    }

    /// Checks the queues a dialplan declares against queues.yaml: each must be defined here.
    /// `declared` is the dialplan's `queues:` list (Dialplan.queues); issues are located in
    /// queues.yaml's file, or at the top of it, and name the dialplan.
    public func checkDialplanQueues(_ declared: [String], dialplanName: String, queuesFile: String = "queues.yaml") -> [ACDConfigIssue] {
        let defined = Set(queues.queues.map(\.name.rawValue))
        return declared.filter { !defined.contains($0) }.map { name in
            ACDConfigIssue(file: queuesFile, line: 1, column: 1, keyPath: "queues",
                           message: "dialplan '\(dialplanName)' sends callers to queue '\(name)', which queues.yaml does not define",
                           hint: LocatedYAMLReader.closest(to: name, among: defined).map { "did you mean '\($0)'?" })
        }
    }
}
