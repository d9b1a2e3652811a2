// HotlineServer: the composition root.
// This file: who may use the admin API — bearer tokens with roles, from a tokens file and
// HOTLINE_ADMIN_TOKEN, or loopback clients only when no token is configured.
import Crypto
import Foundation
import NIOHTTP1
import SIPAuth
import Tickets
import Yams

/// What a token holder may do.
public enum AdminRole: String, Sendable, CaseIterable, Equatable {
    /// Everything: every work order, events, dialplans.
    case admin
    /// A unit's staff: the work orders of their unit and the units under it, to read and to
    /// act on (sign, handle...); the KPIs of that subtree. No dialplans.
    case unitStaff = "unit_staff"
    /// Read-only: every work order and the KPIs with callers' numbers masked, the dialplans.
    /// May not POST or PUT anything.
    case auditor
    /// An agent at the desk: their own state (log in, pause, log out), their own calls and the
    /// work orders of those calls; nothing of anyone else's.
    case agent
}

/// What a route needs from its caller.
public enum AdminAccess: Sendable, Equatable {
    /// Read work orders and KPIs (scoped to a unit for unit staff).
    case readTickets
    /// Append events to work orders (scoped to a unit for unit staff).
    case writeTickets
    /// Read the dialplans.
    case readConfiguration
    /// Publish, roll back or reload a dialplan.
    case changeConfiguration
    /// See the contact centre: seats, queues, agents.
    case readContactCentre
    /// Run it: log agents in and out, pause them, change the licensed seats.
    case operateContactCentre
    /// Drain the node (admin only).
    case operateNode
    /// The agent desk: one's own agent, calls and their work orders (agents only).
    case agentDesk
    /// Search and read the knowledge base (everyone who answers or checks answers).
    case searchKnowledge
    /// Import articles into the knowledge base (admins).
    case editKnowledge
}

extension AdminRole {
    public func allows(_ access: AdminAccess) -> Bool {
        switch (self, access) {
        case (.admin, .agentDesk): false
        case (.admin, _): true
        case (_, .searchKnowledge): true
        case (.agent, .agentDesk): true
        case (.unitStaff, .readTickets), (.unitStaff, .writeTickets): true
        case (.auditor, .readTickets), (.auditor, .readConfiguration), (.auditor, .readContactCentre): true
        default: false
        }
    }

    /// Whether callers' numbers are shown in full (auditors see them masked).
    public var seesCallers: Bool { self != .auditor }
}

/// Who is calling the admin API, once authenticated.
public struct AdminPrincipal: Sendable, Equatable {
    /// The token's name from the tokens file (`admin` for `HOTLINE_ADMIN_TOKEN`, `loopback`
    /// without tokens). Never the token itself.
    public var name: String
    public var role: AdminRole
    /// For unit staff: the unit whose subtree they see and act on.
    public var unit: UnitID?
    /// For agents: their id in agents.yaml (`a1001`).
    public var agent: String?

    public init(name: String, role: AdminRole, unit: UnitID? = nil, agent: String? = nil) {
        self.name = name
        self.role = role
        self.unit = unit
        self.agent = agent
    }

    /// Recorded as the actor of the events this principal appends: `api:<name>`.
    public var actor: String { "api:\(name)" }
}

/// The admin API's authentication: bearer tokens (kept as SHA-256 digests, compared in
/// constant time), or — with no token configured — loopback clients only, as admins.
public struct AdminAuth: Sendable {
    struct Entry: Sendable {
        var digest: [UInt8]
        var principal: AdminPrincipal
        /// Whether the file holds the token itself rather than its digest.
        var plainText = false
    }

    private let entries: [Entry]
    /// The console's signed-in browsers (AdminSessions.swift).
    public let sessions: AdminSessions

    /// No tokens: loopback clients only.
    public static var loopbackOnly: AdminAuth { AdminAuth(entries: []) }

    init(entries: [Entry], sessions: AdminSessions = AdminSessions()) {
        self.entries = entries
        self.sessions = sessions
    }

    /// Whether clients must present a token (otherwise only loopback clients are served).
    public var requiresToken: Bool { !entries.isEmpty }

    /// How many tokens each role has, for the start-up log.
    public var summary: String {
        AdminRole.allCases.compactMap { role in
            let count = entries.count { $0.principal.role == role }
            return count == 0 ? nil : "\(role.rawValue)=\(count)"
        }.joined(separator: " ")
    }

