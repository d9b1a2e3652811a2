import Foundation
import Testing

@testable import Dialplan

@Suite("Language building blocks")
struct LanguageTests {
    // MARK: - say

    @Test("Mandarin numbers", arguments: [
        (0, "零"), (7, "七"), (10, "十"), (12, "十二"), (20, "二十"), (105, "一百零五"), (110, "一百一十"),
        (200, "两百"), (2000, "两千"), (2222, "两千二百二十二"), (1005, "一千零五"), (1050, "一千零五十"),
        (10_000, "一万"), (20_000, "两万"), (10_005, "一万零五"), (100_012, "十万零一十二"), (120_000, "十二万"),
        (1_000_500, "一百万零五百"), (200_000_000, "两亿"), (100_000_005, "一亿零五"), (105_000_000, "一亿零五百万"),
        (999_999_999, "九亿九千九百九十九万九千九百九十九"),
    ])
    func mandarinNumbers(_ number: Int, _ spoken: String) throws {
        let words = try SayFormat.number.fragments(for: String(number), in: .zh).get()
        #expect(Self.mandarin(words) == spoken)
    }

    @Test("English numbers", arguments: [
        (0, "zero"), (13, "thirteen"), (20, "twenty"), (42, "forty two"), (100, "one hundred"), (105, "one hundred five"),
        (2005, "two thousand five"), (12_345, "twelve thousand three hundred forty five"),
        (1_200_000, "one million two hundred thousand"), (999_999_999, "nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine"),
    ])
    func englishNumbers(_ number: Int, _ spoken: String) throws {
        let words = try SayFormat.number.fragments(for: String(number), in: .en).get()
        #expect(Self.english(words) == spoken)
    }

    @Test("dates, times and weekdays in both languages", arguments: [
        (SayFormat.date, "2026-12-01", Language.zh, "二零二六年十二月一日"),
        (.date, "2026-10-21T08:05:00+08:00", .zh, "二零二六年十月二十一日"),
        (.date, "2026-12-01", .en, "December first twenty twenty six"),
        (.date, "2005-03-22", .en, "March twenty second two thousand five"),
        (.date, "1999-07-30", .en, "July thirtieth nineteen ninety nine"),
        (.date, "1905-01-31", .en, "January thirty first nineteen oh five"),
        (.time, "20:30", .zh, "二十点三十分"),
        (.time, "2026-12-01T02:05:00+08:00", .zh, "两点零五分"),
        (.time, "08:00", .zh, "八点"),
        (.time, "20:30", .en, "eight thirty P M"),
        (.time, "00:00", .en, "twelve o'clock A M"),
        (.time, "12:07", .en, "twelve oh seven P M"),
        (.weekday, "2026-12-01", .zh, "星期二"),
        (.weekday, "2026-12-06T10:00", .en, "Sunday"),
        (.digits, "京A-12 3", .zh, "一二三"),
        (.digits, "20261201-000042", .en, "two zero two six one two zero one zero zero zero zero four two"),
    ])
    func readings(_ format: SayFormat, _ value: String, _ language: Language, _ spoken: String) throws {
        let words = try format.fragments(for: value, in: language).get()
        #expect((language == .zh ? Self.mandarin(words) : Self.english(words)) == spoken)
        let needed = Set(format.requiredFragments(in: language))
        #expect(Set(words).isSubset(of: needed), "the prompt check must ask for every fragment a reading uses")
    }

    @Test("values say cannot read", arguments: [
        (SayFormat.number, "abc"), (.number, "1000000000"), (.number, "-5"), (.number, ""), (.date, "2026-02-30"),
        (.date, "12/01/2026"), (.time, "24:00"), (.time, "8:30"), (.weekday, "tomorrow"),
    ])
    func unreadable(_ format: SayFormat, _ value: String) {
        #expect(throws: SayFormat.ReadError.self) { try format.fragments(for: value, in: .zh).get() }
        #expect(throws: SayFormat.ReadError.self) { try SayFormat.digits.fragments(for: "1", in: "yue").get() }
    }

