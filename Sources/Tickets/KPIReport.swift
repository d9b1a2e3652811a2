// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the hotline's KPIs as values — what `hotline report` prints and `GET /api/kpis`
// returns. Their definitions are in docs/kpis.md; each backend computes them (TicketsSQLite: KPIQueries).

import Foundation
import WorkCalendar

/// The time a report covers: `[start, end)`. Made from local dates (`--from 2026-11-01 --to
/// 2026-11-30` is the whole of both days in the centre's time zone) or from two instants.
public struct ReportPeriod: Sendable, Hashable {
    /// The first instant in the period.
    public var start: Date
    /// The first instant after it.
    public var end: Date
    /// The local days, when the period was given as days.
    public var firstDay: LocalDate?
    public var lastDay: LocalDate?
    /// The zone of those days.
    public var timeZone: TimeZone?

    /// From the start of `firstDay` to the end of `lastDay`, in `timeZone`; nil if `lastDay`
    /// is before `firstDay`.
    public init?(from firstDay: LocalDate, through lastDay: LocalDate, in timeZone: TimeZone) {
        guard firstDay <= lastDay else { return nil }
        start = TicketTimestamp.normalized(firstDay.at(.midnight, in: timeZone))
        end = TicketTimestamp.normalized(lastDay.next.at(.midnight, in: timeZone))
        self.firstDay = firstDay
        self.lastDay = lastDay
        self.timeZone = timeZone
    }

    /// `[start, end)`; nil unless start is before end.
    public init?(start: Date, end: Date) {
        guard start < end else { return nil }
        self.start = TicketTimestamp.normalized(start)
        self.end = TicketTimestamp.normalized(end)
    }

    /// The period of `--from` and `--to` (local dates `YYYY-MM-DD`, both days included):
    /// nil with neither (everything); `from` alone runs through `today`.
    public static func days(from: String?, to: String?, in timeZone: TimeZone, today: Date) throws(ReportPeriodError)
        -> ReportPeriod?
    {
        guard let from else {
            if let to { throw .toWithoutFrom(to) }
            return nil
        }
        guard let first = LocalDate(parsing: from) else { throw .badDate(from) }
        let last: LocalDate
        if let to {
            guard let parsed = LocalDate(parsing: to) else { throw .badDate(to) }
            last = parsed
        } else {
            last = LocalDate(today, in: timeZone)
        }
        guard let period = ReportPeriod(from: first, through: last, in: timeZone) else { throw .toBeforeFrom(from, to ?? "") }
        return period
    }

    /// The period the report compares with: the same number of whole calendar months before
    /// when the period is whole months (November → October; Q4 → Q3), else the same number of
    /// days (or the same length of time) just before.
    public var previous: ReportPeriod {
        if let firstDay, let lastDay, let timeZone {
            if firstDay.day == 1, lastDay.next.day == 1 {
                let months = (lastDay.year - firstDay.year) * 12 + lastDay.month - firstDay.month + 1
                var year = firstDay.year, month = firstDay.month - months
                while month < 1 { month += 12; year -= 1 }
                let first = LocalDate(year: year, month: month, day: 1)!
                return ReportPeriod(from: first, through: firstDay.previous, in: timeZone)!
            }
            let days = lastDay.daysSinceEpoch - firstDay.daysSinceEpoch + 1
            return ReportPeriod(from: LocalDate(daysSinceEpoch: firstDay.daysSinceEpoch - days),
                                through: firstDay.previous, in: timeZone)!
        }
        return ReportPeriod(start: start.addingTimeInterval(-end.timeIntervalSince(start)), end: start)!
    }
}

/// Why `--from`/`--to` do not make a period.
public enum ReportPeriodError: Error, Sendable, Equatable, CustomStringConvertible {
    case badDate(String)
    case toWithoutFrom(String)
    case toBeforeFrom(String, String)

    public var description: String {
        switch self {
        case .badDate(let text): "'\(text)' is not a date: use YYYY-MM-DD"
        case .toWithoutFrom: "--to needs --from"
        case .toBeforeFrom(let from, let to): "--to \(to) is before --from \(from)"
        }
    }
}

