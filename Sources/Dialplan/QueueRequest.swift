/// What `.enqueue` asks of the agent queues (the ACD).
public struct QueueRequest: Hashable, Sendable, CustomStringConvertible {
    /// One of the dialplan's declared `queues`.
    public var queue: String
    /// 0–9; higher is served first.
    public var priority: Int
    /// Skills an agent must have instead of the queue's own; `nil` keeps the queue's.
    public var skills: [String]?
    /// The caller's language, for agent selection and queue announcements.
    public var language: Language

    public init(queue: String, priority: Int = 0, skills: [String]? = nil, language: Language) {
        self.queue = queue
        self.priority = priority
        self.skills = skills
        self.language = language
    }

    /// `operator (zh)`, `experts (en) priority 5 skills [enterprise, tax]`.
    public var description: String {
        var text = "\(queue) (\(language))"
        if priority != 0 { text += " priority \(priority)" }
        if let skills { text += " skills [\(skills.joined(separator: ", "))]" }
        return text
    }
}
