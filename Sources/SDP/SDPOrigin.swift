/// The `o=` line: who created the session and which version of it this is (RFC 4566 §5.2).
public struct SDPOrigin: Sendable, Equatable {
    /// The user's login on the originating host, `-` when not applicable.
    public var username: String
    /// A numeric session identifier, unique for the originating host.
    ///
    /// Kept as text: RFC 4566 only requires digits, and real agents send values
    /// wider than 64 bits.
    public var sessionID: String
    /// Incremented on every modification of the session (RFC 3264 §8).
    public var sessionVersion: UInt64
    /// Network type, `IN` for the Internet.
    public var netType: String
    /// `IP4` or `IP6`.
    public var addressType: String
    /// The originating host's address or domain name.
    public var address: String

    /// Creates an origin.
    public init(
        username: String = "-",
        sessionID: String,
        sessionVersion: UInt64,
        netType: String = "IN",
        addressType: String = "IP4",
        address: String
    ) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.netType = netType
        self.addressType = addressType
        self.address = address
    }
}
