// TicketsPostgres: the PostgreSQL backend of the ticket store.
// This file: the knowledge base's schema (migration v6) and SQL — the articles with a pg_trgm
// index, and the article a direct answer names. The same table and rules as SQLite's v4.

import Foundation
import PostgresNIO
import Tickets

enum PostgresKnowledgeSchema {
    /// v6. `pg_trgm` is a trusted extension (PostgreSQL ≥ 13): the database's owner may create
    /// it without being a superuser; Debian's postgresql package ships it. Its trigrams work for
    /// Chinese in a UTF-8 database whose LC_CTYPE is a UTF-8 locale (deploy/postgres/pgctl.sh
    /// makes C.UTF-8): under plain `C`, CJK characters are not word characters and give none.
    ///
    /// `search_text` (title, keywords and body, lower-cased) carries one GIN trigram index,
    /// which serves `LIKE '%三字词%'` for every trigram of the query.
    static let v6 = """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE TABLE kb_articles (
            id text NOT NULL PRIMARY KEY
                CONSTRAINT kb_article_id_format CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
            title text NOT NULL CONSTRAINT kb_title_not_blank CHECK (btrim(title) <> ''),
            body text NOT NULL CONSTRAINT kb_body_not_blank CHECK (btrim(body) <> ''),
            business_line text CONSTRAINT kb_business_line_not_empty CHECK (business_line <> ''),
            units text NOT NULL DEFAULT '[]'
                CONSTRAINT kb_units_json_array CHECK (jsonb_typeof(units::jsonb) = 'array'),
            keywords text NOT NULL DEFAULT '[]'
                CONSTRAINT kb_keywords_json_array CHECK (jsonb_typeof(keywords::jsonb) = 'array'),
            valid_from text CONSTRAINT kb_valid_from_format CHECK (valid_from ~ \(PostgresSchema.timestamp)),
            valid_until text CONSTRAINT kb_valid_until_format CHECK (valid_until ~ \(PostgresSchema.timestamp)),
            updated_at text NOT NULL CONSTRAINT kb_updated_at_format CHECK (updated_at ~ \(PostgresSchema.timestamp)),
            search_text text NOT NULL GENERATED ALWAYS AS (lower(title || E'\\n' || keywords || E'\\n' || body)) STORED,
            CONSTRAINT kb_valid_window CHECK (valid_until > valid_from)
        );
        CREATE INDEX kb_articles_search ON kb_articles USING gin (search_text gin_trgm_ops);
        CREATE INDEX kb_articles_business_line ON kb_articles (business_line);

        -- The article a direct answer gave (the direct-answer rate by article). Articles are
        -- never deleted (re-imports update them), so the reference always resolves.
        ALTER TABLE work_order_events ADD COLUMN article_id text REFERENCES kb_articles(id)
            CONSTRAINT article_only_on_direct_answer CHECK (article_id IS NULL OR kind = 'answered_directly');
        CREATE INDEX work_order_events_article ON work_order_events (article_id) WHERE article_id IS NOT NULL;
        """

    static let columns = "id, title, body, business_line, units, keywords, valid_from, valid_until, updated_at"

    /// Articles per INSERT (arrays unnested: one round trip per chunk, not per article).
    static let chunk = 500

    static func upsert(_ articles: [KnowledgeArticle], at now: Date, session: PostgresSession) throws -> KnowledgeImportSummary {
        var summary = KnowledgeImportSummary()
        let stamp = PostgresTime.format(now)
        var start = 0
        while start < articles.count {
            let part = articles[start..<min(articles.count, start + chunk)]
            start += chunk
            // Arrays bind NULL as '' (PostgresSession): NULLIF brings the optional ones back.
            let rows = try session.query("""
                INSERT INTO kb_articles (id, title, body, business_line, units, keywords, valid_from, valid_until, updated_at)
                SELECT id, title, body, NULLIF(line, ''), units, keywords, NULLIF(valid_from, ''), NULLIF(valid_until, ''), $9
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                    AS t(id, title, body, line, units, keywords, valid_from, valid_until)
                ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body,
                    business_line = excluded.business_line, units = excluded.units, keywords = excluded.keywords,
                    valid_from = excluded.valid_from, valid_until = excluded.valid_until, updated_at = excluded.updated_at
                RETURNING (xmax = 0) AS inserted
                """, [
                    .textArray(part.map(\.id.rawValue)), .textArray(part.map(\.title)), .textArray(part.map(\.body)),
                    .textArray(part.map(\.businessLine)), .textArray(part.map { KnowledgeJSON.list($0.units.map(\.rawValue)) }),
                    .textArray(part.map { KnowledgeJSON.list($0.keywords) }),
                    .textArray(part.map { $0.validFrom.map(PostgresTime.format) }),
                    .textArray(part.map { $0.validUntil.map(PostgresTime.format) }), .text(stamp),
                ])
            for row in rows {
                if try row.decode(Bool.self) { summary.inserted += 1 } else { summary.updated += 1 }
            }
        }
        return summary
    }