    /// The tokens of `tokensFile` (if given) and `adminToken` (`HOTLINE_ADMIN_TOKEN`, an admin
    /// named `admin`). `units` is where unit staff's units must be.
    public static func load(tokensFile: String?, adminToken: String?, units: UnitDirectory)
        throws(AdminTokensError) -> (auth: AdminAuth, warnings: [String])
    {
        var entries: [Entry] = []
        var warnings: [String] = []
        if let tokensFile {
            guard let data = FileManager.default.contents(atPath: tokensFile) else {
                throw AdminTokensError(issues: ["\(tokensFile): cannot read the file"])
            }
            entries = try parse(yaml: String(decoding: data, as: UTF8.self), file: tokensFile, units: units)
            if let permissions = (try? FileManager.default.attributesOfItem(atPath: tokensFile))?[.posixPermissions] as? Int,
               permissions & 0o077 != 0, entries.contains(where: \.plainText)
            {
                warnings.append("\(tokensFile) holds tokens in plain text and other users can read it "
                + "(mode \(String(permissions & 0o777, radix: 8))): chmod 600 it, or keep sha256 digests in it")
            }
        }
        if let adminToken, !adminToken.isEmpty {
            // The same floor as a file's tokens: the variable is no weaker a way in.
            guard adminToken.count >= minimumTokenLength else {
                throw AdminTokensError(issues: ["HOTLINE_ADMIN_TOKEN is too short (\(adminToken.count) characters): "
                    + "use at least \(minimumTokenLength) (e.g. openssl rand -hex 24)"])
            }
            entries.append(Entry(digest: digest(of: adminToken), principal: AdminPrincipal(name: "admin", role: .admin)))
        }
        return (AdminAuth(entries: entries), warnings)
    }

    /// Parses a tokens file:
    ///
    /// ```yaml
    /// tokens:
    ///   - name: centre-admin          # recorded as the actor of its events: api:centre-admin
    ///     role: admin                 # admin | unit_staff | auditor
    ///     sha256: 5e884898da2804...   # the token's SHA-256 (printf %s TOKEN | sha256sum), or
    ///   - name: xingqing-desk
    ///     role: unit_staff
    ///     unit: yinchuan.xingqing     # unit staff only: their unit (from units.yaml)
    ///     token: "at least 16 characters"
    ///   - name: agent-1001
    ///     role: agent
    ///     agent: a1001                # agents only: their id in agents.yaml
    ///     sha256: ...
    /// ```
    ///
    /// Every issue is reported, each with its `file:line:column`.
    static func parse(yaml: String, file: String, units: UnitDirectory) throws(AdminTokensError) -> [Entry] {
        var issues: [String] = []
        func issue(_ node: Node?, _ message: String) {
            let line = node?.mark?.line ?? 1, column = node?.mark?.column ?? 1
            issues.append("\(file):\(line):\(column): \(message)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw AdminTokensError(issues: ["\(file): not YAML: \(error)"])
        }
        guard let root, case .mapping(let top) = root, let list = top["tokens"] else {
            throw AdminTokensError(issues: ["\(file):1:1: expected a mapping with a 'tokens' list"])
        }
        for key in top.keys where key.string != "tokens" { issue(key, "unknown key '\(key.string ?? "?")'") }
        guard case .sequence(let items) = list else {
            throw AdminTokensError(issues: ["\(file):\(list.mark?.line ?? 1):\(list.mark?.column ?? 1): 'tokens' must be a list"])
        }
        var entries: [Entry] = []
        var names: Set<String> = []
        var digests: Set<[UInt8]> = []
        let allowedKeys = ["name", "role", "unit", "agent", "token", "sha256"]
        for item in items {
            guard case .mapping(let fields) = item else {
                issue(item, "each token is a mapping with name, role and token or sha256")
                continue
            }
            for key in fields.keys where !allowedKeys.contains(key.string ?? "") {
                issue(key, "unknown key '\(key.string ?? "?")'; a token has " + allowedKeys.joined(separator: ", "))
            }
            guard let name = fields["name"]?.string, !name.isEmpty,
                  name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:@".contains($0)) })
            else {
                issue(fields["name"] ?? item, "a token needs a name: letters, digits, - _ . : @ (it is recorded as the actor of its events)")
                continue
            }
            if !names.insert(name).inserted { issue(fields["name"], "a second token named '\(name)'") }
            guard let roleText = fields["role"]?.string, let role = AdminRole(rawValue: roleText) else {
                issue(fields["role"] ?? item, "token '\(name)' needs a role: " + AdminRole.allCases.map(\.rawValue).joined(separator: ", "))
                continue
            }
            var unit: UnitID?
            if role == .unitStaff {
                guard let text = fields["unit"]?.string else {
                    issue(item, "unit_staff token '\(name)' needs a unit")
                    continue
                }
                guard units.unit(UnitID(text)) != nil else {
                    issue(fields["unit"], "no unit '\(text)' in units.yaml")
                    continue
                }
                unit = UnitID(text)
            } else if let extra = fields["unit"] {
                issue(extra, "only unit_staff tokens have a unit")
            }
            var agent: String?
            if role == .agent {
                guard let text = fields["agent"]?.string, !text.isEmpty,
                      text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                    issue(fields["agent"] ?? item, "agent token '\(name)' needs its agent id from agents.yaml (agent: a1001)")
                    continue
                }
                agent = text
            } else if let extra = fields["agent"] {
                issue(extra, "only agent tokens have an agent")
            }
            let digest: [UInt8]
            switch (fields["token"]?.string, fields["sha256"]?.string) {
            case (let token?, nil):
                guard token.count >= minimumTokenLength else {
                    issue(fields["token"], "token '\(name)' is too short: use at least \(minimumTokenLength) characters (e.g. openssl rand -hex 24)")
                    continue
                }
                digest = Self.digest(of: token)
            case (nil, let hex?):
                guard let bytes = DigestHashing.bytes(fromHex: hex), bytes.count == 32 else {
                    issue(fields["sha256"], "sha256 of '\(name)' is not 64 hex digits")
                    continue
                }
                digest = bytes
            default:
                issue(item, "token '\(name)' needs exactly one of token or sha256")
                continue
            }
            if !digests.insert(digest).inserted { issue(item, "token '\(name)' is the same token as another one") }
            entries.append(Entry(digest: digest, principal: AdminPrincipal(name: name, role: role, unit: unit, agent: agent),
                                 plainText: fields["token"] != nil))
        }
        if !issues.isEmpty { throw AdminTokensError(issues: issues) }
        return entries
    }

