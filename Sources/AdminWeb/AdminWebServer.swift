// AdminWeb: the admin listener on Hummingbird 2.
// This file: the server. Each admin route ("METHOD /path/{name}") becomes a Hummingbird route;
// a path served for other methods answers 405 with Allow; bodies are bounded (413 once, then
// the connection ends); every response carries the console's security headers.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// What a route handler sees of the connection besides the request.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public let eventLoop: any EventLoop

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        eventLoop = source.channel.eventLoop
    }

    public var maxUploadSize: Int { AdminWebServer.maxBody }
}

/// The admin listener: one Hummingbird application run in its own service group, on the
/// admin event loop group (never a call loop).
public final class AdminWebServer: Sendable {
    /// The largest request body accepted (dialplans, work-order events, imports).
    public static let maxBody = 1 << 20
    /// How much more of a refused request is read (and dropped) before the connection is cut:
    /// closing at once, with the body still arriving, would make the kernel reset the
    /// connection and could lose the 413.
    public static let maxDrain = 8 << 20

    public let localAddress: SocketAddress?
    private let services: ServiceGroup
    private let running: Task<Void, any Error>
    /// Ended first when the listener stops: an open push stream would hold the shutdown.
    private let feeds: [any ClosableFeed]

    private init(localAddress: SocketAddress?, services: ServiceGroup, running: Task<Void, any Error>, feeds: [any ClosableFeed]) {
        self.localAddress = localAddress
        self.services = services
        self.running = running
        self.feeds = feeds
    }

    /// Binds `host:port` (0 for any free port) and serves `routes` plus whatever `extend` adds
    /// to the router (the console's pages and pushes). Throws if the address cannot be bound.
    public static func start(host: String, port: Int, group: any EventLoopGroup, routes: [String: AdminRoute],
                             console: ConsoleAssets? = nil, feeds: [any ClosableFeed] = [],
                             logger: Logger = Logger(label: "hotline.admin.http"),
                             extend: (Router<AdminRequestContext>) -> Void = { _ in }) async throws -> AdminWebServer {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: AdminResponseMiddleware())
        register(routes, on: router)
        console?.register(on: router)
        extend(router)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let started = Started()
        let application = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionCloseHandler()], idleTimeout: .seconds(300))),
            configuration: .init(address: .hostname(host, port: port), serverName: "hotline"),
            onServerRunning: { channel in started.resume(.success(channel.localAddress)) },
            eventLoopGroupProvider: .shared(group),
            logger: quiet)
        let services = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [],
                                                         cancellationSignals: [], logger: quiet))
        let running = Task {
            do {
                try await services.run()
                started.resume(.failure(AdminWebError.stoppedBeforeListening))
            } catch {
                started.resume(.failure(error))
                throw error
            }
        }
        do {
            let address = try await started.wait()
            return AdminWebServer(localAddress: address, services: services, running: running, feeds: feeds)
        } catch {
            running.cancel()
            throw error
        }
    }

    /// Stops listening and ends open connections once their responses are written.
    public func close() async throws {
        for feed in feeds { feed.close() }
        await services.triggerGracefulShutdown()
        try await running.value
    }

    // MARK: routes

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch]

    static func register(_ routes: [String: AdminRoute], on router: Router<AdminRequestContext>) {
        var methodsByPath: [String: [HTTPRequest.Method]] = [:]
        for (key, route) in routes {
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let method = HTTPRequest.Method(parts[0]) else { continue }
            let pattern = parts[1]
            methodsByPath[pattern, default: []].append(method)
            let names = pattern.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }
                .map { String($0.dropFirst().dropLast()) }
            router.on(RouterPath(pattern), method: method) { request, context -> Response in
                try await serve(route, request: request, context: context, parameterNames: names)
            }
        }
        for (pattern, allowed) in methodsByPath {
            let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            for method in methods where !allowed.contains(method) {
                router.on(RouterPath(pattern), method: method) { _, _ -> Response in
                    response(AdminResponse(status: .methodNotAllowed, body: "method not allowed\n", headers: [("Allow", allow)]))
                }
            }
        }
    }

    static func serve(_ route: AdminRoute, request: Request, context: AdminRequestContext,
                      parameterNames: [String]) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBody {
            return tooLarge()
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBody)
        } catch {
            return tooLarge()
        }
        let admin = adminRequest(request, context: context, body: body.readableBytes > 0 ? body : nil,
                                 parameterNames: parameterNames)
        do {
            return response(try await route(admin, context.eventLoop).get())
        } catch {
            return response(AdminResponse(status: .internalServerError, body: "\(error)\n"))
        }
    }

    /// The request as routes see it (also for the handlers registered through `extend`).
    public static func adminRequest(_ request: Request, context: AdminRequestContext, body: ByteBuffer? = nil,
                                    parameterNames: [String] = []) -> AdminRequest {
        let (path, query) = AdminRequest.split(request.head.path ?? "/")
        var admin = AdminRequest(method: HTTPMethod(rawValue: request.method.rawValue), path: path, query: query, body: body)
        for name in parameterNames {
            if let value = context.parameters.get(name) {
                admin.parameters[name] = value.removingPercentEncoding ?? value
            }
        }
        let remote = context.remoteAddress?.ipAddress ?? ""
        admin.fromLoopback = remote == "::1" || remote.hasPrefix("127.") || remote == "::ffff:127.0.0.1"
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = admin.headers[name] {
                admin.headers[name] = existing + (name == "cookie" ? "; " : ", ") + field.value
            } else {
                admin.headers[name] = field.value
            }
        }
        // HTTP/1's Host is HTTPTypes' :authority, not a header field.
        if admin.headers["host"] == nil, let authority = request.head.authority { admin.headers["host"] = authority }
        admin.authorization = admin.headers["authorization"]
        return admin
    }

    static func tooLarge() -> Response {
        response(AdminResponse(status: .payloadTooLarge, body: "request body too large\n", headers: [("Connection", "close")]))
    }

    /// An ``AdminResponse`` as Hummingbird's response.
    public static func response(_ admin: AdminResponse) -> Response {
        var fields = HTTPFields()
        // 204 and 304 carry no body, so no type either.
        if admin.status != .noContent, admin.status != .notModified { fields[.contentType] = admin.contentType }
        for (name, value) in admin.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: Int(admin.status.code), reasonPhrase: admin.status.reasonPhrase)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: admin.body)))
    }
}

public enum AdminWebError: Error, CustomStringConvertible {
    case stoppedBeforeListening

    public var description: String { "the admin listener stopped before it was listening" }
}

/// The listener's address once it is bound, or why it could not be: resumed exactly once.
private final class Started: Sendable {
    private let state = Mutex<(result: Result<SocketAddress?, any Error>?, waiter: CheckedContinuation<SocketAddress?, any Error>?)>((nil, nil))

    func resume(_ result: Result<SocketAddress?, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<SocketAddress?, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func wait() async throws -> SocketAddress? {
        try await withCheckedThrowingContinuation { continuation in
            let result = state.withLock { state -> Result<SocketAddress?, any Error>? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let result { continuation.resume(with: result) }
        }
    }
}