    static func article(id: KnowledgeArticleID, session: PostgresSession) throws -> KnowledgeArticle? {
        try session.query("SELECT \(columns) FROM kb_articles WHERE id = $1", [.text(id.rawValue)])
            .first.map { row throws(TicketStoreError) in try article(from: row) }
    }

    static func count(session: PostgresSession) throws -> Int {
        try session.query("SELECT count(*) FROM kb_articles").first?.decode(Int.self) ?? 0
    }

    /// Candidates handed to the ranking.
    static let candidates = 100

    /// The articles valid at `now` that match, ranked (``KnowledgeRanking``). Candidates, as in
    /// SQLite from two statements: those holding any trigram of the long terms (the GIN index),
    /// best first by word similarity of title and keywords and whole terms found anywhere; and
    /// those holding a short term (a substring scan: pg_trgm pads words with spaces, so inside a
    /// run of Chinese a two-character term has no trigram to find), by the fields it is in.
    static func search(_ query: KnowledgeQuery, at now: Date, session: PostgresSession) throws -> [KnowledgeHit] {
        let query = try query.validated()
        var found: [KnowledgeArticle] = []
        var seen = Set<KnowledgeArticleID>()
        /// One candidate query: the validity and line filter, then `clauses` adds its matches and rank.
        func candidates(_ clauses: (inout [PostgresValue]) -> (matches: [String], rank: [String])) throws {
            var values: [PostgresValue] = [.text(PostgresTime.format(now))]
            var filter = "(valid_from IS NULL OR valid_from <= $1) AND (valid_until IS NULL OR valid_until > $1)"
            if let line = query.businessLine {
                values.append(.text(line))
                filter += " AND business_line = $\(values.count)"
            }
            let (matches, rank) = clauses(&values)
            values.append(.int(Self.candidates))
            let rows = try session.query("""
                SELECT \(columns) FROM kb_articles
                WHERE \(filter) AND (\(matches.joined(separator: " OR ")))
                ORDER BY \(rank.joined(separator: " + ")) DESC, id LIMIT $\(values.count)
                """, values)
            for row in rows {
                let candidate = try article(from: row)
                if seen.insert(candidate.id).inserted { found.append(candidate) }
            }
        }
        func parameter(_ value: PostgresValue, _ values: inout [PostgresValue]) -> String {
            values.append(value)
            return "$\(values.count)"
        }
        let long = query.longTerms
        let short = query.shortTerms
        /// Where a short term is: title 4, keywords 3, body 1.
        func shortRank(_ t: String, cased: Bool) -> String {
            // lower() copies every text it reads: only for terms that have a case (Chinese has none).
            let fold = cased ? "lower" : ""
            return "4 * (strpos(\(fold)(title), \(t)) > 0)::int + 3 * (strpos(\(fold)(keywords), \(t)) > 0)::int"
                + " + (strpos(\(fold)(body), \(t)) > 0)::int"
        }
        if !long.isEmpty {
            // The GIN index, always: the LIKE rechecks over long Chinese text cost far more per row
            // than the planner assumes, so for common trigrams it picks a sequential scan 3-5 times
            // slower (50,000 articles: 470 ms against 95 ms). Only for this statement: the short
            // terms below have no index to use.
            try session.script("BEGIN READ ONLY; SET LOCAL enable_seqscan = off")
            do {
                try candidates { values in
                    let matches = query.trigrams.map { "search_text LIKE \(parameter(.text("%" + escapeLike($0) + "%"), &values))" }
                    // word_similarity extracts the trigrams of the whole text it is given at every
                    // row: cheap on titles and keywords, hundreds of milliseconds over thousands of
                    // bodies. The body counts by whether it holds a whole term (one LIKE per term).
                    let q = parameter(.text(long.joined(separator: " ")), &values)
                    var rank = ["4 * word_similarity(\(q), lower(title)) + 3 * word_similarity(\(q), lower(keywords))"]
                    for term in long {
                        rank.append("(search_text LIKE \(parameter(.text("%" + escapeLike(term) + "%"), &values)))::int")
                    }
                    // The short terms too (cheap on the rows the index gave), so `同心县 挪车` puts
                    // the articles holding both first.
                    rank += short.map { shortRank(parameter(.text($0), &values), cased: $0.contains(where: \.isCased)) }
                    return (matches, rank)
                }
                try session.script("COMMIT")
            } catch {
                try? session.script("ROLLBACK")
                throw error
            }
        }
        if !short.isEmpty {
            try candidates { values in
                var matches: [String] = [], rank: [String] = []
                for term in short {
                    let t = parameter(.text(term), &values)
                    matches.append("strpos(search_text, \(t)) > 0")
                    rank.append(shortRank(t, cased: term.contains(where: \.isCased)))
                }
                // And the whole long terms, so this list too puts the articles holding both first.
                rank += long.map { "4 * (strpos(search_text, \(parameter(.text($0), &values))) > 0)::int" }
                return (matches, rank)
            }
        }
        return KnowledgeRanking.rank(found, for: query)
    }

