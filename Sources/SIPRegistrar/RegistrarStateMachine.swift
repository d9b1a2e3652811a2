// SIPRegistrar: REGISTER handling as a sans-IO state machine. This file: the machine.

import SIPAuth
import SIPCore

/// The registrar for agents' phones (RFC 3261 §10.3) with digest authentication
/// (RFC 7616/8760), lockout after repeated failures, and OPTIONS keep-alives.
///
/// Feed it every REGISTER (after the transaction layer has absorbed retransmissions and the
/// top Via has been annotated with `received`/`rport`), every OPTIONS outcome and `tick`s; carry
/// out the actions. It never reads a clock: each event comes with `now`.
///
/// **No user enumeration.** An unknown user and a wrong password get the same `401` with a
/// fresh challenge; once a user or address is locked out, everything from it gets the same
/// `403`, whether the username exists or not.
///
/// **Registration is reachability, not login.** A binding says where an agent's phone is and
/// whether it answers; ``Action/reachabilityChanged(user:reachable:)`` feeds the ACD's
/// `agentReachabilityChanged`. Taking calls (log in, pause, log out) is the agent's decision,
/// made with feature codes from that phone or through the admin API.
public struct RegistrarStateMachine: Sendable {
    public enum Event: Sendable {
        /// A REGISTER, and where it came from.
        case receivedRegister(SIPRequest, from: SIPSourceAddress)
        /// A response to the OPTIONS of ``Action/sendOptions(_:)``. Any status means the phone
        /// is there (405 and 501 included), except 408 which a proxy gives for silence.
        case optionsAnswered(BindingID, status: SIPStatus)
        /// The OPTIONS got no response (Timer F) or could not be sent.
        case optionsFailed(BindingID)
        /// Time has passed: expire bindings and send due keep-alives.
        case tick
        /// The TCP or TLS connection a phone registered over has closed (RFC 5626 §5.2): its
        /// bindings are gone, since nothing else reaches a phone behind NAT.
        case flowClosed(SIPSourceAddress)
    }

    public enum Action: Hashable, Sendable {
        /// Send this response to the REGISTER (through its server transaction).
        case respond(SIPResponse)
        /// Send an OPTIONS and report its outcome as `optionsAnswered` or `optionsFailed`.
        case sendOptions(OptionsProbe)
        case registered(RegistrationBinding)
        case refreshed(RegistrationBinding)
        case unregistered(RegistrationBinding, reason: UnregisterReason)
        /// Whether any of the user's bindings answers changed: ACD `agentReachabilityChanged`.
        case reachabilityChanged(user: String, reachable: Bool)
        case security(SecurityEvent)
        /// (Re)arm the one timer: send `tick` at this time.
        case scheduleTick(at: UnixTime)
        /// Nothing is due any more: disarm the timer.
        case cancelTick
    }

    public enum UnregisterReason: String, Hashable, Sendable {
        /// Expires 0 for the contact, or `Contact: *`.
        case removedByUser = "removed_by_user"
        case expired
        /// A newer contact beyond ``RegistrarConfiguration/maxContactsPerUser``.
        case replaced
        /// The user is no longer configured.
        case userRemoved = "user_removed"
        /// The connection it registered over closed.
        case flowFailed = "flow_failed"
        /// The user must now register over TLS, and this binding is not.
        case tlsRequired = "tls_required"
    }

    /// Counters for metrics.
    public struct Statistics: Hashable, Sendable {
        public var challenges = 0
        public var authenticationFailures = 0
        public var rejectedWhileLockedOut = 0
        public var staleNonces = 0
        public var registrations = 0
    }

    public let configuration: RegistrarConfiguration
    private var authenticator: DigestAuthenticator
    private var credentials: [String: DigestCredentials]
    private var bindingsByUser: [String: [RegistrationBinding]] = [:]
    private var nextBindingID: UInt64 = 0
    private var addressFailures: FailureTracker
    private var userFailures: FailureTracker
    private var scheduledTick: UnixTime?
    private var reachableUsers: Set<String> = []
    public private(set) var statistics = Statistics()

