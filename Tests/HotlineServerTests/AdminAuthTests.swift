import Foundation
import NIOHTTP1
import SIPAuth
import Testing
import Tickets
@testable import HotlineServer

/// The admin API's tokens: SHA-256, the tokens file, and who may do what.
@Suite struct AdminAuthTests {
    static let units = try! UnitDirectory(units: [
        Unit(id: "ningxia", name: "宁夏回族自治区", kind: .region),
        Unit(id: "yinchuan", name: "银川市", kind: .city, parent: "ningxia"),
        Unit(id: "yinchuan.xingqing", name: "兴庆区", kind: .county, parent: "yinchuan"),
    ])

    static let file = """
        tokens:
          - name: centre
            role: admin
            token: "admin-token-0123456789"
          - name: xingqing-desk
            role: unit_staff
            unit: yinchuan.xingqing
            sha256: \(DigestHashing.hex(AdminAuth.digest(of: "unit-token-0123456789")))
          - name: inspector
            role: auditor
            token: "auditor-token-0123456789"
          - name: expert-desk
            role: agent
            agent: a1003
            token: "agent-token-0123456789"
        """

    static func request(_ authorization: String?, loopback: Bool = false) -> AdminRequest {
        var request = AdminRequest(method: .GET, path: "/api/tickets", query: [:])
        request.authorization = authorization
        request.fromLoopback = loopback
        return request
    }

