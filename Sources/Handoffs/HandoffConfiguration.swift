// Handoffs: the signed webhook between 12345 and a partner centre, sans-IO.
// This file: `handoffs.yaml` — the partners, the transfer targets that mean a hand-off, their
// webhook, the shared secrets (from files or the environment, never from the YAML itself)
// and the clock skew — read with every issue located.

import ConfigFiles
import Foundation
import Yams

/// A partner centre hand-offs go to and come from.
public struct HandoffPartner: Sendable, Equatable, CustomStringConvertible {
    /// Its name on hand-offs and work orders (`110`).
    public var name: String
    /// Transfer targets (`sip:110@110-linkage.example`) whose dialplan `transfer` hands the
    /// call's work order off to this partner.
    public var transferTargets: [String]
    /// Where our hand-offs are POSTed (the partner's `/api/handoffs`).
    public var webhookURL: URL
    /// The shared secrets: the first signs what we send; every one is accepted on what we get
    /// (the others are the previous ones during a rotation).
    public var keys: [HandoffKey]
    /// How far a request's timestamp may be from our clock.
    public var clockSkew: Duration
    /// How long one delivery attempt may take.
    public var timeout: Duration
    public var retry: HandoffRetryPolicy

    public init(name: String, transferTargets: [String], webhookURL: URL, keys: [HandoffKey],
                clockSkew: Duration = .seconds(300), timeout: Duration = .seconds(10), retry: HandoffRetryPolicy = .init()) {
        self.name = name
        self.transferTargets = transferTargets
        self.webhookURL = webhookURL
        self.keys = keys
        self.clockSkew = clockSkew
        self.timeout = timeout
        self.retry = retry
    }

    /// The key that signs our requests.
    public var signingKey: HandoffKey { keys[0] }

    /// Secrets stay out of logs.
    public var description: String {
        "\(name) → \(webhookURL.absoluteString) (keys \(keys.map(\.id).joined(separator: ", ")))"
    }
}

/// Everything `handoffs.yaml` says.
public struct HandoffConfiguration: Sendable, Equatable {
    /// Our name in the hand-offs we send (`from`).
    public var localName: String
    public var partners: [HandoffPartner]

    public init(localName: String, partners: [HandoffPartner]) {
        self.localName = localName
        self.partners = partners
    }

    /// The partner a transfer to `target` hands off to; targets compare without case and
    /// without angle brackets.
    public func partner(forTransferTarget target: String) -> HandoffPartner? {
        let wanted = Self.normalized(target)
        return partners.first { $0.transferTargets.contains { Self.normalized($0) == wanted } }
    }

    /// The partner holding the key with this id (key ids are unique across partners).
    public func partner(forKeyID id: String) -> HandoffPartner? {
        partners.first { $0.keys.contains { $0.id == id } }
    }

    public func partner(named name: String) -> HandoffPartner? {
        partners.first { $0.name == name }
    }

    /// Every key of every partner, for checking a request before knowing who sent it.
    public var allKeys: [HandoffKey] { partners.flatMap(\.keys) }

    static func normalized(_ target: String) -> String {
        target.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")).lowercased()
    }

    /// A secret shorter than this is guessable offline from one captured request.
    public static let minimumSecretBytes = 32

    /// Reads `path`. Secrets come from `secret_env` (looked up in `environment`) or
    /// `secret_file` (read by `readFile`, trailing whitespace dropped), never the YAML.
    public static func load(path: String, environment: [String: String],
                            readFile: (String) -> Data? = { FileManager.default.contents(atPath: $0) })
        throws(ConfigError) -> HandoffConfiguration
    {
        var reader = LocatedYAMLReader(file: path)
        guard let root = reader.compose(contentsOf: path) else { throw reader.error()! }
        return try parse(root, reader: &reader, environment: environment, readFile: readFile)
    }

    /// ``load(path:environment:readFile:)`` of YAML text (`file` names it in issues).
    public static func parse(yaml: String, file: String, environment: [String: String],
                             readFile: (String) -> Data? = { FileManager.default.contents(atPath: $0) })
        throws(ConfigError) -> HandoffConfiguration
    {
        var reader = LocatedYAMLReader(file: file)
        guard let root = reader.compose(yaml) else { throw reader.error()! }
        return try parse(root, reader: &reader, environment: environment, readFile: readFile)
    }

