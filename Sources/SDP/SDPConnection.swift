/// A `c=` line: where media is to be sent (RFC 4566 §5.7).
public struct SDPConnection: Sendable, Equatable {
    /// Network type, `IN` for the Internet.
    public var netType: String
    /// `IP4` or `IP6`.
    public var addressType: String
    /// The connection address, kept as written (multicast `/ttl` suffixes included).
    public var address: String

    /// Creates a connection line.
    public init(netType: String = "IN", addressType: String = "IP4", address: String) {
        self.netType = netType
        self.addressType = addressType
        self.address = address
    }

    /// A connection for `address`, with `IP6` when the address contains a colon.
    public init(address: String) {
        self.init(addressType: address.contains(":") ? "IP6" : "IP4", address: address)
    }

    /// `c=IN IP4 0.0.0.0`: the RFC 2543 way of putting a call on hold, still
    /// sent by older phones; RFC 3264 §8.4 asks us to recognise it.
    public var isHoldAddress: Bool {
        address == "0.0.0.0"
    }
}