    /// - Parameters:
    ///   - secret: The nonce HMAC key (``DigestAuthenticator/randomSecret()``).
    ///   - credentials: Stored HA1 values by username (from `agents.yaml`).
    public init(configuration: RegistrarConfiguration = .init(), secret: [UInt8], credentials: [String: DigestCredentials]) {
        self.configuration = configuration
        self.authenticator = DigestAuthenticator(secret: secret, configuration: configuration.digest)
        self.credentials = credentials
        self.addressFailures = FailureTracker(policy: configuration.addressLockout, capacity: configuration.failureTrackingCapacity)
        self.userFailures = FailureTracker(policy: configuration.userLockout, capacity: configuration.failureTrackingCapacity)
    }

    // MARK: - queries

    /// The user's bindings, most recently registered first.
    public func bindings(of user: String) -> [RegistrationBinding] {
        (bindingsByUser[user] ?? []).sorted { ($0.registeredAt, $0.id) > ($1.registeredAt, $1.id) }
    }

    /// Every binding, by user then recency.
    public var allBindings: [RegistrationBinding] {
        bindingsByUser.keys.sorted().flatMap { bindings(of: $0) }
    }

    /// Where to send an INVITE for the user: the newest reachable binding.
    public func preferredBinding(of user: String) -> RegistrationBinding? {
        bindings(of: user).first { $0.reachable }
    }

    public func isReachable(user: String) -> Bool { reachableUsers.contains(user) }

    /// When the next `tick` is due.
    public var nextDeadline: UnixTime? {
        var next: UnixTime?
        for binding in bindingsByUser.values.joined() {
            for t in [binding.expiresAt, binding.nextProbeAt].compactMap({ $0 }) where next == nil || t < next! { next = t }
        }
        return next
    }

    /// Until when an address or a user is locked out, if it is.
    public func lockout(of subject: LockoutSubject, now: UnixTime) -> UnixTime? {
        switch subject {
        case .address(let a): addressFailures.lockedUntil(a, now: now)
        case .user(let u): userFailures.lockedUntil(u, now: now)
        }
    }

    /// A lockout the cluster counted (failures spread over several nodes' registrars): from
    /// now on this registrar refuses the subject as if it had counted them itself.
    public mutating func installLockout(_ subject: LockoutSubject, until: UnixTime, now: UnixTime) {
        switch subject {
        case .address(let a) where !configuration.lockoutExemptAddresses.contains(a) && !configuration.trustedProxies.contains(a):
            addressFailures.lock(a, until: until, now: now)
        case .address:
            break
        case .user(let u):
            userFailures.lock(u, until: until, now: now)
        }
    }

    // MARK: - configuration changes

    /// Users who may register only over TLS (agents whose media must be SRTP: their keys travel
    /// in the signalling). A REGISTER of theirs over anything else gets 403 once authenticated
    /// (so the refusal tells nothing to a guesser); through a trusted front the phone's own
    /// transport is the front's to enforce.
    public private(set) var tlsOnlyUsers: Set<String> = []

    /// Sets ``tlsOnlyUsers``; their bindings that are not TLS go at once.
    public mutating func requireTLS(for users: Set<String>, now: UnixTime) -> [Action] {
        tlsOnlyUsers = users
        var actions: [Action] = []
        for user in bindingsByUser.keys.sorted() where users.contains(user) {
            guard var list = bindingsByUser[user] else { continue }
            let before = list.count
            list.removeAll { binding in
                guard binding.path.isEmpty, binding.source.transport != "TLS" else { return false }
                actions.append(.unregistered(binding, reason: .tlsRequired))
                return true
            }
            guard list.count != before else { continue }
            bindingsByUser[user] = list.isEmpty ? nil : list
            actions += updateReachability(of: user)
        }
        return actions
    }

