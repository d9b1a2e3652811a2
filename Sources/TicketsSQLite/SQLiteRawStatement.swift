// TicketsSQLite: the SQLite backend of the ticket store.
// This file: the writer's hot statements, prepared once per connection and run through
// SQLite's C API. GRDB's way (a statement cache keyed by the SQL text, an array of
// existential arguments per execution) cost the writer more than SQLite's own work did.

import Foundation
import GRDB
import GRDBSQLite
import Tickets

/// One prepared statement of the writer, bound and stepped through the C API. Every
/// parameter is bound before each run (nothing is left from the last one).
struct SQLiteRawStatement {
    let statement: Statement

    private var handle: OpaquePointer { statement.sqliteStatement }

    func bind(_ text: String?, at index: Int32) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bindText($0, at: index) }
    }

    func bind(_ value: Int?, at index: Int32) {
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        sqlite3_bind_int64(handle, index, Int64(value))
    }

    func bind(_ flag: Bool, at index: Int32) {
        sqlite3_bind_int64(handle, index, flag ? 1 : 0)
    }

    /// A date as the ticket timestamp text, formatted on the stack.
    func bind(_ date: Date?, at index: Int32) {
        guard let date else {
            sqlite3_bind_null(handle, index)
            return
        }
        TicketTimestamp.withFormatted(date) { bindText($0, at: index) }
    }

    private func bindText(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int32) {
        // An empty buffer may have no address, which SQLite would bind as NULL, not ''.
        let start = bytes.baseAddress.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(Self.empty.utf8Start)
        // SQLITE_TRANSIENT: SQLite copies the bytes, which do not outlive this call.
        sqlite3_bind_text(handle, index, start.assumingMemoryBound(to: CChar.self), Int32(bytes.count),
                          unsafeBitCast(-1, to: sqlite3_destructor_type.self))
    }

    private static let empty: StaticString = ""

    /// Runs an INSERT or UPDATE (no rows back) to its end.
    func execute() throws {
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw error(code) }
    }

    /// Runs the statement and reads its first row, if any, with `read` (a query, or a write
    /// with `RETURNING`, whose changes are all made by the first step).
    func first<T>(_ read: (Row) throws -> T) throws -> T? {
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return try read(Row(handle))
        case SQLITE_DONE: return nil
        case let code: throw error(code)
        }
    }

    /// The failure of the last step, as GRDB reports it (so TicketStoreError maps it alike).
    private func error(_ code: Int32) -> DatabaseError {
        let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }

    /// The current row's columns, read in place.
    struct Row {
        fileprivate let handle: OpaquePointer

        fileprivate init(_ handle: OpaquePointer) {
            self.handle = handle
        }

        func text(_ column: Int32) -> String? {
            guard let bytes = sqlite3_column_text(handle, column) else { return nil }
            return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))),
                          as: UTF8.self)
        }
    }
}

/// The writer connection's hot statements, prepared on first use and kept until the store
/// closes (``removeAll()``). `@unchecked Sendable`: only the writer thread touches it, inside
/// the pool's write access.
final class SQLiteWriterStatements: @unchecked Sendable {
    /// One per hot statement: an index into `prepared`.
    enum Key: Int, CaseIterable {
        case insertCall, insertCalls, finishCall, repeatLookup, insertWorkOrder, insertEvent, insertCallLink, countCallLink
    }

    private var prepared = [Statement?](repeating: nil, count: Key.allCases.count)
    /// The connection the statements belong to.
    private var database: ObjectIdentifier?

    /// The statement for `key` on `db`, preparing `sql` the first time.
    func statement(_ key: Key, _ sql: String, in db: Database) throws -> SQLiteRawStatement {
        if database != ObjectIdentifier(db) {
            removeAll()
            database = ObjectIdentifier(db)
        }
        if let statement = prepared[key.rawValue] { return SQLiteRawStatement(statement: statement) }
        let statement = try db.makeStatement(sql: sql)
        prepared[key.rawValue] = statement
        return SQLiteRawStatement(statement: statement)
    }

    /// Finalizes the statements (before their connection closes).
    func removeAll() {
        for index in prepared.indices { prepared[index] = nil }
        database = nil
    }
}
