// HotlineServer: the composition root.
// This file: `/api/kb` — the knowledge base for the agent desk: search (agents, unit staff,
// auditors, admins), article lookup, and import of a CSV or YAML file (admins). Reads and
// imports block on the database, so they run on the thread pool. docs/openapi.yaml describes them.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Tickets

/// The knowledge-base routes.
enum KnowledgeRoutes {
    struct Context: Sendable {
        var knowledge: any KnowledgeBase
        var auth: AdminAuth
        var pool: NIOThreadPool
        /// The zone of `YYYY-MM-DD` validity dates in imported files.
        var timeZone: TimeZone
        var now: @Sendable () -> Date = { Date() }
    }

    typealias APIError = TicketRoutes.APIError

    static func routes(_ context: Context) -> [String: AdminRoute] {
        func read(_ access: AdminAccess, _ body: @escaping @Sendable (AdminRequest, AdminPrincipal) throws -> AdminResponse)
            -> AdminRoute {
            TicketRoutes.read(auth: context.auth, pool: context.pool, access, body)
        }
        return [
            "GET /api/kb": read(.searchKnowledge) { request, _ in
                try TicketRoutes.refuseUnknown(request, allowed: ["q", "limit", "business_line"])
                guard let text = request.query["q"], !text.allSatisfy(\.isWhitespace) else {
                    throw APIError.badRequest("q is the text to search for: /api/kb?q=违章停车")
                }
                var query = KnowledgeQuery(text, businessLine: request.query["business_line"])
                if let limit = request.query["limit"] {
                    guard let value = Int(limit), (1...KnowledgeQuery.maximumLimit).contains(value) else {
                        throw APIError.badRequest("limit is 1 to \(KnowledgeQuery.maximumLimit)")
                    }
                    query.limit = value
                }
                let hits = try context.knowledge.search(query, at: context.now())
                return try TicketRoutes.json(KnowledgeSearchResult(query: query, hits: hits))
            },
            "GET /api/kb/articles/{id}": read(.searchKnowledge) { request, _ in
                try TicketRoutes.refuseUnknown(request, allowed: [])
                let id = KnowledgeArticleID(request.parameters["id"] ?? "")
                guard id.isWellFormed else { throw APIError.badRequest("'\(id)' is not an article id") }
                guard let article = try context.knowledge.article(id: id) else {
                    throw APIError(.notFound, "not_found", TicketStoreError.unknownArticle(id).description)
                }
                return try TicketRoutes.json(article)
            },
            "POST /api/kb/articles": read(.editKnowledge) { request, _ in
                try TicketRoutes.refuseUnknown(request, allowed: ["format"])
                let format = try importFormat(request)
                guard let body = request.body, body.readableBytes > 0 else {
                    throw APIError.badRequest("send the file as the body (CSV with a header row, or YAML)")
                }
                let articles: [KnowledgeArticle]
                do {
                    articles = try KnowledgeImport(timeZone: context.timeZone)
                        .articles(Data(body.readableBytesView), format: format, file: "body")
                } catch {
                    // Every issue, located, as a compiler prints them; nothing was imported.
                    return .error(.unprocessableEntity, code: "invalid_articles", "\(error)")
                }
                let summary = try context.knowledge.upsert(articles, at: context.now())
                return try TicketRoutes.json(summary, status: .ok)
            },
        ]
    }

    /// `?format=csv|yaml`, else the Content-Type (`text/csv`; `application/yaml`, `text/yaml`...).
    static func importFormat(_ request: AdminRequest) throws(APIError) -> KnowledgeImport.Format {
        if let name = request.query["format"] {
            guard let format = KnowledgeImport.Format(rawValue: name) else { throw .badRequest("format is csv or yaml, not '\(name)'") }
            return format
        }
        let type = (request.headers["content-type"] ?? "").lowercased()
        if type.contains("csv") { return .csv }
        if type.contains("yaml") || type.contains("yml") { return .yaml }
        throw .badRequest("say what the body is: Content-Type text/csv or application/yaml, or ?format=csv|yaml")
    }
}