/// What to report on.
public struct KPIQuery: Sendable, Hashable {
    /// The period; nil for everything in the database.
    public var period: ReportPeriod?
    /// Only this unit and the units under it: work-order figures count the work orders it
    /// has, dispatch figures its dispatches, and call figures (which belong to no unit) and
    /// the direct-answer rate are left out.
    public var unit: UnitID?
    /// When deadlines still running are judged (a dispatch not yet signed is late only once
    /// its deadline is before this). The time of the report; tests pass a fixed one.
    public var asOf: Date
    /// How many categories and subjects the top lists hold.
    public var topCount: Int
    /// Abandoned within this counts as a short abandon. 10 s.
    public var shortAbandon: Duration
    /// Answered within this meets the service level. 15 s.
    public var serviceLevel: Duration
    /// A return-visit score at least this is "satisfied". 4 (satisfied, very satisfied).
    public var satisfiedScore: Int

    public init(period: ReportPeriod? = nil, unit: UnitID? = nil, asOf: Date, topCount: Int = 10,
                shortAbandon: Duration = .seconds(10), serviceLevel: Duration = .seconds(15), satisfiedScore: Int = 4) {
        self.period = period
        self.unit = unit
        self.asOf = TicketTimestamp.normalized(asOf)
        self.topCount = topCount
        self.shortAbandon = shortAbandon
        self.serviceLevel = serviceLevel
        self.satisfiedScore = satisfiedScore
    }
}

/// A rate with what it is made of, so a reader can check it and sum it over units.
public struct KPIRatio: Sendable, Hashable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int

    public init(_ numerator: Int, of denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// `numerator / denominator`, nil when nothing was counted.
    public var value: Double? {
        denominator == 0 ? nil : Double(numerator) / Double(denominator)
    }

    /// `95.90% (959/1000)`, or `- (0/0)`.
    public var description: String {
        guard let value else { return "- (0/0)" }
        return String(format: "%.2f%%", value * 100) + " (\(numerator)/\(denominator))"
    }
}

/// Figures about the calls themselves (arrived in the period).
public struct CallKPIs: Sendable, Hashable {
    /// Calls offered to the hotline.
    public var offered: Int
    /// Offered calls that were answered.
    public var answered: Int
    /// Offered calls the caller gave up on before they were answered.
    public var abandoned: Int
    /// Of those, abandoned within ``KPIQuery/shortAbandon`` of arriving.
    public var abandonedShort: Int
    /// answered / offered.
    public var connectRate: KPIRatio
    /// Answered within ``KPIQuery/serviceLevel`` / offered.
    public var serviceLevel: KPIRatio
    /// Mean time from arrival to answer over answered calls, in seconds.
    public var averageSpeedOfAnswer: Double?
    /// Mean time from answer to end over answered calls that ended, in seconds.
    public var averageHandleTime: Double?

    public init(offered: Int, answered: Int, abandoned: Int, abandonedShort: Int, serviceLevelCount: Int,
                averageSpeedOfAnswer: Double?, averageHandleTime: Double?) {
        self.offered = offered
        self.answered = answered
        self.abandoned = abandoned
        self.abandonedShort = abandonedShort
        connectRate = KPIRatio(answered, of: offered)
        serviceLevel = KPIRatio(serviceLevelCount, of: offered)
        self.averageSpeedOfAnswer = averageSpeedOfAnswer
        self.averageHandleTime = averageHandleTime
    }
}

/// Figures about the work orders accepted in the period, as they stand at ``KPIQuery/asOf``.
public struct WorkOrderKPIs: Sendable, Hashable {
    /// Work orders accepted.
    public var accepted: Int
    /// Answered directly / accepted. nil with a unit filter.
    public var directAnswerRate: KPIRatio?
    /// Completed (answered directly or handled, and not reopened since) / accepted.
    public var completionRate: KPIRatio
    /// Dispatches signed by their deadline / dispatches whose sign-in is decided.
    public var onTimeSignInRate: KPIRatio
    /// Dispatches handled by their deadline / dispatches whose completion is decided.
    public var onTimeCompletionRate: KPIRatio
    /// Return visits scoring ``KPIQuery/satisfiedScore`` or more / work orders with a return visit.
    public var satisfactionRate: KPIRatio
    /// Not yet completed.
    public var open: Int
    /// Waiting past a deadline (``WorkOrder/isOverdue(at:)``).
    public var overdue: Int
    /// Linked repeat calls on these work orders.
    public var repeatCalls: Int

