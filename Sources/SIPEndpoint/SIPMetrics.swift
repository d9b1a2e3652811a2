import SIPCore

/// Counters of what crossed the SIP socket, for Prometheus (`hotline_sip_*`).
public struct SIPMetrics: Sendable {
    public var requestsIn: [String: UInt64] = [:]
    public var requestsOut: [String: UInt64] = [:]
    public var responsesIn: [Int: UInt64] = [:]
    public var responsesOut: [Int: UInt64] = [:]
    /// Messages that failed to parse (each got a 400/505 if it could be answered).
    public var parseErrors: UInt64 = 0
    /// Messages that could not be answered at all and were dropped.
    public var dropped: UInt64 = 0
    public var keepAlives: UInt64 = 0
    public var retransmissionsAbsorbed: UInt64 = 0
    public var strayResponses: UInt64 = 0
    public var clientTimeouts: UInt64 = 0
    /// Requests switched from UDP to TCP for their size (RFC 3261 §18.1.1).
    public var largeRequestsOverTCP: UInt64 = 0

    public init() {}

    mutating func count(requestIn method: SIPMethod) { requestsIn[SIPMetrics.label(method), default: 0] += 1 }
    mutating func count(requestOut method: SIPMethod) { requestsOut[SIPMetrics.label(method), default: 0] += 1 }
    mutating func count(responseIn status: SIPStatus) { responsesIn[status.rawValue, default: 0] += 1 }
    mutating func count(responseOut status: SIPStatus) { responsesOut[status.rawValue, default: 0] += 1 }

    /// Unknown methods are folded into one label so a peer cannot grow the metric set.
    static func label(_ method: SIPMethod) -> String {
        SIPMethod.known.contains(method) ? method.rawValue : "other"
    }
}
