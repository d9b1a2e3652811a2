/// A `b=<bwtype>:<bandwidth>` line (RFC 4566 §5.8).
public struct SDPBandwidth: Sendable, Equatable {
    /// `CT`, `AS`, `TIAS`, ... kept as written.
    public var type: String
    /// The bandwidth in kilobits per second (bits for `TIAS`).
    public var value: UInt64

    /// Creates a bandwidth line.
    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }
}
