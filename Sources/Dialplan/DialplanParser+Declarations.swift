import Foundation
import WorkCalendar
import Yams

/// `queues`, `transfer_targets`, `calendars`, `seasons`, and the `if:` conditions that use them.
extension DialplanParser {
    // MARK: - Queues and transfer targets

    mutating func parseQueues(_ field: Binding?) {
        guard let sequence = sequence(field, at: ["queues"], expected: "a list of queue names") else { return }
        for (index, node) in sequence.enumerated() {
            let path = ["queues", String(index)]
            guard let name = identifier(item(node, index), at: path, what: "queue name") else { continue }
            if let first = queueLocations[name] {
                report(.error, .duplicateKey, "queue '\(name)' is already declared at \(first)", at: location(node), path: path)
                continue
            }
            queueLocations[name] = location(node)
            queues.append(name)
        }
    }

    mutating func parseTransferTargets(_ field: Binding?) {
        guard let sequence = sequence(field, at: ["transfer_targets"], expected: "a list of SIP URIs") else { return }
        for (index, node) in sequence.enumerated() {
            let path = ["transfer_targets", String(index)]
            guard let uri = sipURI(item(node, index), at: path) else { continue }
            if let first = transferTargetLocations[uri] {
                report(.error, .duplicateKey, "transfer target '\(uri)' is already listed at \(first)", at: location(node), path: path)
                continue
            }
            transferTargetLocations[uri] = location(node)
            transferTargets.append(uri)
        }
    }

    // MARK: - Calendars

    static let calendarKeys = ["time_zone", "hours", "holidays", "working_days"]

    mutating func parseCalendars(_ field: Binding?) {
        guard let mapping = mapping(field, at: ["calendars"], expected: "a mapping of calendar names to calendars") else { return }
        for binding in bindings(of: mapping, at: ["calendars"]) {
            let name = binding.name
            let path = ["calendars", name]
            guard PromptRef.isValidName(name) else {
                report(.error, .invalidValue, "calendar name '\(name)' may use only lower-case letters, digits and '_'",
                       at: location(binding.key), path: path)
                continue
            }
            if let first = calendarLocations[name] {
                report(.error, .duplicateKey, "calendar '\(name)' is already declared at \(first)", at: location(binding.key), path: path)
                continue
            }
            calendarLocations[name] = location(binding.key)
            guard case .mapping(let body) = binding.value else {
                wrongKind(binding.value, expected: "a calendar with 'hours', 'holidays' and 'working_days'", at: path)
                brokenDeclarations.insert("calendar:\(name)")
                continue
            }
            let errorsBefore = errorCount
            let fields = self.fields(of: body, at: path, allowed: DialplanParser.calendarKeys, what: "in a calendar")
            var zone = timeZone
            if let zoneField = fields["time_zone"] {
                zone = parseTimeZone(zoneField, at: path + ["time_zone"])
            } else {
                timeZoneNeeds.append((location(binding.key), path.joined(separator: "."), "calendar '\(name)'"))
            }
            let hours = parseWeeklyHours(fields["hours"], at: path + ["hours"])
            if fields["hours"] == nil {
                missing("hours", in: path, at: location(binding.key), what: "calendar '\(name)'",
                        hint: "e.g. hours: {mon-fri: [\"09:00-12:00\", \"13:30-17:30\"]}")
            }
            let holidays = parseDates(fields["holidays"], at: path + ["holidays"])
            let workingDays = parseDates(fields["working_days"], at: path + ["working_days"])
            for (day, at) in workingDays.sorted(by: { $0.key < $1.key }) where holidays[day] != nil {
                report(.error, .invalidValue, "\(day) is both a holiday and a make-up working day", at: at,
                       path: path + ["working_days"])
            }
            guard errorCount == errorsBefore, let hours else {
                brokenDeclarations.insert("calendar:\(name)")
                continue
            }
            // Without a time zone the calendar cannot be built; the missing zone is reported later.
            calendars[name] = WorkCalendar(timeZone: zone ?? TimeZone(identifier: "UTC")!, weeklyHours: hours,
                                           holidays: Set(holidays.keys), makeUpWorkingDays: Set(workingDays.keys))
        }
    }

