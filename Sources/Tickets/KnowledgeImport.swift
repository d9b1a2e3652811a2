// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: knowledge-base files (CSV as spreadsheets export it, or YAML) read into articles,
// every problem located at file:line like a compiler's, and nothing returned unless the whole
// file is good (an import is all or nothing).

import ConfigFiles
import Foundation
import WorkCalendar
import Yams

/// Reads knowledge-base files.
///
/// The fields, in both formats: `id` (required; re-importing an id updates that article),
/// `title`, `body` (required), `business_line`, `units` and `keywords` (lists), `valid_from`,
/// `valid_to` (`YYYY-MM-DD`, a local day in the import's time zone, `valid_to` inclusive; or an
/// ISO 8601 instant with a zone, `valid_to` then exclusive).
///
/// **CSV** (RFC 4180): UTF-8 (a byte-order mark, as Excel writes, is skipped), a header row
/// naming the columns in any order, fields in double quotes when they hold commas, quotes
/// (doubled) or line breaks. In `units` and `keywords` the items are separated by `;` (or the
/// full-width `；` Chinese input methods type): `;` is not part of unit ids nor of keywords, and
/// a comma, the other choice, would need quoting in every row.
///
/// **YAML**: a list of articles, or a mapping with the list under `articles`; `units` and
/// `keywords` are YAML lists (a `;`-separated text is taken too).
public struct KnowledgeImport {
    public enum Format: String, Sendable {
        case csv
        case yaml

