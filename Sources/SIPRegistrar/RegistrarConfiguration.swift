// SIPRegistrar: REGISTER handling as a sans-IO state machine. This file: its settings.

import SIPAuth

/// How the registrar behaves; defaults suit agents' desk and home phones.
public struct RegistrarConfiguration: Hashable, Sendable {
    /// Digest realm, challenge order, nonce lifetime (see ``DigestAuthenticator/Configuration``).
    /// SHA-256 is offered first (RFC 8760 §2.4). Old MD5-only clients may choke on it: baresip
    /// 1.0 (libre 1.x) gives up when any challenge is SHA-256 and SIPp 3.6 answers only the
    /// first challenge, so a centre with such phones lists `[.md5, .sha256]` or `[.md5]`.
    public var digest: DigestAuthenticator.Configuration
    /// Shorter registrations are refused with `423 Interval Too Brief` and Min-Expires
    /// (RFC 3261 §10.3 step 7).
    public var minExpires: Int
    /// Longer ones are shortened to this.
    public var maxExpires: Int
    /// When neither the Contact's `expires` nor an Expires header says.
    public var defaultExpires: Int
    /// Contacts one user may register; a new one beyond it replaces the oldest.
    public var maxContactsPerUser: Int
    /// OPTIONS keep-alive towards each binding; nil disables it.
    public var keepAlive: KeepAlivePolicy?
    /// Lockout per source address (higher: an office NAT carries many agents).
    public var addressLockout: LockoutPolicy
    /// Lockout per username.
    public var userLockout: LockoutPolicy
    /// Addresses never locked out (the centre's own network), exact IP text.
    public var lockoutExemptAddresses: Set<String>
    /// Failure counters kept per kind (address, user), bounding memory under a spray attack.
    public var failureTrackingCapacity: Int
    /// Proxies in front of the registrar (the cluster's SIP front): a REGISTER from one of these
    /// addresses has its `Path` (RFC 3327) stored with the binding, so requests to the phone go
    /// through that proxy, and is counted for lockout under the phone's own address (the Path's
    /// `received` parameter), not the proxy's. Path from anyone else is ignored (RFC 3327 §7).
    public var trustedProxies: Set<String> = []

    public init(digest: DigestAuthenticator.Configuration = .init(), minExpires: Int = 60, maxExpires: Int = 3600,
                defaultExpires: Int = 3600, maxContactsPerUser: Int = 2, keepAlive: KeepAlivePolicy? = KeepAlivePolicy(),
                addressLockout: LockoutPolicy = LockoutPolicy(threshold: 20),
                userLockout: LockoutPolicy = LockoutPolicy(threshold: 5), lockoutExemptAddresses: Set<String> = [],
                failureTrackingCapacity: Int = 10_000) {
        self.digest = digest
        self.minExpires = minExpires
        self.maxExpires = max(minExpires, maxExpires)
        self.defaultExpires = min(max(defaultExpires, minExpires), max(minExpires, maxExpires))
        self.maxContactsPerUser = max(1, maxContactsPerUser)
        self.keepAlive = keepAlive
        self.addressLockout = addressLockout
        self.userLockout = userLockout
        self.lockoutExemptAddresses = lockoutExemptAddresses
        self.failureTrackingCapacity = failureTrackingCapacity
    }
}

/// OPTIONS keep-alives (also what keeps a home router's NAT mapping open).
public struct KeepAlivePolicy: Hashable, Sendable {
    /// Time from a binding's registration or last answer to the next OPTIONS.
    public var interval: Duration
    /// Unanswered OPTIONS in a row after which the binding is marked unreachable.
    public var failuresBeforeUnreachable: Int

    public init(interval: Duration = .seconds(30), failuresBeforeUnreachable: Int = 2) {
        self.interval = interval
        self.failuresBeforeUnreachable = max(1, failuresBeforeUnreachable)
    }
}
