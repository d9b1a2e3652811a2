// Helpers for the knowledge-base tests: the knowledge base of a test store, whatever the
// backend, and the sample articles the repository ships.

import Foundation
import Tickets
import TicketsPostgres
import TicketsSQLite

extension TestDatabase {
    /// The knowledge base beside `store` (opened on this database), as the server makes it.
    public func knowledgeBase(of store: any HotlineStore) -> any KnowledgeBase {
        switch backend {
        case .sqlite: (store as! SQLiteTicketStore).knowledgeBase
        case .postgres: PostgresKnowledgeBase(url: postgresURL!)
        }
    }
}

/// Dialplans/tickets/knowledge.yaml: eight 12345 articles (挪车, 违章停车罚单, 社保卡, 公积金,
/// 营商环境, 供暖 twice with validity windows, 停水).
public let sampleKnowledgePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Dialplans/tickets/knowledge.yaml").path

/// The sample articles, read as `hotline kb import` reads them (dates in Shanghai).
public func sampleArticles() throws -> [KnowledgeArticle] {
    try KnowledgeImport(timeZone: shanghai).articles(contentsOf: sampleKnowledgePath)
}
