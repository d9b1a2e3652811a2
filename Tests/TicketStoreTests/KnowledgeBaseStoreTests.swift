// The knowledge base on every backend: import (upsert, all or nothing), Chinese search ranked
// the same way by SQLite's FTS5 trigram index and PostgreSQL's pg_trgm, validity windows at a
// given time, and direct answers that name an article, counted by article in the KPIs.

import Foundation
import Testing
import WorkCalendar
import Tickets
import TicketsTestSupport

@Suite struct KnowledgeBaseStoreTests {
    /// In the 2026-27 heating season: heating-not-warm is valid, heating-fee-2025 has expired.
    let december = date(2026, 12, 1, 10)

    func open(_ backend: StoreBackend) async throws -> (TestDatabase, any HotlineStore, any KnowledgeBase) {
        let database = try await TestDatabase(backend)
        let store = try database.open(.workOrders())
        let knowledge = database.knowledgeBase(of: store)
        try knowledge.upsert(try sampleArticles(), at: date(2026, 11, 1))
        return (database, store, knowledge)
    }

    func first(_ text: String, _ knowledge: any KnowledgeBase, at now: Date) throws -> String? {
        try knowledge.search(KnowledgeQuery(text), at: now).first?.article.id.rawValue
    }

    @Test(arguments: StoreBackend.allCases)
    func aChinesePhraseFindsTheRightArticleFirst(_ backend: StoreBackend) async throws {
        let (database, store, knowledge) = try await open(backend)
        defer { withExtendedLifetime(database) { store.close() } }
        #expect(try knowledge.articleCount() == 8)
        let expectations: [(String, String)] = [
            ("挪车", "parking-move-car"),                         // two characters: the substring path
            ("社保", "social-security-card-replace"),             // two characters, in title and keywords
            ("车被堵了怎么办", "parking-move-car"),               // a question; 车被堵 is a keyword
            ("停车罚单申诉", "parking-ticket-appeal"),
            ("社保卡丢了怎么补办", "social-security-card-replace"), // the whole question appears nowhere
            ("公积金", "housing-fund-withdrawal"),
            ("租房 公积金", "housing-fund-withdrawal"),
            ("营商环境 拖欠账款", "business-environment-complaint"),
            ("暖气不热", "heating-not-warm"),
            ("供热企业上门测温", "heating-not-warm"),             // body only
            ("停水 送水车", "water-outage"),                      // title and body
        ]
        for (query, expected) in expectations {
            let hits = try knowledge.search(KnowledgeQuery(query), at: december)
            #expect(hits.first?.article.id.rawValue == expected, "\(query): \(hits.map { "\($0.article.id) \($0.score)" })")
        }
        let hits = try knowledge.search(KnowledgeQuery("挪车"), at: december)
        #expect(hits.first?.snippet.marked.contains("【挪车】") == true, "\(hits.first?.snippet.marked ?? "")")
        #expect(hits.first?.article.keywords == ["挪车", "堵车", "占道停车", "车被堵"])
        #expect(hits.first?.article.units == ["yinchuan.traffic_police"])
        // Scores fall, and the business-line filter keeps to its line.
        let scores = try knowledge.search(KnowledgeQuery("违章停车"), at: december).map(\.score)
        #expect(scores.count >= 2 && scores == scores.sorted(by: >))
        #expect(try knowledge.search(KnowledgeQuery("违章停车", businessLine: "heating"), at: december).isEmpty)
        #expect(try knowledge.search(KnowledgeQuery("违章停车", limit: 1), at: december).count == 1)
        #expect(try knowledge.search(KnowledgeQuery("量子物理"), at: december).isEmpty)
        #expect(throws: TicketStoreError.self) { try knowledge.search(KnowledgeQuery("，。！"), at: december) }
        #expect(throws: TicketStoreError.self) { try knowledge.search(KnowledgeQuery("停车", limit: 0), at: december) }
    }

    @Test(arguments: StoreBackend.allCases)
    func onlyArticlesValidAtTheGivenTimeAreFound(_ backend: StoreBackend) async throws {
        let (database, store, knowledge) = try await open(backend)
        defer { withExtendedLifetime(database) { store.close() } }
        func found(_ text: String, at now: Date) throws -> Set<String> {
            Set(try knowledge.search(KnowledgeQuery(text), at: now).map(\.article.id.rawValue))
        }
        // The 2025 fee rule runs to 2026-08-31 inclusive; the heating-season rule from 2026-10-15.
        #expect(try found("采暖费", at: date(2026, 1, 10)) == ["heating-fee-2025"])
        #expect(try found("采暖费", at: date(2026, 8, 31, 23, 59)) == ["heating-fee-2025"])
        #expect(try found("采暖费", at: date(2026, 9, 1)) == [])
        #expect(try found("采暖费", at: date(2026, 10, 15)) == ["heating-not-warm"])
        #expect(try found("暖气不热", at: date(2027, 4, 16)).contains("heating-not-warm") == false)
        // Lookup by id ignores validity.
        #expect(try knowledge.article(id: "heating-fee-2025")?.validUntil == date(2026, 9, 1))
    }

