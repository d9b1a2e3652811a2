// The admin HTTP listener: /health and Prometheus /metrics now; the admin API of later
// work (dialplans, seats, queues) grows on the same routes table.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the routes see it.
public struct AdminRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    /// Values of `{name}` segments of the matched route.
    public var parameters: [String: String] = [:]
    public var body: ByteBuffer?
    /// Whether the client connected from a loopback address.
    public var fromLoopback: Bool = false
    /// The `Authorization` header, if any.
    public var authorization: String?

    public var bodyText: String { body.map { String(buffer: $0) } ?? "" }
}

/// A response a route produces.
public struct AdminResponse: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: String
    public var headers: [(String, String)]

    public init(status: HTTPResponseStatus = .ok, contentType: String = "text/plain; charset=utf-8", body: String,
                headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public static func json(_ body: String, status: HTTPResponseStatus = .ok) -> AdminResponse {
        AdminResponse(status: status, contentType: "application/json", body: body)
    }
}

/// Routes are answered asynchronously so they can hop to the call engine's loop for a
/// consistent snapshot without locks.
public typealias AdminRoute = @Sendable (AdminRequest, EventLoop) -> EventLoopFuture<AdminResponse>

/// A small HTTP/1.1 server on NIOHTTP1: keep-alive, bounded bodies, one route per method+path.
public final class AdminHTTPServer: Sendable {
    private let channel: Channel
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(channel: Channel) { self.channel = channel }

    public static func start(host: String, port: Int, group: EventLoopGroup,
                             routes: [String: AdminRoute]) async throws -> AdminHTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(routes: routes))
                }
            }
            .bind(host: host, port: port).get()
        return AdminHTTPServer(channel: channel)
    }

    public func close() async throws { try await channel.close() }
}

final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: [String: AdminRoute]
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// Set once a request's body is refused with 413: the rest of it is read and dropped (at
    /// most ``maxDrain`` bytes), then the connection closes. Closing at once, with the body
    /// still arriving, would make the kernel reset the connection and could lose the 413.
    private var discarding: (bytes: Int, responded: EventLoopFuture<Void>)?
    static let maxBody = 1 << 20
    /// How much of a refused body is drained before the connection is cut regardless.
    static let maxDrain = 8 << 20

    init(routes: [String: AdminRoute]) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if let drained = discarding {
            // One 413 per request: whatever else of it arrives is dropped, never answered.
            switch part {
            case .head, .end:
                closeAfter(drained.responded, context: context)
            case .body(let chunk):
                discarding!.bytes += chunk.readableBytes
                if discarding!.bytes > Self.maxDrain { closeAfter(drained.responded, context: context) }
            }
            return
        }
        switch part {
        case .head(let h):
            head = h
            body = nil
            // A declared length over the limit is refused before any of the body is buffered.
            if let length = h.headers.first(name: "Content-Length").flatMap(Int.init), length > Self.maxBody {
                refuseBody(context: context)
            }
        case .body(var chunk):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maxBody {
                refuseBody(context: context)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head else { return }
            self.head = nil
            let (path, query) = Self.split(head.uri)
            var request = AdminRequest(method: head.method, path: path, query: query, body: body)
            let remote = context.channel.remoteAddress?.ipAddress ?? ""
            request.fromLoopback = remote == "127.0.0.1" || remote == "::1" || remote.hasPrefix("127.")
            request.authorization = head.headers.first(name: "Authorization")
            let keepAlive = head.isKeepAlive
            let matched = Self.match(method: head.method.rawValue, path: path, in: routes)
            guard let (route, parameters) = matched else {
                let allowed = routes.keys.contains { key in
                    let pattern = key.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
                    return Self.parameters(of: path, pattern: pattern) != nil
                }
                respond(context: context, keepAlive: keepAlive,
                        allowed ? AdminResponse(status: .methodNotAllowed, body: "method not allowed\n")
                                : AdminResponse(status: .notFound, body: "no such resource: \(path)\n"))
                return
            }
            request.parameters = parameters
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            route(request, context.eventLoop).hop(to: context.eventLoop).whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case .success(let response): handler.respond(context: context, keepAlive: keepAlive, response)
                case .failure(let error): handler.respond(context: context, keepAlive: keepAlive, AdminResponse(status: .internalServerError, body: "\(error)\n"))
                }
            }
        }
    }

    /// Answers 413 once and starts discarding the rest of the request.
    private func refuseBody(context: ChannelHandlerContext) {
        head = nil
        body = nil
        let responded = write(context: context, keepAlive: false,
                              AdminResponse(status: .payloadTooLarge, body: "request body too large\n"))
        discarding = (0, responded)
    }

    private func closeAfter(_ responded: EventLoopFuture<Void>, context: ChannelHandlerContext) {
        let channel = context.channel
        responded.whenComplete { _ in channel.close(promise: nil) }
    }

    private func respond(context: ChannelHandlerContext, keepAlive: Bool, _ response: AdminResponse) {
        let done = write(context: context, keepAlive: keepAlive, response)
        if !keepAlive { closeAfter(done, context: context) }
    }

    private func write(context: ChannelHandlerContext, keepAlive: Bool, _ response: AdminResponse) -> EventLoopFuture<Void> {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))), promise: nil)
        return context.writeAndFlush(wrapOutboundOut(.end(nil)))
    }

    /// The route for `METHOD path`: an exact key, else a pattern with `{name}` segments.
    static func match(method: String, path: String, in routes: [String: AdminRoute]) -> (AdminRoute, [String: String])? {
        if let exact = routes["\(method) \(path)"] { return (exact, [:]) }
        for (key, route) in routes {
            let parts = key.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0] == method, parts[1].contains("{") else { continue }
            if let parameters = parameters(of: path, pattern: String(parts[1])) { return (route, parameters) }
        }
        return nil
    }

    static func parameters(of path: String, pattern: String) -> [String: String]? {
        let a = path.split(separator: "/", omittingEmptySubsequences: false)
        let b = pattern.split(separator: "/", omittingEmptySubsequences: false)
        guard a.count == b.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, expected) in zip(a, b) {
            if expected.hasPrefix("{"), expected.hasSuffix("}"), !segment.isEmpty {
                parameters[String(expected.dropFirst().dropLast())] = String(segment).removingPercentEncoding ?? String(segment)
            } else if segment != expected {
                return nil
            }
        }
        return parameters
    }

    static func split(_ uri: String) -> (String, [String: String]) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            query[key] = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
        }
        return (String(uri[..<q]), query)
    }
}
