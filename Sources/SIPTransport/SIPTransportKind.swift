// SIPTransport: which of the RFC 3261 §18 transports a message travels on, and how each is
// named on the wire (Via sent-protocol, the `transport` URI parameter, the `sips` scheme).

public enum SIPTransportKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case udp, tcp, tls

    /// The Via sent-protocol's transport (RFC 3261 §20.42).
    public var viaName: String {
        switch self {
        case .udp: "UDP"
        case .tcp: "TCP"
        case .tls: "TLS"
        }
    }

    /// Reliable transports run the transactions without retransmission timers (§17.1.1.2).
    public var isReliable: Bool { self != .udp }

    /// A stream: framed by Content-Length, carried on a connection.
    public var isStream: Bool { self != .udp }

    /// The default port (RFC 3261 §19.1.2).
    public var defaultPort: Int { self == .tls ? 5061 : 5060 }

    /// The Via transport named in `name` ("UDP", "tcp"...), nil for others (SCTP, WS).
    public init?(viaName name: String) {
        switch name.uppercased() {
        case "UDP": self = .udp
        case "TCP": self = .tcp
        case "TLS": self = .tls
        default: return nil
        }
    }

    public var description: String { rawValue }

    /// RFC 3261 §18.1.1: a request within 200 bytes of a 1500-byte path MTU (1300 bytes when
    /// the MTU is unknown) goes over a congestion-controlled transport instead of UDP.
    public static let largeRequestThreshold = 1300
}

/// Where our own URIs and Vias point for each transport: the ports we listen on.
public struct SIPListeningPorts: Sendable, Hashable {
    public var udp: Int
    public var tcp: Int?
    public var tls: Int?

    public init(udp: Int, tcp: Int? = nil, tls: Int? = nil) {
        self.udp = udp
        self.tcp = tcp
        self.tls = tls
    }

    public func port(for kind: SIPTransportKind) -> Int? {
        switch kind {
        case .udp: udp
        case .tcp: tcp
        case .tls: tls
        }
    }

    /// A Contact for `user` reached over `kind`: `sips:` for TLS (RFC 5630 §3.1.3), the
    /// `transport=tcp` parameter for TCP (§19.1.1), the bare `sip:` URI for UDP.
    public func contactURI(user: String, host: String, over kind: SIPTransportKind) -> String {
        let port = port(for: kind) ?? udp
        switch kind {
        case .udp: return "sip:\(user)@\(host):\(port)"
        case .tcp: return "sip:\(user)@\(host):\(port);transport=tcp"
        case .tls: return "sips:\(user)@\(host):\(port)"
        }
    }
}
