// `hotline tickets ...` and `hotline report`: work orders and KPIs from the command line. A
// thin front over Tickets: reads through SQLiteTicketReader (beside a running server), events
// through SQLiteTicketDesk (short transactions SQLite serialises with the server's commits).
import ArgumentParser
import Foundation
import Tickets
import TicketsSQLite
import TicketsPostgres

struct TicketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickets", abstract: "Work orders, their events, and the calls behind them.",
        discussion: """
            Events follow the work-order lifecycle (accepted → answered directly, or dispatched → \
            signed → handled → fed back → return visit → closed; reopened from a finished state). \
            An event the lifecycle does not allow is refused and nothing is written.
            """,
        subcommands: [List.self, Orders.self, Show.self, Answer.self, Dispatch.self, Sign.self, Handle.self, Feedback.self,
                      Visit.self, Close.self, Reopen.self, Bench.self])

    // MARK: - Reads

    /// `tickets orders`: the work-order list. (`tickets list` stays the call log it has always
    /// been, which scripts and the integration tests read.)
    struct Orders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List work orders, newest first (GET /api/tickets).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only these statuses, comma-separated (accepted, dispatched, signed, ...).") var status: String?
        @Option(help: "Only work orders with this unit or a unit under it.") var unit: String?
        @Option(help: "Only this category (consultation, complaint, help, suggestion, report).") var category: String?
        @Option(help: "Only this business line (e.g. enterprise).") var line: String?
        @Option(help: "Only this caller's number.") var caller: String?
        @Option(help: "Accepted on or after this day, YYYY-MM-DD.") var from: String?
        @Option(help: "Accepted on or before this day, YYYY-MM-DD.") var to: String?
        @Flag(help: "Only work orders past a deadline now.") var overdue = false
        @Option(help: "At most this many (1-1000).") var limit = 50
        @Option(help: "The page after this cursor (printed after a full page).") var after: String?
        @Flag(help: "Print JSON: {\"items\": [...], \"next\": cursor}.") var json = false
        @Flag(help: "Print CSV of every matching work order (no paging).") var csv = false
        @Flag(help: "Show callers' numbers in full in the table.") var unmask = false

        func run() async throws {
            try reportingErrors { try list() }
        }

        func list() throws {
            var query = WorkOrderQuery(limit: limit)
            if let status {
                query.statuses = try Set(status.split(separator: ",").map { name in
                    guard let status = TicketStatus(rawValue: String(name)) else {
                        throw CLIError("unknown status '\(name)': "
                            + TicketStatus.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    return status
                })
            }
            query.unit = unit.map(UnitID.init(rawValue:))
            query.category = category.map(TicketCategory.init(rawValue:))
            query.businessLine = line
            query.caller = caller
            let now = Date()
            if let period = try database.period(from: from, to: to, now: now) {
                query.acceptedFrom = period.start
                query.acceptedBefore = period.end
            }
            if overdue { query.overdueAt = now }
            if let after {
                guard let cursor = WorkOrderCursor(rawValue: after) else { throw CLIError("--after: not a cursor") }
                query.after = cursor
            }
            let reader = try database.reader()
            do {
                if csv {
                    query.limit = WorkOrderQuery.maximumLimit
                    try reader.exportWorkOrders(query, maskCallers: false) { FileHandle.standardOutput.write(Data($0.utf8)) }
                    return
                }
                let page = try reader.workOrders(query)
                if json {
                    print(try TicketJSON.text(page), terminator: "")
                } else {
                    print(WorkOrder.table(page.items, maskCallers: !unmask, now: now), terminator: "")
                    if let next = page.next { print("more: --after \(next)") }
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A work order with its events, dispatches and calls (GET /api/tickets/{id}).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The work order's number, e.g. 20261129-000042.") var id: String
        @Option(help: "Only if the work order is with this unit or a unit under it.") var asUnit: String?
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Show the caller's number in full.") var unmask = false

        func run() async throws {
            try reportingErrors {
                let number = try ticketID(id)
                let reader = try database.reader()
                guard let detail = try reader.workOrderDetail(id: number, within: asUnit.map(UnitID.init(rawValue:))) else {
                    if let calls = try? reader.workOrders(ofCall: number), !calls.isEmpty {
                        throw CLIError("\(number) is a call; its work order is " + calls.map(\.rawValue).joined(separator: ", "))
                    }
                    throw CLIError("no work order \(number)")
                }
                if json {
                    print(try TicketJSON.text(detail), terminator: "")
                } else {
                    print(detail.text(maskCallers: !unmask, now: Date()), terminator: "")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List calls (one ticket per call), newest first; `tickets orders` lists work orders.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "At most this many calls.") var limit = 1000
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let reader = try database.reader()
            try reportingErrors {
                let tickets = try reader.list(limit: limit, since: nil)
                if json {
                    FileHandle.standardOutput.write(try CallTicket.jsonEncoder.encode(tickets))
                    FileHandle.standardOutput.write(Data("\n".utf8))
                } else {
                    print(Self.table(tickets))
                }
            }
        }

        static func table(_ tickets: [CallTicket]) -> String {
            var lines = ["TICKET           ARRIVED (UTC)             DIALLED  KEYS    LINE        DISPOSITION        SIP"]
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            for t in tickets {
                func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
                lines.append(pad(t.id.rawValue, 17) + pad(formatter.string(from: t.arrivedAt), 26) + pad(t.dialled, 9)
                             + pad(t.keys, 8) + pad(t.businessLine ?? "-", 12) + pad(t.disposition?.rawValue ?? "in progress", 19)
                             + (t.sipStatus.map(String.init) ?? "-"))
            }
            lines.append("\(tickets.count) ticket(s)")
            return lines.joined(separator: "\n")
        }
    }

    // MARK: - Events

    struct Dispatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dispatch (or re-dispatch) a work order to a unit.")
        @Argument(help: "The work order's number.") var id: String
        @Option(help: "The unit to dispatch to (an id from units.yaml).") var unit: String
        @OptionGroup var event: EventOptions

        func run() async throws {
            try event.append(TicketEventRequest(kind: "dispatched", unit: unit), to: id)
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign for a dispatched work order, for the unit it was sent to.")
        @Argument(help: "The work order's number.") var id: String
        @Option(help: "The unit signing (the one it is dispatched to).") var unit: String
        @OptionGroup var event: EventOptions

        func run() async throws {
            try event.append(TicketEventRequest(kind: "signed", unit: unit), to: id)
        }
    }

    struct Handle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report a signed work order handled.")
        @Argument(help: "The work order's number.") var id: String
        @OptionGroup var event: EventOptions

        func run() async throws {
            try event.append(TicketEventRequest(kind: "handled"), to: id)
        }
    }

    struct Feedback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record that the result was fed back to the caller.")
        @Argument(help: "The work order's number.") var id: String
        @OptionGroup var event: EventOptions

        func run() async throws {
            try event.append(TicketEventRequest(kind: "feedback"), to: id)
        }
    }

    struct Visit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a return visit and the caller's satisfaction.")
        @Argument(help: "The work order's number.") var id: String
        @Option(help: "Satisfaction, 1 (very dissatisfied) to 5 (very satisfied).") var score: Int
        @OptionGroup var event: EventOptions

        func run() async throws {
            try event.append(TicketEventRequest(kind: "return_visit", score: score), to: id)
        }
    }

    struct Answer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that the centre answered the caller directly (no dispatch), optionally with a knowledge-base article.")
        @Argument(help: "The work order's number.") var id: String
        @Option(help: "The knowledge-base article the answer was given from (its id).") var article: String?
        @OptionGroup var event: EventOptions

        func run() async throws {
            try event.append(TicketEventRequest(kind: "answered_directly", article: article), to: id)
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a work order.")
        @Argument(help: "The work order's number.") var id: String
        @OptionGroup var event: EventOptions

        func run() async throws {
            try event.append(TicketEventRequest(kind: "closed"), to: id)
        }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reopen a work order that was answered, handled or closed.")
        @Argument(help: "The work order's number.") var id: String
        @Option(help: "Why (kept on the event).") var reason: String
        @OptionGroup var event: EventOptions

        func run() async throws {
            try event.append(TicketEventRequest(kind: "reopened", reason: reason), to: id)
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "The hotline's KPIs for a period (GET /api/kpis).",
        discussion: "Definitions in docs/kpis.md. Without --from and --to: everything in the database.")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "First day, YYYY-MM-DD (local, see --time-zone).") var from: String?
    @Option(help: "Last day, YYYY-MM-DD, included (default with --from: today).") var to: String?
    @Option(help: "Only this unit and the units under it.") var unit: String?
    @Option(help: "How many categories and subjects to list.") var top = 10
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV: section,key,value,numerator,denominator,previous.") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("--json or --csv, not both") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() async throws {
        try reportingErrors {
            let now = Date()
            let query = KPIQuery(period: try database.period(from: from, to: to, now: now),
                                 unit: unit.map(UnitID.init(rawValue:)), asOf: now, topCount: top)
            let reader = try database.reader()
            let report = try reader.kpis(query)
            if json {
                print(try TicketJSON.text(report), terminator: "")
            } else if csv {
                FileHandle.standardOutput.write(Data(report.csv.utf8))
            } else {
                print(report.text, terminator: "")
            }
        }
    }
}

