import SDP
import SIPCore
import Timers

/// Why a call counts as failed. Labels are the report's (`timeout`, `503`, `missing_bye`).
public enum FailureCause: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Timer B: no final response to the INVITE (RFC 3261 §17.1.1.2).
    case inviteTimeout
    /// A final response of 300 or more to the INVITE.
    case rejected(Int)
    /// The server never sent BYE within the wait (`hangup: server`).
    case missingBye
    /// Our BYE got a failure response (status) or none (nil).
    case byeFailed(Int?)
    /// A SIP INFO key got a failure response (status) or none (nil).
    case infoFailed(Int?)
    /// The 200 carried no SDP answer we can use.
    case badAnswer
    /// The call outlived `--max-call-time`.
    case maxDuration
    /// Answered, but not one RTP packet came.
    case noAudio
    /// The prompts heard were not the ones expected.
    case unexpectedPrompts
    /// `--verify-db`: no ticket for an answered call.
    case noTicket
    /// Still running when the drain deadline passed.
    case unfinished

    public var description: String {
        switch self {
        case .inviteTimeout: "timeout"
        case .rejected(let code): String(code)
        case .missingBye: "missing_bye"
        case .byeFailed(let code): code.map { "bye_\($0)" } ?? "bye_timeout"
        case .infoFailed(let code): code.map { "info_\($0)" } ?? "info_timeout"
        case .badAnswer: "bad_sdp_answer"
        case .maxDuration: "max_call_time"
        case .noAudio: "no_audio"
        case .unexpectedPrompts: "unexpected_prompts"
        case .noTicket: "no_ticket"
        case .unfinished: "unfinished"
        }
    }

    public static func < (a: FailureCause, b: FailureCause) -> Bool { a.description < b.description }
}

/// Who or what ended a call.
public enum CallEnd: String, Sendable, Equatable, Codable {
    /// The server sent BYE.
    case serverBye = "server_bye"
    /// We sent BYE.
    case callerBye = "caller_bye"
    /// The INVITE got a final failure response or timed out.
    case notAnswered = "not_answered"
    /// We cancelled it before the answer.
    case cancelled
}

/// What the signalling of one call came to; the media side adds its own measures.
public struct CallOutcome: Sendable, Equatable {
    public var callID: String
    public var behaviour: String
    public var inviteSentAt: Instant
    public var firstResponseAt: Instant?
    public var answeredAt: Instant?
    /// When each key left (the SIP INFO, or the first RTP packet's tick).
    public var keysSentAt: [Instant] = []
    public var endedAt: Instant
    /// The INVITE's final status, if one came.
    public var finalStatus: Int?
    public var end: CallEnd
    /// The first failure; later ones are consequences.
    public var failure: FailureCause?
    public var negotiated: NegotiatedMedia?

    /// INVITE → 200 (RFC 6076 session request delay, successful).
    public var setupTime: Duration? { answeredAt.map { $0 - inviteSentAt } }
    public var answered: Bool { answeredAt != nil }
}
