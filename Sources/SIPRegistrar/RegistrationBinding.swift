// SIPRegistrar: REGISTER handling as a sans-IO state machine. This file: one registered contact.

import SIPAuth
import SIPCore

/// Identifies a binding for keep-alive events.
public struct BindingID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: BindingID, b: BindingID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "b\(rawValue)" }
}

/// A contact registered for a user (RFC 3261 §10.3) and what we know of its reachability.
public struct RegistrationBinding: Hashable, Sendable {
    public var id: BindingID
    /// The authenticated username, which is also the address-of-record's user part.
    public var user: String
    /// The Contact URI: the Request-URI of INVITEs and OPTIONS to this phone.
    public var contact: SIPURI
    /// Where the REGISTER came from: send requests **here**, not to the Contact's host,
    /// which behind NAT is a private address (RFC 3581 §6; symmetric response routing).
    public var source: SIPSourceAddress
    public var callID: String
    public var cseq: UInt32
    public var registeredAt: UnixTime
    public var expiresAt: UnixTime
    public var userAgent: String?
    /// False after ``KeepAlivePolicy/failuresBeforeUnreachable`` unanswered OPTIONS in a row.
    public var reachable: Bool
    public var consecutiveProbeFailures: Int
    /// Next OPTIONS; nil while one is outstanding or keep-alives are off.
    public var nextProbeAt: UnixTime?
    /// The REGISTER's Path (RFC 3327), from a trusted proxy: requests to this phone carry these
    /// as Route headers and go to the first one. Empty for a phone registered directly.
    public var path: [SIPURI] = []

    /// Where requests to the phone are sent: the first Path hop, else the source address.
    public var nextHop: SIPSourceAddress {
        guard let first = path.first else { return source }
        return SIPSourceAddress(host: first.host, port: first.port ?? 5060, transport: source.transport)
    }

    /// Seconds left, for the `expires` parameter of the 200 OK's Contact.
    public func remainingSeconds(at now: UnixTime) -> Int {
        max(0, Int((expiresAt.milliseconds - now.milliseconds + 999) / 1000))
    }
}

/// What the server must send to keep a binding alive and learn whether it answers.
public struct OptionsProbe: Hashable, Sendable {
    public var binding: BindingID
    public var user: String
    /// Request-URI of the OPTIONS.
    public var requestURI: SIPURI
    /// Where to send it (the binding's next hop: its first Path hop, else its source address).
    public var destination: SIPSourceAddress
    /// Route headers (the binding's Path).
    public var route: [SIPURI] = []
}

/// Something a security log or an alert should see.
public enum SecurityEvent: Hashable, Sendable {
    /// A REGISTER whose credentials were refused. `username` is what the client claimed.
    case authenticationFailed(username: String, addressOfRecord: String, source: SIPSourceAddress, reason: DigestRejection)
    /// Too many failures: every REGISTER from this address, or for this user, gets 403 until `until`.
    case lockedOut(LockoutSubject, until: UnixTime)
    /// Authenticated as one user, tried to register another's address-of-record.
    case addressOfRecordMismatch(username: String, addressOfRecord: String, source: SIPSourceAddress)
    /// A malformed Authorization header.
    case malformedCredentials(source: SIPSourceAddress, error: DigestParseError)
}

public enum LockoutSubject: Hashable, Sendable, CustomStringConvertible {
    case address(String)
    case user(String)
    public var description: String {
        switch self {
        case .address(let a): "address \(a)"
        case .user(let u): "user \(u)"
        }
    }
}
