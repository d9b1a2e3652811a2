// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: loading `Dialplans/tickets/sla.yaml` — SLA rules, the working calendar, call intake.

import ConfigFiles
import Foundation
import WorkCalendar
import Yams

extension WorkOrderPolicy {
    /// The keys of `sla.yaml`'s top level.
    static let topKeys = ["time_zone", "calendar", "default", "categories", "business_lines", "intake"]

    /// Loads an SLA policy file:
    ///
    /// ```yaml
    /// time_zone: Asia/Shanghai
    /// calendar:                            # working time; omitted: round the clock
    ///   hours:
    ///     mon-fri: ["09:00-12:00", "13:30-17:30"]
    ///   holidays: [2026-10-01..2026-10-07]
    ///   working_days: [2026-09-20, 2026-10-10]
    /// default: {sign_in: 2 working hours, completion: 5 working days}
    /// categories:
    ///   help: {sign_in: 30 minutes, completion: 1 day}
    /// business_lines:
    ///   enterprise: {sign_in: 1 working hour, completion: 1 working day}
    /// intake:
    ///   direct_answer_categories: [consultation]
    ///   direct_answer_business_lines: []
    ///   repeat_call_window: 30 days        # or "off"
    /// ```
    ///
    /// - Parameter calendar: The centre's calendar when it comes from elsewhere (the
    ///   dialplan's holiday calendar); it replaces the file's `calendar:`.
    public static func load(contentsOf path: String, calendar: WorkCalendar? = nil) throws(TicketsConfigError) -> WorkOrderPolicy {
        var reader = LocatedYAMLReader(file: path)
        let root = reader.compose(contentsOf: path)
        return try parse(root, calendar: calendar, reader: &reader)
    }

    /// Parses the text of an SLA policy file; `file` names it in issues.
    public static func parse(yaml: String, file: String = "sla.yaml", calendar: WorkCalendar? = nil)
        throws(TicketsConfigError) -> WorkOrderPolicy
    {
        var reader = LocatedYAMLReader(file: file)
        let root = reader.compose(yaml)
        return try parse(root, calendar: calendar, reader: &reader)
    }

    private static func parse(_ root: Node?, calendar given: WorkCalendar?, reader: inout LocatedYAMLReader)
        throws(TicketsConfigError) -> WorkOrderPolicy
    {
        guard let root, let entries = reader.mapping(root, path: "", allowed: topKeys) else {
            throw reader.error() ?? TicketsConfigError(issues: [])
        }
        func value(_ key: String) -> (keyNode: Node, value: Node)? {
            entries.first { $0.key == key }.map { ($0.keyNode, $0.value) }
        }
        var timeZone = TimeZone(identifier: "Asia/Shanghai")!
        if let (_, node) = value("time_zone"), let text = reader.text(node, path: "time_zone") {
            if let zone = TimeZone(identifier: text) {
                timeZone = zone
            } else {
                reader.issue("unknown time zone '\(text)'", at: node, path: "time_zone", hint: "an IANA name such as Asia/Shanghai")
            }
        }
        var calendar = WorkCalendar.always(timeZone: timeZone)
        if let (_, node) = value("calendar"), let parsed = parseCalendar(node, timeZone: timeZone, reader: &reader) {
            calendar = parsed
        }
        if let given { calendar = given }

        var defaultRule = SLAPolicy.standard(timeZone: timeZone).defaultRule
        if let (keyNode, node) = value("default") {
            defaultRule = parseRule(node, keyNode: keyNode, path: "default", reader: &reader) ?? defaultRule
        } else {
            reader.issue("missing key 'default' (the rule for work orders no category or line rule covers)", at: root, path: "")
        }
        var categories: [TicketCategory: SLARule] = [:]
        if let (_, node) = value("categories"), let rules = reader.mapping(node, path: "categories") {
            for rule in rules {
                if let parsed = parseRule(rule.value, keyNode: rule.keyNode, path: "categories.\(rule.key)", reader: &reader) {
                    categories[TicketCategory(rule.key)] = parsed
                }
            }
        }
        var lines: [String: SLARule] = [:]
        if let (_, node) = value("business_lines"), let rules = reader.mapping(node, path: "business_lines") {
            for rule in rules {
                if let parsed = parseRule(rule.value, keyNode: rule.keyNode, path: "business_lines.\(rule.key)", reader: &reader) {
                    lines[rule.key] = parsed
                }
            }
        }
        var intake = IntakePolicy()
        if let (_, node) = value("intake") {
            intake = parseIntake(node, reader: &reader)
        }
        if let error = reader.error() { throw error }
        return WorkOrderPolicy(sla: SLAPolicy(calendar: calendar, defaultRule: defaultRule, categories: categories,
                                              businessLines: lines),
                               intake: intake)
    }

