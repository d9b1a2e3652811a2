// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: knowledge-base search as the backends share it — the query split into terms, the
// final ranking and the snippet. The backends only find candidates with their indexes (SQLite
// FTS5 trigram, PostgreSQL pg_trgm) and hand them here in their own relevance order, so both
// rank the same articles the same way.

import Foundation

/// A search: the agent's words, how many results, and optionally one business line.
///
/// Chinese has no spaces between words, so a term is a run of text between spaces and
/// punctuation (`社保卡 补办`, `社保卡丢了怎么补办`), and it matches by its characters: a term
/// of three characters or more through the trigram indexes, a shorter one (停车, 社保, very
/// common) by substring (see ``shortTerms``).
public struct KnowledgeQuery: Sendable, Equatable, Hashable {
    public var text: String
    public var limit: Int
    public var businessLine: String?

    public static let maximumLimit = 50
    /// Longest query taken (characters): a question, not a document.
    public static let maximumLength = 200

    public init(_ text: String, limit: Int = 10, businessLine: String? = nil) {
        self.text = text
        self.limit = limit
        self.businessLine = businessLine
    }

    /// Throws ``TicketStoreError/invalidQuery(_:)`` if the query has no term, is too long, or
    /// asks for a limit outside 1...``maximumLimit``.
    public func validated() throws(TicketStoreError) -> KnowledgeQuery {
        guard (1...Self.maximumLimit).contains(limit) else {
            throw .invalidQuery("limit must be 1 to \(Self.maximumLimit), not \(limit)")
        }
        guard text.count <= Self.maximumLength else {
            throw .invalidQuery("the query has \(text.count) characters; at most \(Self.maximumLength)")
        }
        guard !terms.isEmpty else { throw .invalidQuery("the query has no words to search for") }
        return self
    }

    /// The terms: the text split at whitespace and punctuation (ASCII and CJK) and at the
    /// question words of ``fillers``, lower-cased, without repeats, at most 16.
    public var terms: [String] {
        var seen = Set<String>()
        var terms: [String] = []
        for piece in text.lowercased().split(whereSeparator: Self.isSeparator) {
            for term in Self.removingFillers(String(piece)) where seen.insert(term).inserted {
                terms.append(term)
            }
        }
        return Array(terms.prefix(16))
    }

    /// Words of the question rather than of the matter (怎么办, 如何, 请问...): callers and agents
    /// type them around every query, and many titles end with them, so searching them would rank
    /// an article for how it asks rather than what it is about. They split a term
    /// (`社保卡丢了怎么补办` → 社保卡丢了, 补办), longest first.
    public static let fillers = ["为什么", "怎么办", "怎么样", "能不能", "可不可以", "是不是", "怎么", "如何", "什么", "哪里",
                                 "哪儿", "请问", "我想", "我要", "可以", "一下", "是否"]

    static func removingFillers(_ term: String) -> [String] {
        var pieces = [term]
        for filler in fillers {
            pieces = pieces.flatMap { $0.components(separatedBy: filler) }.filter { !$0.isEmpty }
        }
        // A lone particle left over (了, 吗, 呢...) is no term.
        return pieces.filter { !($0.count == 1 && "了吗呢吧啊的".contains($0)) }
    }

    /// Terms the trigram indexes can find (three characters or more).
    public var longTerms: [String] { terms.filter { $0.count >= 3 } }

    /// Terms under three characters. A trigram index has no entry shorter than three
    /// characters, so it cannot find `停车` or `社保` at all; the backends find these by
    /// substring (instr/strpos over the valid articles), which costs a scan but keeps the
    /// commonest Chinese words searchable.
    public var shortTerms: [String] { terms.filter { $0.count < 3 } }

    /// The distinct trigrams of the long terms, at most 48, in order: what the trigram indexes
    /// are asked for (any of them), so a natural question (`社保卡丢了怎么补办`) finds the
    /// articles that share some of its three-character runs (社保卡) even though the whole
    /// question appears nowhere.
    public var trigrams: [String] {
        var seen = Set<String>()
        var grams: [String] = []
        for term in longTerms {
            let characters = Array(term)
            for start in 0...(characters.count - 3) {
                let gram = String(characters[start..<start + 3])
                if seen.insert(gram).inserted { grams.append(gram) }
            }
        }
        return Array(grams.prefix(48))
    }

    static func isSeparator(_ character: Character) -> Bool {
        character.isWhitespace || character.isPunctuation || character.isSymbol
    }
}

/// A search result: the article, its score (higher is better; comparable within one search
/// only) and where it matched.
public struct KnowledgeHit: Sendable, Equatable, Hashable {
    public var article: KnowledgeArticle
    public var score: Double
    public var snippet: KnowledgeSnippet

    public init(article: KnowledgeArticle, score: Double, snippet: KnowledgeSnippet) {
        self.article = article
        self.score = score
        self.snippet = snippet
    }
}

/// A short excerpt of the body around the first match, with the matched runs marked.
public struct KnowledgeSnippet: Sendable, Equatable, Hashable {
    public var text: String
    /// The matched runs in ``text``, as UTF-16 offsets and lengths (how JavaScript indexes strings).
    public var highlights: [Highlight]

    public struct Highlight: Sendable, Equatable, Hashable {
        public var start: Int
        public var length: Int
        public init(start: Int, length: Int) {
            self.start = start
            self.length = length
        }
    }

