// ACDConfig: agents.yaml and queues.yaml. This file: `queues.yaml` — the queues `queue` nodes
// name, their skills, strategy, timeouts, limits and overflow, and the cross-queue rules.

import ACD
import ConfigFiles
import Yams

/// `queues.yaml`:
///
/// ```yaml
/// routing:                        # optional, across all queues
///   priority_step: 60s            # one priority level counts as this much waiting
///   reoffer_delay: 30s            # an agent who missed a caller is not offered them again for this long
///   callback_attempts: 3          # a callback's citizen not reached: back in its place, this many tries in all
///   statistics_window: 15m        # service level and averages in the admin API
/// queues:
///   enterprise_experts:
///     skills: {enterprise: 2}     # minimum levels; {} = any agent
///     strategy: best_skill        # longest_idle (default) | least_calls | best_skill
///     ring_timeout: 20s
///     auto_pause_after: 3         # missed offers in a row; or off
///     wrap_up: 15s
///     max_wait: 5m                # optional
///     max_length: 30              # optional
///     overflow: {queue: operator} # or voicemail | callback | unavailable (the node's on_unavailable)
///     join_when_empty: false      # take callers while nobody logged in could serve them
///     widen:                      # relax the skills with waiting time
///       - {after: 90s, skills: {enterprise: 1}}
///     music: queue_music          # a prompt looped while waiting
///     announce_every: 60s         # position and estimated wait, on joining and then this often
///     service_level: 20s          # answered within this counts towards the service level
///     average_handle_time: 3m     # for estimates until calls give an average
/// ```
public struct QueuesFile: Hashable, Sendable {
    public var routing: RoutingSettings
    public var queues: [QueueConfiguration]
    /// Where each queue is defined, for cross-checks.
    var locations: [QueueName: (line: Int, column: Int)]