    /// Tokens shorter than this (in the file or `HOTLINE_ADMIN_TOKEN`) are refused at start-up.
    static let minimumTokenLength = 16

    /// A token as it is kept: its SHA-256, never the token itself.
    static func digest(of token: some StringProtocol) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// Who sent `request`, or the response refusing it: a bearer token, else the console's
    /// session cookie (with its CSRF token on anything but GET), else — with no token configured —
    /// a loopback client. 401 without valid credentials, 403 for a client off loopback when no
    /// token is configured, for a missing CSRF token, or for a change sent from another origin.
    public func authenticate(_ request: AdminRequest) -> AdminAuthorization {
        if let refusal = Self.crossOriginRefusal(request) { return .refused(refusal) }
        if request.authorization == nil, let cookie = request.cookie(AdminSessions.cookie) {
            guard let session = sessions.session(cookie) else {
                return .refused(.error(.unauthorized, code: "session_expired", "the session has ended: sign in again"))
            }
            if !Self.isSafe(request), !DigestHashing.constantTimeEquals(Array((request.headers["x-csrf-token"] ?? "").utf8),
                                                                         Array(session.csrfToken.utf8)) {
                return .refused(.error(.forbidden, code: "csrf", "send the session's X-CSRF-Token with every change"))
            }
            return .allowed(session.principal)
        }
        guard requiresToken else {
            return request.fromLoopback ? .allowed(AdminPrincipal(name: "loopback", role: .admin))
                : .refused(.error(.forbidden, code: "loopback_only",
                                  "no admin token is configured, so the admin API serves loopback clients only"))
        }
        guard let header = request.authorization, header.count > 7,
              header.prefix(7).lowercased() == "bearer "
        else {
            return .refused(.error(.unauthorized, code: "unauthorized", "send Authorization: Bearer TOKEN",
                                   headers: [("WWW-Authenticate", "Bearer realm=\"hotline\"")]))
        }
        guard let found = principal(forToken: header.dropFirst(7).trimmingCharacters(in: .whitespaces)) else {
            return .refused(.error(.unauthorized, code: "unauthorized", "unknown bearer token",
                                   headers: [("WWW-Authenticate", "Bearer realm=\"hotline\", error=\"invalid_token\"")]))
        }
        return .allowed(found)
    }