    @Test func tokenDigestsMatchTheStandardSHA256Vectors() {
        func hex(_ token: String) -> String { DigestHashing.hex(AdminAuth.digest(of: token)) }
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func eachTokenAuthenticatesAsItsNameAndRole() throws {
        let auth = AdminAuth(entries: try AdminAuth.parse(yaml: Self.file, file: "tokens.yaml", units: Self.units))
        #expect(auth.requiresToken)
        #expect(auth.summary == "admin=1 unit_staff=1 auditor=1 agent=1")
        guard case .allowed(let admin) = auth.authenticate(Self.request("Bearer admin-token-0123456789")) else {
            Issue.record("admin token refused"); return
        }
        #expect(admin == AdminPrincipal(name: "centre", role: .admin))
        #expect(admin.actor == "api:centre")
        guard case .allowed(let staff) = auth.authenticate(Self.request("bearer unit-token-0123456789")) else {
            Issue.record("unit token (kept as a digest) refused"); return
        }
        #expect(staff == AdminPrincipal(name: "xingqing-desk", role: .unitStaff, unit: "yinchuan.xingqing"))
        // A token is needed even from loopback once tokens are configured.
        for header in [nil, "Bearer wrong-token-0123456789", "Basic YWRtaW46YWRtaW4=", "Bearer "] as [String?] {
            guard case .refused(let response) = auth.authenticate(Self.request(header, loopback: true)) else {
                Issue.record("\(header ?? "no header") accepted"); continue
            }
            #expect(response.status == .unauthorized)
            #expect(response.headers.contains { $0.0 == "WWW-Authenticate" })
            #expect(response.body.contains("\"code\":\"unauthorized\""))
        }
    }

    @Test func rolesAllowWhatTheyShould() throws {
        let auth = AdminAuth(entries: try AdminAuth.parse(yaml: Self.file, file: "tokens.yaml", units: Self.units))
        func status(_ token: String, _ access: AdminAccess) -> HTTPResponseStatus {
            switch auth.authorize(Self.request("Bearer \(token)"), for: access) {
            case .allowed: .ok
            case .refused(let response): response.status
            }
        }
        let admin = "admin-token-0123456789", staff = "unit-token-0123456789", auditor = "auditor-token-0123456789"
        for access in [AdminAccess.readTickets, .writeTickets, .readConfiguration, .changeConfiguration] {
            #expect(status(admin, access) == .ok)
        }
        #expect(status(staff, .readTickets) == .ok)
        #expect(status(staff, .writeTickets) == .ok)
        #expect(status(staff, .readConfiguration) == .forbidden)
        #expect(status(staff, .changeConfiguration) == .forbidden)
        #expect(status(auditor, .readTickets) == .ok)
        #expect(status(auditor, .readConfiguration) == .ok)
        #expect(status(auditor, .writeTickets) == .forbidden)
        #expect(status(auditor, .changeConfiguration) == .forbidden)
        #expect(!AdminRole.auditor.seesCallers && AdminRole.unitStaff.seesCallers && AdminRole.admin.seesCallers)
        // An agent has the desk and nothing else; the desk is nobody else's.
        let agent = "agent-token-0123456789"
        #expect(status(agent, .agentDesk) == .ok)
        for access in [AdminAccess.readTickets, .writeTickets, .readConfiguration, .readContactCentre, .operateContactCentre] {
            #expect(status(agent, access) == .forbidden, "\(access)")
        }
        for token in [admin, staff, auditor] { #expect(status(token, .agentDesk) == .forbidden) }
        guard case .allowed(let principal) = auth.authenticate(Self.request("Bearer \(agent)")) else {
            Issue.record("the agent token was refused")
            return
        }
        #expect(principal == AdminPrincipal(name: "expert-desk", role: .agent, agent: "a1003"))
    }

    @Test func withoutTokensOnlyLoopbackClientsAreServedAsAdmins() {
        let auth = AdminAuth.loopbackOnly
        #expect(!auth.requiresToken)
        guard case .allowed(let principal) = auth.authorize(Self.request(nil, loopback: true), for: .changeConfiguration) else {
            Issue.record("loopback refused"); return
        }
        #expect(principal.role == .admin && principal.name == "loopback")
        guard case .refused(let response) = auth.authenticate(Self.request("Bearer anything", loopback: false)) else {
            Issue.record("a remote client was served without tokens"); return
        }
        #expect(response.status == .forbidden)
        #expect(response.body.contains("loopback_only"))
    }

    @Test func theEnvironmentTokenIsAnAdmin() throws {
        let (auth, warnings) = try AdminAuth.load(tokensFile: nil, adminToken: "from-the-environment", units: .empty)
        #expect(warnings.isEmpty)
        guard case .allowed(let principal) = auth.authenticate(Self.request("Bearer from-the-environment")) else {
            Issue.record("HOTLINE_ADMIN_TOKEN refused"); return
        }
        #expect(principal == AdminPrincipal(name: "admin", role: .admin))
        #expect(try !AdminAuth.load(tokensFile: nil, adminToken: "", units: .empty).auth.requiresToken)
    }

    @Test func aShortEnvironmentTokenStopsStartUpNamingTheVariable() throws {
        // 15 characters: one short of the floor the tokens file has always had.
        let error = #expect(throws: AdminTokensError.self) {
            try AdminAuth.load(tokensFile: nil, adminToken: "fifteen-chars-x", units: .empty)
        }
        #expect(error?.description.contains("HOTLINE_ADMIN_TOKEN is too short (15 characters)") == true)
        #expect(error?.description.contains("at least 16") == true)
        // Exactly 16 is enough.
        #expect(try AdminAuth.load(tokensFile: nil, adminToken: "sixteen-chars-xx", units: .empty).auth.requiresToken)
    }

    @Test func aPlainTextFileOthersCanReadIsWarnedAbout() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.file.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(try AdminAuth.load(tokensFile: path, adminToken: nil, units: Self.units).warnings.count == 1)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try AdminAuth.load(tokensFile: path, adminToken: nil, units: Self.units).warnings.isEmpty)
    }

    @Test func everyIssueOfABadFileIsReportedWithItsLocation() {
        let bad = """
            tokens:
              - name: a
                role: auditer
                token: "0123456789abcdef"
              - name: b
                role: unit_staff
                unit: nowhere
                token: "0123456789abcdef"
              - name: c
                role: admin
                token: short
              - name: d
                role: admin
                sha256: "xyz"
              - name: e
                role: admin
              - name: f
                role: admin
                unit: yinchuan
                token: "0123456789abcdefgh"
                colour: red
              - name: g
                role: agent
                token: "0123456789abcdefghi"
              - name: h
                role: auditor
                agent: a1001
                token: "0123456789abcdefghij"
            """
        do {
            _ = try AdminAuth.parse(yaml: bad, file: "tokens.yaml", units: Self.units)
            Issue.record("a bad file was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("tokens.yaml:3:11: token 'a' needs a role: admin, unit_staff, auditor, agent"), "\(text)")
            #expect(text.contains("agent token 'g' needs its agent id from agents.yaml"), "\(text)")
            #expect(text.contains("tokens.yaml:27:12: only agent tokens have an agent"), "\(text)")
            #expect(text.contains("tokens.yaml:7:11: no unit 'nowhere' in units.yaml"), "\(text)")
            #expect(text.contains("tokens.yaml:11:12: token 'c' is too short"), "\(text)")
            #expect(text.contains("tokens.yaml:14:13: sha256 of 'd' is not 64 hex digits"), "\(text)")
            #expect(text.contains("token 'e' needs exactly one of token or sha256"), "\(text)")
            #expect(text.contains("only unit_staff tokens have a unit"), "\(text)")
            #expect(text.contains("unknown key 'colour'"), "\(text)")
        }
    }
}
