// ACDConfig: agents.yaml and queues.yaml. This file: `agents.yaml` — who the agents are, their
// skills and seats, and their passwords as digest HA1 only.

import ACD
import ConfigFiles
import SDP
import SIPAuth
import Yams

/// One agent as `agents.yaml` defines them: the ACD's profile and the registrar's credentials.
public struct AgentDefinition: Hashable, Sendable {
    public var profile: AgentProfile
    public var credentials: DigestCredentials
    /// SRTP for this agent's calls (`media_encryption`); keys travel only over TLS.
    public var mediaEncryption: MediaEncryption = .none
}

/// `agents.yaml`:
///
/// ```yaml
/// realm: hotline                  # the digest realm the HA1 values were computed for
/// licensed_seats: 20              # at most this many agents logged in at once
/// digest_algorithms: [sha256, md5]   # challenge order; [md5] for MD5-only phones
/// logout_unreachable_after: 10m   # optional: free the seat of a silent phone
/// pause_reasons: {"1": break, "2": lunch}   # *23<code>
/// agents:
///   - id: a1001
///     name: 王芳
///     sip_username: "1001"
///     seat: on_site                 # or home
///     skills: {enterprise: 4, tax: 2}   # levels 1–5
///     ha1_md5: 0123…(32 hex)        # hotline agents passwd 1001 prints both
///     ha1_sha256: 0123…(64 hex)
///     media_encryption: required    # none (default), optional or required: SRTP, over TLS
/// ```
public struct AgentsFile: Hashable, Sendable {
    public var realm: String
    public var licensedSeats: Int
    public var digestAlgorithms: [DigestAlgorithm]
    public var logoutUnreachableAfter: Duration?
    /// `*23<code>` → reason.
    public var pauseReasons: [String: PauseReason]
    public var agents: [AgentDefinition]

    static let topKeys = ["realm", "licensed_seats", "digest_algorithms", "logout_unreachable_after", "pause_reasons", "agents"]
    static let agentKeys = ["id", "name", "sip_username", "seat", "skills", "ha1_md5", "ha1_sha256", "media_encryption"]
    static let passwordAdvice = "passwords are never stored: put the HA1 values that 'hotline agents passwd' prints in ha1_md5 and ha1_sha256"

    /// The YAML lines an admin pastes into an agent's entry for a new password (what
    /// `hotline agents passwd` prints). The password itself is not kept anywhere.
    public static func ha1Lines(sipUsername: String, password: String, realm: String = "hotline") -> String {
        let credentials = DigestCredentials(username: sipUsername, realm: realm, password: password)
        return "ha1_md5: \(credentials.ha1[.md5]!)\nha1_sha256: \(credentials.ha1[.sha256]!)\n"
    }

