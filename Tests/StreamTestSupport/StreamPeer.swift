// A TCP or TLS client end for the tests: hand-written SIP (a 100 KB INVITE, a slow-loris
// header, OPTIONS over mutual TLS) that SIPp will not send, and the peers of the stream
// transport's own tests. Every wait ends on an event (bytes read, the connection closing) and
// is bounded. Shared by SIPTransportTests and IntegrationTests.
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A wait that did not end in time.
public struct StreamTimedOut: Error, CustomStringConvertible {
    public var what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out: \(what)" }
}

/// `future`'s value, or `StreamTimedOut` after `limit`.
public func bounded<T: Sendable>(_ future: EventLoopFuture<T>, within limit: TimeAmount, _ what: String) async throws -> T {
    let loop = future.eventLoop
    let promise = loop.makePromise(of: T.self)
    let timeout = loop.scheduleTask(in: limit) { promise.fail(StreamTimedOut(what: what)) }
    future.whenComplete { result in
        timeout.cancel()
        promise.completeWith(result) // a second completion (after the timeout) is ignored
    }
    return try await promise.futureResult.get()
}

/// The complete SIP messages at the start of a byte stream (CRLFs between them skipped),
/// each cut by its Content-Length (or compact `l`).
public func sipMessages(in bytes: [UInt8]) -> [String] {
    var messages: [String] = []
    var i = 0
    let end: [UInt8] = [13, 10, 13, 10]
    while i < bytes.count {
        while i < bytes.count, bytes[i] == 13 || bytes[i] == 10 { i += 1 }
        guard i < bytes.count, let headerEnd = bytes[i...].firstRange(of: end)?.upperBound else { break }
        let header = String(decoding: bytes[i..<headerEnd], as: UTF8.self)
        guard headerEnd + contentLength(header) <= bytes.count else { break }
        messages.append(String(decoding: bytes[i..<(headerEnd + contentLength(header))], as: UTF8.self))
        i = headerEnd + contentLength(header)
    }
    return messages
}

private func contentLength(_ header: String) -> Int {
    for line in header.split(separator: "\r\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        if name == "content-length" || name == "l" {
            return Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)) ?? 0
        }
    }
    return 0
}

/// Collects what a connection reads; wakes whoever waits for enough of it. Event loop only.
public final class PeerReader: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer

    public struct Closed: Error, CustomStringConvertible {
        public var received: [UInt8]
        public var error: String?
        public var description: String {
            "connection closed\(error.map { " (\($0))" } ?? "") after \(received.count) bytes: \(String(decoding: received, as: UTF8.self).prefix(300))"
        }
    }

    public private(set) var received: [UInt8] = []
    public private(set) var error: Error?
    private var waiters: [(predicate: ([UInt8]) -> Bool, promise: EventLoopPromise<[UInt8]>)] = []
    private var isClosed = false

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytesView
        waiters.removeAll { waiter in
            guard waiter.predicate(received) else { return false }
            waiter.promise.succeed(received)
            return true
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        for waiter in waiters { waiter.promise.fail(Closed(received: received, error: error.map { "\($0)" })) }
        waiters = []
        context.fireChannelInactive()
    }

    /// A TLS failure (a refused handshake, the server's alert) ends the connection.
    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        if self.error == nil { self.error = error }
        context.close(promise: nil)
    }

    func wait(until predicate: @escaping ([UInt8]) -> Bool, promise: EventLoopPromise<[UInt8]>) {
        if predicate(received) { return promise.succeed(received) }
        if isClosed { return promise.fail(Closed(received: received, error: error.map { "\($0)" })) }
        waiters.append((predicate, promise))
    }
}

/// One end of a TCP or TLS connection in a test: writes, reads awaited until a condition, the
/// close awaited.
public final class StreamPeer: Sendable {
    public let channel: Channel
    /// Kept from the start: a closed channel no longer tells its addresses (nil, and port 0,
    /// if the server closed it before the connect completed).
    public let localAddress: SocketAddress?
    public var localPort: Int { localAddress?.port ?? 0 }
    private let reader: NIOLoopBound<PeerReader>

    /// Adds the reader to a channel whose pipeline is being set up (call on its event loop).
    public static func addReader(to channel: Channel) throws -> NIOLoopBound<PeerReader> {
        let reader = PeerReader()
        try channel.pipeline.syncOperations.addHandler(reader)
        return NIOLoopBound(reader, eventLoop: channel.eventLoop)
    }

    /// A connected (or accepted) channel and its reader.
    public init(channel: Channel, reader: NIOLoopBound<PeerReader>) {
        self.channel = channel
        self.localAddress = channel.localAddress
        self.reader = reader
    }

    public static func connect(host: String = "127.0.0.1", port: Int, group: EventLoopGroup, tls: NIOSSLContext? = nil) async throws -> StreamPeer {
        try await connect(to: try SocketAddress(ipAddress: host, port: port), group: group, tls: tls)
    }

    public static func connect(to address: SocketAddress, group: EventLoopGroup, tls: NIOSSLContext? = nil) async throws -> StreamPeer {
        let reader = Mutex<NIOLoopBound<PeerReader>?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No SNI: the server is named by its IP address, checked against the
                    // certificate's IP subjectAltName.
                    if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    let added = try StreamPeer.addReader(to: channel)
                    reader.withLock { $0 = added }
                }
            }
            .connect(to: address).get()
        guard let added = reader.withLock({ $0 }) else { throw StreamTimedOut(what: "the connection's pipeline") }
        return StreamPeer(channel: channel, reader: added)
    }

    public func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    public func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Everything read so far once `predicate` holds for it; fails if the connection closes first.
    public func read(until predicate: @escaping @Sendable ([UInt8]) -> Bool, within limit: TimeAmount = .seconds(10)) async throws -> [UInt8] {
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        channel.eventLoop.execute { [reader] in reader.value.wait(until: predicate, promise: promise) }
        return try await bounded(promise.futureResult, within: limit, "reading")
    }

    /// Reads until `text` has arrived (counting from the connection's first byte).
    public func read(containing text: String, within limit: TimeAmount = .seconds(10)) async throws -> String {
        let needle = Array(text.utf8)
        let bytes = try await read(until: { $0.firstRange(of: needle) != nil }, within: limit)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first complete message read whose start line begins with `prefix`.
    public func message(startingWith prefix: String, within limit: TimeAmount = .seconds(10)) async throws -> String {
        let bytes = try await read(until: { sipMessages(in: $0).contains { $0.hasPrefix(prefix) } }, within: limit)
        return sipMessages(in: bytes).first { $0.hasPrefix(prefix) }!
    }

    /// Every complete message read so far.
    public func messages() async throws -> [String] { sipMessages(in: try await received()) }

    /// What has been read so far.
    public func received() async throws -> [UInt8] {
        try await channel.eventLoop.submit { [reader] in reader.value.received }.get()
    }

    /// Waits for the other side to close the connection; returns the error that ended it, if any.
    @discardableResult
    public func awaitClosed(within limit: TimeAmount) async throws -> String? {
        try await bounded(channel.closeFuture, within: limit, "the peer closing the connection")
        return try await channel.eventLoop.submit { [reader] in reader.value.error.map { "\($0)" } }.get()
    }

    public func close() async { try? await channel.close() }
}