    /// `hours: {mon-fri: ["09:00-12:00", "13:30-17:30"], sat: ["09:00-12:00"]}`.
    private mutating func parseWeeklyHours(_ field: Binding?, at path: [String]) -> [Weekday: [ClockRange]]? {
        guard let mapping = mapping(field, at: path, expected: "a mapping of weekdays to opening hours") else { return nil }
        var hours: [Weekday: [ClockRange]] = [:]
        var daySources: [Weekday: DialplanLocation] = [:]
        var failed = false
        let dayNames = Weekday.allCases.map(\.shortName)
        for binding in bindings(of: mapping, at: path) {
            let keyPath = path + [binding.name]
            let parts = binding.name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            let days: [Weekday]
            if parts.count == 1, let day = Weekday(shortName: parts[0]), parts[0] == parts[0].lowercased() {
                days = [day]
            } else if parts.count == 2, let first = Weekday(shortName: parts[0]), let last = Weekday(shortName: parts[1]),
                binding.name == binding.name.lowercased(), first < last
            {
                days = Weekday.allCases.filter { first <= $0 && $0 <= last }
            } else {
                report(.error, .invalidValue, "'\(binding.name)' is not a weekday or a range of weekdays",
                       at: location(binding.key), path: keyPath,
                       hint: Suggestion.hint(for: binding.name, among: dayNames + ["mon-fri", "sat-sun"])
                           ?? Weekday(shortName: String(binding.name.prefix(3))).map { "did you mean '\($0.shortName)'?" }
                           ?? "write mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri")
                failed = true
                continue
            }
            let ranges = parseClockRanges(binding, at: keyPath)
            for day in days {
                if let first = daySources[day] {
                    report(.error, .duplicateKey, "\(day.shortName) already has hours at \(first.line):\(first.column)",
                           at: location(binding.key), path: keyPath)
                    failed = true
                    continue
                }
                daySources[day] = location(binding.key)
                if let ranges { hours[day] = ranges } else { failed = true }
            }
        }
        return failed ? nil : hours
    }

    /// `["09:00-12:00", "13:30-17:30"]`: ranges within a day that do not overlap.
    private mutating func parseClockRanges(_ field: Binding, at path: [String]) -> [ClockRange]? {
        guard let sequence = sequence(field, at: path, expected: "a list of opening hours such as [\"09:00-17:00\"]")
        else { return nil }
        var ranges: [(ClockRange, Node)] = []
        var failed = false
        for (index, node) in sequence.enumerated() {
            guard let text = string(item(node, index), at: path + [String(index)], what: "time range") else {
                failed = true
                continue
            }
            guard let range = ClockRange(parsing: text) else {
                report(.error, .invalidValue, "'\(text)' is not a time range", at: location(node), path: path + [String(index)],
                       hint: "write HH:MM-HH:MM with the start before the end, e.g. 09:00-12:00 (24:00 ends the day)")
                failed = true
                continue
            }
            ranges.append((range, node))
        }
        let sorted = ranges.sorted { $0.0.start < $1.0.start }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where later.0.start < earlier.0.end {
            report(.error, .invalidValue, "\(later.0) overlaps \(earlier.0)", at: location(later.1), path: path)
            failed = true
        }
        return failed ? nil : sorted.map(\.0)
    }

    /// `["2026-10-01..2026-10-07", "2027-01-01"]`: days and inclusive ranges of days, each day
    /// with the location that names it.
    private mutating func parseDates(_ field: Binding?, at path: [String]) -> [LocalDate: DialplanLocation] {
        guard let sequence = sequence(field, at: path, expected: "a list of dates such as [2026-10-01]") else { return [:] }
        var days: [LocalDate: DialplanLocation] = [:]
        for (index, node) in sequence.enumerated() {
            let itemPath = path + [String(index)]
            guard let text = string(item(node, index), at: itemPath, what: "date") else { continue }
            let parts = text.components(separatedBy: "..")
            let first = LocalDate(parsing: parts[0])
            let last = parts.count == 2 ? LocalDate(parsing: parts[1]) : first
            guard parts.count <= 2, let first, let last, first <= last,
                last.daysSinceEpoch - first.daysSinceEpoch < 366
            else {
                report(.error, .invalidValue, "'\(text)' is not a date or a range of dates", at: location(node), path: itemPath,
                       hint: "write YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD for a range of at most a year")
                continue
            }
            var day = first
            while day <= last {
                if let earlier = days[day] {
                    report(.error, .duplicateKey, "\(day) is already listed at \(earlier.line):\(earlier.column)",
                           at: location(node), path: itemPath)
                    break
                }
                days[day] = location(node)
                day = day.next
            }
        }
        return days
    }

    // MARK: - Seasons