    private static func parseRule(_ node: Node, keyNode: Node, path: String, reader: inout LocatedYAMLReader) -> SLARule? {
        guard let entries = reader.mapping(node, path: path, allowed: ["sign_in", "completion"]) else { return nil }
        var signIn: SLADuration?, completion: SLADuration?
        for entry in entries {
            let duration = parseDuration(entry.value, path: reader.join(path, entry.key), reader: &reader)
            if entry.key == "sign_in" { signIn = duration } else { completion = duration }
        }
        for key in ["sign_in", "completion"] where !entries.contains(where: { $0.key == key }) {
            reader.issue("missing key '\(key)'", at: node, path: path)
        }
        guard let signIn, let completion else { return nil }
        return SLARule(signIn: signIn, completion: completion)
    }

    private static func parseDuration(_ node: Node, path: String, reader: inout LocatedYAMLReader) -> SLADuration? {
        guard let text = reader.text(node, path: path) else { return nil }
        guard let duration = SLADuration(parsing: text) else {
            reader.issue("'\(text)' is not a time limit", at: node, path: path,
                         hint: "a whole number and minutes, hours, days, working hours or working days, e.g. '2 working hours'")
            return nil
        }
        return duration
    }

    private static func parseIntake(_ node: Node, reader: inout LocatedYAMLReader) -> IntakePolicy {
        var intake = IntakePolicy()
        let keys = ["direct_answer_categories", "direct_answer_business_lines", "repeat_call_window"]
        guard let entries = reader.mapping(node, path: "intake", allowed: keys) else { return intake }
        for entry in entries {
            let path = "intake.\(entry.key)"
            switch entry.key {
            case "direct_answer_categories", "direct_answer_business_lines":
                guard let items = reader.sequence(entry.value, path: path) else { continue }
                let names = items.enumerated().compactMap { reader.text($1, path: "\(path).\($0)") }
                if entry.key == "direct_answer_categories" {
                    intake.directAnswerCategories = Set(names.map(TicketCategory.init(rawValue:)))
                } else {
                    intake.directAnswerBusinessLines = Set(names)
                }
            default:
                guard let text = reader.text(entry.value, path: path) else { continue }
                if text == "off" {
                    intake.repeatCallWindow = nil
                } else if let duration = SLADuration(parsing: text), !duration.unit.isWorkingTime {
                    let seconds = duration.deadline(from: Date(timeIntervalSince1970: 0), calendar: .always(timeZone: .gmt))
                        .timeIntervalSince1970
                    intake.repeatCallWindow = .seconds(Int64(seconds))
                } else {
                    reader.issue("'\(text)' is not a window", at: entry.value, path: path,
                                 hint: "minutes, hours or days, e.g. '30 days', or 'off'")
                }
            }
        }
        return intake
    }

