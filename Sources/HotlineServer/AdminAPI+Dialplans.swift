import Dialplan
import Foundation
import NIOCore
import NIOHTTP1

/// `/api/dialplans`: read, publish (checked first), list versions, roll back, reload.
enum DialplanRoutes {
    struct IssueJSON: Encodable {
        var file: String
        var line: Int
        var column: Int
        var severity: String
        var code: String
        var message: String
        var keyPath: String
        var hint: String?

        enum CodingKeys: String, CodingKey {
            case file, line, column, severity, code, message, hint
            case keyPath = "key_path"
        }

        init(_ issue: DialplanIssue) {
            file = issue.file
            line = issue.line
            column = issue.column
            severity = issue.severity.rawValue
            code = issue.code.rawValue
            message = issue.message
            keyPath = issue.keyPath
            hint = issue.hint
        }
    }

    struct Published: Encodable {
        var name: String
        var version: String
        var previous: String
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    static func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok) -> AdminResponse {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return .json(String(decoding: data, as: UTF8.self) + "\n", status: status)
    }

    static func failure(_ error: DialplanLibrary.PublishError) -> AdminResponse {
        switch error {
        case .invalid(let issues):
            json(["errors": issues.map(IssueJSON.init)], status: .unprocessableEntity)
        case .renamed, .noSuchVersion:
            .error(.notFound, code: "not_found", error.description)
        case .io:
            .error(.internalServerError, code: "internal", error.description)
        }
    }

    /// The routes; changes go through `publisher` (off the call loops, one at a time), which
    /// hands a newly live dialplan to every call loop.
    static func routes(publisher: DialplanPublisher, auth: AdminAuth) -> [String: AdminRoute] {
        let library = publisher.library
        /// Reads are for admins and auditors, changes for admins (see ``AdminRole``).
        @Sendable func guarded(_ access: AdminAccess = .readConfiguration,
                               _ body: @escaping @Sendable (AdminRequest, EventLoop) -> EventLoopFuture<AdminResponse>) -> AdminRoute {
            { request, loop in
                if case .refused(let refusal) = auth.authorize(request, for: access) { return loop.makeSucceededFuture(refusal) }
                return body(request, loop)
            }
        }
        @Sendable func named(_ request: AdminRequest, _ loop: EventLoop) -> EventLoopFuture<AdminResponse>? {
            guard request.parameters["name"] == library.name else {
                return loop.makeSucceededFuture(.error(.notFound, code: "not_found", "no dialplan named \(request.parameters["name"] ?? "")"))
            }
            return nil
        }
        @Sendable func publishing(_ loop: EventLoop,
                                  _ change: @escaping @Sendable (DialplanLibrary) throws(DialplanLibrary.PublishError) -> Dialplan)
            -> EventLoopFuture<AdminResponse> {
            publisher.publish(on: loop, change).map { result in
                switch result {
                case .success(let outcome):
                    json(Published(name: outcome.dialplan.name, version: outcome.dialplan.version, previous: outcome.previous))
                case .failure(let error):
                    failure(error)
                }
            }
        }
        return [
            "GET /api/dialplans": guarded { _, loop in
                let d = library.current
                return loop.makeSucceededFuture(json([["name": d.name, "version": d.version, "file": library.livePath]]))
            },
            "GET /api/dialplans/{name}": guarded { request, loop in
                if let refusal = named(request, loop) { return refusal }
                let text = library.liveText
                return loop.makeSucceededFuture(AdminResponse(contentType: "application/yaml; charset=utf-8", body: text,
                                                              headers: [("X-Hotline-Dialplan-Version", library.current.version)]))
            },
            "PUT /api/dialplans/{name}": guarded(.changeConfiguration) { request, loop in
                if let refusal = named(request, loop) { return refusal }
                let text = request.bodyText
                return publishing(loop) { library throws(DialplanLibrary.PublishError) in try library.publish(text) }
            },
            "GET /api/dialplans/{name}/versions": guarded { request, loop in
                if let refusal = named(request, loop) { return refusal }
                return loop.makeSucceededFuture(json(library.versions()))
            },
            "POST /api/dialplans/{name}/rollback": guarded(.changeConfiguration) { request, loop in
                if let refusal = named(request, loop) { return refusal }
                let version = request.query["version"]
                return publishing(loop) { library throws(DialplanLibrary.PublishError) in try library.rollback(to: version) }
            },
            "POST /api/dialplans/{name}/reload": guarded(.changeConfiguration) { request, loop in
                if let refusal = named(request, loop) { return refusal }
                return publishing(loop) { library throws(DialplanLibrary.PublishError) in try library.reload() }
            },
        ]
    }
}