    /// `text` with LIKE's wildcards and escape character taken literally.
    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    static func article(from row: PostgresRow) throws(TicketStoreError) -> KnowledgeArticle {
        let r = PostgresRowReader(row)
        guard let units = KnowledgeJSON.parseList(try r.text("units")),
              let keywords = KnowledgeJSON.parseList(try r.text("keywords"))
        else { throw .corruptRow(id: r.id, column: "kb_articles") }
        return KnowledgeArticle(id: KnowledgeArticleID(r.id), title: try r.text("title"), body: try r.text("body"),
                                businessLine: try r.optionalText("business_line"), units: units.map(UnitID.init(rawValue:)),
                                keywords: keywords, validFrom: try r.optionalDate("valid_from"),
                                validUntil: try r.optionalDate("valid_until"), updatedAt: try r.optionalDate("updated_at"))
    }
}

/// ``KnowledgeBase`` on a connection of its own (the server's, the CLI's). An import is one
/// transaction: all of it or nothing.
public final class PostgresKnowledgeBase: KnowledgeBase, @unchecked Sendable {
    public let url: PostgresURL
    private let session: PostgresSessionSlot

    /// Connects lazily, at the first use (and again after a lost connection). The database must
    /// be migrated by this build (a store opened on it once).
    public init(url: PostgresURL) {
        self.url = url
        session = PostgresSessionSlot(url: url, timeout: .seconds(5), drop: .afterConnectionFailure)
    }

    deinit {
        close()
    }

    /// Brings the database to this build's schema (the knowledge base's tables), for a tool
    /// that may come before any node (`hotline kb import`). Nodes starting meanwhile wait for it.
    public static func migrate(url: PostgresURL) throws(TicketStoreError) {
        try PostgresMigrator.migrate(url: url)
    }

    public func close() {
        session.close()
    }

    @discardableResult
    public func upsert(_ articles: [KnowledgeArticle], at now: Date) throws(TicketStoreError) -> KnowledgeImportSummary {
        for article in articles {
            if let problem = article.problems.first {
                throw .invalidArticle(article.id, reason: "\(problem.field): \(problem.message)")
            }
        }
        return try session.withSession { session in
            try session.script("BEGIN")
            do {
                let summary = try PostgresKnowledgeSchema.upsert(articles, at: now, session: session)
                try session.script("COMMIT")
                // Fresh statistics for the planner after a bulk import (autovacuum comes later).
                if articles.count >= 1000 { try session.script("ANALYZE kb_articles") }
                return summary
            } catch {
                try? session.script("ROLLBACK")
                throw error
            }
        }
    }

    public func search(_ query: KnowledgeQuery, at now: Date) throws(TicketStoreError) -> [KnowledgeHit] {
        try session.withSession { session in try PostgresKnowledgeSchema.search(query, at: now, session: session) }
    }

    public func article(id: KnowledgeArticleID) throws(TicketStoreError) -> KnowledgeArticle? {
        try session.withSession { session in try PostgresKnowledgeSchema.article(id: id, session: session) }
    }

    public func articleCount() throws(TicketStoreError) -> Int {
        try session.withSession { session in try PostgresKnowledgeSchema.count(session: session) }
    }
}

extension PostgresTicketStore {
    /// The knowledge base in this store's database, on a connection of its own.
    public func makeKnowledgeBase() -> PostgresKnowledgeBase {
        PostgresKnowledgeBase(url: url)
    }
}
