// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: the knowledge base's schema (migration v4) and SQL — the articles, their FTS5
// trigram index, and the article a direct answer names.

import Foundation
import Tickets
import GRDB

enum KnowledgeSchema {
    /// v4: the articles, an FTS5 index over title, body and keywords, and
    /// `work_order_events.article_id`.
    ///
    /// - `seq` is the rowid the index points at: an explicit INTEGER PRIMARY KEY, because VACUUM
    ///   may renumber an implicit rowid and silently detach an external-content index.
    /// - The index is external-content (the text is stored once, in `kb_articles`) and kept in
    ///   step by triggers, so no writer can forget it.
    /// - `tokenize='trigram'` (SQLite ≥ 3.34) indexes every run of three characters: Chinese has
    ///   no spaces to split words at, and a trigram index finds any substring of three characters
    ///   or more, whatever the word boundaries. Shorter terms are KnowledgeQuery.shortTerms'.
    /// - `units` and `keywords` are JSON arrays of text; `valid_until` is exclusive.
    static let v4 = """
        CREATE TABLE kb_articles (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE
                CONSTRAINT kb_article_id_format CHECK (length(id) BETWEEN 1 AND 64 AND id GLOB '[A-Za-z0-9]*'
                    AND id NOT GLOB '*[^A-Za-z0-9_.-]*'),
            title TEXT NOT NULL CONSTRAINT kb_title_not_blank CHECK (trim(title) <> ''),
            body TEXT NOT NULL CONSTRAINT kb_body_not_blank CHECK (trim(body) <> ''),
            business_line TEXT CONSTRAINT kb_business_line_not_empty CHECK (business_line <> ''),
            units TEXT NOT NULL DEFAULT '[]'
                CONSTRAINT kb_units_json_array CHECK (json_valid(units) AND json_type(units) = 'array'),
            keywords TEXT NOT NULL DEFAULT '[]'
                CONSTRAINT kb_keywords_json_array CHECK (json_valid(keywords) AND json_type(keywords) = 'array'),
            valid_from TEXT CONSTRAINT kb_valid_from_format CHECK (valid_from GLOB \(TicketSchema.timestamp)),
            valid_until TEXT CONSTRAINT kb_valid_until_format CHECK (valid_until GLOB \(TicketSchema.timestamp)),
            updated_at TEXT NOT NULL CONSTRAINT kb_updated_at_format CHECK (updated_at GLOB \(TicketSchema.timestamp)),
            CONSTRAINT kb_valid_window CHECK (valid_until > valid_from)
        ) STRICT;
        CREATE INDEX kb_articles_business_line ON kb_articles(business_line);

        CREATE VIRTUAL TABLE kb_articles_fts USING fts5(
            title, body, keywords, content = 'kb_articles', content_rowid = 'seq', tokenize = 'trigram');
        CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN
            INSERT INTO kb_articles_fts (rowid, title, body, keywords) VALUES (new.seq, new.title, new.body, new.keywords);
        END;
        CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN
            INSERT INTO kb_articles_fts (kb_articles_fts, rowid, title, body, keywords)
                VALUES ('delete', old.seq, old.title, old.body, old.keywords);
        END;
        CREATE TRIGGER kb_articles_fts_update AFTER UPDATE ON kb_articles BEGIN
            INSERT INTO kb_articles_fts (kb_articles_fts, rowid, title, body, keywords)
                VALUES ('delete', old.seq, old.title, old.body, old.keywords);
            INSERT INTO kb_articles_fts (rowid, title, body, keywords) VALUES (new.seq, new.title, new.body, new.keywords);
        END;

        -- The article a direct answer gave (the direct-answer rate by article). Articles are
        -- never deleted (re-imports update them), so the reference always resolves.
        ALTER TABLE work_order_events ADD COLUMN article_id TEXT REFERENCES kb_articles(id)
            CONSTRAINT article_only_on_direct_answer CHECK (article_id IS NULL OR kind = 'answered_directly');
        CREATE INDEX work_order_events_article ON work_order_events(article_id) WHERE article_id IS NOT NULL;
        """

    static let columns = "a.id, a.title, a.body, a.business_line, a.units, a.keywords, a.valid_from, a.valid_until, a.updated_at"

    // MARK: - Writes

