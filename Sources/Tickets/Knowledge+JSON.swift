// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: knowledge-base articles and search results as JSON (the API, `hotline kb ... --json`)
// and the JSON text lists the stores keep units and keywords in.

import Foundation

/// The JSON arrays of text the stores keep `units` and `keywords` in.
public enum KnowledgeJSON {
    /// `["停车","挪车"]`: UTF-8 as is, so the text stays searchable by substring.
    public static func list(_ items: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(items), as: UTF8.self)) ?? "[]"
    }

    /// nil if `text` is not a JSON array of text.
    public static func parseList(_ text: String?) -> [String]? {
        guard let text else { return nil }
        return try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }
}

extension KnowledgeArticle: Encodable {
    var json: JSONValue {
        .object([
            ("id", .string(id.rawValue)), ("title", .string(title)), ("body", .string(body)),
            ("business_line", .text(businessLine)), ("units", .array(units.map { .string($0.rawValue) })),
            ("keywords", .array(keywords.map(JSONValue.string))), ("valid_from", .time(validFrom)),
            ("valid_until", .time(validUntil)), ("updated_at", .time(updatedAt)),
        ])
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

/// `GET /api/kb`'s answer: `{"query": ..., "terms": [...], "items": [{"article": ..., "score": ..., "snippet": ...}]}`.
public struct KnowledgeSearchResult: Encodable, Sendable {
    public var query: KnowledgeQuery
    public var hits: [KnowledgeHit]

    public init(query: KnowledgeQuery, hits: [KnowledgeHit]) {
        self.query = query
        self.hits = hits
    }

    public func encode(to encoder: any Encoder) throws {
        try JSONValue.object([
            ("query", .string(query.text)), ("business_line", .text(query.businessLine)), ("limit", .int(query.limit)),
            ("terms", .array(query.terms.map(JSONValue.string))),
            ("items", .array(hits.map { hit in
                .object([
                    ("article", hit.article.json), ("score", .double(hit.score)),
                    ("snippet", .object([
                        ("text", .string(hit.snippet.text)),
                        ("highlights", .array(hit.snippet.highlights.map { highlight in
                            .object([("start", .int(highlight.start)), ("length", .int(highlight.length))])
                        })),
                    ])),
                ])
            })),
        ]).encode(to: encoder)
    }
}

extension KnowledgeImportSummary: Encodable {
    public func encode(to encoder: any Encoder) throws {
        try JSONValue.object([("inserted", .int(inserted)), ("updated", .int(updated)), ("total", .int(inserted + updated))])
            .encode(to: encoder)
    }
}
