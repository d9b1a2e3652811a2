// HotlineServer: the composition root.
// This file: `/api/session`, the console's sign-in: a token in, a session cookie and a CSRF
// token out (AdminSessions.swift); who is signed in; sign-out. docs/openapi.yaml describes them.
import Foundation
import NIOCore
import Tickets

enum SessionRoutes {
    struct SignIn: Decodable {
        var token: String?
    }

    struct SessionJSON: Encodable {
        var name: String
        var role: String
        var unit: String?
        var agent: String?
        var csrfToken: String
        var expiresAt: Date
        var seesCallers: Bool

        enum CodingKeys: String, CodingKey {
            case name, role, unit, agent
            case csrfToken = "csrf_token"
            case expiresAt = "expires_at"
            case seesCallers = "sees_callers"
        }

        init(_ session: AdminSessions.Session) {
            name = session.principal.name
            role = session.principal.role.rawValue
            unit = session.principal.unit?.rawValue
            agent = session.principal.agent
            csrfToken = session.csrfToken
            expiresAt = session.expiresAt
            seesCallers = session.principal.role.seesCallers
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(role, forKey: .role)
            try c.encode(unit, forKey: .unit)
            try c.encode(agent, forKey: .agent)
            try c.encode(csrfToken, forKey: .csrfToken)
            try c.encode(expiresAt, forKey: .expiresAt)
            try c.encode(seesCallers, forKey: .seesCallers)
        }
    }

    static func routes(auth: AdminAuth) -> [String: AdminRoute] {
        [
            "POST /api/session": { request, loop in
                if let refusal = AdminAuth.crossOriginRefusal(request) { return loop.makeSucceededFuture(refusal) }
                guard let body = try? JSONDecoder().decode(SignIn.self, from: Data(request.bodyText.utf8)) else {
                    return loop.makeSucceededFuture(.error(.badRequest, code: "invalid_request", "send {\"token\": \"...\"}"))
                }
                switch auth.signIn(token: body.token ?? "", fromLoopback: request.fromLoopback) {
                case .refused(let refusal):
                    return loop.makeSucceededFuture(refusal)
                case .allowed(let principal):
                    let (cookie, session) = auth.sessions.open(principal)
                    var response = ContactCentreRoutes.json(SessionJSON(session), status: .created)
                    response.headers.append(("Set-Cookie", auth.sessions.setCookie(cookie)))
                    return loop.makeSucceededFuture(response)
                }
            },
            "GET /api/session": { request, loop in
                guard let cookie = request.cookie(AdminSessions.cookie), let session = auth.sessions.session(cookie) else {
                    return loop.makeSucceededFuture(.error(.unauthorized, code: "unauthorized", "not signed in"))
                }
                return loop.makeSucceededFuture(ContactCentreRoutes.json(SessionJSON(session)))
            },
            "DELETE /api/session": { request, loop in
                guard let cookie = request.cookie(AdminSessions.cookie), request.authorization == nil else {
                    return loop.makeSucceededFuture(.error(.unauthorized, code: "unauthorized", "not signed in"))
                }
                // The session's CSRF token too: another site must not sign a user out.
                if case .refused(let refusal) = auth.authenticate(request) { return loop.makeSucceededFuture(refusal) }
                auth.sessions.close(cookie)
                return loop.makeSucceededFuture(AdminResponse(status: .noContent, body: "",
                                                              headers: [("Set-Cookie", auth.sessions.setCookie(nil))]))
            },
        ]
    }
}
