// ACD: the automatic call distributor as a sans-IO state machine. This file: the codes agents
// dial from their phones to log in, pause and log out.

/// A feature code dialled by an authenticated agent phone:
///
/// | dialled | meaning |
/// |---|---|
/// | `*21` | log in (takes a licensed seat) |
/// | `*22` | log out |
/// | `*23` | pause; `*23` followed by a reason code (`*232`) names the reason |
/// | `*24` | unpause, or end wrap-up early ("ready") |
public enum AgentFeatureCode: Hashable, Sendable {
    case login
    case logout
    /// The digits after `*23`, if any (mapped to a reason by `pause_reasons` in agents.yaml).
    case pause(reasonCode: String?)
    case unpause

    /// Reads a dialled number; nil if it is not a feature code.
    public init?(dialled: String) {
        switch dialled {
        case "*21": self = .login
        case "*22": self = .logout
        case "*24": self = .unpause
        default:
            guard dialled.hasPrefix("*23") else { return nil }
            let code = dialled.dropFirst(3)
            guard code.count <= 2, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            self = .pause(reasonCode: code.isEmpty ? nil : String(code))
        }
    }

    /// The ACD event for this code dialled by `agent`; an unknown reason code pauses with
    /// ``PauseReason/unspecified``.
    public func event<I>(for agent: AgentID, pauseReasons: [String: PauseReason] = [:]) -> ACDStateMachine<I>.Event {
        switch self {
        case .login: .loginRequested(agent)
        case .logout: .logoutRequested(agent)
        case .unpause: .unpauseRequested(agent)
        case .pause(let code): .pauseRequested(agent, code.flatMap { pauseReasons[$0] } ?? .unspecified)
        }
    }
}
