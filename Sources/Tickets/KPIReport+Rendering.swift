// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the KPI report as `hotline report` prints it, as text and as CSV (JSON is its
// `Encodable` form).

import Foundation

extension KPIReport {
    /// The report for a terminal.
    public var text: String {
        var out: [String] = []
        var title = "Hotline KPIs"
        if let period = query.period {
            if let first = period.firstDay, let last = period.lastDay {
                title += " \(first) to \(last)" + (period.timeZone.map { " (\($0.identifier))" } ?? "")
            } else {
                title += " \(TicketTimestamp.format(period.start)) to \(TicketTimestamp.format(period.end))"
            }
        } else {
            title += ", everything"
        }
        title += query.unit.map { ", unit \($0) and the units under it" } ?? ", all units"
        out.append(title)
        out.append("as of \(TicketTimestamp.format(query.asOf)); definitions in docs/kpis.md")

        if let calls {
            var table = TextTable()
            table.append(["offered", String(calls.offered)])
            table.append(["answered", String(calls.answered)])
            table.append(["abandoned", "\(calls.abandoned) (within \(query.shortAbandon.components.seconds) s: \(calls.abandonedShort))"])
            table.append(["connect rate", calls.connectRate.description])
            table.append(["answered within \(query.serviceLevel.components.seconds) s", calls.serviceLevel.description])
            table.append(["average speed of answer", Self.seconds(calls.averageSpeedOfAnswer)])
            table.append(["average handle time", Self.seconds(calls.averageHandleTime)])
            out.append("")
            out.append("Calls")
            out.append(table.render(indent: "  "))
        }

        let w = workOrders
        var table = TextTable()
        table.append(["accepted", String(w.accepted)])
        if let direct = w.directAnswerRate { table.append(["direct-answer rate", direct.description]) }
        table.append(["completion rate", w.completionRate.description])
        table.append(["on-time sign-in rate", w.onTimeSignInRate.description])
        table.append(["on-time completion rate", w.onTimeCompletionRate.description])
        table.append(["satisfaction rate", w.satisfactionRate.description + " (score \(query.satisfiedScore) or more)"])
        table.append(["open, of which overdue", "\(w.open), \(w.overdue)"])
        table.append(["repeat calls", String(w.repeatCalls)])
        out.append("")
        out.append("Work orders")
        out.append(table.render(indent: "  "))
        if !directAnswersByArticle.isEmpty {
            var articles = TextTable()
            articles.append(["ARTICLE", "TITLE", "ANSWERED DIRECTLY", "OF ACCEPTED"])
            for entry in directAnswersByArticle {
                articles.append([entry.article?.rawValue ?? "(none)", entry.title ?? "-", String(entry.count), entry.rate.description])
            }
            out.append("")
            out.append("Direct answers by article")
            out.append(articles.render(indent: "  "))
        }

        out.append("")
        out.append("Units")
        if units.isEmpty {
            out.append("  no dispatches")
        } else {
            var ranking = TextTable()
            ranking.append(["RANK", "UNIT", "NAME", "DISPATCHED", "HANDLED", "SIGNED ON TIME", "COMPLETED ON TIME", "SATISFIED"])
            for unit in units {
                ranking.append([String(unit.rank), unit.unit.rawValue, unit.name ?? "-", String(unit.dispatched),
                                String(unit.handled), unit.onTimeSignInRate.description,
                                unit.onTimeCompletionRate.description, unit.satisfactionRate.description])
            }
            out.append(ranking.render(indent: "  "))
        }

        for (name, entries) in [("categories", topCategories), ("subjects", topSubjects)] {
            out.append("")
            var heading = "Top \(query.topCount) \(name)"
            if let previous = query.period?.previous {
                if let first = previous.firstDay, let last = previous.lastDay {
                    heading += " (change against \(first) to \(last))"
                } else {
                    heading += " (change against the period before)"
                }
            }
            out.append(heading)
            if entries.isEmpty {
                out.append("  none")
                continue
            }
            var top = TextTable()
            for entry in entries {
                var change = ""
                if let delta = entry.change {
                    change = (delta >= 0 ? "+" : "") + String(delta)
                    if let rate = entry.changeRate { change += String(format: " (%+.1f%%)", rate * 100) }
                }
                top.append([entry.key, String(entry.count), change])
            }
            out.append(top.render(indent: "  "))
        }
        return out.joined(separator: "\n") + "\n"
    }

