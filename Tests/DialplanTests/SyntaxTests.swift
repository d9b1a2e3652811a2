import ConfigFiles
import Testing

@testable import Dialplan

@Suite("Value syntax")
struct SyntaxTests {
    @Test("durations parse exactly", arguments: [
        ("500ms", 500), ("2s", 2000), ("1.5s", 1500), ("0.1s", 100), ("1m", 60_000), ("0s", 0), ("1.25m", 75_000),
    ] as [(String, Int64)])
    func parsesDurations(_ text: String, _ milliseconds: Int64) throws {
        let duration = try #require(DurationSyntax.parse(text))
        #expect(DurationSyntax.milliseconds(duration) == milliseconds)
    }

    @Test("malformed durations are refused", arguments: ["5", "s", "1.s", ".5s", "1.0005s", "-1s", "1h", "2 s", "1e3ms", ""])
    func refusesDurations(_ text: String) {
        #expect(DurationSyntax.parse(text) == nil)
    }

    @Test("durations format to what parses back", arguments: [
        (Duration.milliseconds(500), "500ms"), (.seconds(2), "2s"), (.milliseconds(1500), "1.5s"),
        (.seconds(60), "1m"), (.seconds(90), "90s"), (.zero, "0s"), (.milliseconds(1250), "1.25s"),
    ])
    func formatsDurations(_ duration: Duration, _ text: String) {
        #expect(DurationSyntax.format(duration) == text)
        #expect(DurationSyntax.parse(text) == duration)
    }

    @Test("DTMF keys are the sixteen RFC 4733 events")
    func dtmfKeys() {
        #expect(DTMFKey.all.map(\.description).joined() == "0123456789*#ABCD")
        #expect(DTMFKey.all.map(\.eventCode) == Array(0..<16))
        #expect(DTMFKey(eventCode: 11) == "#")
        #expect(DTMFKey(eventCode: 16) == nil)
        // `DTMFKey("a")` with a literal would be literal coercion (and trap); go through the
        // failable initialisers the parser uses.
        #expect(DTMFKey(rawValue: "a") == nil)
        #expect(DTMFKey(String("12")) == nil)
        #expect(DTMFKey(String("D")) == "D")
    }

    @Test("hints suggest only plausible typos", arguments: [
        ("timout", "timeout"), ("tpye", "type"), ("Timeout", "timeout"), ("prompts", "prompt"), ("nxt", "next"),
        ("xyz", nil), ("on_fail", nil),
    ] as [(String, String?)])
    func suggestions(_ word: String, _ expected: String?) {
        let menuKeys = ["type", "prompt", "timeout", "retries", "keys", "next", "on_failure"]
        #expect(Suggestion.closest(to: word, among: menuKeys) == expected)
    }

    @Test("names, languages and numbers")
    func names() {
        #expect(NodeID.isValid("main_menu-2"))
        #expect(!NodeID.isValid("main.menu"))
        #expect(!NodeID.isValid(""))
        #expect(Language.isValid("zh") && Language.isValid("yue") && Language.isValid("zh-hk"))
        #expect(!Language.isValid("ZH") && !Language.isValid("english") && !Language.isValid("zh-"))
        #expect(PromptRef.isValidName("choose_language"))
        #expect(!PromptRef.isValidName("../secret") && !PromptRef.isValidName("Welcome"))
        #expect(DialplanEntry.isValidNumber("12345") && DialplanEntry.isValidNumber("+8610123") && DialplanEntry.isValidNumber("*97#"))
        #expect(!DialplanEntry.isValidNumber("+") && !DialplanEntry.isValidNumber("123-4"))
    }

    @Test("the duplicate-key rename keeps every column in place")
    func renameKeepsColumns() throws {
        let text = "a:\r\n  \"键\": 1\n  键: 2\n"
        let renamed = try #require(YAMLComposer.renamingKey(in: text, at: .init(line: 2, column: 3), round: 0))
        #expect(renamed.unicodeScalars.count == text.unicodeScalars.count)
        #expect(renamed == "a:\r\n  \"\u{E000}\": 1\n  键: 2\n")
        #expect(YAMLComposer.renamingKey(in: "a: *x\n", at: .init(line: 1, column: 4), round: 0) == nil)
    }
}
