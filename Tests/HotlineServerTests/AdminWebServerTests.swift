import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import HotlineServer

/// The admin listener over a real socket: templates, 404/405, the request as routes see it,
/// the security headers every response carries.
@Suite struct AdminWebServerTests {
    static let routes: [String: AdminRoute] = [
        "GET /api/things/{id}": { request, loop in
            loop.makeSucceededFuture(.json("""
                {"id":"\(request.parameters["id"] ?? "")","q":"\(request.query["q"] ?? "")","loopback":\(request.fromLoopback),\
                "cookie":"\(request.cookie("hotline_session") ?? "")"}
                """))
        },
        "PUT /api/things/{id}": { _, loop in loop.makeSucceededFuture(AdminResponse(status: .noContent, body: "")) },
        "POST /api/fail": { _, loop in loop.makeFailedFuture(CancellationError()) },
    ]

    static func withServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        try await AdminHTTPBodyLimitTests.withServer(routes: routes, body)
    }

    static func get(_ port: Int, _ request: String) async -> String {
        await AdminHTTPBodyLimitTests.onThread {
            AdminHTTPBodyLimitTests.exchange(port: port, request: request, body: []).received
        }
    }

    @Test func templatesDecodeTheirSegmentsAndTheQuery() async throws {
        try await Self.withServer { port in
            let text = await Self.get(port, "GET /api/things/a%20b?q=%E6%8A%95%E8%AF%89 HTTP/1.1\r\nHost: t\r\n"
                + "Cookie: theme=dark; hotline_session=abc123\r\nConnection: close\r\n\r\n")
            #expect(text.hasPrefix("HTTP/1.1 200 OK"), "\(text)")
            #expect(text.contains(#"{"id":"a b","q":"投诉","loopback":true,"cookie":"abc123"}"#), "\(text)")
            #expect(text.contains("Content-Security-Policy: default-src 'self'; script-src 'self'"))
            #expect(text.contains("X-Content-Type-Options: nosniff"))
        }
    }

    @Test func otherMethodsOfAKnownPathAre405WithAllow() async throws {
        try await Self.withServer { port in
            let text = await Self.get(port, "DELETE /api/things/7 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(text.hasPrefix("HTTP/1.1 405"), "\(text)")
            #expect(text.contains("Allow: GET, PUT"), "\(text)")
            let put = await Self.get(port, "PUT /api/things/7 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(put.hasPrefix("HTTP/1.1 204"), "\(put)")
        }
    }

    @Test func unknownPathsAre404AndAFailedRouteIs500() async throws {
        try await Self.withServer { port in
            let missing = await Self.get(port, "GET /api/nothing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404"), "\(missing)")
            #expect(missing.contains("no such resource: /api/nothing"))
            #expect(missing.contains("Content-Security-Policy:"))
            let failed = await Self.get(port, "POST /api/fail HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(failed.hasPrefix("HTTP/1.1 500"), "\(failed)")
        }
    }

    @Test func aBusyPortIsAnErrorNotAHang() async throws {
        try await Self.withServer { port in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            await #expect(throws: (any Error).self) {
                _ = try await AdminWebServer.start(host: "127.0.0.1", port: port, group: group, routes: [:])
            }
            try await group.shutdownGracefully()
        }
    }
}