    static func upsert(_ articles: [KnowledgeArticle], at now: Date, in db: Database) throws -> KnowledgeImportSummary {
        var summary = KnowledgeImportSummary()
        let exists = try db.cachedStatement(sql: "SELECT 1 FROM kb_articles WHERE id = ?")
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO kb_articles (id, title, body, business_line, units, keywords, valid_from, valid_until, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body,
                business_line = excluded.business_line, units = excluded.units, keywords = excluded.keywords,
                valid_from = excluded.valid_from, valid_until = excluded.valid_until, updated_at = excluded.updated_at
            """)
        let stamp = TicketTimestamp.format(now)
        for article in articles {
            if try Bool.fetchOne(exists, arguments: [article.id.rawValue]) == true {
                summary.updated += 1
            } else {
                summary.inserted += 1
            }
            try upsert.execute(arguments: [
                article.id.rawValue, article.title, article.body, article.businessLine,
                KnowledgeJSON.list(article.units.map(\.rawValue)), KnowledgeJSON.list(article.keywords),
                article.validFrom.map(TicketTimestamp.format), article.validUntil.map(TicketTimestamp.format), stamp,
            ])
        }
        return summary
    }

    // MARK: - Reads

    static func article(id: KnowledgeArticleID, in db: Database) throws -> KnowledgeArticle? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM kb_articles a WHERE a.id = ?", arguments: [id.rawValue])
            .map(article(from:))
    }

    static func count(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM kb_articles") ?? 0
    }

    /// Candidates each source (the index, the substring scan) hands to the ranking.
    static let candidates = 100

    /// The articles valid at `now` that match, ranked (``KnowledgeRanking``). Candidates: the
    /// index's best by bm25 for the long terms' trigrams (any of them; title weighted 10, keywords
    /// 4, body 1), and, for the short terms the index cannot see, the best of a substring scan.
    static func search(_ query: KnowledgeQuery, at now: Date, in db: Database) throws -> [KnowledgeHit] {
        let query = try query.validated()
        let stamp = TicketTimestamp.format(now)
        var arguments: [(any DatabaseValueConvertible)?] = []
        func parameter(_ value: (any DatabaseValueConvertible)?) -> String {
            arguments.append(value)
            return "?\(arguments.count)"
        }
        let nowParameter = parameter(stamp)
        var filter = """
            (a.valid_from IS NULL OR a.valid_from <= \(nowParameter)) AND (a.valid_until IS NULL OR a.valid_until > \(nowParameter))
            """
        if let line = query.businessLine { filter += " AND a.business_line = \(parameter(line))" }
        let shared = arguments
        var found: [KnowledgeArticle] = []
        var seen = Set<KnowledgeArticleID>()
        let trigrams = query.trigrams
        if !trigrams.isEmpty {
            // Each trigram a quoted FTS5 string (quotes doubled), any of them.
            let match = trigrams.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " OR ")
            let matchParameter = parameter(match)
            let limit = parameter(candidates)
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(columns) FROM kb_articles_fts JOIN kb_articles a ON a.seq = kb_articles_fts.rowid
                WHERE kb_articles_fts MATCH \(matchParameter) AND \(filter)
                ORDER BY bm25(kb_articles_fts, 10.0, 1.0, 4.0) LIMIT \(limit)
                """, arguments: StatementArguments(arguments))
            for row in rows {
                let candidate = try article(from: row)
                if seen.insert(candidate.id).inserted { found.append(candidate) }
            }
        }
        let short = query.shortTerms
        if !short.isEmpty {
            arguments = shared
            var matches: [String] = [], weights: [String] = []
            for term in short {
                let t = parameter(term)
                // lower() copies every body it reads: only for terms that have a case (Chinese has none).
                let (title, body) = term.contains(where: \.isCased) ? ("lower(a.title)", "lower(a.body)") : ("a.title", "a.body")
                matches.append("instr(\(title), \(t)) > 0 OR instr(a.keywords, \(t)) > 0 OR instr(\(body), \(t)) > 0")
                weights.append("4 * (instr(\(title), \(t)) > 0) + 3 * (instr(a.keywords, \(t)) > 0) + (instr(\(body), \(t)) > 0)")
            }
            let limit = parameter(candidates)
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(columns) FROM kb_articles a
                WHERE \(filter) AND (\(matches.joined(separator: " OR ")))
                ORDER BY \(weights.joined(separator: " + ")) DESC, a.id LIMIT \(limit)
                """, arguments: StatementArguments(arguments))
            for row in rows {
                let candidate = try article(from: row)
                if seen.insert(candidate.id).inserted { found.append(candidate) }
            }
        }
        return KnowledgeRanking.rank(found, for: query)
    }

    static func article(from row: Row) throws(TicketStoreError) -> KnowledgeArticle {
        let id: String = (row["id"] as String?) ?? "?"
        func date(_ column: String) throws(TicketStoreError) -> Date? {
            guard let text = row[column] as String? else { return nil }
            guard let date = TicketTimestamp.parse(text) else { throw .corruptRow(id: id, column: "kb_articles.\(column)") }
            return date
        }
        guard let title = row["title"] as String?, let body = row["body"] as String?,
              let units = KnowledgeJSON.parseList(row["units"] as String?),
              let keywords = KnowledgeJSON.parseList(row["keywords"] as String?)
        else { throw .corruptRow(id: id, column: "kb_articles") }
        return KnowledgeArticle(id: KnowledgeArticleID(id), title: title, body: body, businessLine: row["business_line"],
                                units: units.map(UnitID.init(rawValue:)), keywords: keywords,
                                validFrom: try date("valid_from"), validUntil: try date("valid_until"),
                                updatedAt: try date("updated_at"))
    }
}