    private static func parse(_ root: Node, reader: inout LocatedYAMLReader, environment: [String: String],
                              readFile: (String) -> Data?) throws(ConfigError) -> HandoffConfiguration {
        var localName: String?
        var partners: [HandoffPartner] = []
        for entry in reader.mapping(root, path: "", allowed: ["local_name", "partners"]) ?? [] {
            switch entry.key {
            case "local_name":
                localName = reader.text(entry.value, path: "local_name")
            default:
                for (index, item) in (reader.sequence(entry.value, path: "partners") ?? []).enumerated() {
                    if let partner = parsePartner(item, path: "partners[\(index)]", reader: &reader, environment: environment,
                                                  readFile: readFile) {
                        partners.append(partner)
                    }
                }
            }
        }
        if localName == nil, !reader.hasErrors {
            reader.issue("local_name is missing", at: root, path: "local_name", hint: "our name in the hand-offs we send, e.g. \"12345\"")
        }
        if partners.isEmpty, !reader.hasErrors {
            reader.issue("no partners", at: root, path: "partners")
        }
        var names = Set<String>(), keyIDs = Set<String>(), targets = Set<String>()
        for partner in partners {
            if !names.insert(partner.name).inserted {
                reader.issue("the partner '\(partner.name)' is listed twice", at: root, path: "partners")
            }
            for key in partner.keys where !keyIDs.insert(key.id).inserted {
                reader.issue("the key id '\(key.id)' is used twice", at: root, path: "partners",
                             hint: "a key id names one partner's secret: requests are told apart by it")
            }
            for target in partner.transferTargets where !targets.insert(normalized(target)).inserted {
                reader.issue("the transfer target '\(target)' is listed twice", at: root, path: "partners")
            }
        }
        if let error = reader.error(), reader.hasErrors { throw error }
        return HandoffConfiguration(localName: localName ?? "", partners: partners)
    }

    private static func parsePartner(_ node: Node, path: String, reader: inout LocatedYAMLReader, environment: [String: String],
                                     readFile: (String) -> Data?) -> HandoffPartner? {
        let allowed = ["name", "transfer_targets", "webhook_url", "keys", "clock_skew", "timeout", "retry"]
        guard let entries = reader.mapping(node, path: path, allowed: allowed,
                                           advice: ["secret": "secrets go in keys: [{id, secret_file or secret_env}]"])
        else { return nil }
        var name: String?, url: URL?, keys: [HandoffKey] = [], targets: [String] = []
        var skew = Duration.seconds(300), timeout = Duration.seconds(10), retry = HandoffRetryPolicy()
        let before = reader.issues.count
        for (key, _, value) in entries {
            let at = reader.join(path, key)
            switch key {
            case "name":
                name = reader.text(value, path: at)
            case "transfer_targets":
                for (index, item) in (reader.sequence(value, path: at) ?? []).enumerated() {
                    guard let text = reader.text(item, path: "\(at)[\(index)]") else { continue }
                    let target = text.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
                    guard target.lowercased().hasPrefix("sip:") || target.lowercased().hasPrefix("sips:") else {
                        reader.issue("'\(text)' is not a SIP URI", at: item, path: "\(at)[\(index)]",
                                     hint: "as the dialplan's transfer writes it, e.g. sip:110@110-linkage.example")
                        continue
                    }
                    targets.append(target)
                }
            case "webhook_url":
                guard let text = reader.text(value, path: at) else { continue }
                guard let parsed = URL(string: text), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                      parsed.host?.isEmpty == false
                else {
                    reader.issue("'\(text)' is not an http(s) URL", at: value, path: at,
                                 hint: "the partner's hand-off endpoint, e.g. https://110.example/api/handoffs")
                    continue
                }
                url = parsed
            case "keys":
                for (index, item) in (reader.sequence(value, path: at) ?? []).enumerated() {
                    if let key = parseKey(item, path: "\(at)[\(index)]", reader: &reader, environment: environment,
                                          readFile: readFile) {
                        keys.append(key)
                    }
                }
            case "clock_skew":
                if let value = reader.duration(value, path: at) {
                    if value > .seconds(3600) {
                        reader.issue("a clock skew above 1 hour keeps captured requests usable too long", at: entries.first?.keyNode,
                                     path: at)
                    } else {
                        skew = value
                    }
                }
            case "timeout":
                if let value = reader.duration(value, path: at) { timeout = value }
            default: // retry
                for (rkey, _, rvalue) in reader.mapping(value, path: at, allowed: ["first", "max", "attempts"]) ?? [] {
                    let rat = reader.join(at, rkey)
                    switch rkey {
                    case "first": if let d = reader.duration(rvalue, path: rat) { retry.first = d }
                    case "max": if let d = reader.duration(rvalue, path: rat) { retry.maximum = d }
                    default: if let n = reader.integer(rvalue, path: rat, range: 1...1000) { retry.attempts = n }
                    }
                }
            }
        }
        guard reader.issues.count == before else { return nil }
        guard let name else {
            reader.issue("the partner has no name", at: node, path: path, hint: "e.g. name: \"110\"")
            return nil
        }
        guard let url else {
            reader.issue("the partner '\(name)' has no webhook_url", at: node, path: path)
            return nil
        }
        guard !keys.isEmpty else {
            reader.issue("the partner '\(name)' has no keys", at: node, path: path,
                         hint: "keys: [{id: \"2026-01\", secret_env: HOTLINE_HANDOFF_KEY}]")
            return nil
        }
        return HandoffPartner(name: name, transferTargets: targets, webhookURL: url, keys: keys, clockSkew: skew,
                              timeout: timeout, retry: retry)
    }

