import Foundation
import Testing

/// The console's dialplan editor in a real browser: an error typed is marked at its line as
/// the admin types and refuses the publish; the fixed text publishes, and the next SIPp call
/// runs on the new version. Simulation, the flow drawing and the versions' diff on the way.
@Suite(.serialized)
struct ConsoleEditorTests {
    @Test func anErrorIsMarkedAtItsLineThenAGoodVersionPublishesAndTakesTheNextCall() async throws {
        let live = try DialplanPublishingTests.privateBench()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: live).deletingLastPathComponent().path) }
        let original = try String(contentsOfFile: live, encoding: .utf8)
        let lines = original.components(separatedBy: "\n")
        let timeoutLine = try #require(lines.firstIndex { $0 == "    timeout: 5s" }) // 0-based
        let server = try await ServerProcess(dialplan: live) // no tokens: a loopback browser signs in as admin

        try await ConsoleBrowserTests.withBrowser { browser in
            try await ConsoleBrowserTests.signIn(browser, server, token: "")
            try await browser.waitForText("#who", "signed in") { $0.hasPrefix("loopback") }
            try await browser.open("http://127.0.0.1:\(server.httpPort)/#/dialplans")
            try await browser.waitForText("#dp-clean", timeout: .seconds(15), "the live version checks clean") { !$0.isEmpty }
            #expect(try await browser.find(".CodeMirror") != nil, "CodeMirror from libjs-codemirror")
            try await ConsoleBrowserTests.screenshot(browser, "dialplans")

            // Typing a misspelt key: marked at its line and column within moments.
            _ = try await browser.execute("""
                window.hotlineEditor.replaceRange("timout", {line: arguments[0], ch: 4}, {line: arguments[0], ch: 11});
                """, [timeoutLine])
            let marked = try await browser.waitForText("#dp-issues li.issue.error[data-line=\"\(timeoutLine + 1)\"]", timeout: .seconds(5),
                                                       "the error at line \(timeoutLine + 1)") { !$0.isEmpty }
            #expect(marked.hasPrefix("\(timeoutLine + 1):5 error:"), "\(marked)")
            #expect(marked.contains("timout"), "\(marked)")
            #expect(try await browser.find(".CodeMirror-lint-mark-error") != nil, "underlined in the editor")
            try await ConsoleBrowserTests.screenshot(browser, "dialplans-error")

            // Publishing it is refused, and nothing changes on the server.
            try await browser.click("#dp-publish")
            try await browser.waitForText("#dp-status", "refused") { $0.contains("发布被拒绝") }
            let (_, versionsBefore) = try await server.http("GET", "/api/dialplans/bench/versions")
            #expect(versionsBefore.components(separatedBy: "\"version\"").count - 1 == 1, "\(versionsBefore)")

            // The fixed text, with a change of its own, checks clean and publishes.
            let good = original + "# published from the console\n"
            _ = try await browser.execute("window.hotlineEditor.setValue(arguments[0]);", [good])
            try await browser.waitForText("#dp-clean", timeout: .seconds(5), "clean again") { !$0.isEmpty }
            try await browser.click("#dp-publish")
            let published = try await browser.waitForText("#dp-status", "published") { $0.contains("已发布版本") }
            let version = String(published.split(separator: " ").last ?? "")
            #expect(try String(contentsOfFile: live, encoding: .utf8) == good, "the live file is the published text")

            // Simulate key 3 through the draft.
            try await browser.click("#tab-simulate")
            try await browser.type("#sim-keys", "3")
            try await browser.click("#sim-run")
            try await browser.waitForText("#sim-outcome", "the simulated outcome") { $0.contains("completed_in_ivr") }
            #expect((try await browser.text("#sim-steps")) != nil)

            // The flow, drawn by Graphviz as an image.
            try await browser.click("#tab-flow")
            let drawn = try await browser.execute("""
                const started = Date.now();
                return new Promise((resolve) => {
                  const look = () => {
                    const img = document.getElementById("dp-flow");
                    if (img && img.complete && img.naturalWidth > 0) return resolve(img.src.slice(0, 26));
                    if (Date.now() - started > 8000) return resolve("none");
                    setTimeout(look, 50);
                  };
                  look();
                });
                """)
            #expect(drawn as? String == "data:image/svg+xml;base64,")
            try await ConsoleBrowserTests.screenshot(browser, "dialplans-flow")

            // Versions: two, and the first one's diff against the draft is the added line.
            try await browser.click("#tab-versions")
            try await browser.waitForText("#dp-versions", "two versions") { $0.components(separatedBy: "\n").count >= 2 }
            try await browser.click("#dp-versions tr:last-child button")
            let diff = try await browser.waitForText("#dp-diff", "the diff") { !$0.isEmpty }
            #expect(diff == "+ # published from the console", "\(diff)")

            // The next call runs on the published version.
            let call = try await server.sipp("ivr-key3-info")
            #expect(call.status == 0, "\(call.stderr)")
            #expect(await server.stop() == 0)
            let tickets = try server.tickets()
            #expect(tickets.count == 1)
            #expect(tickets.first?.dialplanVersion == version, "\(tickets.first?.dialplanVersion ?? "none") vs \(version)")
        }
    }
}
