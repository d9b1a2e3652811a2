// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: SLA clocks — how long a unit has to sign for and to complete a work order, in
// calendar time or in working time on the centre's holiday calendar.

import Foundation
import WorkCalendar

/// A time limit as an admin writes it: `30 minutes`, `24 hours`, `3 days`, `2 working hours`,
/// `5 working days`.
public struct SLADuration: Sendable, Hashable, CustomStringConvertible {
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case minutes, hours, days
        case workingHours = "working hours"
        case workingDays = "working days"

        /// True for the units counted on the ``WorkCalendar``.
        public var isWorkingTime: Bool { self == .workingHours || self == .workingDays }
    }

    public var amount: Int
    public var unit: Unit

    public init(_ amount: Int, _ unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    /// Parses `<positive integer> <unit>`, the unit singular or plural
    /// (`1 working day`, `2 working days`); nil for anything else.
    public init?(parsing text: String) {
        let words = text.lowercased().split(whereSeparator: \.isWhitespace)
        guard words.count >= 2, let amount = Int(words[0]), amount > 0 else { return nil }
        var unitText = words.dropFirst().joined(separator: " ")
        if !unitText.hasSuffix("s") { unitText += "s" }
        guard let unit = Unit(rawValue: unitText) else { return nil }
        self.init(amount, unit)
    }

    public var description: String {
        let name = amount == 1 ? String(unit.rawValue.dropLast()) : unit.rawValue
        return "\(amount) \(name)"
    }

    /// When the limit runs out for a clock started at `start`:
    /// - minutes, hours, days: plain elapsed time (a day is 24 hours);
    /// - working hours: `amount` hours of the calendar's working time, from `start`
    ///   (``WorkCalendar/addingWorkingTime(_:to:)``): a work order dispatched at 17:00 on a
    ///   Friday with 2 working hours left and 17:30 closing is due at 10:30 on Monday, or later
    ///   if Monday is a holiday;
    /// - working days: the close of business (the end of the last working range) of the
    ///   `amount`-th working day after the day of `start`. The day the clock starts never
    ///   counts, as in Chinese administrative practice (次日起算): dispatched on Friday, "1
    ///   working day" is due when Monday's work ends.
    ///
    /// `Date.distantFuture` if the calendar has no working time within ten years.
    public func deadline(from start: Date, calendar: WorkCalendar) -> Date {
        switch unit {
        case .minutes: return start.addingTimeInterval(Double(amount) * 60)
        case .hours: return start.addingTimeInterval(Double(amount) * 3600)
        case .days: return start.addingTimeInterval(Double(amount) * 86_400)
        case .workingHours: return calendar.addingWorkingTime(.seconds(amount * 3600), to: start)
        case .workingDays:
            var day = LocalDate(start, in: calendar.timeZone)
            var counted = 0
            for _ in 0..<3660 {
                day = day.next
                let hours = calendar.hours(on: day)
                guard let close = hours.map(\.end).max() else { continue }
                counted += 1
                if counted == amount { return day.at(close, in: calendar.timeZone) }
            }
            return .distantFuture
        }
    }
}

/// The two limits a work order of one kind gets at each dispatch.
public struct SLARule: Sendable, Hashable, CustomStringConvertible {
    /// From dispatch to the unit's signature (签收时限).
    public var signIn: SLADuration
    /// From dispatch to the unit's report that it is handled (办理时限).
    public var completion: SLADuration

    public init(signIn: SLADuration, completion: SLADuration) {
        self.signIn = signIn
        self.completion = completion
    }

    public var description: String { "sign in within \(signIn), complete within \(completion)" }
}

/// The deadlines of one dispatch.
public struct SLADeadlines: Sendable, Hashable {
    public var signIn: Date
    public var completion: Date

    public init(signIn: Date, completion: Date) {
        self.signIn = TicketTimestamp.normalized(signIn)
        self.completion = TicketTimestamp.normalized(completion)
    }
}

/// The SLA policy (`Dialplans/tickets/sla.yaml`): a rule per business line and per category, a
/// default rule, and the calendar working time is counted on.
///
/// The clocks start at each dispatch: a re-dispatched work order gives its new unit the full
/// time again, since the new unit could not have started earlier. (The time the caller has
/// waited in all is in the report as the age of the work order.)
public struct SLAPolicy: Sendable, Equatable {
    /// Working hours, holidays and make-up working days; its time zone is the centre's.
    public var calendar: WorkCalendar
    /// The rule for work orders no line or category rule covers.
    public var defaultRule: SLARule
    /// Rules by category (`complaint`...).
    public var categories: [TicketCategory: SLARule]
    /// Rules by business line (`enterprise`...), which take precedence over categories.
    public var businessLines: [String: SLARule]

    public init(calendar: WorkCalendar, defaultRule: SLARule, categories: [TicketCategory: SLARule] = [:],
                businessLines: [String: SLARule] = [:]) {
        self.calendar = calendar
        self.defaultRule = defaultRule
        self.categories = categories
        self.businessLines = businessLines
    }

    /// Without a policy file: round the clock in `timeZone`, sign in within 2 hours,
    /// complete within 5 days.
    public static func standard(timeZone: TimeZone) -> SLAPolicy {
        SLAPolicy(calendar: .always(timeZone: timeZone),
                  defaultRule: SLARule(signIn: SLADuration(2, .hours), completion: SLADuration(5, .days)))
    }

    /// The rule for a work order: its business line's if there is one, else its category's,
    /// else the default.
    public func rule(category: TicketCategory?, businessLine: String?) -> SLARule {
        if let businessLine, let rule = businessLines[businessLine] { return rule }
        if let category, let rule = categories[category] { return rule }
        return defaultRule
    }

    /// The deadlines of a dispatch made at `dispatchedAt`.
    public func deadlines(category: TicketCategory?, businessLine: String?, dispatchedAt: Date) -> SLADeadlines {
        let rule = rule(category: category, businessLine: businessLine)
        return SLADeadlines(signIn: rule.signIn.deadline(from: dispatchedAt, calendar: calendar),
                            completion: rule.completion.deadline(from: dispatchedAt, calendar: calendar))
    }
}