    private static func parseKey(_ node: Node, path: String, reader: inout LocatedYAMLReader, environment: [String: String],
                                 readFile: (String) -> Data?) -> HandoffKey? {
        guard let entries = reader.mapping(node, path: path, allowed: ["id", "secret_env", "secret_file"],
                                           advice: ["secret": "put the secret in a file (secret_file) or the environment (secret_env)"])
        else { return nil }
        var id: String?, secret: [UInt8]?, sources = 0
        for (key, _, value) in entries {
            let at = reader.join(path, key)
            guard let text = reader.text(value, path: at) else { continue }
            switch key {
            case "id":
                guard text.count <= 64, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                    reader.issue("'\(text)' is not a key id", at: value, path: at, hint: "letters, digits, '-', '_' and '.', at most 64")
                    continue
                }
                id = text
            case "secret_env":
                sources += 1
                guard let found = environment[text] else {
                    reader.issue("the environment variable \(text) is not set", at: value, path: at)
                    continue
                }
                secret = Array(found.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            default: // secret_file
                sources += 1
                guard let data = readFile(text) else {
                    reader.issue("cannot read the secret file \(text)", at: value, path: at)
                    continue
                }
                var bytes = Array(data)
                while let last = bytes.last, [0x20, 0x09, 0x0a, 0x0d].contains(last) { bytes.removeLast() }
                secret = bytes
            }
        }
        guard sources == 1 else {
            reader.issue(sources == 0 ? "the key has no secret" : "the key has two secrets", at: node, path: path,
                         hint: "give one of secret_file and secret_env")
            return nil
        }
        guard let id else {
            reader.issue("the key has no id", at: node, path: path, hint: "both sides name the secret by it, e.g. id: \"2026-01\"")
            return nil
        }
        guard let secret else { return nil }
        guard secret.count >= minimumSecretBytes else {
            reader.issue("the secret of key '\(id)' has \(secret.count) bytes; at least \(minimumSecretBytes) are needed",
                         at: node, path: path, hint: "e.g. openssl rand -hex 32")
            return nil
        }
        return HandoffKey(id: id, secret: secret)
    }
}

extension HandoffKey: CustomStringConvertible {
    /// The id only: a secret never reaches a log.
    public var description: String { "key \(id)" }
}