    /// New credentials (agents.yaml reloaded). Users no longer present lose their bindings.
    public mutating func updateCredentials(_ credentials: [String: DigestCredentials], now: UnixTime) -> [Action] {
        self.credentials = credentials
        var actions: [Action] = []
        for user in bindingsByUser.keys.sorted() where credentials[user] == nil {
            for binding in bindings(of: user) { actions.append(.unregistered(binding, reason: .userRemoved)) }
            bindingsByUser[user] = nil
            actions += updateReachability(of: user)
        }
        return actions + timerActions()
    }

    // MARK: - events

    public mutating func event(_ event: Event, now: UnixTime) -> [Action] {
        var actions: [Action]
        switch event {
        case .receivedRegister(let request, let source):
            actions = register(request, from: source, now: now)
        case .optionsAnswered(let id, let status):
            actions = status.rawValue == 408 ? probeFailed(id, now: now) : probeAnswered(id, now: now)
        case .optionsFailed(let id):
            actions = probeFailed(id, now: now)
        case .tick:
            actions = tick(now: now)
        case .flowClosed(let flow):
            actions = flowClosed(flow)
        }
        return actions + timerActions()
    }

    private mutating func timerActions() -> [Action] {
        let next = nextDeadline
        guard next != scheduledTick else { return [] }
        scheduledTick = next
        return [next.map { .scheduleTick(at: $0) } ?? .cancelTick]
    }

    // MARK: - REGISTER (RFC 3261 §10.3)

    private mutating func register(_ request: SIPRequest, from proxyOrPhone: SIPSourceAddress, now: UnixTime) -> [Action] {
        guard request.method == .register else { return [.respond(response(to: request, .methodNotAllowed, now: now))] }
        guard let to = request.to, let aorUser = to.uri.decodedUser, !aorUser.isEmpty else {
            return [.respond(response(to: request, .badRequest, reason: "Bad Request - To has no user", now: now))]
        }
        // Through a trusted proxy: its Path routes requests back, and the phone's own address
        // (the Path's `received`) is what lockout counts.
        var path: [SIPURI] = []
        var source = proxyOrPhone
        if configuration.trustedProxies.contains(proxyOrPhone.host) {
            for value in request.headers.values(.path) {
                guard let hop = try? SIPNameAddress.parse(value), !hop.isWildcard else {
                    return [.respond(response(to: request, .badRequest, reason: "Bad Request - Malformed Path", now: now))]
                }
                path.append(hop.uri)
            }
            if let received = path.first.flatMap({ Self.receivedAddress($0, transport: proxyOrPhone.transport) }) {
                source = received
            }
        }
        // The front itself is never locked out (a REGISTER without a usable Path names it).
        let exempt = configuration.lockoutExemptAddresses.contains(source.host) || configuration.trustedProxies.contains(source.host)
        if !exempt, addressFailures.lockedUntil(source.host, now: now) != nil {
            statistics.rejectedWhileLockedOut += 1
            return [.respond(response(to: request, .forbidden, now: now))]
        }

        // Step 5: authentication (RFC 3261 §22.4). Take the Authorization for our realm.
        var authorization: DigestAuthorization?
        for value in request.headers.values(.authorization) {
            do {
                let parsed = try DigestAuthorization.parse(value)
                if parsed.realm == configuration.digest.realm || authorization == nil { authorization = parsed }
            } catch {
                return [.security(.malformedCredentials(source: source, error: error)),
                        .respond(response(to: request, .badRequest, reason: "Bad Request - Malformed Authorization", now: now))]
            }
        }
        guard let authorization else { return [challenge(request, stale: false, now: now)] }

        if userFailures.lockedUntil(authorization.username, now: now) != nil {
            statistics.rejectedWhileLockedOut += 1
            return [.respond(response(to: request, .forbidden, now: now))]
        }
        let verdict = authenticator.verify(
            authorization, method: request.method.rawValue, requestURI: request.uri.description,
            credentials: credentials[authorization.username], now: now)
        switch verdict {
        case .stale:
            statistics.staleNonces += 1
            return [challenge(request, stale: true, now: now)]
        case .rejected(let reason):
            statistics.authenticationFailures += 1
            var actions: [Action] = [.security(.authenticationFailed(
                username: authorization.username, addressOfRecord: aorUser, source: source, reason: reason))]
            var locked = false
            if !exempt, let until = addressFailures.recordFailure(source.host, now: now) {
                actions.append(.security(.lockedOut(.address(source.host), until: until)))
                locked = true
            }
            if let until = userFailures.recordFailure(authorization.username, now: now) {
                actions.append(.security(.lockedOut(.user(authorization.username), until: until)))
                locked = true
            }
            actions.append(locked ? .respond(response(to: request, .forbidden, now: now)) : challenge(request, stale: false, now: now))
            return actions
        case .authenticated(let username, _):
            userFailures.reset(username)
            // Step 6: the authenticated user may only register its own address-of-record.
            guard username == aorUser else {
                return [.security(.addressOfRecordMismatch(username: username, addressOfRecord: aorUser, source: source)),
                        .respond(response(to: request, .forbidden, now: now))]
            }
            if tlsOnlyUsers.contains(username), path.isEmpty, source.transport != "TLS" {
                return [.respond(response(to: request, .forbidden, reason: "Forbidden - SIP/TLS required", now: now))]
            }
            return updateBindings(request, user: username, source: source, path: path, now: now)
        }
    }

