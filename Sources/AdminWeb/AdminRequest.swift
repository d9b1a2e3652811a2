// AdminWeb: the admin listener on Hummingbird 2 (the API of every admin route and, later,
// the browser console): routing, body limits, security headers, pushes.
// This file: a request and a response as the routes see them, independent of the server
// library, so each route stays a plain function that is tested without a socket.
import NIOCore
import NIOHTTP1

/// A request as the routes see it.
public struct AdminRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    /// Values of `{name}` segments of the matched route, percent-decoded.
    public var parameters: [String: String] = [:]
    public var body: ByteBuffer?
    /// Whether the client connected from a loopback address.
    public var fromLoopback: Bool = false
    /// The `Authorization` header, if any.
    public var authorization: String?
    /// Every header, names lowercased (cookies, CSRF token, Accept-Language).
    public var headers: [String: String] = [:]

    public init(method: HTTPMethod, path: String, query: [String: String] = [:], body: ByteBuffer? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }

    public var bodyText: String { body.map { String(buffer: $0) } ?? "" }

    /// The value of cookie `name`, if the request carries it.
    public func cookie(_ name: String) -> String? {
        guard let header = headers["cookie"] else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
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
/// consistent snapshot without locks. The loop given is the admin listener's, never a call loop.
public typealias AdminRoute = @Sendable (AdminRequest, EventLoop) -> EventLoopFuture<AdminResponse>

import Foundation

extension AdminRequest {
    /// Splits a request target into its path and its percent-decoded query.
    public static func split(_ uri: String) -> (String, [String: String]) {
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