    /// The dialplan language's calendar syntax (`calendars:` in a dialplan), so one calendar
    /// can be copied between the two: `hours:` (weekday or weekday range → list of
    /// `HH:MM-HH:MM`), `holidays:` and `working_days:` (make-up working days; dates
    /// `YYYY-MM-DD` or ranges `YYYY-MM-DD..YYYY-MM-DD`), and an optional `time_zone:`.
    private static func parseCalendar(_ node: Node, timeZone: TimeZone, reader: inout LocatedYAMLReader) -> WorkCalendar? {
        guard let entries = reader.mapping(node, path: "calendar",
                                           allowed: ["time_zone", "hours", "holidays", "working_days"])
        else { return nil }
        var timeZone = timeZone
        var weekly: [Weekday: [ClockRange]] = [:]
        var holidays: Set<LocalDate> = [], makeUp: Set<LocalDate> = []
        for entry in entries {
            let path = "calendar.\(entry.key)"
            switch entry.key {
            case "time_zone":
                guard let text = reader.text(entry.value, path: path) else { continue }
                if let zone = TimeZone(identifier: text) {
                    timeZone = zone
                } else {
                    reader.issue("unknown time zone '\(text)'", at: entry.value, path: path, hint: "an IANA name such as Asia/Shanghai")
                }
            case "hours":
                guard let days = reader.mapping(entry.value, path: path) else { continue }
                for day in days {
                    let dayPath = "\(path).\(day.key)"
                    guard let weekdays = parseWeekdays(day.key) else {
                        reader.issue("'\(day.key)' is not a weekday or a range of weekdays", at: day.keyNode, path: dayPath,
                                     hint: "mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri")
                        continue
                    }
                    guard let items = reader.sequence(day.value, path: dayPath) else { continue }
                    var ranges: [ClockRange] = []
                    for (position, item) in items.enumerated() {
                        guard let text = reader.text(item, path: "\(dayPath).\(position)") else { continue }
                        if let range = ClockRange(parsing: text) {
                            ranges.append(range)
                        } else {
                            reader.issue("'\(text)' is not a range of hours", at: item, path: "\(dayPath).\(position)",
                                         hint: "HH:MM-HH:MM, e.g. 09:00-12:00")
                        }
                    }
                    for weekday in weekdays {
                        if weekly[weekday] != nil {
                            reader.issue("hours for \(weekday) are given twice", at: day.keyNode, path: dayPath)
                        }
                        weekly[weekday] = ranges
                    }
                }
            default:
                guard let items = reader.sequence(entry.value, path: path) else { continue }
                for (position, item) in items.enumerated() {
                    let itemPath = "\(path).\(position)"
                    guard let text = reader.text(item, path: itemPath) else { continue }
                    guard let dates = parseDates(text) else {
                        reader.issue("'\(text)' is not a date or a range of dates", at: item, path: itemPath,
                                     hint: "YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
                        continue
                    }
                    if entry.key == "holidays" { holidays.formUnion(dates) } else { makeUp.formUnion(dates) }
                }
            }
        }
        for day in holidays.intersection(makeUp).sorted() {
            reader.issue("\(day) is both a holiday and a make-up working day", at: node, path: "calendar")
        }
        return WorkCalendar(timeZone: timeZone, weeklyHours: weekly, holidays: holidays, makeUpWorkingDays: makeUp)
    }

    private static func parseWeekdays(_ text: String) -> [Weekday]? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first.flatMap(Weekday.init(shortName:)) else { return nil }
        if parts.count == 1 { return [first] }
        guard parts.count == 2, let last = Weekday(shortName: parts[1]), first <= last else { return nil }
        return Weekday.allCases.filter { first <= $0 && $0 <= last }
    }

    private static func parseDates(_ text: String) -> [LocalDate]? {
        let parts = text.components(separatedBy: "..")
        guard let first = parts.first.flatMap(LocalDate.init(parsing:)) else { return nil }
        if parts.count == 1 { return [first] }
        guard parts.count == 2, let last = LocalDate(parsing: parts[1]), first <= last,
              last.daysSinceEpoch - first.daysSinceEpoch < 366
        else { return nil }
        return (first.daysSinceEpoch...last.daysSinceEpoch).map(LocalDate.init(daysSinceEpoch:))
    }
}
