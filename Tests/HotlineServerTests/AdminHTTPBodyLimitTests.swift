import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import HotlineServer
#if canImport(Glibc)
import Glibc
#endif

/// The admin listener refuses an oversized body with exactly one 413, then closes cleanly.
@Suite struct AdminHTTPBodyLimitTests {
    /// A blocking TCP client on 127.0.0.1: sends `request` (then whatever `body` yields), half-
    /// closes, and returns everything the server sent until it closed. Every call is bounded by
    /// a 10 s socket timeout; a reset or timeout ends the exchange with what was read.
    static func exchange(port: Int, request: String, body: [[UInt8]]) -> (received: String, sendFailed: Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return ("connect failed: errno \(errno)", true) }
        func sendAll(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
        var sendFailed = !sendAll(Array(request.utf8))
        for piece in body where !sendFailed { sendFailed = !sendAll(piece) }
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return (String(decoding: received, as: UTF8.self), sendFailed)
    }

    /// A listener on a free loopback port serving `routes` (by default POST /upload, which
    /// says how many bytes it got) for the time of `body`.
    static func withServer(routes: [String: AdminRoute] = [
        "POST /upload": { request, loop in loop.makeSucceededFuture(AdminResponse(body: "got \(request.body?.readableBytes ?? 0)\n")) },
    ], _ body: @Sendable (Int) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await AdminWebServer.start(host: "127.0.0.1", port: 0, group: group, routes: routes)
        let port = try #require(server.localAddress?.port)
        do {
            try await body(port)
        } catch {
            try await server.close()
            try await group.shutdownGracefully()
            throw error
        }
        try await server.close()
        try await group.shutdownGracefully()
    }

    /// Runs the blocking client on a thread of its own: on Swift's cooperative pool it would
    /// hold one of the few threads the server's async handlers need.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    static func responses(in text: String) -> [String] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
    }

    @Test func aLargeChunkedBodyGetsOne413() async throws {
        try await Self.withServer { port in
            // 3 MiB in 48 chunks of 64 KiB, three times the limit.
            let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 65_536) + Array("\r\n".utf8)
            let pieces = Array(repeating: chunk, count: 48) + [Array("0\r\n\r\n".utf8)]
            let result = await Self.onThread {
                Self.exchange(port: port, request: "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", body: pieces)
            }
            #expect(Self.responses(in: result.received) == ["413"], "\(result.received.prefix(2000))")
            #expect(!result.sendFailed, "the server cut the connection before the body was drained")
        }
    }

    @Test func aDeclaredLengthOverTheLimitGetsOne413BeforeTheBody() async throws {
        try await Self.withServer { port in
            let length = 3 << 20
            let pieces = Array(repeating: [UInt8](repeating: UInt8(ascii: "y"), count: 65_536), count: length / 65_536)
            let result = await Self.onThread {
                Self.exchange(port: port, request: "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \(length)\r\n\r\n", body: pieces)
            }
            #expect(Self.responses(in: result.received) == ["413"], "\(result.received.prefix(2000))")
            #expect(result.received.contains("Connection: close"))
        }
    }

    @Test func aBodyWithinTheLimitIsServedAndTheConnectionKeptAlive() async throws {
        try await Self.withServer { port in
            let result = await Self.onThread {
                Self.exchange(port: port, request: "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                    + "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi", body: [])
            }
            #expect(Self.responses(in: result.received) == ["200", "200"])
            #expect(result.received.contains("got 5\n") && result.received.contains("got 2\n"))
        }
    }

    /// A client that never stops sending is cut off after the drain allowance, not read forever.
    @Test func anEndlessBodyIsCutOffAfterTheDrainAllowance() async throws {
        try await Self.withServer { port in
            let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "z"), count: 65_536) + Array("\r\n".utf8)
            // 32 MiB offered, well past the 1 MiB limit plus the 8 MiB drain.
            let pieces = Array(repeating: chunk, count: 512)
            let result = await Self.onThread {
                Self.exchange(port: port, request: "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", body: pieces)
            }
            #expect(result.sendFailed, "the server read 32 MiB of a refused body")
            #expect(Self.responses(in: result.received).count <= 1)
        }
    }
}
