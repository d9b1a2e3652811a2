// SIPTransaction: the RFC 3261 §17 transaction state machines (server and client, INVITE
// and non-INVITE) as sans-IO values. They never touch a socket or a clock: timers are
// actions (`startTimer`) and their expiry is an event (`timerFired`).
import SIPCore

/// The transaction timers of RFC 3261 §17 (Table 4) plus L and M of RFC 6026.
public enum SIPTimer: String, Hashable, Sendable, CaseIterable {
    case a, b, d, e, f, g, h, i, j, k, l, m
}

/// Timer base values (RFC 3261 §17.1.1.1). Defaults are the RFC's; tests shrink them.
public struct SIPTimerConfiguration: Hashable, Sendable {
    /// RTT estimate.
    public var t1: Duration
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses.
    public var t2: Duration
    /// Maximum time a message stays in the network.
    public var t4: Duration
    /// Reliable transports (TCP/TLS) do not retransmit and zero the wait timers.
    public var reliable: Bool

    public init(t1: Duration = .milliseconds(500), t2: Duration = .seconds(4), t4: Duration = .seconds(5), reliable: Bool = false) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        self.reliable = reliable
    }

    public static let rfc3261 = SIPTimerConfiguration()

    /// 64·T1: Timers B, F, H, J (UDP), L and M.
    public var transactionTimeout: Duration { t1 * 64 }
}

/// Identifies a transaction (RFC 3261 §17.2.3): the top Via branch and sent-by, and the
/// method with ACK folded into INVITE (an ACK for a non-2xx final belongs to its INVITE).
/// For pre-RFC 3261 clients without the magic cookie, §17.2.3's fallback fields are used.
public struct SIPTransactionKey: Hashable, Sendable, CustomStringConvertible {
    public var branch: String
    public var sentBy: String
    public var method: SIPMethod

    public init(branch: String, sentBy: String, method: SIPMethod) {
        self.branch = branch
        self.sentBy = sentBy
        self.method = method == .ack ? .invite : method
    }

    /// The key of the server transaction a request belongs to, or nil without a Via.
    public init?(serverRequest request: SIPRequest) {
        guard let via = request.topVia else { return nil }
        if via.isRFC3261Branch, let branch = via.branch {
            self.init(branch: branch, sentBy: via.sentBy, method: request.method)
        } else {
            // RFC 2543 matching: Request-URI, To tag, From tag, Call-ID, CSeq number, top Via.
            let toTag = request.method == .ack ? "" : (request.to?.tag ?? "")
            let legacy = [request.uri.description, toTag, request.from?.tag ?? "", request.callID ?? "",
                          String(request.cseq?.sequence ?? 0), via.description].joined(separator: "|")
            self.init(branch: "rfc2543|" + legacy, sentBy: via.sentBy, method: request.method)
        }
    }

    /// The key of the client transaction a response belongs to (§17.1.3).
    public init?(clientResponse response: SIPResponse) {
        guard let via = response.topVia, let branch = via.branch, let cseq = response.cseq else { return nil }
        self.init(branch: branch, sentBy: via.sentBy, method: cseq.method)
    }

    public var description: String { "\(method.rawValue) \(branch) \(sentBy)" }
}
