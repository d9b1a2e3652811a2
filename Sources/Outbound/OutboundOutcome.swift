// Outbound: the calls the server places. This file: how an attempt ended, told from the SIP
// final response (or its absence).

/// What became of one attempt. The retry schedule treats each differently: a busy line is
/// tried again soon, a refusal not at all.
public enum OutboundOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    /// 2xx: the citizen picked up; the flow ran.
    case answered
    /// 486 Busy Here, 600 Busy Everywhere.
    case busy
    /// Rang without an answer: our ring timeout (CANCEL, 487), 480 Temporarily Unavailable,
    /// 408 after a provisional response.
    case noAnswer = "no_answer"
    /// The callee or the network refused it for good: 403, 404, 484, 603, 604, 410 and other
    /// 4xx-6xx finals not listed here.
    case rejected
    /// Never reached a phone: no response at all (Timer B), 408 without a provisional
    /// response, 5xx from the trunk, no RTP port, a failed challenge.
    case unreachable

    /// Classifies a final status; `provisional`: a 1xx came before it (the phone rang).
    public static func classify(status: Int?, provisional: Bool, cancelledForRingTimeout: Bool = false) -> OutboundOutcome {
        guard let status else { return provisional ? .noAnswer : .unreachable }
        switch status {
        case 200..<300: return .answered
        case 486, 600: return .busy
        case 487: return cancelledForRingTimeout || provisional ? .noAnswer : .unreachable
        case 480: return .noAnswer
        case 408: return provisional ? .noAnswer : .unreachable
        case 401, 407: return .unreachable // our credentials failed: the trunk, not the citizen
        case 500..<600: return .unreachable
        default: return .rejected
        }
    }
}
