// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: a knowledge-base article (知识库条目) — what an agent reads out to answer a caller
// directly, and what a direct answer names on the work order.

import Foundation

/// An article's id: the slug it is imported under (`parking-move-car`), kept across re-imports
/// so a re-import updates the article. 1 to 64 characters of `A-Z a-z 0-9 _ . -`, starting
/// with a letter or digit.
public struct KnowledgeArticleID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    /// Whether the schema takes it.
    public var isWellFormed: Bool {
        guard let first = rawValue.unicodeScalars.first, rawValue.unicodeScalars.count <= 64 else { return false }
        func plain(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        return plain(first) && rawValue.unicodeScalars.allSatisfy { plain($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// One article: the answer to a question callers ask, for a business line and the units that
/// handle the matter, with the words agents search it by, valid for a window of time (a
/// heating-season rule, a policy until it is replaced).
public struct KnowledgeArticle: Sendable, Equatable, Hashable {
    public var id: KnowledgeArticleID
    public var title: String
    /// The answer, plain text.
    public var body: String
    /// The business line it answers for (`traffic`, `social_security`...), if one.
    public var businessLine: String?
    /// The units that handle the matter (to dispatch to when a direct answer is not enough).
    public var units: [UnitID]
    /// Extra words it is found by (synonyms, colloquial names: 挪车, 贴条).
    public var keywords: [String]
    /// Valid from this instant (inclusive); nil: always was.
    public var validFrom: Date?
    /// Valid until this instant (exclusive); nil: no end. An import's `valid_to` date is
    /// inclusive, so it becomes the start of the next day.
    public var validUntil: Date?
    /// When the store last wrote it (set by ``KnowledgeBase/upsert(_:at:)``).
    public var updatedAt: Date?

    public init(id: KnowledgeArticleID, title: String, body: String, businessLine: String? = nil, units: [UnitID] = [],
                keywords: [String] = [], validFrom: Date? = nil, validUntil: Date? = nil, updatedAt: Date? = nil) {
        self.id = id
        self.title = title
        self.body = body
        self.businessLine = businessLine
        self.units = units
        self.keywords = keywords
        self.validFrom = validFrom.map(TicketTimestamp.normalized)
        self.validUntil = validUntil.map(TicketTimestamp.normalized)
        self.updatedAt = updatedAt.map(TicketTimestamp.normalized)
    }

    /// Whether it may be given as an answer at `now`.
    public func isValid(at now: Date) -> Bool {
        (validFrom.map { $0 <= now } ?? true) && (validUntil.map { now < $0 } ?? true)
    }

    /// Longest title and body the store takes (a title is a line; a body a page or two).
    public static let maximumTitleLength = 200
    public static let maximumBodyLength = 20_000

    /// What is wrong with it, as `(field, message)` pairs; empty when the store will take it.
    /// The importers locate each one in the file.
    public var problems: [(field: String, message: String)] {
        var problems: [(field: String, message: String)] = []
        if !id.isWellFormed {
            problems.append(("id", "'\(id)' is not an article id: 1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or digit"))
        }
        if title.allSatisfy(\.isWhitespace) { problems.append(("title", "the title is empty")) }
        if title.count > Self.maximumTitleLength {
            problems.append(("title", "the title has \(title.count) characters; at most \(Self.maximumTitleLength)"))
        }
        if title.contains(where: \.isNewline) { problems.append(("title", "the title is one line")) }
        if body.allSatisfy(\.isWhitespace) { problems.append(("body", "the body is empty")) }
        if body.count > Self.maximumBodyLength {
            problems.append(("body", "the body has \(body.count) characters; at most \(Self.maximumBodyLength)"))
        }
        if let line = businessLine, line.isEmpty || line.contains(where: \.isWhitespace) {
            problems.append(("business_line", "'\(line)' is not a business line: one word, no spaces"))
        }
        for unit in units where !unit.isWellFormed {
            problems.append(("units", "'\(unit)' is not a unit id (lower-case a-z 0-9 _ . -, as in units.yaml)"))
        }
        for keyword in keywords where keyword.isEmpty || keyword.contains(where: \.isNewline) {
            problems.append(("keywords", "'\(keyword)' is not a keyword"))
        }
        if let from = validFrom, let until = validUntil, until <= from {
            problems.append(("valid_to", "valid_to is before valid_from"))
        }
        return problems
    }
}

/// What an import did: how many articles were new and how many replaced one with the same id.
public struct KnowledgeImportSummary: Sendable, Equatable, Hashable {
    public var inserted: Int
    public var updated: Int

    public init(inserted: Int = 0, updated: Int = 0) {
        self.inserted = inserted
        self.updated = updated
    }
}

/// The knowledge base: articles, their search, and their lookup by id. Every backend keeps it
/// beside the work orders (a direct answer names an article; the schema checks it exists):
/// SQLite with an FTS5 trigram index, PostgreSQL with `pg_trgm`.
///
/// Reads see committed data and block on the database: from an event loop, run them on a
/// thread pool.
public protocol KnowledgeBase: Sendable {
    /// Inserts the articles, replacing those with the same id (`updated_at` = `now`), in one
    /// transaction: all of them or, on any error, none.
    @discardableResult
    func upsert(_ articles: [KnowledgeArticle], at now: Date) throws(TicketStoreError) -> KnowledgeImportSummary

    /// The articles valid at `now` that match the query, best first (``KnowledgeRanking``),
    /// each with a snippet of where it matched.
    func search(_ query: KnowledgeQuery, at now: Date) throws(TicketStoreError) -> [KnowledgeHit]

    /// The article with this id, valid or not.
    func article(id: KnowledgeArticleID) throws(TicketStoreError) -> KnowledgeArticle?

    /// How many articles there are, valid or not.
    func articleCount() throws(TicketStoreError) -> Int
}
