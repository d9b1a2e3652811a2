// TicketsSQLite: migration v7, the CHECK constraints of the tables every answered call
// writes, with their constant IN lists spelled as comparisons.

import Foundation
import GRDB

/// SQLite evaluates `x IN ('a', 'b', 'c')` by building an ephemeral b-tree of the list and
/// dropping it again at every execution of a statement that checks it: with group commit's
/// multi-row inserts that was about a tenth of the ticket writer's CPU (work orders' status,
/// events' kind, call links' reason). `(x = 'a' OR x = 'b' OR x = 'c')` means the same (NULL
/// stays NULL, which a CHECK lets through as before) and costs a few comparisons.
///
/// SQLite cannot alter a CHECK constraint in place; rebuilding these tables would copy every
/// row. A constraint that every stored row already satisfies may instead be rewritten in the
/// schema text (sqlite.org/lang_altertable.html, "making other kinds of table schema
/// changes"), which is what this does, bumping `schema_version` so every connection reloads.
enum CheckListsMigration {
    static let tables = ["work_orders", "work_order_events", "work_order_calls"]

    static func apply(in db: Database) throws {
        var rewritten: [(String, String)] = []
        for table in tables {
            guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
                                                arguments: [table]) else { continue }
            let new = rewrite(sql)
            if new != sql { rewritten.append((table, new)) }
        }
        guard !rewritten.isEmpty else { return }
        let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        for (table, sql) in rewritten {
            try db.execute(sql: "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?", arguments: [sql, table])
        }
        try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        try db.execute(sql: "PRAGMA writable_schema = OFF")
    }

    /// `col IN ('a', 'b', 'c')` → `(col = 'a' OR col = 'b' OR col = 'c')`, and `NOT IN` →
    /// `(col <> 'a' AND …)`, for lists of three values or more (SQLite compares lists of
    /// two directly).
    static func rewrite(_ sql: String) -> String {
        let regex = try! NSRegularExpression(pattern: #"\b(\w+) (NOT )?IN \(('[^']*'(?:, '[^']*'){2,})\)"#)
        var result = sql
        for match in regex.matches(in: sql, range: NSRange(sql.startIndex..., in: sql)).reversed() {
            guard let whole = Range(match.range, in: sql), let columnRange = Range(match.range(at: 1), in: sql),
                  let listRange = Range(match.range(at: 3), in: sql) else { continue }
            let negated = match.range(at: 2).location != NSNotFound
            let column = String(sql[columnRange])
            let values = sql[listRange].split(separator: ", ").map(String.init)
            let terms = values.map { "\(column) \(negated ? "<>" : "=") \($0)" }
            result.replaceSubrange(whole, with: "(" + terms.joined(separator: negated ? " AND " : " OR ") + ")")
        }
        return result
    }
}