    mutating func parseSeasons(_ field: Binding?) {
        guard let mapping = mapping(field, at: ["seasons"], expected: "a mapping of season names to date ranges") else { return }
        for binding in bindings(of: mapping, at: ["seasons"]) {
            let name = binding.name
            let path = ["seasons", name]
            guard PromptRef.isValidName(name) else {
                report(.error, .invalidValue, "season name '\(name)' may use only lower-case letters, digits and '_'",
                       at: location(binding.key), path: path)
                continue
            }
            if let first = seasonLocations[name] {
                report(.error, .duplicateKey, "season '\(name)' is already declared at \(first)", at: location(binding.key), path: path)
                continue
            }
            seasonLocations[name] = location(binding.key)
            timeZoneNeeds.append((location(binding.key), path.joined(separator: "."), "season '\(name)'"))
            guard let text = string(binding, at: path, what: "season such as 11-15..03-15") else {
                brokenDeclarations.insert("season:\(name)")
                continue
            }
            guard let range = SeasonalRange(parsing: text) else {
                report(.error, .invalidValue, "'\(text)' is not a seasonal range", at: location(binding.value), path: path,
                       hint: "write MM-DD..MM-DD, both days included; 11-15..03-15 wraps over the new year")
                brokenDeclarations.insert("season:\(name)")
                continue
            }
            seasons[name] = range
        }
    }

    // MARK: - Conditions

    static let conditionKeys = [
        "variable", "equals", "not_equals", "in", "matches", "is_set", "caller_prefix", "calendar", "open", "holiday",
        "working_day", "season", "not", "any", "all",
    ]
    static let variableTestKeys = ["equals", "not_equals", "in", "matches", "is_set"]
    static let calendarTestKeys = ["open", "holiday", "working_day"]

