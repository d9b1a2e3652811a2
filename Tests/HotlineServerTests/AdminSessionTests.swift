import Foundation
import NIOHTTP1
import Synchronization
import Testing
import Tickets
@testable import HotlineServer

/// The console's sessions: a token for a cookie, CSRF on changes, expiry on a manual clock,
/// changes from another origin refused.
@Suite struct AdminSessionTests {
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: TimeInterval) { now.withLock { $0 += seconds } }
    }

    static func auth(_ clock: Clock) throws -> AdminAuth {
        let entries = try AdminAuth.parse(yaml: AdminAuthTests.file, file: "tokens.yaml", units: AdminAuthTests.units)
        return AdminAuth(entries: entries, sessions: AdminSessions(lifetime: 3600, now: { clock.now.withLock { $0 } }))
    }

    static func request(_ method: HTTPMethod, cookie: String?, csrf: String? = nil, origin: String? = nil,
                        host: String = "127.0.0.1:8080") -> AdminRequest {
        var request = AdminRequest(method: method, path: "/api/seats")
        request.headers["host"] = host
        if let cookie { request.headers["cookie"] = "theme=dark; \(AdminSessions.cookie)=\(cookie)" }
        if let csrf { request.headers["x-csrf-token"] = csrf }
        if let origin { request.headers["origin"] = origin }
        return request
    }

    @Test func aTokenBecomesACookieThatReadsAndChangesOnlyWithItsCSRFToken() throws {
        let clock = Clock()
        let auth = try Self.auth(clock)
        guard case .allowed(let principal) = auth.signIn(token: "auditor-token-0123456789", fromLoopback: false) else {
            Issue.record("the auditor's token signs in")
            return
        }
        #expect(principal.name == "inspector" && principal.role == .auditor)
        guard case .refused(let refusal) = auth.signIn(token: "auditor-token-01234567890", fromLoopback: true) else {
            Issue.record("an unknown token does not sign in, even from loopback")
            return
        }
        #expect(refusal.status == .unauthorized)

        let (cookie, session) = auth.sessions.open(AdminPrincipal(name: "centre", role: .admin))
        #expect(cookie.count == 64 && session.csrfToken.count == 64 && cookie != session.csrfToken)
        #expect(auth.sessions.setCookie(cookie) == "hotline_session=\(cookie); Path=/; HttpOnly; SameSite=Strict; Max-Age=3600")

        guard case .allowed(let reader) = auth.authenticate(Self.request(.GET, cookie: cookie)) else {
            Issue.record("a GET with the cookie is signed in")
            return
        }
        #expect(reader.name == "centre")
        guard case .refused(let noToken) = auth.authenticate(Self.request(.PUT, cookie: cookie)) else {
            Issue.record("a PUT without the CSRF token is refused")
            return
        }
        #expect(noToken.status == .forbidden && noToken.body.contains("\"code\":\"csrf\""))
        guard case .refused = auth.authenticate(Self.request(.PUT, cookie: cookie, csrf: String(session.csrfToken.reversed()))) else {
            Issue.record("a PUT with another CSRF token is refused")
            return
        }
        guard case .allowed = auth.authenticate(Self.request(.PUT, cookie: cookie, csrf: session.csrfToken)) else {
            Issue.record("a PUT with the session's CSRF token is allowed")
            return
        }
        // A bearer token is judged on its own, cookie or not.
        var bearer = Self.request(.PUT, cookie: cookie)
        bearer.authorization = "Bearer admin-token-0123456789"
        guard case .allowed = auth.authenticate(bearer) else {
            Issue.record("a bearer token needs no CSRF token")
            return
        }
    }

    @Test func sessionsExpireAndSignOutEndsThem() throws {
        let clock = Clock()
        let auth = try Self.auth(clock)
        let (cookie, _) = auth.sessions.open(AdminPrincipal(name: "centre", role: .admin))
        clock.advance(3599)
        #expect(auth.sessions.session(cookie) != nil)
        clock.advance(2)
        #expect(auth.sessions.session(cookie) == nil, "past its hour")
        guard case .refused(let expired) = auth.authenticate(Self.request(.GET, cookie: cookie)) else {
            Issue.record("an expired cookie is refused")
            return
        }
        #expect(expired.status == .unauthorized && expired.body.contains("session_expired"))

        let (second, _) = auth.sessions.open(AdminPrincipal(name: "centre", role: .admin))
        auth.sessions.close(second)
        #expect(auth.sessions.session(second) == nil)
        #expect(auth.sessions.setCookie(nil).contains("Max-Age=0"))
    }

    @Test func changesFromAnotherOriginAreRefusedReadsAreNot() throws {
        let clock = Clock()
        let auth = AdminAuth.loopbackOnly
        _ = clock
        var post = Self.request(.POST, cookie: nil, origin: "http://evil.example")
        post.fromLoopback = true
        guard case .refused(let refusal) = auth.authenticate(post) else {
            Issue.record("a loopback-only server refuses a POST from another site's page")
            return
        }
        #expect(refusal.body.contains("cross_origin"))
        var same = Self.request(.POST, cookie: nil, origin: "http://127.0.0.1:8080")
        same.fromLoopback = true
        guard case .allowed = auth.authenticate(same) else {
            Issue.record("the console's own origin may change things")
            return
        }
        var otherPort = Self.request(.POST, cookie: nil, origin: "http://127.0.0.1:9999")
        otherPort.fromLoopback = true
        guard case .refused = auth.authenticate(otherPort) else {
            Issue.record("another port is another origin")
            return
        }
        var read = Self.request(.GET, cookie: nil, origin: "http://evil.example")
        read.fromLoopback = true
        guard case .allowed = auth.authenticate(read) else {
            Issue.record("reads are not judged by origin (SameSite and CORS keep their answers from other sites)")
            return
        }
    }
}