    public init(accepted: Int, directAnswerRate: KPIRatio?, completionRate: KPIRatio, onTimeSignInRate: KPIRatio,
                onTimeCompletionRate: KPIRatio, satisfactionRate: KPIRatio, open: Int, overdue: Int, repeatCalls: Int) {
        self.accepted = accepted
        self.directAnswerRate = directAnswerRate
        self.completionRate = completionRate
        self.onTimeSignInRate = onTimeSignInRate
        self.onTimeCompletionRate = onTimeCompletionRate
        self.satisfactionRate = satisfactionRate
        self.open = open
        self.overdue = overdue
        self.repeatCalls = repeatCalls
    }
}

/// One line of the unit ranking.
public struct UnitKPIs: Sendable, Hashable {
    /// 1 for the best.
    public var rank: Int
    public var unit: UnitID
    /// From the units table; nil if the unit is not known there.
    public var name: String?
    /// Dispatches to this unit (of work orders accepted in the period).
    public var dispatched: Int
    /// Of those, handled.
    public var handled: Int
    public var onTimeSignInRate: KPIRatio
    public var onTimeCompletionRate: KPIRatio
    /// Over the work orders this unit has now.
    public var satisfactionRate: KPIRatio

    public init(rank: Int, unit: UnitID, name: String?, dispatched: Int, handled: Int, onTimeSignInRate: KPIRatio,
                onTimeCompletionRate: KPIRatio, satisfactionRate: KPIRatio) {
        self.rank = rank
        self.unit = unit
        self.name = name
        self.dispatched = dispatched
        self.handled = handled
        self.onTimeSignInRate = onTimeSignInRate
        self.onTimeCompletionRate = onTimeCompletionRate
        self.satisfactionRate = satisfactionRate
    }
}

/// A line of a top-N list: how many work orders had this category (or subject) in the
/// period and in the previous one.
public struct TopEntry: Sendable, Hashable {
    public var key: String
    public var count: Int
    /// In ``ReportPeriod/previous``; nil when the report has no period.
    public var previousCount: Int?

    public init(key: String, count: Int, previousCount: Int?) {
        self.key = key
        self.count = count
        self.previousCount = previousCount
    }

    /// count − previous count.
    public var change: Int? { previousCount.map { count - $0 } }
    /// change / previous count; nil when there was none before.
    public var changeRate: Double? {
        guard let previousCount, previousCount > 0 else { return nil }
        return Double(count - previousCount) / Double(previousCount)
    }
}

/// Everything `hotline report` prints.
public struct KPIReport: Sendable, Hashable {
    public var query: KPIQuery
    /// nil with a unit filter (calls belong to no unit).
    public var calls: CallKPIs?
    public var workOrders: WorkOrderKPIs
    /// Units by rank.
    public var units: [UnitKPIs]
    public var topCategories: [TopEntry]
    /// By subject, or the business line when a work order has no subject (IVR work orders).
    public var topSubjects: [TopEntry]
    /// The direct answers by the knowledge-base article they named, most first (at most
    /// ``KPIQuery/topCount``; the answers that named none under a nil article). Empty with a
    /// unit filter, like the direct-answer rate.
    public var directAnswersByArticle: [ArticleDirectAnswers]

    public init(query: KPIQuery, calls: CallKPIs?, workOrders: WorkOrderKPIs, units: [UnitKPIs], topCategories: [TopEntry],
                topSubjects: [TopEntry], directAnswersByArticle: [ArticleDirectAnswers] = []) {
        self.directAnswersByArticle = directAnswersByArticle
        self.query = query
        self.calls = calls
        self.workOrders = workOrders
        self.units = units
        self.topCategories = topCategories
        self.topSubjects = topSubjects
    }
}

/// Work orders of the cohort answered directly with one article (their first direct answer).
public struct ArticleDirectAnswers: Sendable, Hashable {
    /// nil: answers that named no article.
    public var article: KnowledgeArticleID?
    /// The article's title as the knowledge base has it now.
    public var title: String?
    /// Work orders answered directly with it / accepted: its part of the direct-answer rate.
    public var rate: KPIRatio

    public var count: Int { rate.numerator }

    public init(article: KnowledgeArticleID?, title: String?, rate: KPIRatio) {
        self.article = article
        self.title = title
        self.rate = rate
    }
}
