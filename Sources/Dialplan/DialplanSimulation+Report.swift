import Foundation
import WorkCalendar

extension DialplanSimulation.Result {
    /// The outcome, for people: a header, every step, then the final action, ticket fields, keys,
    /// menu path and variables.
    public func report(file: String) -> String {
        let execution = self.execution
        let zone = execution.dialplan.timeZone ?? TimeZone(identifier: "UTC")!
        var lines = [
            "simulating \(file) (dialplan \(execution.dialplan.name), version \(execution.dialplan.version)): "
                + "call to \(number) from \(caller.isEmpty ? "a withheld number" : caller) at \(DialplanExecution.iso8601(startTime, in: zone))",
        ]
        lines += trace
        lines.append("")
        lines.append("result:    \(outcome) after \(DialplanSimulation.format(milliseconds)) s")
        lines.append("ticket:    \(execution.ticket.description.isEmpty ? "-" : execution.ticket.description)")
        lines.append("language:  \(execution.language)")
        lines.append("keys:      \(execution.keysPressed.isEmpty ? "-" : execution.keysPressed)")
        lines.append("menu path: \(execution.menuPath.isEmpty ? "-" : execution.menuPath.joined(separator: " "))")
        lines.append("variables: \(execution.variables.isEmpty ? "-" : execution.variables.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: " "))")
        if let reason = execution.failureReason { lines.append("error:     \(reason)") }
        if !unusedKeys.isEmpty { lines.append("unused:    \(unusedKeys.map(\.description).joined(separator: " "))") }
        return lines.joined(separator: "\n")
    }

    /// How the simulated call ended: `hangup completed_in_ivr`, or why it did not end.
    public var outcome: String {
        if let disposition = execution.disposition { return "hangup \(disposition)" }
        return "not finished (\(steps.last?.text ?? "no steps"))"
    }

    /// The same as ``report(file:)``, as JSON (keys sorted, so output is stable).
    public func json(file: String) throws -> String {
        let execution = self.execution
        let zone = execution.dialplan.timeZone ?? TimeZone(identifier: "UTC")!
        let ticket = execution.ticket
        let document = SimulationJSON(
            file: file, dialplan: execution.dialplan.name, version: execution.dialplan.version, number: number,
            caller: caller, start: DialplanExecution.iso8601(startTime, in: zone),
            steps: steps.map {
                .init(seconds: Double($0.milliseconds) / 1000, kind: $0.kind.rawValue, text: $0.text)
            },
            result: .init(
                outcome: outcome, disposition: execution.disposition?.rawValue, final_action: finalAction,
                seconds: Double(milliseconds) / 1000, language: execution.language.rawValue, keys: execution.keysPressed,
                menu_path: execution.menuPath, variables: execution.variables,
                ticket: .init(business_line: ticket.businessLine, category: ticket.category, resolution: ticket.resolution,
                              summary: ticket.summary),
                error: execution.failureReason, unused_keys: unusedKeys.map(\.description)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}

/// The JSON shape of a simulation; keys are `lower_snake_case` like the rest of Hotline.
private struct SimulationJSON: Encodable {
    struct Step: Encodable {
        var seconds: Double
        var kind: String
        var text: String
    }

    struct Ticket: Encodable {
        var business_line: String?
        var category: String?
        var resolution: String?
        var summary: [String: String]
    }

    struct Result: Encodable {
        var outcome: String
        var disposition: String?
        var final_action: String?
        var seconds: Double
        var language: String
        var keys: String
        var menu_path: [String]
        var variables: [String: String]
        var ticket: Ticket
        var error: String?
        var unused_keys: [String]
    }

    var file: String
    var dialplan: String
    var version: String
    var number: String
    var caller: String
    var start: String
    var steps: [Step]
    var result: Result
}

extension DialplanSimulation {
    /// Prompt lengths from WAV files under `directory/<language>/<name>.wav`, read once; prompts
    /// with no readable file get `fallback`.
    ///
    /// The length is the `data` chunk's size over the byte rate in the `fmt ` chunk (for Hotline's
    /// 8 kHz 16-bit mono prompts, bytes / 16000 seconds).
    public static func promptDurations(
        directory: String, languages: [Language], fallback: Duration = .seconds(2)
    ) -> @Sendable (PromptRef) -> Duration {
        var lengths: [PromptRef: Duration] = [:]
        for language in languages {
            let folder = "\(directory)/\(language.rawValue)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".wav") {
                guard let data = FileManager.default.contents(atPath: "\(folder)/\(name)"),
                    let length = wavDuration(Array(data))
                else { continue }
                lengths[PromptRef(language: language, name: String(name.dropLast(4)))] = length
            }
        }
        let table = lengths
        return { table[$0] ?? fallback }
    }

    /// The playing time of a RIFF/WAVE file, or `nil` if it is not one.
    public static func wavDuration(_ bytes: [UInt8]) -> Duration? {
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        func tag(_ at: Int) -> String { String(decoding: bytes[at..<at + 4], as: UTF8.self) }
        guard bytes.count >= 12, tag(0) == "RIFF", tag(8) == "WAVE" else { return nil }
        var offset = 12
        var byteRate: Int?
        while offset + 8 <= bytes.count {
            let size = u32(offset + 4)
            switch tag(offset) {
            case "fmt " where offset + 16 <= bytes.count:
                byteRate = u32(offset + 8 + 8)
            case "data":
                guard let byteRate, byteRate > 0 else { return nil }
                let available = min(size, bytes.count - offset - 8)
                return .milliseconds(Int64(available) * 1000 / Int64(byteRate))
            default:
                break
            }
            offset += 8 + size + size % 2
        }
        return nil
    }

    /// Parses `--time`: `YYYY-MM-DDTHH:MM[:SS]` with `Z` or `±HH:MM`, or without a zone (then in
    /// `zone`, the dialplan's time zone).
    public static func parseTime(_ text: String, defaultZone zone: TimeZone) -> Date? {
        let characters = Array(text)
        guard characters.count >= 16, characters[10] == "T" || characters[10] == " ",
            let date = SayFormat.date(in: String(characters[0..<10])),
            characters[13] == ":", let hour = Int(String(characters[11..<13])), let minute = Int(String(characters[14..<16])),
            characters[11..<13].allSatisfy(\.isASCIIDigit), characters[14..<16].allSatisfy(\.isASCIIDigit),
            hour < 24, minute < 60
        else { return nil }
        var rest = characters[16...]
        var second = 0
        if rest.first == ":" {
            guard rest.count >= 3, let value = Int(String(rest.dropFirst().prefix(2))), rest.dropFirst().prefix(2).allSatisfy(\.isASCIIDigit),
                value < 60
            else { return nil }
            second = value
            rest = rest.dropFirst(3)
        }
        var timeZone = zone
        if rest == ["Z"] {
            timeZone = TimeZone(identifier: "UTC")!
        } else if let sign = rest.first, sign == "+" || sign == "-" {
            let offset = Array(rest.dropFirst())
            guard offset.count == 5, offset[2] == ":", let h = Int(String(offset[0..<2])), let m = Int(String(offset[3..<5])),
                offset[0..<2].allSatisfy(\.isASCIIDigit), offset[3..<5].allSatisfy(\.isASCIIDigit),
                let fixed = TimeZone(secondsFromGMT: (sign == "-" ? -1 : 1) * (h * 3600 + m * 60))
            else { return nil }
            timeZone = fixed
        } else if !rest.isEmpty {
            return nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: hour, minute: minute,
                                                  second: second))
    }
}