    static func parse(_ root: Node?, reader: inout LocatedYAMLReader) -> AgentsFile? {
        guard let root, let entries = reader.mapping(root, path: "", allowed: topKeys) else { return nil }
        let fields = Dictionary(entries.map { ($0.key, ($0.keyNode, $0.value)) }, uniquingKeysWith: { a, _ in a })
        var file = AgentsFile(realm: "hotline", licensedSeats: 0, digestAlgorithms: DigestAlgorithm.supported,
                              logoutUnreachableAfter: nil, pauseReasons: [:], agents: [])
        if let (_, node) = fields["realm"], let realm = reader.text(node, path: "realm") { file.realm = realm }
        if let (_, node) = fields["licensed_seats"] {
            file.licensedSeats = reader.integer(node, path: "licensed_seats", range: 0...100_000) ?? 0
        } else {
            reader.issue("missing key 'licensed_seats' (how many agents may be logged in at once)", at: root, path: "")
        }
        if let (_, node) = fields["digest_algorithms"], let items = reader.sequence(node, path: "digest_algorithms") {
            var algorithms: [DigestAlgorithm] = []
            for item in items {
                guard let text = reader.text(item, path: "digest_algorithms") else { continue }
                switch text {
                case "sha256": algorithms.append(.sha256)
                case "md5": algorithms.append(.md5)
                default: reader.issue("unknown digest algorithm '\(text)'", at: item, path: "digest_algorithms", hint: "sha256 or md5")
                }
            }
            if algorithms.isEmpty { reader.issue("at least one digest algorithm is needed", at: node, path: "digest_algorithms") }
            if Set(algorithms).count != algorithms.count { reader.issue("an algorithm is listed twice", at: node, path: "digest_algorithms") }
            if !algorithms.isEmpty { file.digestAlgorithms = algorithms }
        }
        if let (_, node) = fields["logout_unreachable_after"] {
            file.logoutUnreachableAfter = reader.text(node, path: "logout_unreachable_after") == "off"
                ? nil : reader.duration(node, path: "logout_unreachable_after")
        }
        if let (_, node) = fields["pause_reasons"], let reasons = reader.mapping(node, path: "pause_reasons") {
            for reason in reasons {
                let path = reader.join("pause_reasons", reason.key)
                guard reason.key.count <= 2, reason.key.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                    reader.issue("pause reason codes are one or two digits (dialled after *23)", at: reason.keyNode, path: path)
                    continue
                }
                if let name = reader.name(reason.value, path: path, what: "pause reason") { file.pauseReasons[reason.key] = PauseReason(name) }
            }
        }
        guard let (_, agentsNode) = fields["agents"] else {
            reader.issue("missing key 'agents'", at: root, path: "")
            return file
        }
        guard let items = reader.sequence(agentsNode, path: "agents") else { return file }
        var ids: [String: Node] = [:]
        var usernames: [String: Node] = [:]
        for (index, item) in items.enumerated() {
            let path = "agents.\(index)"
            guard let definition = parseAgent(item, path: path, realm: file.realm, reader: &reader) else { continue }
            if let first = ids[definition.profile.id.rawValue] {
                reader.issue("agent id '\(definition.profile.id)' is already used at line \(first.mark?.line ?? 0)", at: item, path: path)
                continue
            }
            if let first = usernames[definition.profile.sipUsername] {
                reader.issue("sip_username '\(definition.profile.sipUsername)' is already used at line \(first.mark?.line ?? 0)", at: item,
                             path: path)
                continue
            }
            ids[definition.profile.id.rawValue] = item
            usernames[definition.profile.sipUsername] = item
            file.agents.append(definition)
        }
        return file
    }

    private static func parseAgent(_ node: Node, path: String, realm: String, reader: inout LocatedYAMLReader) -> AgentDefinition? {
        guard let entries = reader.mapping(node, path: path, allowed: agentKeys, advice: ["password": passwordAdvice]) else { return nil }
        let fields = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var ok = true
        func required(_ key: String) -> Node? {
            if let value = fields[key] { return value }
            reader.issue("missing key '\(key)'", at: node, path: path, hint: key.hasPrefix("ha1") ? passwordAdvice : nil)
            ok = false
            return nil
        }
        var id: String?
        if let value = required("id"), let text = reader.text(value, path: reader.join(path, "id")) {
            if text.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0) }),
               let first = text.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first)
            {
                id = text
            } else {
                reader.issue("'\(text)' is not a valid agent id", at: value, path: reader.join(path, "id"),
                             hint: "lower-case letters, digits, '_', '.', '-'; it is stored on every ticket, keep it stable")
            }
        }
        let name = required("name").flatMap { reader.text($0, path: reader.join(path, "name")) }
        var username: String?
        if let value = required("sip_username"), let text = reader.text(value, path: reader.join(path, "sip_username")) {
            if text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "@") && $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "\"") }) {
                username = text
            } else {
                reader.issue("'\(text)' is not a usable SIP username", at: value, path: reader.join(path, "sip_username"),
                             hint: "letters, digits and punctuation other than '@', ':' and '\"'")
            }
        }
        var seat = SeatKind.onSite
        if let value = fields["seat"], let text = reader.text(value, path: reader.join(path, "seat")) {
            if let kind = SeatKind(rawValue: text) { seat = kind } else {
                reader.issue("unknown seat '\(text)'", at: value, path: reader.join(path, "seat"), hint: "home or on_site")
                ok = false
            }
        }
        var skills: [Skill: Int] = [:]
        if let value = fields["skills"] {
            skills = parseSkills(value, path: reader.join(path, "skills"), reader: &reader) ?? { ok = false; return [:] }()
        }
        var ha1: [DigestAlgorithm: String] = [:]
        for (key, algorithm) in [("ha1_md5", DigestAlgorithm.md5), ("ha1_sha256", .sha256)] {
            guard let value = required(key), let text = reader.text(value, path: reader.join(path, key)) else { continue }
            guard text.utf8.count == algorithm.hexLength!, DigestHashing.bytes(fromHex: text) != nil else {
                reader.issue("\(key) must be \(algorithm.hexLength!) hexadecimal digits", at: value, path: reader.join(path, key),
                             hint: passwordAdvice)
                ok = false
                continue
            }
            ha1[algorithm] = text.lowercased()
        }
        var encryption = MediaEncryption.none
        if let value = fields["media_encryption"], let text = reader.text(value, path: reader.join(path, "media_encryption")) {
            if let policy = MediaEncryption(rawValue: text) { encryption = policy } else {
                reader.issue("unknown media_encryption '\(text)'", at: value, path: reader.join(path, "media_encryption"),
                             hint: "none, optional or required (SRTP with SDES keys, sent only over SIP/TLS)")
                ok = false
            }
        }
        guard ok, let id, let name, let username, ha1.count == 2 else { return nil }
        return AgentDefinition(
            profile: AgentProfile(id: AgentID(id), name: name, sipUsername: username, skills: skills, seat: seat),
            credentials: DigestCredentials(username: username, realm: realm, ha1: ha1), mediaEncryption: encryption)
    }

    /// `{skill: level, ...}` with levels 1–5.
    static func parseSkills(_ node: Node, path: String, reader: inout LocatedYAMLReader) -> [Skill: Int]? {
        guard let entries = reader.mapping(node, path: path) else { return nil }
        var skills: [Skill: Int] = [:]
        var ok = true
        for entry in entries {
            let skillPath = reader.join(path, entry.key)
            guard LocatedYAMLReader.isName(entry.key) else {
                reader.issue("'\(entry.key)' is not a valid skill name", at: entry.keyNode, path: skillPath,
                             hint: "lower-case letters, digits and '_', starting with a letter")
                ok = false
                continue
            }
            guard let level = reader.integer(entry.value, path: skillPath, range: skillLevels) else { ok = false; continue }
            skills[Skill(entry.key)] = level
        }
        return ok ? skills : nil
    }
}