        /// By file extension: `.csv`, `.yaml`/`.yml`; nil otherwise.
        public init?(path: String) {
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "csv": self = .csv
            case "yaml", "yml": self = .yaml
            default: return nil
            }
        }
    }

    public static let fields = ["id", "title", "body", "business_line", "units", "keywords", "valid_from", "valid_to"]
    static let requiredFields = ["id", "title", "body"]

    /// The zone of `YYYY-MM-DD` dates.
    public var timeZone: TimeZone

    public init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    /// Reads a file, its format from its extension.
    public func articles(contentsOf path: String) throws(ConfigError) -> [KnowledgeArticle] {
        guard let format = Format(path: path) else {
            throw ConfigError(issues: [ConfigIssue(file: path, line: 1, column: 1, keyPath: "",
                                                   message: "not a knowledge-base file: name it .csv, .yaml or .yml")])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(issues: [ConfigIssue(file: path, line: 1, column: 1, keyPath: "", message: "cannot read the file")])
        }
        return try articles(data, format: format, file: path)
    }

    /// Reads `data` (UTF-8) in `format`; `file` names it in issues.
    public func articles(_ data: Data, format: Format, file: String) throws(ConfigError) -> [KnowledgeArticle] {
        guard var text = String(data: data, encoding: .utf8) else {
            throw ConfigError(issues: [ConfigIssue(file: file, line: 1, column: 1, keyPath: "",
                                                   message: "the file is not UTF-8 (save it as \"CSV UTF-8\")")])
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        switch format {
        case .csv: return try csv(text, file: file)
        case .yaml: return try yaml(text, file: file)
        }
    }

    // MARK: - CSV

    func csv(_ text: String, file: String) throws(ConfigError) -> [KnowledgeArticle] {
        var issues: [ConfigIssue] = []
        func issue(_ line: Int, _ field: String, _ message: String, hint: String? = nil) {
            issues.append(ConfigIssue(file: file, line: line, column: 1, keyPath: field, message: message, hint: hint))
        }
        let records: [CSVRecord]
        do {
            records = try CSVRecord.parse(text)
        } catch {
            throw ConfigError(issues: [ConfigIssue(file: file, line: error.line, column: 1, keyPath: "", message: error.message)])
        }
        guard let header = records.first else {
            throw ConfigError(issues: [ConfigIssue(file: file, line: 1, column: 1, keyPath: "",
                                                   message: "the file is empty: a header row (id,title,body,...) is needed")])
        }
        var columns: [String: Int] = [:]
        for (index, name) in header.fields.enumerated() {
            let name = name.trimmingCharacters(in: .whitespaces).lowercased()
            if !Self.fields.contains(name) {
                issue(header.line, name, "unknown column '\(name)'",
                      hint: LocatedYAMLReader.closest(to: name, among: Self.fields).map { "did you mean '\($0)'?" }
                        ?? "columns are " + Self.fields.joined(separator: ", "))
            } else if columns[name] != nil {
                issue(header.line, name, "column '\(name)' appears twice")
            } else {
                columns[name] = index
            }
        }
        for field in Self.requiredFields where columns[field] == nil {
            issue(header.line, field, "the header has no '\(field)' column")
        }
        guard issues.isEmpty else { throw ConfigError(issues: issues) }
        var articles: [KnowledgeArticle] = []
        var firstLine: [KnowledgeArticleID: Int] = [:]
        for record in records.dropFirst() {
            if record.fields.allSatisfy({ $0.allSatisfy(\.isWhitespace) }) { continue } // blank line
            if record.fields.count != header.fields.count {
                issue(record.line, "", "the row has \(record.fields.count) fields, the header \(header.fields.count)",
                      hint: "quote fields that contain commas or line breaks")
                continue
            }
            func value(_ field: String) -> String? {
                guard let index = columns[field] else { return nil }
                let text = record.fields[index].trimmingCharacters(in: .whitespacesAndNewlines)
                return text.isEmpty ? nil : text
            }
            var values: [String: FieldValue] = [:]
            for field in Self.fields {
                if let text = value(field) { values[field] = .text(text) }
            }
            if let article = article(values, issue: { field, message in issue(record.line, field, message) }) {
                if let earlier = firstLine[article.id] {
                    issue(record.line, "id", "article '\(article.id)' is already on line \(earlier)")
                } else {
                    firstLine[article.id] = record.line
                    articles.append(article)
                }
            }
        }
        guard issues.isEmpty else { throw ConfigError(issues: issues) }
        return articles
    }

    // MARK: - YAML

    func yaml(_ text: String, file: String) throws(ConfigError) -> [KnowledgeArticle] {
        var reader = LocatedYAMLReader(file: file)
        guard let root = reader.compose(text) else { throw reader.error()! }
        var list: [Node]?
        if case .mapping = root {
            for (key, _, value) in reader.mapping(root, path: "", allowed: ["articles"]) ?? [] where key == "articles" {
                list = reader.sequence(value, path: "articles")
            }
            if list == nil && !reader.hasErrors { reader.issue("the file has no 'articles' list", at: root, path: "") }
        } else {
            list = reader.sequence(root, path: "")
        }
        var articles: [KnowledgeArticle] = []
        var firstLine: [KnowledgeArticleID: Int] = [:]
        for (index, item) in (list ?? []).enumerated() {
            let path = "articles[\(index)]"
            guard let entries = reader.mapping(item, path: path, allowed: Self.fields) else { continue }
            var values: [String: FieldValue] = [:]
            var nodes: [String: Node] = [:]
            for (key, _, value) in entries {
                nodes[key] = value
                switch value {
                case .sequence(let items):
                    var texts: [String] = []
                    for item in items {
                        if let text = reader.text(item, path: path + "." + key) { texts.append(text) }
                    }
                    values[key] = .list(texts)
                case .scalar(let scalar):
                    let text = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !text.isEmpty { values[key] = .text(text) }
                default:
                    reader.issue("expected a text value or a list", at: value, path: path + "." + key)
                }
            }
            let line = item.mark?.line ?? 1
            let built = article(values, issue: { field, message in
                reader.issue(message, at: nodes[field] ?? item, path: field.isEmpty ? path : path + "." + field)
            })
            if let built {
                if let earlier = firstLine[built.id] {
                    reader.issue("article '\(built.id)' is already on line \(earlier)", at: nodes["id"] ?? item, path: path + ".id")
                } else {
                    firstLine[built.id] = line
                    articles.append(built)
                }
            }
        }
        if let error = reader.error() { throw error }
        return articles
    }

    // MARK: - Fields

    enum FieldValue {
        case text(String)
        case list([String])

        /// A list as given, or a `;`-separated text split.
        var items: [String] {
            switch self {
            case .list(let items): items
            case .text(let text):
                text.split(whereSeparator: { $0 == ";" || $0 == "；" })
                    .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            }
        }
    }

    /// One article from its fields, or nil after reporting what is wrong through `issue`.
    func article(_ values: [String: FieldValue],
                 issue: (_ field: String, _ message: String) -> Void) -> KnowledgeArticle? {
        var good = true
        func text(_ field: String) -> String? {
            switch values[field] {
            case nil: return nil
            case .text(let text): return text
            case .list:
                issue(field, "'\(field)' is one text, not a list")
                good = false
                return nil
            }
        }
        for field in Self.requiredFields where values[field] == nil {
            issue(field, "the article has no \(field)")
            good = false
        }
        func time(_ field: String, endOfDay: Bool) -> Date? {
            guard let value = text(field) else { return nil }
            guard let date = instant(value, endOfDay: endOfDay) else {
                issue(field, "'\(value)' is not a date (YYYY-MM-DD) nor an instant (2026-11-01T00:00:00+08:00)")
                good = false
                return nil
            }
            return date
        }
        let from = time("valid_from", endOfDay: false)
        let until = time("valid_to", endOfDay: true)
        let article = KnowledgeArticle(
            id: KnowledgeArticleID(text("id") ?? "-"), title: text("title") ?? "-", body: text("body") ?? "-",
            businessLine: text("business_line"), units: (values["units"]?.items ?? []).map(UnitID.init(rawValue:)),
            keywords: values["keywords"]?.items ?? [], validFrom: from, validUntil: until)
        for problem in article.problems {
            issue(problem.field, problem.message)
            good = false
        }
        return good ? article : nil
    }

    /// `YYYY-MM-DD` as the start of that local day (with `endOfDay`, of the next day: `valid_to`
    /// is inclusive), or an ISO 8601 instant as is.
    func instant(_ text: String, endOfDay: Bool) -> Date? {
        if let day = LocalDate(parsing: text) {
            return (endOfDay ? day.next : day).at(.midnight, in: timeZone)
        }
        return TicketEventRequest.parseInstant(text)
    }
}

