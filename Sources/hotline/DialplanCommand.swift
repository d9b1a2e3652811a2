// `hotline dialplan check|simulate|graph`: the admin's tools for a dialplan, with no network.
// The logic lives in the Dialplan target (checks, DialplanSimulation, DialplanGraph); this file
// only reads arguments and prints.
import ACDConfig
import ArgumentParser
import Dialplan
import Foundation

struct DialplanCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dialplan", abstract: "Check, simulate and draw dialplans without a phone.",
        subcommands: [Check.self, Simulate.self, Graph.self, Reload.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report every issue in dialplan files, compiler style (file:line:column: error|warning: ...).",
            discussion: "Exits with status 1 if any file has an error. Included files are checked with the file that includes them.")

        @Argument(help: "Dialplan YAML files.") var files: [String]
        @Option(help: "Prompt directory (one subdirectory per language) whose recordings must cover the dialplan; default Prompts if it exists.")
        var prompts: String?
        @Option(help: "agents.yaml, checked with queues.yaml (default: Dialplans/acd/agents.yaml if it exists).") var agents: String?
        @Option(help: "queues.yaml: every queue a dialplan declares must be defined there (default: Dialplans/acd/queues.yaml if it exists).")
        var queues: String?

        func run() throws {
            let directory = try promptDirectory(prompts)
            var errors = 0, warnings = 0
            // The contact centre's files, when there are any: checked themselves, then every
            // dialplan's declared queues against them.
            var acd: (setup: ACDSetup, queuesFile: String)?
            let agentsFile = agents ?? (FileManager.default.fileExists(atPath: "Dialplans/acd/agents.yaml") ? "Dialplans/acd/agents.yaml" : nil)
            let queuesFile = queues ?? (FileManager.default.fileExists(atPath: "Dialplans/acd/queues.yaml") ? "Dialplans/acd/queues.yaml" : nil)
            if let agentsFile, let queuesFile {
                do {
                    let setup = try ACDSetup.load(agentsPath: agentsFile, queuesPath: queuesFile)
                    for issue in setup.warnings { printError(issue.description) }
                    warnings += setup.warnings.count
                    acd = (setup, queuesFile)
                } catch {
                    for issue in error.issues { printError(issue.description) }
                    errors += error.issues.count { $0.severity == .error }
                    warnings += error.issues.count { $0.severity == .warning }
                }
            } else if agents != nil || queues != nil {
                throw ValidationError("--agents and --queues go together")
            }
            for file in files {
                var result = Dialplan.check(path: file, promptsDirectory: directory)
                if let acd, let plan = result.dialplan {
                    let queueIssues = acd.setup.checkDialplanQueues(plan.queues, dialplanName: plan.name, queuesFile: acd.queuesFile)
                    for issue in queueIssues {
                        result.issues.append(DialplanIssue(
                            severity: issue.severity == .error ? .error : .warning, code: .unknownQueue, message: issue.message,
                            location: DialplanLocation(file: issue.file, line: issue.line, column: issue.column),
                            keyPath: issue.keyPath, hint: issue.hint))
                    }
                }
                for issue in result.issues { printError(issue.description) }
                errors += result.errors.count
                warnings += result.warnings.count
                if result.errors.isEmpty {
                    let plan = result.dialplan
                    print("\(file): ok (\(plan?.nodes.count ?? 0) nodes, \(plan?.entries.count ?? 0) entries, "
                        + "\(plan?.files.count ?? 1) file\(plan?.files.count == 1 ? "" : "s"), version \(plan?.version ?? "-"))"
                        + (result.warnings.isEmpty ? "" : ", \(result.warnings.count) warning\(result.warnings.count == 1 ? "" : "s")"))
                }
            }
            if directory == nil { printError("note: prompt recordings not checked (no Prompts directory; pass --prompts DIR)") }
            if acd == nil, agentsFile == nil || queuesFile == nil {
                printError("note: queues not checked against queues.yaml (no Dialplans/acd/; pass --agents and --queues)")
            }
            printError("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            if errors > 0 { throw ExitCode(1) }
        }
    }

    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a call through the dialplan with the server's interpreter and print each step.",
            discussion: """
                Keys: separated by commas or spaces. '3' is pressed when a menu or collect waits, '3@1.5s' at 1.5 s \
                into the call (barging in), '3+2s' 2 s after the previous key, '-' lets the next wait time out. \
                Prompts last as long as their WAV files in --prompts (2 s each without them). Queues answer \
                unavailable (a simulation has no agents logged in: the queue node's on_unavailable path).
                """)

        @Argument(help: "Dialplan YAML file.") var file: String
        @Option(help: "Dialled number.") var number: String
        @Option(help: "Key script, e.g. \"1,3\" or \"2@1s 4\".") var keys = ""
        @Option(help: "Call time, e.g. 2026-12-01T20:00+08:00 (without an offset: the dialplan's time zone); default now.")
        var time: String?
        @Option(help: "Caller's number.") var caller = "13800000000"
        @Option(help: "Prompt directory for real prompt lengths; default Prompts if it exists.") var prompts: String?
        @Flag(name: .customLong("transfer-fails"), help: "Answer transfers with failure (default: success).") var transferFails = false
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() throws {
            let plan = try loadOrExit(file)
            let start: Date
            if let time {
                guard let parsed = DialplanSimulation.parseTime(time, defaultZone: plan.timeZone ?? TimeZone(identifier: "UTC")!) else {
                    throw ValidationError("--time '\(time)' is not a time such as 2026-12-01T20:00+08:00")
                }
                start = parsed
            } else {
                start = Date()
            }
            let script: [DialplanSimulation.KeyPress]
            do {
                script = try DialplanSimulation.parseScript(keys)
            } catch {
                throw ValidationError("--keys: \(error)")
            }
            var simulation = DialplanSimulation(transferSucceeds: !transferFails)
            if let directory = try promptDirectory(prompts) {
                simulation.promptDuration = DialplanSimulation.promptDurations(directory: directory, languages: plan.languages)
            }
            guard let result = simulation.run(plan, number: number, keys: script, caller: caller, startTime: start) else {
                printError("\(file): no entry takes \(number) (the server answers 404 Not Found)")
                throw ExitCode(1)
            }
            print(json ? try result.json(file: file) : result.report(file: file))
        }
    }

    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the flow as Graphviz DOT (e.g. | dot -Tsvg > flow.svg).")

        @Argument(help: "Dialplan YAML file.") var file: String

        func run() throws {
            print(DialplanGraph.dot(try loadOrExit(file)), terminator: "")
        }
    }
}

/// The dialplan at `path`, or every issue on standard error and exit status 1.
private func loadOrExit(_ path: String) throws -> Dialplan {
    let result = Dialplan.check(path: path)
    guard let plan = result.dialplan else {
        for issue in result.issues { printError(issue.description) }
        throw ExitCode(1)
    }
    return plan
}

/// `--prompts`: the given directory (which must exist), else `Prompts` if it exists, else none.
private func promptDirectory(_ option: String?) throws -> String? {
    var isDirectory: ObjCBool = false
    if let option {
        guard FileManager.default.fileExists(atPath: option, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--prompts '\(option)' is not a directory")
        }
        return option
    }
    return FileManager.default.fileExists(atPath: "Prompts", isDirectory: &isDirectory) && isDirectory.boolValue ? "Prompts" : nil
}

private func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
