// Knowledge-base files read into articles (CSV as spreadsheets export it, YAML), every problem
// at file:line, nothing returned from a bad file; and the search's pure parts: terms, trigrams,
// ranking and snippets.

import Foundation
import Testing
import ConfigFiles
import Tickets

@Suite struct KnowledgeImportTests {
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!
    var reader: KnowledgeImport { KnowledgeImport(timeZone: shanghai) }

    func csv(_ text: String) throws(ConfigError) -> [KnowledgeArticle] {
        try reader.articles(Data(text.utf8), format: .csv, file: "kb.csv")
    }

    func yaml(_ text: String) throws(ConfigError) -> [KnowledgeArticle] {
        try reader.articles(Data(text.utf8), format: .yaml, file: "kb.yaml")
    }

    func issues(_ body: () throws -> Void) -> [String] {
        do {
            try body()
            return []
        } catch let error as ConfigError {
            return error.issues.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func csvTakesQuotesLineBreaksListsAndAnExcelByteOrderMark() throws {
        let text = "\u{FEFF}id,title,body,business_line,units,keywords,valid_from,valid_to\r\n"
            + "parking-move-car,违章停车如何挪车,\"车被堵住时拨打12345，\"\"挪车\"\"服务\r\n15分钟内回电\",move_car,yinchuan.traffic_police,挪车;堵车；车被堵,,\r\n"
            + "heating,供暖温度,室温不低于18℃,heating,,,2026-10-15,2027-04-15\r\n"
        let articles = try csv(text)
        #expect(articles.count == 2)
        #expect(articles[0].id == "parking-move-car")
        #expect(articles[0].body == "车被堵住时拨打12345，\"挪车\"服务\r\n15分钟内回电")
        #expect(articles[0].keywords == ["挪车", "堵车", "车被堵"])
        #expect(articles[0].units == ["yinchuan.traffic_police"])
        #expect(articles[0].validFrom == nil && articles[0].validUntil == nil)
        // valid_to is inclusive: valid until the start of the next local day.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = shanghai
        #expect(articles[1].validFrom == calendar.date(from: DateComponents(year: 2026, month: 10, day: 15)))
        #expect(articles[1].validUntil == calendar.date(from: DateComponents(year: 2027, month: 4, day: 16)))
        #expect(articles[1].isValid(at: calendar.date(from: DateComponents(year: 2027, month: 4, day: 15, hour: 23))!))
        #expect(!articles[1].isValid(at: articles[1].validUntil!))
    }

    @Test func aBadCSVRowSaysItsLineAndNothingIsImported() {
        // Row 2 spans lines 2-3 (a quoted line break), so the bad row starts on line 4.
        let text = """
            id,title,body,valid_to
            good-one,标题,"第一行
            第二行",
            bad id,,正文,2026-02-30
            good-two,标题二,正文二,
            good-one,重复,正文,
            """
        let found = issues { _ = try csv(text) }
        #expect(found.contains { $0.hasPrefix("kb.csv:4:1: error: 'bad id' is not an article id") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("kb.csv:4:1: error: the article has no title [title]") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("kb.csv:4:1: error: '2026-02-30' is not a date") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("kb.csv:6:1: error: article 'good-one' is already on line 2") }, "\(found)")
        #expect(found.count == 4, "\(found)")
    }

    @Test func csvHeaderAndQuotingMistakesAreLocated() {
        #expect(issues { _ = try csv("id,titl,body\na,b,c\n") }
            == ["kb.csv:1:1: error: unknown column 'titl' [titl] (did you mean 'title'?)",
                "kb.csv:1:1: error: the header has no 'title' column [title]"])
        #expect(issues { _ = try csv("id,title,body\na,\"open,c\nb,d,e\n") }
            == ["kb.csv:2:1: error: a quoted field is never closed"])
        #expect(issues { _ = try csv("id,title,body\na,b\"x\",c\n") }.first?.hasPrefix("kb.csv:2:1: error: a quote inside") == true)
        #expect(issues { _ = try csv("id,title,body\na,b\n") }.first?.hasPrefix("kb.csv:2:1: error: the row has 2 fields") == true)
        #expect(issues { _ = try csv("") }.first?.contains("a header row") == true)
    }