    @Test("every fragment say may need is shipped in Prompts/prompts.tsv, in both languages",
          .enabled(if: Repository.hasPromptsDirectory))
    func fragmentsShipped() throws {
        let tsv = try String(contentsOfFile: "\(Repository.promptsDirectory)/prompts.tsv", encoding: .utf8)
        let rows = Set(tsv.components(separatedBy: "\n").compactMap { line -> String? in
            let columns = line.components(separatedBy: "\t")
            return columns.count == 3 ? "\(columns[1])/\(columns[0])" : nil
        })
        for format in SayFormat.allCases {
            for language in SayFormat.languages {
                for fragment in format.requiredFragments(in: language) {
                    #expect(rows.contains("\(language)/\(fragment)"), "\(language)/\(fragment) is not in prompts.tsv")
                    #expect(rows.contains("\(language == .zh ? "en" : "zh")/\(fragment)"), "every prompt exists in both languages")
                }
            }
        }
    }

    /// The texts of the Mandarin fragments, as prompts.tsv records them.
    static func mandarin(_ words: [String]) -> String {
        let digits = Array("零一二三四五六七八九")
        return words.map { word -> String in
            if word.hasPrefix("digit_") { return String(digits[Int(word.dropFirst(6))!]) }
            if word.hasPrefix("month_") { return "\(mandarinSmall(Int(word.dropFirst(6))!))月" }
            if word.hasPrefix("weekday_") { return "星期" + String(Array("一二三四五六日")[Int(word.dropFirst(8))! - 1]) }
            return ["num_10": "十", "num_100": "百", "num_1000": "千", "num_10000": "万", "num_100000000": "亿",
                    "num_liang": "两", "date_year": "年", "date_day": "日", "time_oclock": "点", "time_minute": "分"][word] ?? "?\(word)?"
        }.joined()
    }

    static func mandarinSmall(_ n: Int) -> String {
        let digits = Array("零一二三四五六七八九")
        return n < 10 ? String(digits[n]) : "十" + (n > 10 ? String(digits[n - 10]) : "")
    }