    @Test(arguments: StoreBackend.allCases)
    func reimportUpdatesByIDAndABadBatchChangesNothing(_ backend: StoreBackend) async throws {
        let (database, store, knowledge) = try await open(backend)
        defer { withExtendedLifetime(database) { store.close() } }
        var articles = try sampleArticles()
        articles[0].title = "车辆被堵无法驶出如何叫挪车"
        let summary = try knowledge.upsert(articles, at: date(2026, 11, 20))
        #expect(summary == KnowledgeImportSummary(inserted: 0, updated: 8))
        let updated = try #require(try knowledge.article(id: "parking-move-car"))
        #expect(updated.title == "车辆被堵无法驶出如何叫挪车")
        #expect(updated.updatedAt == date(2026, 11, 20))
        #expect(try first("无法驶出", knowledge, at: december) == "parking-move-car", "the index follows the update")

        let new = KnowledgeArticle(id: "noise-complaint", title: "夜间施工噪音扰民投诉", body: "夜间22时至次日6时禁止产生噪声的建筑施工作业。")
        var bad = articles[1]
        bad.title = "  "
        articles[2].title = "不该写入的标题"
        #expect(throws: TicketStoreError.self) { try knowledge.upsert([new, articles[2], bad], at: date(2026, 11, 21)) }
        #expect(try knowledge.articleCount() == 8)
        #expect(try knowledge.article(id: "noise-complaint") == nil)
        #expect(try knowledge.article(id: articles[2].id)?.title != "不该写入的标题")
        #expect(try knowledge.upsert([new], at: date(2026, 11, 22)) == KnowledgeImportSummary(inserted: 1, updated: 0))
        #expect(try first("施工噪音", knowledge, at: december) == "noise-complaint")
    }

    @Test(arguments: StoreBackend.allCases)
    func aDirectAnswerNamesItsArticleAndTheKPIsCountByArticle(_ backend: StoreBackend) async throws {
        let (database, store, knowledge) = try await open(backend)
        defer { withExtendedLifetime(database) { store.close() } }
        _ = knowledge
        var orders: [TicketID] = []
        for day in 2...5 {
            let order = try await store.createWorkOrder(WorkOrderIntake(
                channel: .phone, caller: "1380000000\(day)", businessLine: "move_car", category: .help,
                acceptedAt: date(2026, 11, day, 9), actor: "agent:1001"))
            orders.append(order.id)
        }
        func answer(_ id: TicketID, _ article: String?, day: Int) async throws(TicketStoreError) -> WorkOrder {
            try await store.append(TicketEvent(.answeredDirectly, at: date(2026, 11, day, 10), actor: "agent:1001",
                                               article: article.map(KnowledgeArticleID.init(rawValue:))), to: id)
        }
        _ = try await answer(orders[0], "parking-move-car", day: 2)
        _ = try await answer(orders[1], "parking-move-car", day: 3)
        _ = try await answer(orders[2], nil, day: 4)
        // An article that does not exist, or on another event, is refused and nothing is written.
        await #expect(throws: TicketStoreError.unknownArticle("no-such-article")) {
            try await answer(orders[3], "no-such-article", day: 5)
        }
        await #expect(throws: TicketStoreError.self) {
            try await store.append(TicketEvent(.dispatched(to: "traffic_police"), at: date(2026, 11, 5, 10), actor: "agent:1001",
                                               article: "parking-move-car"), to: orders[3])
        }
        #expect(try store.workOrder(id: orders[3])?.status == .accepted)
        _ = try await answer(orders[3], "social-security-card-replace", day: 5)

        let detail = try #require(try store.workOrderDetail(id: orders[0]))
        #expect(detail.events.last?.event.article == "parking-move-car")
        #expect(detail.text(now: december).contains("answered_directly (article parking-move-car)"))
        #expect(try TicketJSON.text(detail).contains("\"article\" : \"parking-move-car\""))

        let november = ReportPeriod(from: LocalDate(year: 2026, month: 11, day: 1)!,
                                    through: LocalDate(year: 2026, month: 11, day: 30)!, in: shanghai)!
        let report = try store.kpis(KPIQuery(period: november, asOf: december))
        #expect(report.workOrders.directAnswerRate == KPIRatio(4, of: 4))
        let byArticle = report.directAnswersByArticle.map { ($0.article?.rawValue ?? "-", $0.count, $0.title ?? "-") }
        #expect(byArticle.map(\.0) == ["parking-move-car", "social-security-card-replace", "-"])
        #expect(byArticle.map(\.1) == [2, 1, 1])
        #expect(byArticle.first?.2 == "违章停车挡住出口如何申请挪车")
        #expect(report.directAnswersByArticle.first?.rate == KPIRatio(2, of: 4))
        #expect(report.text.contains("Direct answers by article"))
        #expect(report.csv.contains("direct_answer_article,parking-move-car,0.500000,2,4,"))
        #expect(try TicketJSON.text(report).contains("\"direct_answers_by_article\""))
        // With a unit filter the breakdown is left out, like the rate.
        #expect(try store.kpis(KPIQuery(period: november, unit: "yinchuan", asOf: december)).directAnswersByArticle.isEmpty)
    }
}