// MARK: - Shared options

/// Where the tickets are unless `--db` says: HOTLINE_DB_URL (a cluster's shared PostgreSQL),
/// else the single node's SQLite file.
enum TicketStoreLocation {
    static var defaultValue: String {
        ProcessInfo.processInfo.environment["HOTLINE_DB_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? SQLiteTicketStore.defaultPath
    }
}

/// `--db` and `--time-zone`, and opening the database for reading.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Ticket store: an SQLite file, or postgres://USER@HOST:PORT/DB (default: HOTLINE_DB_URL, else var/hotline.sqlite).")
    var db: String = TicketStoreLocation.defaultValue
    @Option(name: .customLong("time-zone"), help: "Time zone of --from and --to (default: TZ, or the system's).")
    var timeZone: String?

    func zone() throws -> TimeZone {
        guard let timeZone else { return .current }
        guard let zone = TimeZone(identifier: timeZone) else { throw CLIError("unknown time zone '\(timeZone)'") }
        return zone
    }

    func period(from: String?, to: String?, now: Date) throws -> ReportPeriod? {
        do {
            return try ReportPeriod.days(from: from, to: to, in: zone(), today: now)
        } catch let error as ReportPeriodError {
            throw CLIError(error.description)
        }
    }

    /// A reader; an older database is migrated first when no server holds it.
    func reader() throws -> any TicketReading {
        if PostgresURL.looksLikePostgres(db) {
            return PostgresTicketReader(url: try PostgresURL(parsing: db))
        }
        do {
            return try SQLiteTicketReader(path: db)
        } catch {
            guard case .schemaTooOld = error else { throw error }
            try SQLiteTicketStore.upgrade(path: db, options: .init(timeZone: try zone()))
            FileHandle.standardError.write(Data("hotline: migrated \(db) to the current schema\n".utf8))
            return try SQLiteTicketReader(path: db)
        }
    }
}