    /// The texts of the English fragments.
    static func english(_ words: [String]) -> String {
        let small = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                     "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
        let tens = [20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty", 90: "ninety"]
        let ordinals = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
                        "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                      "November", "December"]
        let weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        return words.map { word -> String in
            let number = Int(word.split(separator: "_").last ?? "") ?? -1
            switch word {
            case _ where word.hasPrefix("digit_"): return small[number]
            case "num_100": return "hundred"
            case "num_1000": return "thousand"
            case "num_1000000": return "million"
            case _ where word.hasPrefix("num_") && number < 20: return small[number]
            case _ where word.hasPrefix("num_"): return tens[number] ?? "?"
            case "ord_20": return "twentieth"
            case "ord_30": return "thirtieth"
            case _ where word.hasPrefix("ord_"): return ordinals[number - 1]
            case _ where word.hasPrefix("month_"): return months[number - 1]
            case _ where word.hasPrefix("weekday_"): return weekdays[number - 1]
            case "time_oclock": return "o'clock"
            case "time_oh": return "oh"
            case "time_am": return "A M"
            case "time_pm": return "P M"
            default: return "?\(word)?"
            }
        }.joined(separator: " ")
    }

    // MARK: - Entries, keys, templates

    @Test("number patterns match position by position")
    func patterns() throws {
        let pattern = try NumberPattern.parse("9[5-7]ZNX#").get()
        #expect(pattern.matches("96132#"))
        #expect(!pattern.matches("94132#"))
        #expect(!pattern.matches("96032#"), "Z is 1-9")
        #expect(!pattern.matches("96112#"), "N is 2-9")
        #expect(!pattern.matches("96132"))
        #expect(try NumberPattern.parse("+86X").get().matches("+861"))
        for bad in ["", "12[3", "1[a]", "1-2", "1+", "12[]"] {
            #expect(throws: NumberPattern.PatternError.self, "\(bad)") { try NumberPattern.parse(bad).get() }
        }
    }

    @Test("entry overlaps name a number both take", arguments: [
        (DialplanEntry.Match.exact("12345"), DialplanEntry.Match.exact("12345"), "12345" as String?),
        (.exact("12345"), .exact("12346"), nil),
        (.exact("12345"), .prefix("123"), "12345"),
        (.exact("12"), .prefix("123"), nil),
        (.prefix("95"), .prefix("951"), "951"),
        (.prefix("95"), .prefix("96"), nil),
        (.pattern(try! NumberPattern.parse("1234X").get()), .exact("12345"), "12345"),
        (.pattern(try! NumberPattern.parse("12[3-5]X").get()), .pattern(try! NumberPattern.parse("12[5-9]X").get()), "1250"),
        (.pattern(try! NumberPattern.parse("12[3-4]X").get()), .pattern(try! NumberPattern.parse("12[5-9]X").get()), nil),
        (.pattern(try! NumberPattern.parse("1234X").get()), .pattern(try! NumberPattern.parse("1234XX").get()), nil),
        (.pattern(try! NumberPattern.parse("9NXX").get()), .prefix("95"), "9500"),
    ])
    func overlaps(_ a: DialplanEntry.Match, _ b: DialplanEntry.Match, _ example: String?) {
        #expect(a.overlap(with: b) == example)
        #expect(b.overlap(with: a) == example, "symmetric")
    }

    @Test("entries by number, pattern and prefix")
    func entryKinds() throws {
        let plan = try dialplan("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "12345", start: a}
              - {pattern: "9612X", start: b}
              - {prefix: "95", start: c, ring: 1s}
            nodes:
              a: {type: hangup}
              b: {type: hangup}
              c: {type: hangup}
            """)
        #expect(plan.entry(forNumber: "12345")?.start == "a")
        #expect(plan.entry(forNumber: "96127")?.start == "b")
        #expect(plan.entry(forNumber: "961270") == nil)
        #expect(plan.entry(forNumber: "95")?.start == "c")
        #expect(plan.entry(forNumber: "95123456")?.ring == .seconds(1))
        #expect(plan.entry(forNumber: "1234") == nil)
        #expect(issues("""
            dialplan: t
            languages: [en]
            entries:
              - {number: "1234X", start: a}
              - {number: "1", pattern: "2", start: a}
            nodes:
              a: {type: hangup}
            """).map { "\($0.line):\($0.column) \($0.code) \($0.hint ?? "")" } == [
            "4:14 invalid_value write pattern: \"1234X\" for a pattern",
            "5:19 invalid_value ",
        ])
    }

    @Test("key sequences order like a keypad; templates parse and render")
    func keysAndTemplates() throws {
        #expect(["2", "*", "11", "1", "#"].map { KeySequence(stringLiteral: $0) }.sorted().map(\.rawValue) == ["1", "11", "2", "*", "#"])
        #expect(KeySequence("21").hasPrefix("2"))
        #expect(KeySequence(rawValue: "") == nil)
        #expect(KeySequence(rawValue: "1a") == nil)
        let template = try Template.parse("plate ${plate}, $5 and ${caller}").get()
        #expect(template.variables == ["plate", "caller"])
        #expect(template.render { "<\($0)>" } == "plate <plate>, $5 and <caller>")
        #expect(Template.parse("${Plate}") == .failure(.badName("Plate")))
        #expect(Template.parse("${plate") == .failure(.unclosed))
        #expect(Template.parse("no variables").map(\.literal) == .success("no variables"))
    }

    // MARK: - Includes, in memory

    @Test("included files join entries, nodes and declarations; issues point into them")
    func includes() throws {
        let files = [
            "d/sub/centre.yaml": """
                queues: [centre]
                include: [deeper.yaml]
                entries:
                  - {number: "2", start: centre}
                nodes:
                  centre: {type: queue, queue: centre, on_unavailable: deep}
                """,
            "d/sub/deeper.yaml": """
                nodes:
                  deep: {type: play, prompts: [deep], next: bye}
                """,
        ]
        let main = """
            dialplan: t
            languages: [en]
            include: [sub/centre.yaml]
            entries:
              - {number: "1", start: centre}
            nodes:
              bye: {type: hangup}
            """
        let plan = try Dialplan.parse(yaml: main, file: "d/main.yaml", readFile: { files[$0] })
        #expect(plan.files == ["d/main.yaml", "d/sub/centre.yaml", "d/sub/deeper.yaml"])
        #expect(plan.queues == ["centre"])
        #expect(plan.entries.map(\.start) == ["centre", "centre"])
        #expect(plan.nodes["deep"]?.location.description == "d/sub/deeper.yaml:2:3")
        #expect(plan.nodesInSourceOrder.map(\.id) == ["bye", "centre", "deep"])

        var broken = files
        broken["d/sub/deeper.yaml"] = "nodes:\n  deep: {type: play, prompts: [deep], next: byee}\n"
        let result = Dialplan.check(yaml: main, file: "d/main.yaml", readFile: { broken[$0] })
        #expect(result.issues.map(\.description) == [
            "d/sub/deeper.yaml:2:45: error: undefined node 'byee' [nodes.deep.next] (did you mean 'bye'?)",
        ])
        #expect(DialplanParser.resolve("../x.yaml", from: "a/b/c.yaml") == "a/x.yaml")
        #expect(DialplanParser.resolve("./x.yaml", from: "c.yaml") == "x.yaml")
        #expect(DialplanParser.resolve("x.yaml", from: "/abs/c.yaml") == "/abs/x.yaml")
    }

    @Test("an included file checked on its own says what it is")
    func includedFileAlone() {
        let found = issues("nodes:\n  bye: {type: hangup}\n")
        #expect(found.first { $0.keyPath == "dialplan" }?.hint == "an included file is checked as part of the dialplan that includes it")
    }

    // MARK: - Simulation helpers

    @Test("--time parses with an offset, Z, seconds, or in the dialplan's zone", arguments: [
        ("2026-12-01T20:00+08:00", "2026-12-01T12:00:00Z"),
        ("2026-12-01T20:00", "2026-12-01T12:00:00Z"),
        ("2026-12-01 20:00:30", "2026-12-01T12:00:30Z"),
        ("2026-12-01T12:00Z", "2026-12-01T12:00:00Z"),
        ("2026-12-01T07:00-05:00", "2026-12-01T12:00:00Z"),
    ])
    func parseTime(_ text: String, _ utc: String) throws {
        let date = try #require(DialplanSimulation.parseTime(text, defaultZone: TimeZone(identifier: "Asia/Shanghai")!))
        #expect(DialplanExecution.iso8601(date, in: TimeZone(identifier: "UTC")!) == utc)
    }

    @Test("bad --time values are refused", arguments: ["2026-12-01", "2026-13-01T10:00", "2026-12-01T25:00", "2026-12-01T10:00+8", "tomorrow"])
    func badTimes(_ text: String) {
        #expect(DialplanSimulation.parseTime(text, defaultZone: TimeZone(identifier: "UTC")!) == nil)
    }

    @Test("WAV lengths come from the data chunk over the byte rate")
    func wavDuration() throws {
        func wav(dataBytes: Int, byteRate: Int, extraChunk: Bool = false) -> [UInt8] {
            func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24 & 0xff)] }
            var bytes = Array("RIFF".utf8) + le32(36 + dataBytes) + Array("WAVE".utf8)
            bytes += Array("fmt ".utf8) + le32(16) + [1, 0, 1, 0] + le32(8000) + le32(byteRate) + [2, 0, 16, 0]
            if extraChunk { bytes += Array("LIST".utf8) + le32(3) + [1, 2, 3, 0] }
            return bytes + Array("data".utf8) + le32(dataBytes) + [UInt8](repeating: 0, count: dataBytes)
        }
        #expect(DialplanSimulation.wavDuration(wav(dataBytes: 24_000, byteRate: 16_000)) == .milliseconds(1500))
        #expect(DialplanSimulation.wavDuration(wav(dataBytes: 16_000, byteRate: 16_000, extraChunk: true)) == .seconds(1))
        #expect(DialplanSimulation.wavDuration(Array("not a wav file".utf8)) == nil)
    }

    @Test("--json carries the steps and the outcome")
    func json() throws {
        let plan = try loadShipped("bench.yaml")
        let result = try #require(DialplanSimulation().run(plan, number: "12345", keys: [.init("3", .at(.seconds(1)))]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try result.json(file: "bench.yaml").utf8)) as? [String: Any])
        let outcome = try #require(object["result"] as? [String: Any])
        #expect(outcome["disposition"] as? String == "completed_in_ivr")
        #expect(outcome["menu_path"] as? [String] == ["bench_menu:3"])
        #expect((outcome["ticket"] as? [String: Any])?["business_line"] as? String == "enterprise")
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.first?["text"] as? String == "answer")
        #expect(steps.first?["kind"] as? String == "command")
        #expect(steps.contains { $0["kind"] as? String == "note" })
        #expect(result.report(file: "bench.yaml").contains("result:    hangup completed_in_ivr after 3.000 s"))
    }
}
