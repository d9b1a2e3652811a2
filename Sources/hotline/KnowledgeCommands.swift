// hotline: the command-line tool.
// This file: `hotline kb import FILE` and `hotline kb search "QUERY"` — the knowledge base in the
// ticket store (SQLite file or PostgreSQL), beside a running server.

import ArgumentParser
import ConfigFiles
import Foundation
import Tickets
import TicketsPostgres
import TicketsSQLite

struct KnowledgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb", abstract: "The knowledge base agents answer callers from.",
        discussion: """
            Files are CSV (a header row naming the columns id, title, body, business_line, units, keywords, \
            valid_from, valid_to; units and keywords separated by ';') or YAML (a list of articles, or one under \
            'articles:'). An import is all or nothing; an article whose id exists is updated.
            """,
        subcommands: [Import.self, Search.self, Show.self, Bench.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import articles from a CSV or YAML file (POST /api/kb/articles).")
        @Argument(help: "The file: .csv, .yaml or .yml.") var file: String
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Check the file only; import nothing.") var check = false

        func run() async throws {
            try reportingErrors {
                let articles: [KnowledgeArticle]
                let zone = try database.zone()
                do {
                    articles = try KnowledgeImport(timeZone: zone).articles(contentsOf: file)
                } catch let error as ConfigError {
                    // Like a compiler: one `file:line:column: error: ...` per problem.
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                    FileHandle.standardError.write(Data("hotline: \(file): nothing imported (\(error.issues.count) error(s))\n".utf8))
                    throw ExitCode(1)
                }
                if check {
                    print("\(file): \(articles.count) article(s), no errors")
                    return
                }
                let summary = try database.knowledgeBase().upsert(articles, at: Date())
                print("\(file): \(summary.inserted) new, \(summary.updated) updated")
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search the articles valid now, best first (GET /api/kb?q=).")
        @Argument(help: "What to search for: words or a question (停车 挪车, 社保卡丢了怎么补办).") var query: String
        @OptionGroup var database: DatabaseOptions
        @Option(help: "At most this many (1-50).") var limit = 10
        @Option(help: "Only articles of this business line.") var line: String?
        @Option(help: "Search as of this instant, ISO 8601 with a zone (default: now).") var at: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try reportingErrors {
                var now = Date()
                if let at {
                    guard let instant = TicketEventRequest.parseInstant(at) else { throw CLIError("--at: '\(at)' is not an instant") }
                    now = instant
                }
                let query = KnowledgeQuery(query, limit: limit, businessLine: line)
                let hits = try database.knowledgeBase().search(query, at: now)
                if json {
                    print(try TicketJSON.text(KnowledgeSearchResult(query: query, hits: hits)), terminator: "")
                    return
                }
                for (rank, hit) in hits.enumerated() {
                    print("\(rank + 1). \(hit.article.title)  [\(hit.article.id)] score \(hit.score)")
                    print("   \(hit.snippet.marked)")
                }
                print("\(hits.count) article(s)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one article as JSON (GET /api/kb/articles/{id}).")
        @Argument(help: "The article's id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try reportingErrors {
                guard let article = try database.knowledgeBase().article(id: KnowledgeArticleID(id)) else {
                    throw TicketStoreError.unknownArticle(KnowledgeArticleID(id))
                }
                print(try TicketJSON.text(article), terminator: "")
            }
        }
    }
}

extension DatabaseOptions {
    /// The knowledge base of the store; an SQLite file that is missing or older is created or
    /// migrated first when no server holds it.
    func knowledgeBase() throws -> any KnowledgeBase {
        if PostgresURL.looksLikePostgres(db) {
            let url = try PostgresURL(parsing: db)
            try PostgresKnowledgeBase.migrate(url: url)
            return PostgresKnowledgeBase(url: url)
        }
        do {
            return try SQLiteKnowledgeBase(path: db)
        } catch {
            // A database this build has not migrated yet, or none at all: made so when no server holds it.
            let missing = !FileManager.default.fileExists(atPath: db)
            guard case .schemaTooOld = error else {
                guard case .cannotOpen = error, missing else { throw error }
                try SQLiteTicketStore.upgrade(path: db, options: .init(timeZone: try zone()))
                return try SQLiteKnowledgeBase(path: db)
            }
            try SQLiteTicketStore.upgrade(path: db, options: .init(timeZone: try zone()))
            return try SQLiteKnowledgeBase(path: db)
        }
    }
}

extension KnowledgeCommand {
    /// Benchmarks/kb-search.sh's measurement: a corpus imported, then searches timed through the
    /// store (no HTTP, no process start), each query several times.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a corpus and time searches through the store (Benchmarks/kb-search.sh).")
        @Option(help: "The articles, CSV.") var corpus: String
        @Option(help: "The queries: TSV of query, topic (the hit's id prefix), district (dNN, or empty).") var queries: String
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Timed rounds over the queries (after one untimed round).") var rounds = 5
        @Flag(help: "Search only: the corpus is already imported.") var skipImport = false

        func run() async throws {
            try reportingErrors {
                let knowledge = try database.knowledgeBase()
                let clock = ContinuousClock()
                var imported = "skipped"
                if !skipImport {
                    var articles: [KnowledgeArticle] = []
                    let parse = try clock.measure {
                        do { articles = try KnowledgeImport(timeZone: try database.zone()).articles(contentsOf: corpus) } catch {
                            throw CLIError("\(error)")
                        }
                    }
                    var summary = KnowledgeImportSummary()
                    let write = try clock.measure { summary = try knowledge.upsert(articles, at: Date()) }
                    imported = "\(summary.inserted + summary.updated) parse_s=\(Self.seconds(parse)) import_s=\(Self.seconds(write))"
                }
                let lines = try String(contentsOfFile: queries, encoding: .utf8).split(separator: "\n")
                let cases = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
                var samples: [Double] = []
                // Queries with only terms under three characters (停车): the substring scan.
                var shortSamples: [Double] = []
                var right = 0
                for round in 0...rounds {
                    for fields in cases {
                        var hits: [KnowledgeHit] = []
                        let took = try clock.measure { hits = try knowledge.search(KnowledgeQuery(fields[0]), at: Date()) }
                        if round == 0 {
                            // Right when the first hit is of the query's topic (and district, if it names one).
                            let id = hits.first?.article.id.rawValue ?? ""
                            if id.hasPrefix(fields[1] + "-"), fields.count < 3 || fields[2].isEmpty || id.contains("-\(fields[2])-") {
                                right += 1
                            }
                        } else {
                            let milliseconds = Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1000
                            samples.append(milliseconds)
                            if KnowledgeQuery(fields[0]).longTerms.isEmpty { shortSamples.append(milliseconds) }
                        }
                    }
                }
                func quantile(_ q: Double, _ samples: [Double]) -> String {
                    let sorted = samples.sorted()
                    guard !sorted.isEmpty else { return "-" }
                    return String(format: "%.2f", sorted[max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1)])
                }
                print("articles=\(try knowledge.articleCount()) imported=\(imported) queries=\(cases.count) searches=\(samples.count) "
                      + "median_ms=\(quantile(0.5, samples)) p99_ms=\(quantile(0.99, samples)) max_ms=\(quantile(1, samples)) "
                      + "short_only_median_ms=\(quantile(0.5, shortSamples)) short_only_p99_ms=\(quantile(0.99, shortSamples)) "
                      + "top1_right=\(right)/\(cases.count)")
            }
        }

        static func seconds(_ duration: Duration) -> String {
            String(format: "%.2f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        }
    }
}