    private mutating func challenge(_ request: SIPRequest, stale: Bool, now: UnixTime) -> Action {
        statistics.challenges += 1
        var r = response(to: request, .unauthorized, now: now)
        for challenge in authenticator.challenges(now: now, stale: stale) {
            r.headers.append(.wwwAuthenticate, challenge.description)
        }
        return .respond(r)
    }

    /// Steps 7–8: apply the Contacts, answer with every current binding.
    private mutating func updateBindings(_ request: SIPRequest, user: String, source: SIPSourceAddress, path: [SIPURI],
                                         now: UnixTime) -> [Action] {
        let contactValues = request.headers.values(.contact)
        var contacts: [SIPNameAddress] = []
        for value in contactValues {
            guard let contact = try? SIPNameAddress.parse(value) else {
                return [.respond(response(to: request, .badRequest, reason: "Bad Request - Malformed Contact", now: now))]
            }
            contacts.append(contact)
        }
        let headerExpires = request.headers[.expires].flatMap { Int(SIPGrammar.trim($0)) }
        guard let callID = request.callID, let cseq = request.cseq?.sequence else {
            return [.respond(response(to: request, .badRequest, now: now))]
        }
        var actions: [Action] = []

        if contacts.contains(where: \.isWildcard) {
            // `Contact: *` only alone and with Expires: 0 (§10.2.2, §10.3 step 6).
            guard contacts.count == 1, headerExpires == 0 else {
                return [.respond(response(to: request, .badRequest, reason: "Bad Request - Wildcard Contact needs Expires: 0", now: now))]
            }
            for binding in bindings(of: user) {
                actions.append(.unregistered(binding, reason: .removedByUser))
            }
            bindingsByUser[user] = nil
            actions += updateReachability(of: user)
            actions.append(.respond(okResponse(to: request, user: user, path: path, now: now)))
            return actions
        }

        // Validate every Contact's expiry before changing anything (the request is atomic).
        var updates: [(contact: SIPURI, expires: Int)] = []
        for contact in contacts {
            let param = (contact.parameters.value("expires") ?? nil).flatMap { Int($0) }
            var expires = param ?? headerExpires ?? configuration.defaultExpires
            if expires < 0 { expires = configuration.defaultExpires }
            if expires > 0, expires < configuration.minExpires {
                var r = response(to: request, SIPStatus(423), now: now)
                r.headers.append(SIPHeaderName("Min-Expires"), String(configuration.minExpires))
                return [.respond(r)]
            }
            updates.append((contact.uri, min(expires, configuration.maxExpires)))
        }

        var list = bindingsByUser[user] ?? []
        for update in updates {
            if let index = list.firstIndex(where: { Self.sameContact($0.contact, update.contact) }) {
                if list[index].callID == callID, cseq <= list[index].cseq {
                    return [.respond(response(to: request, .serverInternalError, reason: "Server Internal Error - Out of Order", now: now))]
                }
                if update.expires == 0 {
                    actions.append(.unregistered(list[index], reason: .removedByUser))
                    list.remove(at: index)
                } else {
                    var binding = list[index]
                    binding.contact = update.contact
                    binding.source = source
                    binding.path = path
                    binding.callID = callID
                    binding.cseq = cseq
                    binding.expiresAt = now + .seconds(update.expires)
                    binding.userAgent = request.headers[.userAgent]
                    binding.reachable = true
                    binding.consecutiveProbeFailures = 0
                    binding.nextProbeAt = configuration.keepAlive.map { now + $0.interval }
                    list[index] = binding
                    actions.append(.refreshed(binding))
                }
            } else if update.expires > 0 {
                if list.count >= configuration.maxContactsPerUser,
                   let oldest = list.indices.min(by: { (list[$0].registeredAt, list[$0].id) < (list[$1].registeredAt, list[$1].id) })
                {
                    actions.append(.unregistered(list[oldest], reason: .replaced))
                    list.remove(at: oldest)
                }
                nextBindingID += 1
                let binding = RegistrationBinding(
                    id: BindingID(nextBindingID), user: user, contact: update.contact, source: source, callID: callID, cseq: cseq,
                    registeredAt: now, expiresAt: now + .seconds(update.expires), userAgent: request.headers[.userAgent],
                    reachable: true, consecutiveProbeFailures: 0, nextProbeAt: configuration.keepAlive.map { now + $0.interval },
                    path: path)
                list.append(binding)
                statistics.registrations += 1
                actions.append(.registered(binding))
            }
        }
        bindingsByUser[user] = list.isEmpty ? nil : list
        actions += updateReachability(of: user)
        actions.append(.respond(okResponse(to: request, user: user, path: path, now: now)))
        return actions
    }