    /// An `if:` condition: a mapping of tests that must all hold.
    mutating func condition(_ node: Node, at path: [String]) -> Condition? {
        guard case .mapping(let mapping) = node else {
            wrongKind(node, expected: "a condition mapping such as {calendar: office, open: true}", at: path)
            return nil
        }
        let fields = self.fields(of: mapping, at: path, allowed: DialplanParser.conditionKeys, what: "in a condition")
        guard !fields.isEmpty else {
            if mapping.isEmpty {
                report(.error, .missingField, "the condition is empty", at: location(node), path: path,
                       hint: "test a variable, caller_prefix, a calendar or a season")
            }
            return nil
        }
        let errorsBefore = errorCount
        var tests: [Condition] = []

        // variable + one test
        let variableTests = DialplanParser.variableTestKeys.filter { fields[$0] != nil }
        if let variableField = fields["variable"] {
            let name = string(variableField, at: path + ["variable"], what: "variable name")
            if let name {
                if Variables.isValidName(name) {
                    variableReads.append(VariableUse(name: name, location: location(variableField.value),
                                                     keyPath: (path + ["variable"]).joined(separator: ".")))
                } else {
                    report(.error, .invalidValue, "'\(name)' is not a variable name", at: location(variableField.value),
                           path: path + ["variable"])
                }
            }
            if variableTests.isEmpty {
                report(.error, .missingField, "a 'variable' test needs one of: \(DialplanParser.variableTestKeys.joined(separator: ", "))",
                       at: location(variableField.key), path: path + ["variable"])
            } else if variableTests.count > 1 {
                report(.error, .invalidValue, "a 'variable' test takes one of \(variableTests.joined(separator: " and ")); use all: [...] for both",
                       at: location(fields[variableTests[1]]!.key), path: path + [variableTests[1]])
            } else if let name, let testField = fields[variableTests[0]] {
                let testPath = path + [variableTests[0]]
                switch variableTests[0] {
                case "equals": if let value = scalarText(testField, at: testPath) { tests.append(.variable(name, .equals(value))) }
                case "not_equals": if let value = scalarText(testField, at: testPath) { tests.append(.variable(name, .notEquals(value))) }
                case "in":
                    if let list = sequence(testField, at: testPath, expected: "a list of values") {
                        let values = list.enumerated().compactMap { scalarText(item($0.element, $0.offset), at: testPath + [String($0.offset)]) }
                        if values.count == list.count, !values.isEmpty { tests.append(.variable(name, .oneOf(values))) }
                        if list.isEmpty { report(.error, .missingField, "'in' is empty", at: location(testField.value), path: testPath) }
                    }
                case "matches": if let regex = regex(testField, at: testPath) { tests.append(.variable(name, .matches(regex))) }
                default:
                    if let value = bool(testField, at: testPath) {
                        tests.append(value ? .variable(name, .isSet) : .not(.variable(name, .isSet)))
                    }
                }
            }
        } else {
            for key in variableTests {
                report(.error, .missingField, "'\(key)' tests a variable: add 'variable: NAME'",
                       at: location(fields[key]!.key), path: path + [key])
            }
        }

        // caller_prefix
        if let prefixField = fields["caller_prefix"] {
            let prefixPath = path + ["caller_prefix"]
            var prefixes: [String] = []
            if case .sequence(let list) = prefixField.value {
                prefixes = list.enumerated().compactMap { callerPrefix(item($0.element, $0.offset), at: prefixPath + [String($0.offset)]) }
                if list.isEmpty { report(.error, .missingField, "'caller_prefix' is empty", at: location(prefixField.value), path: prefixPath) }
            } else if let prefix = callerPrefix(prefixField, at: prefixPath) {
                prefixes = [prefix]
            }
            if !prefixes.isEmpty { tests.append(.callerPrefix(prefixes)) }
        }

        // calendar + open / holiday / working_day
        let calendarTests = DialplanParser.calendarTestKeys.filter { fields[$0] != nil }
        if let calendarField = fields["calendar"] {
            let name = declared(calendarField, at: path + ["calendar"], kind: "calendar", names: Array(calendarLocations.keys),
                                declareAt: "calendars")
            if calendarTests.isEmpty {
                report(.error, .missingField, "a 'calendar' test needs one of: open, holiday, working_day",
                       at: location(calendarField.key), path: path + ["calendar"],
                       hint: "e.g. {calendar: \(name ?? "office"), open: true}")
            }
            for key in calendarTests {
                guard let value = bool(fields[key]!, at: path + [key]), let name else { continue }
                let test = Condition.calendar(name, Condition.CalendarTest(rawValue: key)!)
                tests.append(value ? test : .not(test))
            }
        } else {
            for key in calendarTests {
                report(.error, .missingField, "'\(key)' tests a calendar: add 'calendar: NAME'",
                       at: location(fields[key]!.key), path: path + [key])
            }
        }

        // season
        if let seasonField = fields["season"],
            let name = declared(seasonField, at: path + ["season"], kind: "season", names: Array(seasonLocations.keys),
                                declareAt: "seasons")
        {
            tests.append(.season(name))
        }

        // not / any / all
        if let notField = fields["not"], let inner = condition(notField.value, at: path + ["not"]) {
            tests.append(.not(inner))
        }
        for key in ["any", "all"] {
            guard let listField = fields[key] else { continue }
            guard let list = sequence(listField, at: path + [key], expected: "a list of conditions") else { continue }
            if list.isEmpty {
                report(.error, .missingField, "'\(key)' is empty", at: location(listField.value), path: path + [key])
                continue
            }
            let inner = list.enumerated().compactMap { condition($0.element, at: path + [key, String($0.offset)]) }
            if inner.count == list.count { tests.append(key == "any" ? .any(inner) : .all(inner)) }
        }

        guard errorCount == errorsBefore, !tests.isEmpty else { return nil }
        return tests.count == 1 ? tests[0] : .all(tests)
    }

    /// A scalar compared as text; numbers and booleans are taken as written.
    private mutating func scalarText(_ field: Binding, at path: [String]) -> String? {
        if case .scalar(let scalar) = field.value, scalar.string.isEmpty, scalar.style != .plain { return "" }
        return string(field, at: path, what: "value")
    }

    private mutating func callerPrefix(_ field: Binding, at path: [String]) -> String? {
        guard let text = string(field, at: path, what: "number prefix") else { return nil }
        guard DialplanEntry.isValidNumber(text) else {
            report(.error, .invalidValue, "'\(text)' is not a number prefix", at: location(field.value), path: path,
                   hint: "quote it and use digits, e.g. caller_prefix: [\"010\", \"+8610\"]")
            return nil
        }
        return text
    }

    /// A name that must be declared under `declareAt` (a calendar or season).
    private mutating func declared(_ field: Binding, at path: [String], kind: String, names: [String], declareAt: String) -> String? {
        guard let name = string(field, at: path, what: "\(kind) name") else { return nil }
        if brokenDeclarations.contains("\(kind):\(name)") { return nil }
        guard names.contains(name) else {
            report(.error, .undefinedName, "undefined \(kind) '\(name)'", at: location(field.value), path: path,
                   hint: Suggestion.hint(for: name, among: names.sorted()) ?? "declare it under '\(declareAt)'")
            return nil
        }
        return name
    }
}