/// One record of an RFC 4180 CSV text, with the line it starts on.
struct CSVRecord: Equatable {
    var line: Int
    var fields: [String]

    struct Failure: Error {
        var line: Int
        var message: String
    }

    /// Every record: fields separated by commas, records by CRLF or LF; a field in double
    /// quotes may hold commas, line breaks and doubled quotes.
    static func parse(_ text: String) throws(Failure) -> [CSVRecord] {
        var records: [CSVRecord] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1, recordLine = 1, quoteLine = 1
        var inQuotes = false, wasQuoted = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        func endRecord() {
            fields.append(String(field))
            records.append(CSVRecord(line: recordLine, fields: fields))
            fields = []
            field = String.UnicodeScalarView()
            wasQuoted = false
        }
        while let scalar = pending {
            pending = scalars.next()
            if inQuotes {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.append("\"")
                        pending = scalars.next()
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                guard field.isEmpty, !wasQuoted else {
                    throw Failure(line: line, message: "a quote inside an unquoted field: quote the whole field and double the quote (\"\")")
                }
                inQuotes = true
                wasQuoted = true
                quoteLine = line
            case ",":
                fields.append(String(field))
                field = String.UnicodeScalarView()
                wasQuoted = false
            case "\r":
                if pending == "\n" { continue }
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                guard !wasQuoted else {
                    throw Failure(line: line, message: "text after a closing quote: a field is either all quoted or not at all")
                }
                field.append(scalar)
            }
        }
        if inQuotes { throw Failure(line: quoteLine, message: "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return records
    }
}
