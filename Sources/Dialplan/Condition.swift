/// A test a `branch` case makes: on variables, the caller's number, or the time of the call.
///
/// Time tests use the dialplan's named calendars and seasons, evaluated at the `now` the
/// controller passes in, in their own time zone: nothing reads a clock.
public indirect enum Condition: Sendable, Equatable, CustomStringConvertible {
    /// `variable: NAME` with one test.
    case variable(String, VariableTest)
    /// `caller_prefix:` the caller's number starts with one of these.
    case callerPrefix([String])
    /// `calendar: NAME` with `open`, `holiday` or `working_day: true`.
    case calendar(String, CalendarTest)
    /// `season: NAME`: today (in the dialplan's time zone) is within the seasonal range.
    case season(String)
    /// `not: {…}`.
    case not(Condition)
    /// `all: […]`, and several tests in one mapping: every one holds.
    case all([Condition])
    /// `any: […]`: at least one holds.
    case any([Condition])

    /// What a `variable` condition checks.
    public enum VariableTest: Sendable, Equatable {
        /// `equals: TEXT`.
        case equals(String)
        /// `not_equals: TEXT`.
        case notEquals(String)
        /// `in: [A, B]`: equals one of them.
        case oneOf([String])
        /// `matches: REGEX`: the whole value matches the regular expression.
        case matches(String)
        /// `is_set: true`: the value is not empty.
        case isSet
    }

    /// What a `calendar` condition checks at `now`.
    public enum CalendarTest: String, Sendable, Equatable {
        /// Within the calendar's opening hours.
        case open
        /// Today is one of its holidays.
        case holiday
        /// Today has working hours (a weekday that is no holiday, or a make-up working day).
        case workingDay = "working_day"
    }

    /// Compact text for graphs and traces: `office open`, `caller_prefix 010|0755`, `not(heating)`.
    public var description: String {
        switch self {
        case .variable(let name, let test):
            switch test {
            case .equals(let value): "\(name) == \"\(value)\""
            case .notEquals(let value): "\(name) != \"\(value)\""
            case .oneOf(let values): "\(name) in [\(values.map { "\"\($0)\"" }.joined(separator: ", "))]"
            case .matches(let regex): "\(name) ~ /\(regex)/"
            case .isSet: "\(name) is set"
            }
        case .callerPrefix(let prefixes): "caller_prefix \(prefixes.joined(separator: "|"))"
        case .calendar(let name, let test): "\(name) \(test.rawValue)"
        case .season(let name): "season \(name)"
        case .not(let condition): "not(\(condition))"
        case .all(let conditions): conditions.map { "\($0)" }.joined(separator: " and ")
        case .any(let conditions): "(" + conditions.map { "\($0)" }.joined(separator: " or ") + ")"
        }
    }

    /// Every variable the condition reads.
    public var variables: [String] {
        switch self {
        case .variable(let name, _): [name]
        case .callerPrefix: [Variables.caller]
        case .calendar, .season: []
        case .not(let condition): condition.variables
        case .all(let conditions), .any(let conditions): conditions.flatMap(\.variables)
        }
    }
}