    /// The phone's address a proxy recorded in its Path URI (`received=sip:HOST:PORT`, as
    /// Kamailio's `add_path_received()` writes it, possibly escaped).
    static func receivedAddress(_ hop: SIPURI, transport: String) -> SIPSourceAddress? {
        guard let raw = hop.parameters.value("received") ?? nil else { return nil }
        let text = SIPURI.percentDecode(raw).filter { $0 != "\"" }
        guard let uri = try? SIPURI.parse(text), !uri.host.isEmpty else { return nil }
        return SIPSourceAddress(host: uri.host, port: uri.port ?? 5060, transport: transport)
    }

    /// RFC 3261 §10.3 step 6 compares contacts by URI equality (§19.1.4); phones re-register
    /// the URI they registered, so scheme, user, host (case-insensitive) and port suffice.
    static func sameContact(_ a: SIPURI, _ b: SIPURI) -> Bool {
        a.scheme == b.scheme && a.user == b.user && a.host.lowercased() == b.host.lowercased() && a.port == b.port
    }

    /// 200 OK listing every current binding with its remaining time (§10.3 step 8), and Date.
    private func okResponse(to request: SIPRequest, user: String, path: [SIPURI], now: UnixTime) -> SIPResponse {
        var r = response(to: request, .ok, now: now)
        // RFC 3327 §5.3: the Path is echoed to a UA that supports it.
        if !path.isEmpty, request.headers.values(.supported).contains(where: { $0.equalsIgnoringASCIICase("path") }) {
            for hop in path { r.headers.append(.path, "<\(hop)>") }
        }
        for binding in bindings(of: user) {
            r.headers.append(.contact, "<\(binding.contact)>;expires=\(binding.remainingSeconds(at: now))")
        }
        return r
    }