    /// The holder of `token`, if it is one of ours. Every entry is compared, whichever matches,
    /// so the time taken says nothing about which.
    func principal(forToken token: String) -> AdminPrincipal? {
        let presented = Self.digest(of: token)
        var found: AdminPrincipal?
        for entry in entries where DigestHashing.constantTimeEquals(entry.digest, presented) {
            found = entry.principal
        }
        return found
    }

    /// The console's sign-in: who a token (or, with no token configured, a loopback client)
    /// is, for a new session.
    public func signIn(token: String, fromLoopback: Bool) -> AdminAuthorization {
        guard requiresToken else {
            return fromLoopback ? .allowed(AdminPrincipal(name: "loopback", role: .admin))
                : .refused(.error(.forbidden, code: "loopback_only",
                                  "no admin token is configured, so the console serves loopback clients only"))
        }
        guard let principal = principal(forToken: token) else {
            return .refused(.error(.unauthorized, code: "unauthorized", "unknown token"))
        }
        return .allowed(principal)
    }

    static func isSafe(_ request: AdminRequest) -> Bool { request.method == .GET || request.method == .HEAD }

    /// A change whose `Origin` is not this listener (a page elsewhere posting to us: the
    /// browser sends the cookie, or a loopback-only server would trust it) is refused.
    static func crossOriginRefusal(_ request: AdminRequest) -> AdminResponse? {
        guard !isSafe(request), let origin = request.headers["origin"] else { return nil }
        let host = request.headers["host"] ?? ""
        guard let url = URL(string: origin), let originHost = url.host else {
            return .error(.forbidden, code: "cross_origin", "a change from origin \(origin) is refused")
        }
        let bracketed = originHost.contains(":") && !originHost.hasPrefix("[") ? "[\(originHost)]" : originHost
        let originAuthority = url.port.map { "\(bracketed):\($0)" } ?? bracketed
        return originAuthority == host || (url.port == nil && host == "\(bracketed):80") ? nil
            : .error(.forbidden, code: "cross_origin", "a change from origin \(origin) is refused")
    }

    /// ``authenticate(_:)``, then whether the principal's role allows `access` (403 if not).
    public func authorize(_ request: AdminRequest, for access: AdminAccess) -> AdminAuthorization {
        let authentication = authenticate(request)
        guard case .allowed(let principal) = authentication else { return authentication }
        guard principal.role.allows(access) else {
            let what = switch access {
            case .readTickets: "read work orders"
            case .writeTickets: "change work orders"
            case .readConfiguration: "read the dialplans"
            case .changeConfiguration: "change the dialplans"
            case .readContactCentre: "see the contact centre"
            case .operateContactCentre: "run the contact centre (agents, seats)"
            case .operateNode: "drain the node"
            case .agentDesk: "use the agent desk (agent tokens only)"
            case .searchKnowledge: "search the knowledge base"
            case .editKnowledge: "import knowledge-base articles"
            }
            return .refused(.error(.forbidden, code: "forbidden", "role \(principal.role.rawValue) may not \(what)"))
        }
        return .allowed(principal)
    }
}

/// Whether a request may go on, and as whom.
public enum AdminAuthorization: Sendable {
    case allowed(AdminPrincipal)
    /// The response to send instead (401, 403).
    case refused(AdminResponse)
}

/// Why a tokens file was refused: every issue, located.
public struct AdminTokensError: Error, Sendable, CustomStringConvertible {
    public var issues: [String]
    public var description: String { issues.joined(separator: "\n") }
}

/// The JSON error body every `/api` route answers with: `{"error": "...", "code": "..."}`.
struct AdminErrorBody: Encodable {
    var error: String
    var code: String
}

extension AdminResponse {
    /// An error as JSON: `{"code": "event_refused", "error": "work order ...: ..."}`.
    static func error(_ status: HTTPResponseStatus, code: String, _ message: String,
                      headers: [(String, String)] = []) -> AdminResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(AdminErrorBody(error: message, code: code))).map { String(decoding: $0, as: UTF8.self) }
            ?? "{\"code\":\"\(code)\",\"error\":\"\"}"
        return AdminResponse(status: status, contentType: "application/json", body: body + "\n", headers: headers)
    }
}
