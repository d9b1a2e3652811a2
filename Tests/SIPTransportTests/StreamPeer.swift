import NIOCore
import NIOPosix
import Synchronization

/// A wait that did not end in time.
struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out: \(what)" }
}

/// `future`'s value, or `TimedOut` after `limit`: every wait of these tests is on an event,
/// and bounded.
func bounded<T: Sendable>(_ future: EventLoopFuture<T>, within limit: TimeAmount, _ what: String) async throws -> T {
    let loop = future.eventLoop
    let promise = loop.makePromise(of: T.self)
    let timeout = loop.scheduleTask(in: limit) { promise.fail(TimedOut(what: what)) }
    future.whenComplete { result in
        timeout.cancel()
        promise.completeWith(result) // a second completion (after the timeout) is ignored
    }
    return try await promise.futureResult.get()
}

/// Collects what a connection reads; wakes whoever waits for enough of it. Event loop only.
final class PeerReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    struct Closed: Error, CustomStringConvertible {
        var received: [UInt8]
        var description: String { "connection closed after \(received.count) bytes: \(String(decoding: received, as: UTF8.self).prefix(300))" }
    }

    private(set) var received: [UInt8] = []
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
        for waiter in waiters { waiter.promise.fail(Closed(received: received)) }
        waiters = []
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func wait(until predicate: @escaping ([UInt8]) -> Bool, promise: EventLoopPromise<[UInt8]>) {
        if predicate(received) { return promise.succeed(received) }
        if isClosed { return promise.fail(Closed(received: received)) }
        waiters.append((predicate, promise))
    }
}

/// One end of a TCP connection in a test: writes, reads awaited until a condition, EOF awaited.
final class StreamPeer: Sendable {
    let channel: Channel
    /// Kept from the start: a closed channel no longer tells its addresses (nil if the
    /// server closed it before the connect completed).
    let localAddress: SocketAddress?
    private let reader: NIOLoopBound<PeerReader>

    /// Adds the reader to a channel whose pipeline is being set up (call on its event loop).
    static func addReader(to channel: Channel) throws -> NIOLoopBound<PeerReader> {
        let reader = PeerReader()
        try channel.pipeline.syncOperations.addHandler(reader)
        return NIOLoopBound(reader, eventLoop: channel.eventLoop)
    }

    /// A connected (or accepted) channel and its reader.
    init(channel: Channel, reader: NIOLoopBound<PeerReader>) {
        self.channel = channel
        self.localAddress = channel.localAddress
        self.reader = reader
    }

    static func connect(to address: SocketAddress, group: EventLoopGroup) async throws -> StreamPeer {
        let reader = Mutex<NIOLoopBound<PeerReader>?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let added = try StreamPeer.addReader(to: channel)
                    reader.withLock { $0 = added }
                }
            }
            .connect(to: address).get()
        guard let added = reader.withLock({ $0 }) else { throw TimedOut(what: "the connection's pipeline") }
        return StreamPeer(channel: channel, reader: added)
    }

    func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Everything read so far once `predicate` holds for it; fails if the connection closes first.
    func read(until predicate: @escaping @Sendable ([UInt8]) -> Bool, within limit: TimeAmount = .seconds(10)) async throws -> [UInt8] {
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        channel.eventLoop.execute { [reader] in reader.value.wait(until: predicate, promise: promise) }
        return try await bounded(promise.futureResult, within: limit, "reading")
    }

    /// Reads until `text` has arrived (counting from the connection's first byte).
    func read(containing text: String, within limit: TimeAmount = .seconds(10)) async throws -> String {
        let needle = Array(text.utf8)
        let bytes = try await read(until: { $0.firstRange(of: needle) != nil }, within: limit)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits for the other side to close the connection.
    func awaitClosed(within limit: TimeAmount) async throws {
        try await bounded(channel.closeFuture, within: limit, "the peer closing the connection")
    }

    /// What has been read so far.
    func received() async throws -> [UInt8] {
        try await channel.eventLoop.submit { [reader] in reader.value.received }.get()
    }

    func close() async { try? await channel.close() }
}
