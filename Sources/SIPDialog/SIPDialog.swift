// SIPDialog: dialog state (RFC 3261 §12): identifiers, CSeq spaces, remote target and route
// set; the in-dialog request checks and builder; and the UAS 2xx retransmission of §13.3.1.4.
import SIPCore
import SIPTransaction

/// Identifies a dialog from our side: Call-ID, our tag, the peer's tag (§12).
public struct SIPDialogID: Hashable, Sendable, CustomStringConvertible {
    public var callID: String
    public var localTag: String
    public var remoteTag: String
    public init(callID: String, localTag: String, remoteTag: String) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
    }

    /// The dialog an incoming in-dialog request names: our tag is in To, theirs in From.
    public init?(incoming request: SIPRequest) {
        guard let callID = request.callID, let local = request.to?.tag, let remote = request.from?.tag else { return nil }
        self.init(callID: callID, localTag: local, remoteTag: remote)
    }

    public var description: String { "\(callID);local=\(localTag);remote=\(remoteTag)" }
}

/// A dialog: established by an INVITE we received (we are the UAS, `init(uasFor:)`) or by
/// the response to one we sent (the UAC, `init(uacFor:response:)`).
public struct SIPDialog: Sendable {
    public enum State: Hashable, Sendable { case early, confirmed, terminated }

    public let id: SIPDialogID
    public private(set) var state: State = .early
    /// Our address-of-record with our tag, as sent in To of our responses and From of our requests.
    public let localParty: SIPNameAddress
    /// The peer's address with its tag (From of the INVITE).
    public let remoteParty: SIPNameAddress
    /// Where in-dialog requests go: the peer's Contact (§12.1.1), updated by target refreshes.
    public private(set) var remoteTarget: SIPURI
    /// Record-Route of the INVITE, in order (§12.1.1): Route headers of our requests.
    public let routeSet: [String]
    public private(set) var localSequence: UInt32
    public private(set) var remoteSequence: UInt32

    /// Builds the UAS side of a dialog from the INVITE; nil if the INVITE lacks what a
    /// dialog needs (From tag, Contact) — the caller answers such an INVITE with 400.
    public init?(uasFor invite: SIPRequest, localTag: String, initialLocalSequence: UInt32 = 1) {
        guard let callID = invite.callID, var to = invite.to, let from = invite.from, let remoteTag = from.tag,
              let contact = invite.contacts.first, !contact.isWildcard, let cseq = invite.cseq else { return nil }
        to.tag = localTag
        self.id = SIPDialogID(callID: callID, localTag: localTag, remoteTag: remoteTag)
        self.localParty = to
        self.remoteParty = from
        self.remoteTarget = contact.uri
        self.routeSet = invite.recordRoutes
        self.localSequence = initialLocalSequence
        self.remoteSequence = cseq.sequence
    }

    /// Builds the UAC side of a dialog from our INVITE and the response that created it
    /// (RFC 3261 §12.1.2): a 2xx makes it confirmed, a 1xx with a To tag early. The remote
    /// target is the response's Contact, the route set its Record-Route in reverse, and
    /// the local sequence the INVITE's CSeq. Nil without a To tag in the response or a
    /// From tag in the INVITE.
    public init?(uacFor invite: SIPRequest, response: SIPResponse) {
        guard let callID = invite.callID, let from = invite.from, let localTag = from.tag,
              let to = response.to, let remoteTag = to.tag, let cseq = invite.cseq else { return nil }
        self.id = SIPDialogID(callID: callID, localTag: localTag, remoteTag: remoteTag)
        self.localParty = from
        self.remoteParty = to
        if let contact = response.contacts.first, !contact.isWildcard {
            self.remoteTarget = contact.uri
        } else {
            self.remoteTarget = invite.uri // a 2xx without Contact breaks §12.1.2; keep the Request-URI
        }
        self.routeSet = response.recordRoutes.reversed()
        self.localSequence = cseq.sequence
        self.remoteSequence = 0 // empty until the peer sends a request (§12.1.2)
        if response.status.isSuccess { state = .confirmed }
    }

    public mutating func confirm() { if state == .early { state = .confirmed } }
    public mutating func terminate() { state = .terminated }

    public enum RequestCheck: Equatable, Sendable {
        case accept
        /// CSeq lower than the last one: §12.2.2 says answer 500.
        case outOfOrder
        /// A retransmission of the last request we saw (same CSeq): the transaction layer
        /// absorbs it; we never see it twice.
        case duplicate
    }

    /// §12.2.2: checks and records the remote CSeq of an in-dialog request (not ACK or
    /// CANCEL, which reuse the INVITE's number), and takes a new Contact as the remote
    /// target of a re-INVITE (a target refresh, §12.2.2).
    public mutating func receive(_ request: SIPRequest) -> RequestCheck {
        guard let cseq = request.cseq else { return .outOfOrder }
        if request.method == .ack || request.method == .cancel { return .accept }
        if cseq.sequence < remoteSequence { return .outOfOrder }
        if cseq.sequence == remoteSequence { return .duplicate }
        remoteSequence = cseq.sequence
        if request.method == .invite || request.method == .update, let contact = request.contacts.first, !contact.isWildcard {
            remoteTarget = contact.uri
        }
        return .accept
    }

    /// A new in-dialog request from us (§12.2.1.1). `via` carries the fresh branch.
    public mutating func makeRequest(_ method: SIPMethod, via: SIPVia, contact: SIPNameAddress? = nil,
                                     extraHeaders: SIPHeaders = [], body: [UInt8] = []) -> SIPRequest {
        localSequence += 1
        var headers = SIPHeaders()
        headers.append(.via, via.description)
        headers.append(.maxForwards, "70")
        for route in routeSet { headers.append(.route, route) }
        headers.append(.from, localParty.description)
        headers.append(.to, remoteParty.description)
        headers.append(.callID, id.callID)
        headers.append(.cseq, SIPCSeq(localSequence, method).description)
        if let contact { headers.append(.contact, contact.description) }
        for field in extraHeaders { headers.append(field.name, field.value) }
        return SIPRequest(method: method, uri: requestURI, headers: headers, body: body)
    }

    /// The ACK for a 2xx to the INVITE with CSeq `inviteSequence` (RFC 3261 §13.2.2.4): built
    /// like any in-dialog request, but with the INVITE's sequence number and method ACK. It
    /// does not consume a sequence number.
    public func makeACK(via: SIPVia, inviteSequence: UInt32, contentType: String? = nil, body: [UInt8] = []) -> SIPRequest {
        var headers = SIPHeaders()
        headers.append(.via, via.description)
        headers.append(.maxForwards, "70")
        for route in routeSet { headers.append(.route, route) }
        headers.append(.from, localParty.description)
        headers.append(.to, remoteParty.description)
        headers.append(.callID, id.callID)
        headers.append(.cseq, SIPCSeq(inviteSequence, .ack).description)
        if let contentType, !body.isEmpty { headers.append(.contentType, contentType) }
        return SIPRequest(method: .ack, uri: requestURI, headers: headers, body: body)
    }

    /// With a strict-routing first hop (no `lr`), the Request-URI is that hop (§12.2.1.1);
    /// we only ever meet loose routers in practice, so the remote target is used.
    private var requestURI: SIPURI { remoteTarget }

    /// Where the next hop of an in-dialog request is: the first Route if any, else the
    /// remote target (§8.1.2).
    public var nextHop: SIPURI {
        if let first = routeSet.first, let route = try? SIPNameAddress.parse(first) { return route.uri }
        return remoteTarget
    }
}