    @Test func yamlTakesAListOrArticlesAndLocatesProblems() throws {
        let good = try yaml("""
            articles:
              - id: water-outage
                title: 停水通知查询
                body: |
                  计划停水提前24小时公告。
                keywords: [停水, 没水]
                units: yinchuan.water
                valid_from: 2026-01-01T00:00:00+08:00
            """)
        #expect(good.count == 1 && good[0].keywords == ["停水", "没水"] && good[0].units == ["yinchuan.water"])
        #expect(good[0].body == "计划停水提前24小时公告。")
        let found = issues {
            _ = try yaml("""
                - id: a
                  title: 标题
                  body: 正文
                  keyword: [x]
                - id: b
                  title: [列表]
                  body: 正文
                  valid_from: 2026-05-01
                  valid_to: 2026-04-01
                """)
        }
        #expect(found.contains("kb.yaml:4:3: error: unknown key 'keyword' [articles[0].keyword] (did you mean 'keywords'?)"), "\(found)")
        #expect(found.contains { $0.hasPrefix("kb.yaml:6:10: error: 'title' is one text, not a list") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("kb.yaml:9:13: error: valid_to is before valid_from") }, "\(found)")
        #expect(issues { _ = try yaml("articles: [") }.first?.hasPrefix("kb.yaml:") == true)
        #expect(throws: ConfigError.self) { try reader.articles(contentsOf: "/nowhere/kb.txt") }
    }

    @Test func queriesSplitIntoTermsAtSpacesAndPunctuation() {
        let query = KnowledgeQuery("社保卡丢了，怎么补办？ 12345 停车")
        #expect(query.terms == ["社保卡丢了", "补办", "12345", "停车"], "question words split terms and are dropped")
        #expect(query.shortTerms == ["补办", "停车"])
        #expect(query.trigrams == ["社保卡", "保卡丢", "卡丢了", "123", "234", "345"])
        #expect(KnowledgeQuery("请问车被堵了怎么办").terms == ["车被堵了"])
        #expect(KnowledgeQuery("怎么办 了").terms.isEmpty)
        #expect(KnowledgeQuery("停车 停车").terms == ["停车"])
        #expect(throws: TicketStoreError.self) { try KnowledgeQuery("？！").validated() }
        #expect(throws: TicketStoreError.self) { try KnowledgeQuery(String(repeating: "长", count: 201)).validated() }
    }

    @Test func rankingWeighsTitleAboveKeywordsAboveBodyAndMarksTheSnippet() {
        let inTitle = KnowledgeArticle(id: "a", title: "社保卡补办", body: "携带身份证到银行网点办理。")
        let inBody = KnowledgeArticle(id: "b", title: "医保报销", body: "报销时出示社保卡和发票。")
        let inKeywords = KnowledgeArticle(id: "c", title: "医疗报销说明", body: "说明。", keywords: ["社保卡"])
        let unrelated = KnowledgeArticle(id: "d", title: "停水通知", body: "计划停水。")
        let hits = KnowledgeRanking.rank([unrelated, inBody, inKeywords, inTitle], for: KnowledgeQuery("社保卡"))
        #expect(hits.map(\.article.id) == ["a", "c", "b"])
        // A question none of them contains still favours the one sharing most of its pairs.
        #expect(KnowledgeRanking.rank([inBody, inTitle], for: KnowledgeQuery("社保卡丢了怎么补办")).first?.article.id == "a")
        let snippet = KnowledgeRanking.snippet("报销时出示社保卡和发票。", terms: ["社保卡"])
        #expect(snippet.marked == "报销时出示【社保卡】和发票。")
        #expect(snippet.highlights == [.init(start: 5, length: 3)])
        let long = String(repeating: "前文", count: 60) + "违章停车" + String(repeating: "后文", count: 60)
        let cut = KnowledgeRanking.snippet(long, terms: ["违章停车"])
        #expect(cut.text.hasPrefix("…") && cut.text.hasSuffix("…") && cut.marked.contains("【违章停车】"))
    }
}
