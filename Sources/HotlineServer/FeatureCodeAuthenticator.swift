// HotlineServer: the composition root.
// This file: who dialled a feature code (*21 … *24) — digest authentication of the INVITE as a
// UAS (401), with the registrar's lockouts, before the ACD carries the code out.
import ACD
import SIPAuth
import SIPCore
import SIPRegistrar

/// Authenticates feature-code INVITEs against the agents' credentials: same secret and realm
/// as the registrar's own authenticator, so a phone's credentials work for both.
struct FeatureCodeAuthenticator {
    enum Verdict: Sendable {
        /// 401 with these `WWW-Authenticate` values (no or stale credentials).
        case challenge([String])
        /// Wrong credentials: 401 again, and the security event to log.
        case rejected(SecurityEvent, challenges: [String])
        /// 403: locked out.
        case forbidden(String)
        case authenticated(username: String)
    }

    private var authenticator: DigestAuthenticator

    init(secret: [UInt8], configuration: DigestAuthenticator.Configuration) {
        self.authenticator = DigestAuthenticator(secret: secret, configuration: configuration)
    }

    /// Credentials are looked for in `realm` (agents.yaml's); `lockedOut` says whether the
    /// registrar has locked a user or an address out.
    mutating func check(_ request: SIPRequest, source: SIPSourceAddress, realm: String, credentials: [String: DigestCredentials],
                        now: UnixTime, lockedOut: (LockoutSubject) -> Bool) -> Verdict {
        if lockedOut(.address(source.host)) { return .forbidden("address locked out") }
        let authorization = request.headers.values(.authorization).compactMap { try? DigestAuthorization.parse($0) }
            .first { $0.realm == realm }
        guard let authorization else { return .challenge(challenges(stale: false, now: now)) }
        if lockedOut(.user(authorization.username)) { return .forbidden("user locked out") }
        switch authenticator.verify(authorization, method: request.method.rawValue, requestURI: request.uri.description,
                                    credentials: credentials[authorization.username], now: now) {
        case .stale:
            return .challenge(challenges(stale: true, now: now))
        case .rejected(let reason):
            let event = SecurityEvent.authenticationFailed(username: authorization.username, addressOfRecord: request.uri.decodedUser ?? "",
                                                           source: source, reason: reason)
            return .rejected(event, challenges: challenges(stale: false, now: now))
        case .authenticated(let username, _):
            return .authenticated(username: username)
        }
    }

    private mutating func challenges(stale: Bool, now: UnixTime) -> [String] {
        authenticator.challenges(now: now, stale: stale).map(\.description)
    }
}
