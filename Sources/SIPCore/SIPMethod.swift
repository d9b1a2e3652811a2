// SIPCore: value-type SIP messages (RFC 3261 §7, §20, §25), URIs, typed headers, the
// incremental parser and the serializer. Pure: no sockets, only NIOCore's ByteBuffer.

/// A SIP request method. An open set (RFC 3261 §7.1: extension methods are tokens), so a
/// `RawRepresentable` struct rather than an enum; comparisons are case-sensitive as in §7.1.
public struct SIPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let invite = SIPMethod("INVITE")
    public static let ack = SIPMethod("ACK")
    public static let bye = SIPMethod("BYE")
    public static let cancel = SIPMethod("CANCEL")
    public static let options = SIPMethod("OPTIONS")
    public static let info = SIPMethod("INFO")
    public static let register = SIPMethod("REGISTER")
    public static let subscribe = SIPMethod("SUBSCRIBE")
    public static let notify = SIPMethod("NOTIFY")
    public static let refer = SIPMethod("REFER")
    public static let message = SIPMethod("MESSAGE")
    public static let update = SIPMethod("UPDATE")
    public static let prack = SIPMethod("PRACK")
    public static let publish = SIPMethod("PUBLISH")

    /// Methods defined by RFC 3261 and its common extensions; anything else is unknown to us
    /// and gets `501 Not Implemented` rather than `405` (RFC 3261 §8.2.1).
    public static let known: Set<SIPMethod> = [
        .invite, .ack, .bye, .cancel, .options, .info, .register, .subscribe, .notify,
        .refer, .message, .update, .prack, .publish,
    ]
}
