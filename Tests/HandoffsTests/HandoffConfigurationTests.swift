import ConfigFiles
import Foundation
import Testing
import Handoffs

/// handoffs.yaml: secrets from the environment or files only, every mistake located.
@Suite struct HandoffConfigurationTests {
    static let secret = String(repeating: "s", count: 32)

    static let yaml = """
        local_name: "12345"
        partners:
          - name: "110"
            transfer_targets: ["sip:110@110-linkage.example"]
            webhook_url: "https://110-linkage.example/api/handoffs"
            keys:
              - {id: "2026-01", secret_env: HANDOFF_KEY}
              - {id: "2025-07", secret_file: /run/secrets/110-2025-07}
            clock_skew: 2m
            retry: {first: 1s, max: 1m, attempts: 5}
        """

    func parse(_ yaml: String, environment: [String: String] = ["HANDOFF_KEY": secret]) throws(ConfigError) -> HandoffConfiguration {
        try HandoffConfiguration.parse(yaml: yaml, file: "handoffs.yaml", environment: environment) { path in
            path == "/run/secrets/110-2025-07" ? Data((String(repeating: "p", count: 40) + "\n").utf8) : nil
        }
    }

    @Test func theShippedShapeLoads() throws {
        let loaded = try parse(Self.yaml)
        #expect(loaded.localName == "12345")
        let partner = try #require(loaded.partner(forTransferTarget: "<SIP:110@110-linkage.example>"))
        #expect(partner.name == "110")
        #expect(partner.signingKey.id == "2026-01")
        #expect(partner.keys[1].secret == Array(String(repeating: "p", count: 40).utf8), "the file's newline dropped")
        #expect(partner.clockSkew == .seconds(120))
        #expect(partner.retry == HandoffRetryPolicy(first: .seconds(1), maximum: .seconds(60), attempts: 5))
        #expect(loaded.partner(forKeyID: "2025-07")?.name == "110")
        #expect(loaded.partner(forTransferTarget: "sip:120@example") == nil)
        #expect(!"\(partner)".contains(Self.secret), "secrets stay out of descriptions")
    }

    @Test func theRepositorysExampleFileLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Dialplans/handoffs.yaml").path
        let loaded = try HandoffConfiguration.load(path: path, environment: ["HOTLINE_HANDOFF_110_KEY": Self.secret])
        #expect(loaded.partners.map(\.name) == ["110"])
        #expect(loaded.partner(forTransferTarget: "sip:110@110-linkage.example") != nil)
    }

    @Test func missingSecretsShortSecretsAndInlineSecretsAreLocatedErrors() {
        #expect(throws: ConfigError.self) { try parse(Self.yaml, environment: [:]) }
        do {
            _ = try parse(Self.yaml, environment: ["HANDOFF_KEY": "short"])
            Issue.record("a short secret was accepted")
        } catch {
            #expect(error.description.contains("handoffs.yaml:"), "\(error)")
            #expect(error.description.contains("at least 32"), "\(error)")
        }
        do {
            _ = try parse(Self.yaml.replacingOccurrences(of: "secret_env: HANDOFF_KEY", with: "secret: hunter2"))
            Issue.record("an inline secret was accepted")
        } catch {
            #expect(error.description.contains("unknown key 'secret'"), "\(error)")
            #expect(!error.description.contains("hunter2") || error.description.contains("secret: hunter2") == false)
        }
    }

    @Test func badURLsTargetsAndDuplicateKeyIdsAreRefused() {
        for (from, to, expected) in [
            ("https://110-linkage.example/api/handoffs", "ftp://x", "not an http(s) URL"),
            ("sip:110@110-linkage.example", "110", "not a SIP URI"),
            ("id: \"2025-07\"", "id: \"2026-01\"", "used twice"),
            ("clock_skew: 2m", "clock_skew: 90m", "above 1 hour"),
        ] {
            do {
                _ = try parse(Self.yaml.replacingOccurrences(of: from, with: to))
                Issue.record("accepted with \(to)")
            } catch {
                #expect(error.description.contains(expected), "\(error)")
            }
        }
    }
}
