// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: how a call ended, an open set so new endings need no schema or enum change.

/// How a call ended. `nil` on a ticket while its call is in progress.
///
/// An open set (a `RawRepresentable` struct, not an enum) so the server can add endings
/// without breaking readers built against an older list; the database only requires the
/// text not to be empty.
public struct CallDisposition: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// The dialplan ran to its end (information given, ticket filed) and the call was hung up.
    public static let completedInIVR = CallDisposition("completed_in_ivr")
    /// The caller hung up (BYE) before the dialplan finished.
    public static let callerHangup = CallDisposition("caller_hangup")
    /// A menu timed out without any key being pressed.
    public static let noInput = CallDisposition("no_input")
    /// The caller kept pressing keys the menu does not accept.
    public static let invalidInput = CallDisposition("invalid_input")
    /// The caller sent CANCEL before we answered (we sent 487).
    public static let cancelled = CallDisposition("cancelled")
    /// We rejected the INVITE (e.g. 404 unknown number, 488 no usable codec).
    public static let rejected = CallDisposition("rejected")
    /// We rejected the INVITE because we were at capacity (503).
    public static let rejectedCapacity = CallDisposition("rejected_capacity")
    /// The dialplan had no route for the dialled number or the chosen branch.
    public static let notRouted = CallDisposition("not_routed")
    /// We answered but the ACK never came (RFC 3261 §13.3.1.4, Timer H).
    public static let noACK = CallDisposition("no_ack")
    /// The server shut down (SIGTERM drain) while the call was up.
    public static let serverShutdown = CallDisposition("server_shutdown")
    /// The call was in progress when the server process died; set when the store reopens.
    public static let interrupted = CallDisposition("interrupted")
    /// Media failed (RTP port allocation, codec, prompt playback).
    public static let mediaError = CallDisposition("media_error")
}

/// What the caller called about, as chosen in the menus. An open set like ``CallDisposition``.
public struct TicketCategory: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// 咨询: the caller asks for information.
    public static let consultation = TicketCategory("consultation")
    /// 投诉: the caller complains about a service or an office.
    public static let complaint = TicketCategory("complaint")
    /// 求助: the caller asks for help with a problem.
    public static let help = TicketCategory("help")
    /// 建议: the caller suggests an improvement.
    public static let suggestion = TicketCategory("suggestion")
    /// 举报: the caller reports wrongdoing.
    public static let report = TicketCategory("report")
}
