// Outbound: the calls the server places (return visits, callbacks, car owners' notices).
// Pure: trunks and rules as values, the schedule as a state machine with time as an input;
// HotlineServer carries out its actions over SIP.
//
// This file: a trunk (`Dialplans/trunks.yaml`) and its file.

import ConfigFiles
import SIPAuth
import Yams

/// Where outbound calls leave: a carrier's SIP trunk or the Kamailio front.
public struct Trunk: Hashable, Sendable {
    public var name: String
    /// `sip:host[:port]`: the INVITE's next hop; the Request-URI is `sip:<number>@host[:port]`.
    public var host: String
    public var port: Int
    /// Digest credentials for a trunk that challenges (401/407); HA1 only, never a password.
    public var credentials: DigestCredentials?
    /// The number presented in From (the hotline's own, or a masked number).
    public var callerID: String
    /// P-Asserted-Identity toward a trusted carrier (RFC 3325), if it wants one.
    public var assertedIdentity: String?
    /// New calls per second through this trunk, and calls up at once.
    public var callsPerSecond: Double
    public var maxConcurrent: Int
    /// How long a call may ring before we CANCEL it (no answer).
    public var ringTimeout: Duration

    public init(name: String, host: String, port: Int = 5060, credentials: DigestCredentials? = nil, callerID: String,
                assertedIdentity: String? = nil, callsPerSecond: Double = 10, maxConcurrent: Int = 30,
                ringTimeout: Duration = .seconds(40)) {
        self.name = name
        self.host = host
        self.port = port
        self.credentials = credentials
        self.callerID = callerID
        self.assertedIdentity = assertedIdentity
        self.callsPerSecond = callsPerSecond
        self.maxConcurrent = maxConcurrent
        self.ringTimeout = ringTimeout
    }
}

/// `Dialplans/trunks.yaml`:
///
/// ```yaml
/// default: carrier                # the trunk services use unless they name another
/// trunks:
///   - name: carrier
///     uri: "sip:10.0.0.5:5060"    # host and port the INVITEs go to
///     username: hotline           # digest, when the trunk challenges
///     realm: carrier.example
///     ha1_md5: 0123…(32 hex)      # `hotline agents passwd` prints HA1 values
///     caller_id: "12345"          # the number citizens see
///     p_asserted_identity: "sip:12345@gov.example"   # optional (RFC 3325)
///     calls_per_second: 20
///     max_concurrent: 60
///     ring_timeout: 40s
/// ```
public struct TrunksFile: Hashable, Sendable {
    public var trunks: [Trunk]
    public var defaultTrunk: String

    static let topKeys = ["default", "trunks"]
    static let trunkKeys = ["name", "uri", "username", "realm", "ha1_md5", "ha1_sha256", "caller_id", "p_asserted_identity",
                            "calls_per_second", "max_concurrent", "ring_timeout"]

    public init(trunks: [Trunk], defaultTrunk: String? = nil) {
        self.trunks = trunks
        self.defaultTrunk = defaultTrunk ?? trunks.first?.name ?? ""
    }

    public func trunk(named name: String?) -> Trunk? {
        let wanted = name ?? defaultTrunk
        return trunks.first { $0.name == wanted }
    }

    /// Reads and checks `path`; every problem is reported with its line and column.
    public static func load(contentsOf path: String) throws(ConfigError) -> TrunksFile {
        var reader = LocatedYAMLReader(file: path)
        let file = parse(reader.compose(contentsOf: path), reader: &reader)
        if let error = reader.error(), reader.hasErrors { throw error }
        guard let file else { throw ConfigError(issues: reader.issues) }
        return file
    }

    /// As ``load(contentsOf:)`` for text (tests, the admin API).
    public static func load(_ text: String, file: String = "trunks.yaml") throws(ConfigError) -> TrunksFile {
        var reader = LocatedYAMLReader(file: file)
        let parsed = parse(reader.compose(text), reader: &reader)
        if let error = reader.error(), reader.hasErrors { throw error }
        guard let parsed else { throw ConfigError(issues: reader.issues) }
        return parsed
    }

