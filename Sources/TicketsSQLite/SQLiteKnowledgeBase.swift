// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: the knowledge base on the ticket database, for the server (on its store's pool)
// and for the CLI (`hotline kb import` beside a running server).

import Foundation
import Tickets
import GRDB

/// ``KnowledgeBase`` over the ticket database's `kb_articles` (migration v4).
///
/// An import is one `BEGIN IMMEDIATE` transaction: SQLite serialises it with the server's group
/// commits, which wait at most for it (a few milliseconds per thousand articles), and a failure
/// leaves every article as it was. Searches read a snapshot and wait for nobody.
public final class SQLiteKnowledgeBase: KnowledgeBase {
    private let database: any DatabaseWriter
    private let isOpen: @Sendable () -> Bool

    /// On the store's own pool (its writes take turns with the store's writer).
    init(pool: DatabasePool, isOpen: @escaping @Sendable () -> Bool) {
        database = pool
        self.isOpen = isOpen
    }

    /// Opens an existing ticket database (migrated by this build: open it once with a
    /// ``SQLiteTicketStore``, or ``SQLiteTicketStore/upgrade(path:options:)``, otherwise).
    ///
    /// - Throws: as ``SQLiteTicketReader/init(path:busyTimeout:)``.
    public init(path: String = SQLiteTicketStore.defaultPath, busyTimeout: TimeInterval = 5) throws(TicketStoreError) {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .cannotOpen(path: url.path, reason: "no such file")
        }
        var configuration = Configuration()
        configuration.label = "hotline.knowledge"
        configuration.busyMode = .timeout(busyTimeout)
        do {
            let queue = try DatabaseQueue(path: url.path, configuration: configuration)
            try queue.read { db in
                guard try db.tableExists("calls") || db.tableExists("tickets") else {
                    throw TicketStoreError.notATicketDatabase(path: url.path)
                }
                let migrator = TicketSchema.migrator
                if try migrator.hasBeenSuperseded(db) { throw TicketStoreError.schemaTooNew(path: url.path) }
                if try !migrator.hasCompletedMigrations(db) { throw TicketStoreError.schemaTooOld(path: url.path) }
            }
            database = queue
        } catch let error as TicketStoreError {
            throw error
        } catch {
            throw .cannotOpen(path: url.path, reason: TicketStoreError(error).description)
        }
        isOpen = { true }
    }

    @discardableResult
    public func upsert(_ articles: [KnowledgeArticle], at now: Date) throws(TicketStoreError) -> KnowledgeImportSummary {
        guard isOpen() else { throw .closed }
        for article in articles {
            if let problem = article.problems.first {
                throw .invalidArticle(article.id, reason: "\(problem.field): \(problem.message)")
            }
        }
        do {
            return try database.writeWithoutTransaction { db in
                var summary = KnowledgeImportSummary()
                try db.inTransaction(.immediate) {
                    summary = try KnowledgeSchema.upsert(articles, at: now, in: db)
                    return .commit
                }
                return summary
            }
        } catch {
            throw TicketStoreError(error)
        }
    }

    public func search(_ query: KnowledgeQuery, at now: Date) throws(TicketStoreError) -> [KnowledgeHit] {
        try read { db in try KnowledgeSchema.search(query, at: now, in: db) }
    }

    public func article(id: KnowledgeArticleID) throws(TicketStoreError) -> KnowledgeArticle? {
        try read { db in try KnowledgeSchema.article(id: id, in: db) }
    }

    public func articleCount() throws(TicketStoreError) -> Int {
        try read { db in try KnowledgeSchema.count(in: db) }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(TicketStoreError) -> T {
        guard isOpen() else { throw .closed }
        do {
            return try database.read(body)
        } catch {
            throw TicketStoreError(error)
        }
    }
}

extension SQLiteTicketStore {
    /// The knowledge base in this store's database.
    public var knowledgeBase: SQLiteKnowledgeBase {
        SQLiteKnowledgeBase(pool: pool, isOpen: { [writer] in writer.isAccepting })
    }
}
