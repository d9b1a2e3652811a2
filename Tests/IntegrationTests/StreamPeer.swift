import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

// A TCP or TLS client for hand-written SIP (a 100 KB INVITE, a slow-loris header, OPTIONS over
// mutual TLS) that SIPp will not send. Every wait ends on an event (bytes read, the
// connection closing) and is bounded. (SIPTransportTests has its own copy without TLS: test
// targets share no code.)

/// A wait that did not end in time.
struct StreamTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out: \(what)" }
}

/// `future`'s value, or `StreamTimedOut` after `limit`.
func bounded<T: Sendable>(_ future: EventLoopFuture<T>, within limit: TimeAmount, _ what: String) async throws -> T {
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
/// each cut by its Content-Length.
func sipMessages(in bytes: [UInt8]) -> [String] {
    var messages: [String] = []
    var i = 0
    let end: [UInt8] = [13, 10, 13, 10]
    while i < bytes.count {
        while i < bytes.count, bytes[i] == 13 || bytes[i] == 10 { i += 1 }
        guard i < bytes.count, let headerEnd = bytes[i...].firstRange(of: end)?.upperBound else { break }
        let header = String(decoding: bytes[i..<headerEnd], as: UTF8.self)
        let length = header.sipHeader("Content-Length").flatMap { Int($0) } ?? header.sipHeader("l").flatMap { Int($0) } ?? 0
        guard headerEnd + length <= bytes.count else { break }
        messages.append(String(decoding: bytes[i..<(headerEnd + length)], as: UTF8.self))
        i = headerEnd + length
    }
    return messages
}

/// Collects what a connection reads; wakes whoever waits for enough of it. Event loop only.
final class PeerReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    struct Closed: Error, CustomStringConvertible {
        var received: [UInt8]
        var error: String?
        var description: String {
            "connection closed\(error.map { " (\($0))" } ?? "") after \(received.count) bytes: \(String(decoding: received, as: UTF8.self).prefix(300))"
        }
    }

    private(set) var received: [UInt8] = []
    private(set) var error: Error?
    private var waiters: [(predicate: ([UInt8]) -> Bool, promise: EventLoopPromise<[UInt8]>)] = []
    private var isClosed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytesView
        waiters.removeAll { waiter in
            guard waiter.predicate(received) else { return false }
            waiter.promise.succeed(received)
            return true
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        for waiter in waiters { waiter.promise.fail(Closed(received: received, error: error.map { "\($0)" })) }
        waiters = []
        context.fireChannelInactive()
    }

    /// A TLS failure (a refused handshake, the server's alert) ends the connection.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if self.error == nil { self.error = error }
        context.close(promise: nil)
    }

    func wait(until predicate: @escaping ([UInt8]) -> Bool, promise: EventLoopPromise<[UInt8]>) {
        if predicate(received) { return promise.succeed(received) }
        if isClosed { return promise.fail(Closed(received: received, error: error.map { "\($0)" })) }
        waiters.append((predicate, promise))
    }
}

/// One client connection, TCP or TLS.
final class StreamPeer: Sendable {
    let channel: Channel
    /// Our end's port, kept from the start: a closed channel no longer tells it (0 if the
    /// server closed it before the connect completed).
    let localPort: Int
    private let reader: NIOLoopBound<PeerReader>

    private init(channel: Channel, reader: NIOLoopBound<PeerReader>) {
        self.channel = channel
        self.localPort = channel.localAddress?.port ?? 0
        self.reader = reader
    }

    static func connect(host: String = "127.0.0.1", port: Int, group: EventLoopGroup, tls: NIOSSLContext? = nil) async throws -> StreamPeer {
        let reader = Mutex<NIOLoopBound<PeerReader>?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No SNI: the server is named by its IP address, checked against the
                    // certificate's IP subjectAltName.
                    if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    let added = PeerReader()
                    try channel.pipeline.syncOperations.addHandler(added)
                    reader.withLock { $0 = NIOLoopBound(added, eventLoop: channel.eventLoop) }
                }
            }
            .connect(host: host, port: port).get()
        guard let added = reader.withLock({ $0 }) else { throw StreamTimedOut(what: "the connection's pipeline") }
        return StreamPeer(channel: channel, reader: added)
    }

    func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Everything read so far once `predicate` holds for it; fails if the connection closes first.
    func read(until predicate: @escaping @Sendable ([UInt8]) -> Bool, within limit: TimeAmount) async throws -> [UInt8] {
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        channel.eventLoop.execute { [reader] in reader.value.wait(until: predicate, promise: promise) }
        return try await bounded(promise.futureResult, within: limit, "reading")
    }

    /// The first complete message read whose start line begins with `prefix`.
    func message(startingWith prefix: String, within limit: TimeAmount = .seconds(10)) async throws -> String {
        let bytes = try await read(until: { sipMessages(in: $0).contains { $0.hasPrefix(prefix) } }, within: limit)
        return sipMessages(in: bytes).first { $0.hasPrefix(prefix) }!
    }

    /// Every complete message read so far.
    func messages() async throws -> [String] {
        sipMessages(in: try await channel.eventLoop.submit { [reader] in reader.value.received }.get())
    }

    /// Waits for the server to close the connection; returns the error that ended it, if any.
    @discardableResult
    func awaitClosed(within limit: TimeAmount) async throws -> String? {
        try await bounded(channel.closeFuture, within: limit, "the server closing the connection")
        return try await channel.eventLoop.submit { [reader] in reader.value.error.map { "\($0)" } }.get()
    }

    func close() async { try? await channel.close() }
}
