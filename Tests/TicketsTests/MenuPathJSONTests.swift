// The hand-written menu-path JSON of both stores against JSONEncoder, byte for byte.

import Foundation
import Testing
import Tickets

@Suite struct MenuPathJSONTests {
    @Test(arguments: [
        [String](), ["main_menu:3"], ["language_menu:1", "main_menu:3", "a/b"],
        ["quote\"back\\slash", "tab\tnew\nline\r", "bell\u{07}nul\u{00}unit\u{1F}", "\u{08}\u{0C}"],
        ["中文菜单:2", "emoji 📞", "del\u{7F}"],
    ])
    func matchesJSONEncoder(_ path: [String]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let expected = String(decoding: try encoder.encode(path), as: UTF8.self)
        #expect(CallTicket.menuPathJSON(path) == expected)
        #expect(try JSONDecoder().decode([String].self, from: Data(CallTicket.menuPathJSON(path).utf8)) == path)
    }
}
