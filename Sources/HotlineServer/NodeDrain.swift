// A node's life in a cluster behind the SIP front: active → draining → drained. Sans-IO:
// the server feeds it the drain request, the calls still in progress and the time, and
// carries out the actions it returns.
import SIPCore
import Timers

/// Where a node stands. While draining it answers out-of-dialog OPTIONS (the front's probe)
/// and new INVITEs with 503, so the front takes it out of rotation and fails new calls over
/// to another node; calls in progress go on until they end or the drain timeout hangs them up.
public enum NodeState: String, Sendable, Equatable {
    case active, draining, drained
}

public struct NodeDrain: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Refuse new calls and answer probes with 503 from now on.
        case refuseNewCalls
        /// The timeout passed with calls still up: end them with BYE (tickets finished).
        case hangUpRemaining
        /// No call left (or the hang-up's grace ran out): commit the tickets and exit.
        case finish
    }

    public private(set) var state: NodeState = .active
    /// When the remaining calls are hung up.
    public private(set) var deadline: Instant?
    private var hungUp = false
    /// After hanging up, how long the BYEs may take to be answered before the node exits anyway.
    public let hangUpGrace: Duration

    public init(hangUpGrace: Duration = .seconds(5)) { self.hangUpGrace = hangUpGrace }

    /// `hotline drain`, the admin API or SIGTERM. A second request changes nothing (the
    /// first one's timeout stands).
    public mutating func requestDrain(now: Instant, timeout: Duration) -> [Action] {
        guard state == .active else { return [] }
        state = .draining
        deadline = now + timeout
        return [.refuseNewCalls]
    }

    /// The calls still in progress at `now`, observed periodically while draining.
    public mutating func observe(activeCalls: Int, now: Instant) -> [Action] {
        guard state == .draining, let deadline else { return [] }
        if activeCalls == 0 || (hungUp && now >= deadline + hangUpGrace) {
            state = .drained
            return [.finish]
        }
        if !hungUp, now >= deadline {
            hungUp = true
            return [.hangUpRemaining]
        }
        return []
    }

    /// Whether a new call may start.
    public var acceptsNewCalls: Bool { state == .active }

    /// The answer to an OPTIONS outside a dialog (the front's probe): 200 while active, 503
    /// otherwise (RFC 3261 §11.2: the answer is the one an INVITE would get).
    public var optionsStatus: SIPStatus { state == .active ? .ok : .serviceUnavailable }
}