    public static func == (a: QueuesFile, b: QueuesFile) -> Bool { a.routing == b.routing && a.queues == b.queues }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(routing)
        hasher.combine(queues)
    }

    static let topKeys = ["routing", "queues"]
    static let routingKeys = ["priority_step", "reoffer_delay", "statistics_window", "callback_attempts"]
    static let queueKeys = [
        "skills", "strategy", "ring_timeout", "auto_pause_after", "wrap_up", "max_wait", "max_length", "overflow",
        "join_when_empty", "widen", "music", "announce_every", "service_level", "average_handle_time",
    ]

    static func parse(_ root: Node?, reader: inout LocatedYAMLReader) -> QueuesFile? {
        guard let root, let entries = reader.mapping(root, path: "", allowed: topKeys) else { return nil }
        var file = QueuesFile(routing: RoutingSettings(), queues: [], locations: [:])
        for entry in entries where entry.key == "routing" {
            guard let settings = reader.mapping(entry.value, path: "routing", allowed: routingKeys) else { continue }
            for setting in settings {
                let path = "routing.\(setting.key)"
                switch setting.key {
                case "priority_step": file.routing.priorityStep = reader.duration(setting.value, path: path, positive: false) ?? file.routing.priorityStep
                case "reoffer_delay": file.routing.reofferDelay = reader.duration(setting.value, path: path, positive: false) ?? file.routing.reofferDelay
                case "callback_attempts": file.routing.callbackAttempts = reader.integer(setting.value, path: path, range: 1...20) ?? file.routing.callbackAttempts
                default: file.routing.statisticsWindow = reader.duration(setting.value, path: path) ?? file.routing.statisticsWindow
                }
            }
        }
        guard let queuesEntry = entries.first(where: { $0.key == "queues" }) else {
            reader.issue("missing key 'queues'", at: root, path: "")
            return file
        }
        guard let queues = reader.mapping(queuesEntry.value, path: "queues") else { return file }
        var overflowSites: [QueueName: Node] = [:]
        for queue in queues {
            let path = "queues.\(queue.key)"
            guard LocatedYAMLReader.isName(queue.key) else {
                reader.issue("'\(queue.key)' is not a valid queue name", at: queue.keyNode, path: path,
                             hint: "lower-case letters, digits and '_', starting with a letter")
                continue
            }
            guard let (configuration, overflowNode) = parseQueue(QueueName(queue.key), queue.value, path: path, reader: &reader) else { continue }
            file.queues.append(configuration)
            file.locations[configuration.name] = (queue.keyNode.mark?.line ?? 1, queue.keyNode.mark?.column ?? 1)
            if let overflowNode { overflowSites[configuration.name] = overflowNode }
        }
        checkOverflow(file, sites: overflowSites, reader: &reader)
        return file
    }

    private static func parseQueue(_ name: QueueName, _ node: Node, path: String, reader: inout LocatedYAMLReader)
        -> (QueueConfiguration, Node?)?
    {
        guard let entries = reader.mapping(node, path: path, allowed: queueKeys) else { return nil }
        var q = QueueConfiguration(name: name)
        var overflowNode: Node?
        for entry in entries {
            let p = reader.join(path, entry.key)
            let v = entry.value
            switch entry.key {
            case "skills":
                if let skills = AgentsFile.parseSkills(v, path: p, reader: &reader) { q.skills = SkillRequirements(skills) }
            case "strategy":
                guard let text = reader.text(v, path: p) else { continue }
                if let strategy = RoutingStrategy(rawValue: text) { q.strategy = strategy } else {
                    reader.issue("unknown strategy '\(text)'", at: v, path: p,
                                 hint: LocatedYAMLReader.closest(to: text, among: RoutingStrategy.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" }
                                     ?? "longest_idle, least_calls or best_skill")
                }
            case "ring_timeout": if let d = reader.duration(v, path: p) { q.ringTimeout = d }
            case "auto_pause_after":
                if case .scalar(let s) = v, s.string == "off" { q.autoPauseAfterMisses = nil } else if let n = reader.integer(v, path: p, range: 1...100) {
                    q.autoPauseAfterMisses = n
                }
            case "wrap_up": if let d = reader.duration(v, path: p, positive: false) { q.wrapUp = d }
            case "max_wait": if let d = reader.duration(v, path: p) { q.maxWait = d }
            case "max_length": if let n = reader.integer(v, path: p, range: 1...100_000) { q.maxLength = n }
            case "overflow":
                overflowNode = v
                if let target = parseOverflow(v, path: p, reader: &reader) { q.overflow = target }
            case "join_when_empty": if let b = reader.boolean(v, path: p) { q.joinWhenEmpty = b }
            case "widen":
                guard let steps = reader.sequence(v, path: p) else { continue }
                var widening: [WideningStep] = []
                for (i, step) in steps.enumerated() {
                    let sp = "\(p).\(i)"
                    guard let fields = reader.mapping(step, path: sp, allowed: ["after", "skills"]) else { continue }
                    let after = fields.first { $0.key == "after" }.flatMap { reader.duration($0.value, path: sp + ".after") }
                    let skills = fields.first { $0.key == "skills" }.flatMap { AgentsFile.parseSkills($0.value, path: sp + ".skills", reader: &reader) }
                    guard let after, let skills else {
                        if !fields.contains(where: { $0.key == "after" }) { reader.issue("missing key 'after'", at: step, path: sp) }
                        if !fields.contains(where: { $0.key == "skills" }) { reader.issue("missing key 'skills'", at: step, path: sp) }
                        continue
                    }
                    if let last = widening.last, after <= last.after {
                        reader.issue("widening steps must come later and later; this one is not after the previous", at: step, path: sp)
                    }
                    widening.append(WideningStep(after: after, skills: SkillRequirements(skills)))
                }
                q.widening = widening
            case "music": if let n = reader.name(v, path: p, what: "prompt name") { q.music = n }
            case "announce_every":
                if case .scalar(let s) = v, s.string == "off" { q.announceInterval = nil } else if let d = reader.duration(v, path: p) {
                    q.announceInterval = d
                }
            case "service_level": if let d = reader.duration(v, path: p) { q.serviceLevelTarget = d }
            default: if let d = reader.duration(v, path: p) { q.averageHandleTime = d }
            }
        }
        if let maxWait = q.maxWait, let step = q.widening.last, step.after >= maxWait {
            reader.issue("a widening step at or after max_wait never takes effect", at: node, path: path + ".widen", severity: .warning)
        }
        let widening = q.widening
        q = QueueConfiguration(name: q.name, skills: q.skills, strategy: q.strategy, ringTimeout: q.ringTimeout,
                               autoPauseAfterMisses: q.autoPauseAfterMisses, wrapUp: q.wrapUp, maxWait: q.maxWait,
                               maxLength: q.maxLength, overflow: q.overflow, joinWhenEmpty: q.joinWhenEmpty, widening: widening,
                               music: q.music, announceInterval: q.announceInterval, serviceLevelTarget: q.serviceLevelTarget,
                               averageHandleTime: q.averageHandleTime)
        // Kept even with errors (which fail the load anyway) so cross-queue checks see it.
        return (q, overflowNode)
    }

    private static func parseOverflow(_ node: Node, path: String, reader: inout LocatedYAMLReader) -> OverflowTarget? {
        if case .scalar(let scalar) = node {
            switch scalar.string {
            case "voicemail": return .voicemail
            case "callback": return .callback
            case "unavailable": return .dialplan
            default:
                reader.issue("unknown overflow '\(scalar.string)'", at: node, path: path,
                             hint: "voicemail, callback, unavailable or {queue: name}")
                return nil
            }
        }
        guard let fields = reader.mapping(node, path: path, allowed: ["queue"]), let field = fields.first,
              let name = reader.name(field.value, path: path + ".queue", what: "queue name")
        else {
            if case .mapping(let m) = node, m.count == 0 { reader.issue("expected {queue: name}", at: node, path: path) }
            return nil
        }
        return .queue(QueueName(name))
    }

    /// Overflow targets must exist, differ from their queue, and not chain back into a loop.
    private static func checkOverflow(_ file: QueuesFile, sites: [QueueName: Node], reader: inout LocatedYAMLReader) {
        let byName = Dictionary(file.queues.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for queue in file.queues {
            guard case .queue(let target) = queue.overflow else { continue }
            let path = "queues.\(queue.name).overflow"
            guard byName[target] != nil else {
                reader.issue("overflow queue '\(target)' is not defined", at: sites[queue.name], path: path,
                             hint: LocatedYAMLReader.closest(to: target.rawValue, among: byName.keys.map(\.rawValue)).map { "did you mean '\($0)'?" })
                continue
            }
            var seen: [QueueName] = [queue.name]
            var current = target
            while let next = byName[current] {
                if seen.contains(current) {
                    reader.issue("overflow goes round in a loop: \((seen + [current]).map(\.rawValue).joined(separator: " → "))",
                                 at: sites[queue.name], path: path, hint: "end the chain with voicemail, callback or unavailable")
                    break
                }
                seen.append(current)
                guard case .queue(let following) = next.overflow else { break }
                current = following
            }
        }
    }
}
