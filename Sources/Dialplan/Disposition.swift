/// How a call left the dialplan; the ticket records it.
///
/// An open set: a `hangup` node may name any `lower_snake_case` disposition, and the loader warns
/// about one that is not among ``known`` (usually a typo).
public struct Disposition: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The caller was served by the IVR alone.
    public static let completedInIVR: Disposition = "completed_in_ivr"
    /// The caller pressed no key at a menu until its retries ran out.
    public static let noInput: Disposition = "no_input"
    /// The caller pressed only invalid keys at a menu until its retries ran out.
    public static let invalidInput: Disposition = "invalid_input"
    /// The call should have reached a queue or person that could not take it.
    public static let notRouted: Disposition = "not_routed"
    /// The dialplan itself failed at run time (a loop that never waits, a missing node).
    public static let dialplanError: Disposition = "dialplan_error"
    /// A `transfer` node handed the call to another SIP destination.
    public static let transferred: Disposition = "transferred"

    /// The dispositions the rest of Hotline reports on.
    public static let known: [Disposition] = [.completedInIVR, .noInput, .invalidInput, .notRouted, .dialplanError, .transferred]

    public var description: String { rawValue }
}