    private func response(to request: SIPRequest, _ status: SIPStatus, reason: String? = nil, now: UnixTime) -> SIPResponse {
        var r = SIPResponse(to: request, status: status, reasonPhrase: reason, toTag: Self.toTag(for: request))
        r.headers.append(.date, SIPDate.format(now))
        return r
    }

    /// A To tag derived from the Call-ID, so retransmitted or repeated REGISTERs of one
    /// registration see one tag without the registrar remembering it.
    static func toTag(for request: SIPRequest) -> String {
        String(DigestHashing.hex(DigestHashing.sha256(Array((request.callID ?? "").utf8))).prefix(12))
    }

    // MARK: - keep-alive and expiry

    private mutating func tick(now: UnixTime) -> [Action] {
        var actions: [Action] = []
        for user in bindingsByUser.keys.sorted() {
            guard var list = bindingsByUser[user] else { continue }
            var changed = false
            list.removeAll { binding in
                guard binding.expiresAt <= now else { return false }
                actions.append(.unregistered(binding, reason: .expired))
                changed = true
                return true
            }
            for index in list.indices {
                guard let due = list[index].nextProbeAt, due <= now else { continue }
                list[index].nextProbeAt = nil
                actions.append(.sendOptions(OptionsProbe(
                    binding: list[index].id, user: user, requestURI: list[index].contact, destination: list[index].nextHop,
                    route: list[index].path)))
            }
            bindingsByUser[user] = list.isEmpty ? nil : list
            if changed { actions += updateReachability(of: user) }
        }
        return actions
    }

    /// Bindings registered directly over the flow (a Path's binding came through a proxy, whose
    /// connection is not the phone's).
    private mutating func flowClosed(_ flow: SIPSourceAddress) -> [Action] {
        guard flow.transport != "UDP" else { return [] }
        var actions: [Action] = []
        for user in bindingsByUser.keys.sorted() {
            guard var list = bindingsByUser[user] else { continue }
            let before = list.count
            list.removeAll { binding in
                guard binding.path.isEmpty, binding.source == flow else { return false }
                actions.append(.unregistered(binding, reason: .flowFailed))
                return true
            }
            guard list.count != before else { continue }
            bindingsByUser[user] = list.isEmpty ? nil : list
            actions += updateReachability(of: user)
        }
        return actions
    }

    private mutating func probeAnswered(_ id: BindingID, now: UnixTime) -> [Action] {
        guard let (user, index) = locate(id) else { return [] }
        bindingsByUser[user]![index].consecutiveProbeFailures = 0
        bindingsByUser[user]![index].reachable = true
        bindingsByUser[user]![index].nextProbeAt = configuration.keepAlive.map { now + $0.interval }
        return updateReachability(of: user)
    }

    private mutating func probeFailed(_ id: BindingID, now: UnixTime) -> [Action] {
        guard let (user, index) = locate(id), let policy = configuration.keepAlive else { return [] }
        var binding = bindingsByUser[user]![index]
        binding.consecutiveProbeFailures += 1
        if binding.consecutiveProbeFailures >= policy.failuresBeforeUnreachable { binding.reachable = false }
        binding.nextProbeAt = now + policy.interval
        bindingsByUser[user]![index] = binding
        return updateReachability(of: user)
    }

    private func locate(_ id: BindingID) -> (String, Int)? {
        for (user, list) in bindingsByUser {
            if let index = list.firstIndex(where: { $0.id == id }) { return (user, index) }
        }
        return nil
    }

    private mutating func updateReachability(of user: String) -> [Action] {
        let reachable = bindingsByUser[user]?.contains { $0.reachable } ?? false
        guard reachable != reachableUsers.contains(user) else { return [] }
        if reachable { reachableUsers.insert(user) } else { reachableUsers.remove(user) }
        return [.reachabilityChanged(user: user, reachable: reachable)]
    }
}