    static func parse(_ root: Node?, reader: inout LocatedYAMLReader) -> TrunksFile? {
        guard let root, let entries = reader.mapping(root, path: "", allowed: topKeys) else { return nil }
        let fields = Dictionary(entries.map { ($0.key, ($0.keyNode, $0.value)) }, uniquingKeysWith: { a, _ in a })
        guard let (_, list) = fields["trunks"], let items = reader.sequence(list, path: "trunks") else {
            if fields["trunks"] == nil { reader.issue("missing key 'trunks'", at: root, path: "") }
            return nil
        }
        var trunks: [Trunk] = []
        var seen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let path = "trunks.\(index)"
            guard let trunk = parseTrunk(item, path: path, reader: &reader) else { continue }
            if let line = seen[trunk.name] {
                reader.issue("trunk '\(trunk.name)' is already defined at line \(line)", at: item, path: path)
                continue
            }
            seen[trunk.name] = item.mark?.line ?? 0
            trunks.append(trunk)
        }
        if trunks.isEmpty, !reader.hasErrors { reader.issue("no trunk is defined", at: list, path: "trunks") }
        var file = TrunksFile(trunks: trunks)
        if let (_, node) = fields["default"], let name = reader.text(node, path: "default") {
            if seen[name] == nil {
                reader.issue("no trunk '\(name)'", at: node, path: "default", hint: "defined: \(trunks.map(\.name).joined(separator: ", "))")
            }
            file.defaultTrunk = name
        }
        return file
    }

    static func parseTrunk(_ node: Node, path: String, reader: inout LocatedYAMLReader) -> Trunk? {
        guard let entries = reader.mapping(node, path: path, allowed: trunkKeys) else { return nil }
        let f = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var ok = true
        func required(_ key: String, _ what: String) -> String? {
            guard let value = f[key] else {
                reader.issue("missing key '\(key)' (\(what))", at: node, path: path)
                ok = false
                return nil
            }
            return reader.text(value, path: reader.join(path, key))
        }
        let name = f["name"].flatMap { reader.name($0, path: reader.join(path, "name"), what: "trunk") }
        if f["name"] == nil { reader.issue("missing key 'name'", at: node, path: path); ok = false }
        var host = "", port = 5060
        if let uri = required("uri", "sip:host[:port] the INVITEs go to"), let uriNode = f["uri"] {
            if let (h, p) = parseHostPort(uri) {
                (host, port) = (h, p)
            } else {
                reader.issue("'\(uri)' is not a sip:host[:port] URI", at: uriNode, path: reader.join(path, "uri"), hint: "e.g. sip:10.0.0.5:5060")
                ok = false
            }
        }
        let callerID = required("caller_id", "the number citizens see")
        if let callerID, let callerNode = f["caller_id"], !isNumber(callerID) {
            reader.issue("caller_id '\(callerID)' is not a number", at: callerNode, path: reader.join(path, "caller_id"),
                         hint: "digits and an optional leading +")
            ok = false
        }
        var credentials: DigestCredentials?
        let ha1Keys = [("ha1_md5", DigestAlgorithm.md5, 32), ("ha1_sha256", .sha256, 64)]
        var ha1: [DigestAlgorithm: String] = [:]
        for (key, algorithm, length) in ha1Keys {
            guard let value = f[key], let text = reader.text(value, path: reader.join(path, key)) else { continue }
            guard text.count == length, text.allSatisfy(\.isHexDigit) else {
                reader.issue("\(key) must be \(length) hex digits (the HA1, never the password)", at: value, path: reader.join(path, key))
                ok = false
                continue
            }
            ha1[algorithm] = text
        }
        if let userNode = f["username"], let username = reader.text(userNode, path: reader.join(path, "username")) {
            if ha1.isEmpty {
                reader.issue("'username' needs ha1_md5 or ha1_sha256", at: userNode, path: reader.join(path, "username"))
                ok = false
            }
            let realm = f["realm"].flatMap { reader.text($0, path: reader.join(path, "realm")) } ?? ""
            credentials = DigestCredentials(username: username, realm: realm, ha1: ha1)
        } else if !ha1.isEmpty {
            reader.issue("HA1 values need a 'username'", at: node, path: path)
            ok = false
        }
        var trunk = Trunk(name: name ?? "", host: host, port: port, credentials: credentials, callerID: callerID ?? "")
        if let value = f["p_asserted_identity"] { trunk.assertedIdentity = reader.text(value, path: reader.join(path, "p_asserted_identity")) }
        if let value = f["calls_per_second"], let n = reader.integer(value, path: reader.join(path, "calls_per_second"), range: 1...10_000) {
            trunk.callsPerSecond = Double(n)
        }
        if let value = f["max_concurrent"], let n = reader.integer(value, path: reader.join(path, "max_concurrent"), range: 1...100_000) {
            trunk.maxConcurrent = n
        }
        if let value = f["ring_timeout"], let d = reader.duration(value, path: reader.join(path, "ring_timeout")) { trunk.ringTimeout = d }
        return ok && name != nil ? trunk : nil
    }

    /// `sip:host[:port]` (a `;transport=udp` parameter is allowed and ignored: UDP is what we use).
    static func parseHostPort(_ uri: String) -> (String, Int)? {
        guard uri.hasPrefix("sip:") else { return nil }
        var rest = Substring(uri.dropFirst(4))
        if let semicolon = rest.firstIndex(of: ";") { rest = rest[..<semicolon] }
        if rest.contains("@") { return nil }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty, parts.count <= 2 else { return nil }
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            return (String(host), port)
        }
        return (String(host), 5060)
    }

    /// Whether `text` is a number a trunk can be asked to call (digits, an optional leading +).
    public static func isCallable(_ text: String) -> Bool { text.count <= 32 && isNumber(text) }

    static func isNumber(_ text: String) -> Bool {
        let body = text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        return !body.isEmpty && body.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