    public init(text: String, highlights: [Highlight]) {
        self.text = text
        self.highlights = highlights
    }

    /// The text with each highlight in 【】, for terminals.
    public var marked: String {
        let units = Array(text.utf16)
        var out: [UInt16] = []
        var position = 0
        for highlight in highlights {
            out += units[position..<highlight.start]
            out += Array("【".utf16) + units[highlight.start..<highlight.start + highlight.length] + Array("】".utf16)
            position = highlight.start + highlight.length
        }
        out += units[position...]
        return String(decoding: out, as: UTF16.self)
    }
}

/// The final ranking, the same for every backend.
///
/// Each term counts in each field it matches, title above keywords above body: the whole term
/// scores the field's weight twice; otherwise the share of the term's two-character runs found
/// in the field scores that share of the weight (so `社保卡丢了怎么补办` still favours the
/// article titled 社保卡补办, which has 社保, 保卡 and 补办). Equal scores keep the backend's
/// own order (bm25 in SQLite, trigram similarity in PostgreSQL), then the id.
public enum KnowledgeRanking {
    public static let titleWeight = 4.0
    public static let keywordWeight = 3.0
    public static let bodyWeight = 1.0

    /// `candidates` in the backend's relevance order, ranked and cut to the query's limit.
    public static func rank(_ candidates: [KnowledgeArticle], for query: KnowledgeQuery) -> [KnowledgeHit] {
        let terms = query.terms
        let scored = candidates.enumerated().map { index, article in
            (index: index, article: article, score: score(article, terms: terms))
        }
        let ranked = scored.filter { $0.score > 0 }.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.index != b.index { return a.index < b.index }
            return a.article.id < b.article.id
        }
        return ranked.prefix(query.limit).map { entry in
            KnowledgeHit(article: entry.article, score: (entry.score * 1000).rounded() / 1000,
                         snippet: snippet(entry.article.body, terms: terms))
        }
    }

    /// The article's score for `terms` (0: it matches none).
    public static func score(_ article: KnowledgeArticle, terms: [String]) -> Double {
        let title = article.title.lowercased()
        let keywords = article.keywords.joined(separator: "\n").lowercased()
        let body = article.body.lowercased()
        var total = 0.0
        for term in terms {
            let pieces = bigrams(term)
            for (field, weight) in [(title, titleWeight), (keywords, keywordWeight), (body, bodyWeight)] {
                if field.contains(term) {
                    total += 2 * weight
                } else if pieces.count > 1 {
                    let found = pieces.filter { field.contains($0) }.count
                    total += weight * Double(found) / Double(pieces.count)
                }
            }
        }
        return total
    }

    /// The distinct two-character runs of a term (the term itself when shorter).
    static func bigrams(_ term: String) -> [String] {
        let characters = Array(term)
        guard characters.count > 2 else { return [term] }
        var seen = Set<String>()
        return (0...(characters.count - 2)).map { String(characters[$0..<$0 + 2]) }.filter { seen.insert($0).inserted }
    }

    /// About 80 characters of `body` around its first match (a whole term if any, else a
    /// two-character run of one), every match inside marked.
    public static func snippet(_ body: String, terms: [String], width: Int = 80) -> KnowledgeSnippet {
        let text = body.replacingOccurrences(of: "\n", with: " ")
        let lower = text.lowercased()
        // Lower-casing keeps the length of CJK and ASCII text, which is what the search is for;
        // if it does not (rare scripts), no highlights rather than wrong ones.
        let aligned = lower.utf16.count == text.utf16.count
        var pieces = terms.sorted { $0.count > $1.count }
        pieces += terms.flatMap(bigrams).filter { !pieces.contains($0) }
        let characters = Array(text)
        var first: Int?
        for piece in pieces {
            if let range = lower.range(of: piece) {
                let offset = lower.distance(from: lower.startIndex, to: range.lowerBound)
                first = min(first ?? offset, offset)
                if piece.count >= 2 && terms.contains(piece) { break }
            }
        }
        let start = max(0, (first ?? 0) - width / 4)
        let end = min(characters.count, start + width)
        var excerpt = String(characters[start..<end])
        if start > 0 { excerpt = "…" + excerpt }
        if end < characters.count { excerpt += "…" }
        guard aligned, first != nil else { return KnowledgeSnippet(text: excerpt, highlights: []) }
        // Mark every occurrence of every piece, longest first, never overlapping.
        let units = Array(excerpt.lowercased().utf16)
        var marked = [Bool](repeating: false, count: units.count)
        var highlights: [KnowledgeSnippet.Highlight] = []
        for piece in pieces {
            let needle = Array(piece.utf16)
            guard !needle.isEmpty, needle.count <= units.count else { continue }
            var index = 0
            while index + needle.count <= units.count {
                if Array(units[index..<index + needle.count]) == needle, !marked[index..<index + needle.count].contains(true) {
                    for i in index..<index + needle.count { marked[i] = true }
                    highlights.append(.init(start: index, length: needle.count))
                    index += needle.count
                } else {
                    index += 1
                }
            }
        }
        highlights.sort { $0.start < $1.start }
        // Adjacent runs read as one.
        var merged: [KnowledgeSnippet.Highlight] = []
        for highlight in highlights {
            if let last = merged.last, last.start + last.length == highlight.start {
                merged[merged.count - 1].length += highlight.length
            } else {
                merged.append(highlight)
            }
        }
        return KnowledgeSnippet(text: excerpt, highlights: merged)
    }
}
