// ACD: the automatic call distributor — queues, agents, skills, licensed seats and routing
// strategies as a sans-IO state machine, generic over the clock's instant. Callers and agents
// come in as events, offers and announcements go out as actions; no sockets, no clocks.
//
// This file: the names the ACD deals in.

/// An agent's stable id from `agents.yaml` (`a1001`).
public struct AgentID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
}

/// A queue's name, as the dialplan's `queue` node names it (`enterprise_experts`).
public struct QueueName: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
}

/// A skill (`tax`, `medical_insurance`, `heating`, `enterprise`, `police_linkage`).
public struct Skill: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
}

/// The server's key for a call in the ACD (its Call-ID or ticket id): opaque here.
public struct CallID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
}

/// Why an agent is paused. An open set: admins name their own (`lunch`, `training`).
public struct PauseReason: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    /// Set by the ACD after too many offers in a row went unanswered.
    public static let noAnswer: PauseReason = "no_answer"
    /// A pause without a stated reason (`*23`).
    public static let unspecified: PauseReason = "pause"
}

/// Where an agent works; home seats reach us over the internet (NAT, Opus on weak links).
public enum SeatKind: String, Hashable, Sendable, CaseIterable {
    case home
    case onSite = "on_site"
}

/// Skill levels run from 1 (basic) to 5 (expert).
public let skillLevels: ClosedRange<Int> = 1...5

/// Skills an agent must have, each at a minimum level. Empty: any agent.
public struct SkillRequirements: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByDictionaryLiteral {
    public var minimumLevels: [Skill: Int]

    public init(_ minimumLevels: [Skill: Int] = [:]) { self.minimumLevels = minimumLevels }
    public init(dictionaryLiteral elements: (Skill, Int)...) {
        self.minimumLevels = Dictionary(elements, uniquingKeysWith: max)
    }

    /// Whether an agent with these skills qualifies.
    public func isSatisfied(by skills: [Skill: Int]) -> Bool {
        minimumLevels.allSatisfy { skill, level in (skills[skill] ?? 0) >= level }
    }

    /// `best_skill`'s measure: the agent's levels summed over the required skills.
    public func score(of skills: [Skill: Int]) -> Int {
        minimumLevels.keys.reduce(0) { $0 + (skills[$1] ?? 0) }
    }

    /// `{enterprise: 2, tax: 1}`.
    public var description: String {
        "{" + minimumLevels.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }
}
