// HotlineServer: the composition root.
// This file: what the console's dialplan editor needs besides publish and rollback: a check that
// publishes nothing (issues at line:column as the admin types), a simulation of a call through
// the draft or the live version, the flow drawn (Graphviz), and the text of a past version for
// the diff. Run off the call loops: on the admin loop, Graphviz in a process of its own.
import Dialplan
import Foundation
import NIOCore

enum DialplanEditorRoutes {
    struct CheckJSON: Encodable {
        var valid: Bool
        var errors: Int
        var warnings: Int
        var issues: [DialplanRoutes.IssueJSON]
    }

    struct SimulateRequest: Decodable {
        /// The draft; the live version when absent.
        var yaml: String?
        var number: String
        var keys: String?
        var time: String?
        var caller: String?
    }

    static func routes(publisher: DialplanPublisher, auth: AdminAuth, prompts: String?) -> [String: AdminRoute] {
        let library = publisher.library
        @Sendable func guarded(_ body: @escaping @Sendable (AdminRequest, EventLoop) -> EventLoopFuture<AdminResponse>) -> AdminRoute {
            { request, loop in
                if case .refused(let refusal) = auth.authorize(request, for: .readConfiguration) { return loop.makeSucceededFuture(refusal) }
                guard request.parameters["name"] == library.name else {
                    return loop.makeSucceededFuture(.error(.notFound, code: "not_found", "no dialplan named \(request.parameters["name"] ?? "")"))
                }
                return body(request, loop)
            }
        }
        /// The draft in the body, else the live text.
        @Sendable func draft(_ request: AdminRequest) -> String {
            let text = request.bodyText
            return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                ? library.liveText : text
        }
        return [
            "POST /api/dialplans/{name}/check": guarded { request, loop in
                let issues = library.check(draft(request))
                let errors = issues.count { $0.severity == .error }
                return loop.makeSucceededFuture(DialplanRoutes.json(CheckJSON(
                    valid: errors == 0, errors: errors, warnings: issues.count - errors, issues: issues.map(DialplanRoutes.IssueJSON.init))))
            },
            "POST /api/dialplans/{name}/simulate": guarded { request, loop in
                guard let body = try? JSONDecoder().decode(SimulateRequest.self, from: Data(request.bodyText.utf8)), !body.number.isEmpty else {
                    return loop.makeSucceededFuture(.error(.badRequest, code: "invalid_request",
                        #"send {"number": "12345", "keys": "1,3", "time": "2026-12-01T20:00+08:00", "caller": "13800000000", "yaml": "(draft; live without)"}"#))
                }
                let text = body.yaml ?? library.liveText
                let result = Dialplan.check(yaml: text, file: library.livePath)
                guard let plan = result.dialplan else {
                    return loop.makeSucceededFuture(DialplanRoutes.failure(.invalid(result.issues.filter { $0.severity == .error })))
                }
                var start = Date()
                if let time = body.time, !time.isEmpty {
                    guard let parsed = DialplanSimulation.parseTime(time, defaultZone: plan.timeZone ?? TimeZone(identifier: "UTC")!) else {
                        return loop.makeSucceededFuture(.error(.badRequest, code: "invalid_request", "time '\(time)' is not a time such as 2026-12-01T20:00+08:00"))
                    }
                    start = parsed
                }
                let script: [DialplanSimulation.KeyPress]
                do {
                    script = try DialplanSimulation.parseScript(body.keys ?? "")
                } catch {
                    return loop.makeSucceededFuture(.error(.badRequest, code: "invalid_request", "keys: \(error)"))
                }
                var simulation = DialplanSimulation(transferSucceeds: true)
                if let prompts { simulation.promptDuration = DialplanSimulation.promptDurations(directory: prompts, languages: plan.languages) }
                guard let run = simulation.run(plan, number: body.number, keys: script, caller: body.caller ?? "13800000000", startTime: start),
                      let json = try? run.json(file: library.livePath)
                else {
                    return loop.makeSucceededFuture(.error(.notFound, code: "not_found", "no entry takes \(body.number) (the server answers 404 Not Found)"))
                }
                return loop.makeSucceededFuture(.json(json + "\n"))
            },
            "POST /api/dialplans/{name}/graph": guarded { request, loop in
                let result = Dialplan.check(yaml: draft(request), file: library.livePath)
                guard let plan = result.dialplan else {
                    return loop.makeSucceededFuture(DialplanRoutes.failure(.invalid(result.issues.filter { $0.severity == .error })))
                }
                let promise = loop.makePromise(of: AdminResponse.self)
                DispatchQueue.global().async { promise.succeed(svg(DialplanGraph.dot(plan))) }
                return promise.futureResult
            },
            "GET /api/dialplans/{name}/versions/{version}": guarded { request, loop in
                guard let text = library.text(of: request.parameters["version"] ?? "") else {
                    return loop.makeSucceededFuture(.error(.notFound, code: "not_found", "no version \(request.parameters["version"] ?? "")"))
                }
                return loop.makeSucceededFuture(AdminResponse(contentType: "application/yaml; charset=utf-8", body: text))
            },
        ]
    }

    /// The flow as SVG from Graphviz's `dot` (Debian's graphviz, installed by `make run`),
    /// bounded to 10 s; 503 `unavailable` without it.
    static func svg(_ dot: String) -> AdminResponse {
        guard let path = ["/usr/bin/dot", "/usr/local/bin/dot"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            return .error(.serviceUnavailable, code: "unavailable", "Graphviz's dot is not installed (apt-get install graphviz)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-Tsvg"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            return .error(.internalServerError, code: "internal", "dot did not start: \(error)")
        }
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 10, execute: killer)
        // Written from another thread: dot may fill its output pipe before it has read all of its input.
        DispatchQueue.global().async {
            input.fileHandleForWriting.write(Data(dot.utf8))
            try? input.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        guard process.terminationStatus == 0 else {
            return .error(.internalServerError, code: "internal", "dot failed (status \(process.terminationStatus))")
        }
        return AdminResponse(contentType: "image/svg+xml", body: String(decoding: data, as: UTF8.self))
    }
}
