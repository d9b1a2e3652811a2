// HotlineServer: the composition root.
// This file: the console's sign-in. A browser exchanges a token (or, with no tokens configured,
// its loopback address) for a session: an opaque cookie (HttpOnly, SameSite=Strict, 8 hours)
// and a CSRF token that every request changing anything must echo in X-CSRF-Token. Sessions
// live in this process: signing in again after a restart is the price of keeping no secret
// on disk.
import Crypto
import Foundation
import SIPAuth
import Synchronization

public final class AdminSessions: Sendable {
    public struct Session: Sendable, Equatable {
        public var principal: AdminPrincipal
        public var csrfToken: String
        public var expiresAt: Date
    }

    /// The cookie's name.
    public static let cookie = "hotline_session"
    public let lifetime: TimeInterval
    private let now: @Sendable () -> Date
    /// Keyed by the SHA-256 of the cookie value: a memory dump shows no usable cookie.
    private let sessions = Mutex<[[UInt8]: Session]>([:])
    /// At most this many live sessions; the oldest goes first.
    static let limit = 10_000

    public init(lifetime: TimeInterval = 8 * 3600, now: @escaping @Sendable () -> Date = { Date() }) {
        self.lifetime = lifetime
        self.now = now
    }

    /// A new session for `principal`: the cookie value to set and the session.
    public func open(_ principal: AdminPrincipal) -> (cookie: String, session: Session) {
        let cookie = Self.randomToken(), csrf = Self.randomToken()
        let session = Session(principal: principal, csrfToken: csrf, expiresAt: now().addingTimeInterval(lifetime))
        let time = now()
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expiresAt > time }
            if sessions.count >= Self.limit, let oldest = sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
                sessions.removeValue(forKey: oldest.key)
            }
            sessions[Self.key(cookie)] = session
        }
        return (cookie, session)
    }

    /// The live session of a cookie value, if any.
    public func session(_ cookie: String) -> Session? {
        let time = now()
        return sessions.withLock { sessions in
            let key = Self.key(cookie)
            guard let session = sessions[key] else { return nil }
            guard session.expiresAt > time else {
                sessions.removeValue(forKey: key)
                return nil
            }
            return session
        }
    }

    public func close(_ cookie: String) {
        _ = sessions.withLock { $0.removeValue(forKey: Self.key(cookie)) }
    }

    /// The `Set-Cookie` value for a new session, or (nil) one that clears it.
    public func setCookie(_ value: String?) -> String {
        guard let value else { return "\(Self.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" }
        return "\(Self.cookie)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(lifetime))"
    }

    static func key(_ cookie: String) -> [UInt8] { Array(SHA256.hash(data: Array(cookie.utf8))) }

    /// 32 bytes from the system's secure random source, as hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