    private static func seconds(_ value: Double?) -> String {
        value.map { String(format: "%.1f s", $0) } ?? "-"
    }

    /// The report as CSV, one figure per line: `section,key,value,numerator,denominator,previous`.
    /// Sections: `calls`, `work_orders`, `direct_answer_article` (key: the article id), `unit:<id>`, `top_category`, `top_subject`. Rates are
    /// fractions (0.6667), with what they are made of beside them.
    public var csv: String {
        var lines = [WorkOrderCSV.line(["section", "key", "value", "numerator", "denominator", "previous"])]
        func count(_ section: String, _ key: String, _ value: Int) {
            lines.append(WorkOrderCSV.line([section, key, String(value), "", "", ""]))
        }
        func ratio(_ section: String, _ key: String, _ ratio: KPIRatio?) {
            guard let ratio else { return }
            lines.append(WorkOrderCSV.line([section, key, ratio.value.map { String(format: "%.6f", $0) } ?? "",
                                            String(ratio.numerator), String(ratio.denominator), ""]))
        }
        func seconds(_ section: String, _ key: String, _ value: Double?) {
            lines.append(WorkOrderCSV.line([section, key, value.map { String(format: "%.3f", $0) } ?? "", "", "", ""]))
        }
        if let calls {
            count("calls", "offered", calls.offered)
            count("calls", "answered", calls.answered)
            count("calls", "abandoned", calls.abandoned)
            count("calls", "abandoned_within_\(query.shortAbandon.components.seconds)s", calls.abandonedShort)
            ratio("calls", "connect_rate", calls.connectRate)
            ratio("calls", "answered_within_\(query.serviceLevel.components.seconds)s", calls.serviceLevel)
            seconds("calls", "average_speed_of_answer_seconds", calls.averageSpeedOfAnswer)
            seconds("calls", "average_handle_time_seconds", calls.averageHandleTime)
        }
        let w = workOrders
        count("work_orders", "accepted", w.accepted)
        ratio("work_orders", "direct_answer_rate", w.directAnswerRate)
        ratio("work_orders", "completion_rate", w.completionRate)
        ratio("work_orders", "on_time_sign_in_rate", w.onTimeSignInRate)
        ratio("work_orders", "on_time_completion_rate", w.onTimeCompletionRate)
        ratio("work_orders", "satisfaction_rate", w.satisfactionRate)
        count("work_orders", "open", w.open)
        count("work_orders", "overdue", w.overdue)
        count("work_orders", "repeat_calls", w.repeatCalls)
        for entry in directAnswersByArticle {
            ratio("direct_answer_article", entry.article?.rawValue ?? "(none)", entry.rate)
        }
        for unit in units {
            let section = "unit:\(unit.unit)"
            count(section, "rank", unit.rank)
            count(section, "dispatched", unit.dispatched)
            count(section, "handled", unit.handled)
            ratio(section, "on_time_sign_in_rate", unit.onTimeSignInRate)
            ratio(section, "on_time_completion_rate", unit.onTimeCompletionRate)
            ratio(section, "satisfaction_rate", unit.satisfactionRate)
        }
        for (section, entries) in [("top_category", topCategories), ("top_subject", topSubjects)] {
            for entry in entries {
                lines.append(WorkOrderCSV.line([section, entry.key, String(entry.count), "", "",
                                                entry.previousCount.map(String.init) ?? ""]))
            }
        }
        return lines.joined()
    }
}