/// What every event command takes.
struct EventOptions: ParsableArguments {
    @Option(help: "Ticket store: an SQLite file, or postgres://USER@HOST:PORT/DB (default: HOTLINE_DB_URL, else var/hotline.sqlite).")
    var db: String = TicketStoreLocation.defaultValue
    @Option(help: "Who does it, recorded on the event (default: cli:$USER).") var actor: String?
    @Option(help: "A note kept with the event.") var note: String?
    @Option(help: "When it happened, ISO 8601 with a zone (default: now).") var at: String?
    @Option(help: "Act for this unit: refuse work orders that are not with it or under it.") var asUnit: String?
    @Option(help: "SLA policy for dispatch deadlines (default: Dialplans/tickets/sla.yaml if present).") var sla: String?
    @Option(help: "Units file, copied into the database first (default: Dialplans/tickets/units.yaml if present).") var units: String?
    @Flag(help: "Print the work order as JSON.") var json = false

    func append(_ request: TicketEventRequest, to id: String) throws {
        try reportingErrors { try appendEvent(request, to: id) }
    }

    private func appendEvent(_ request: TicketEventRequest, to id: String) throws {
        let number = try ticketID(id)
        var request = request
        request.note = note
        request.at = at
        let actorName = actor ?? "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown")
        let event: TicketEvent
        do {
            event = try request.event(actor: actorName, now: Date())
        } catch {
            throw CLIError(error.description)
        }
        let policy = try loadPolicy()
        let desk = try openDesk(policy: policy, units: try loadUnits())
        let order = try desk.append(event, to: number, within: asUnit.map(UnitID.init(rawValue:)))
        if json {
            print(try TicketJSON.text(order), terminator: "")
            return
        }
        var line = "\(order.id): \(order.status.rawValue)"
        if case .dispatched(let unit) = event.kind, let sign = order.signDeadline, let done = order.completionDeadline {
            line += " to \(unit), sign in by \(Self.local(sign, policy)), complete by \(Self.local(done, policy))"
        }
        print(line)
    }

    /// The desk; an older database is migrated first when no server holds it.
    private func openDesk(policy: WorkOrderPolicy, units: UnitDirectory?) throws -> any TicketEventDesk {
        if PostgresURL.looksLikePostgres(db) {
            return try PostgresTicketDesk(url: try PostgresURL(parsing: db), policy: policy, units: units)
        }
        do {
            return try SQLiteTicketDesk(path: db, policy: policy, units: units)
        } catch {
            guard case .schemaTooOld = error else { throw error }
            try SQLiteTicketStore.upgrade(path: db, options: .init(timeZone: policy.sla.calendar.timeZone, units: units))
            return try SQLiteTicketDesk(path: db, policy: policy, units: units)
        }
    }

    static func local(_ date: Date, _ policy: WorkOrderPolicy) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = policy.sla.calendar.timeZone
        return formatter.string(from: date)
    }

    private func loadPolicy() throws -> WorkOrderPolicy {
        let path = sla ?? "Dialplans/tickets/sla.yaml"
        if sla == nil, !FileManager.default.fileExists(atPath: path) {
            FileHandle.standardError.write(Data("hotline: no \(path); SLA deadlines by the built-in policy\n".utf8))
            return .standard(timeZone: .current)
        }
        return try WorkOrderPolicy.load(contentsOf: path)
    }

    private func loadUnits() throws -> UnitDirectory? {
        let path = units ?? "Dialplans/tickets/units.yaml"
        if units == nil, !FileManager.default.fileExists(atPath: path) { return nil }
        return try UnitDirectory.load(contentsOf: path)
    }
}

/// A message for the user, printed as `hotline: message`.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func ticketID(_ text: String) throws -> TicketID {
    do {
        return try TicketID(parsing: text)
    } catch {
        throw CLIError(error.description)
    }
}

/// Runs `body`; a store, config or user error is printed as `hotline: ...` (a config file's
/// issues one per line) and exits with status 1. Other errors (ArgumentParser's) pass through.
@discardableResult
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as TicketStoreError {
        FileHandle.standardError.write(Data("hotline: \(error)\n".utf8))
    } catch let error as TicketsConfigError {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("hotline: \(error)\n".utf8))
    }
    throw ExitCode(1)
}
