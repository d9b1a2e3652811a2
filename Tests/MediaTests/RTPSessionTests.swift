import Codecs
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SDP
import Testing
@testable import Media
@testable import RTP

/// Collects datagrams arriving on a loopback socket.
final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let packets = NIOLockedValueBox<[ByteBuffer]>([])
    let expected: Int
    let done: EventLoopPromise<Void>
    init(expected: Int, done: EventLoopPromise<Void>) {
        self.expected = expected
        self.done = done
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data).data
        let count = packets.withLockedValue { $0.append(buffer); return $0.count }
        if count == expected { done.succeed() }
    }
}

/// Records what the session tells its call.
final class RecordingDelegate: RTPSessionDelegate {
    var keys: [DTMFKey] = []
    var finished: [UInt64] = []
    var onKey: (() -> Void)?
    var onFinished: (() -> Void)?
    func rtpSession(_ session: RTPSession, receivedDigit key: DTMFKey) { keys.append(key); onKey?() }
    func rtpSession(_ session: RTPSession, finishedPlayback id: UInt64) { finished.append(id); onFinished?() }
}

@Suite(.serialized) struct RTPSessionTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var loop: EventLoop { group.next() }

    func bindCollector(expecting n: Int) async throws -> (Channel, Collector, EventLoopFuture<Void>) {
        let promise = loop.makePromise(of: Void.self)
        let collector = Collector(expected: n, done: promise)
        let channel = try await DatagramBootstrap(group: loop)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, collector, promise.futureResult)
    }

    func negotiated(to port: Int) -> NegotiatedMedia {
        NegotiatedMedia(codec: .pcmu, telephoneEventPayloadType: 101, remoteAddress: "127.0.0.1",
                        remotePort: UInt16(port), ptime: 20, direction: .sendrecv, mediaIndex: 0)
    }

    /// Ten frames whose bytes say which frame they are.
    static let frames = PlayoutFrames(bytes: (0..<10).flatMap { Array(repeating: UInt8($0), count: 160) }, frameSize: 160)

    @Test func playsFramesAsPacedConsecutiveRTPPacketsAndReportsTheEnd() async throws {
        let (receiver, collector, allArrived) = try await bindCollector(expecting: 10)
        let port = receiver.localAddress!.port!
        let loop = self.loop
        let (media, delegate) = try await loop.submit {
            (NIOLoopBound(MediaEngine(eventLoop: loop, host: "127.0.0.1", ports: 31000...31099), eventLoop: loop),
             NIOLoopBound(RecordingDelegate(), eventLoop: loop))
        }.get()
        let finished = loop.makePromise(of: Void.self)
        let start = NIODeadline.now()
        try await loop.flatSubmit { () -> EventLoopFuture<Void> in
            let promise = loop.makePromise(of: Void.self)
            delegate.value.onFinished = { finished.succeed() }
            media.value.openSession(negotiated: self.negotiated(to: port), delegate: delegate.value) { result in
                guard case .success(let session) = result else { return promise.fail(MediaEngine.MediaError.noFreePort(0...0)) }
                #expect(session.localPort % 2 == 0, "RTP on an even port")
                session.play([Self.frames], id: 7)
                promise.succeed()
            }
            return promise.futureResult
        }.get()
        try await allArrived.get()
        try await finished.futureResult.get()
        let elapsed = NIODeadline.now() - start
        let packets = collector.packets.withLockedValue { $0 }
        #expect(packets.count == 10)
        let layouts = try packets.map { try RTPPacketLayout(parsing: $0) }
        for (i, layout) in layouts.enumerated() {
            #expect(layout.header.payloadType == RTPPayloadType(0))
            #expect(layout.header.marker == (i == 0), "marker on the first packet of the talkspurt only")
            #expect(layout.header.ssrc == layouts[0].header.ssrc)
            #expect(layout.header.sequenceNumber == layouts[0].header.sequenceNumber &+ UInt16(i))
            #expect(layout.header.timestamp == layouts[0].header.timestamp &+ UInt32(160 * i))
            #expect(Array(buffer: layout.payload(in: packets[i])) == Array(repeating: UInt8(i), count: 160))
        }
        // Paced, not burst: ten 20 ms frames take at least 9 intervals.
        #expect(elapsed >= .milliseconds(170), "\(elapsed)")
        let recorded = try await loop.submit { delegate.value.finished }.get()
        #expect(recorded == [7])
        try await receiver.close()
        try await group.shutdownGracefully()
    }

    @Test func telephoneEventsGiveOneKeyAndLatchTheSender() async throws {
        // The first address only ever gets packets before the latch; its collector never fills.
        let (first, firstCollector, _) = try await bindCollector(expecting: .max)
        let (moved, movedCollector, movedArrived) = try await bindCollector(expecting: 3)
        let loop = self.loop
        let (media, delegate) = try await loop.submit {
            (NIOLoopBound(MediaEngine(eventLoop: loop, host: "127.0.0.1", ports: 31100...31199), eventLoop: loop),
             NIOLoopBound(RecordingDelegate(), eventLoop: loop))
        }.get()
        let gotKey = loop.makePromise(of: Void.self)
        let sessionPort = try await loop.flatSubmit { () -> EventLoopFuture<Int> in
            let promise = loop.makePromise(of: Int.self)
            delegate.value.onKey = { gotKey.succeed() }
            media.value.openSession(negotiated: self.negotiated(to: first.localAddress!.port!), delegate: delegate.value) { result in
                if case .success(let s) = result { promise.succeed(s.localPort) } else { promise.fail(MediaEngine.MediaError.noFreePort(0...0)) }
            }
            return promise.futureResult
        }.get()
        // Key 3 from the *moved* socket (a caller behind NAT): start, update, three end packets.
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: sessionPort)
        var packetizer = RTPPacketizer(ssrc: 42, initialSequenceNumber: 1, initialTimestamp: 8000)
        for (i, end) in [false, false, true, true, true].enumerated() {
            var buffer = ByteBuffer()
            let header = packetizer.nextHeader(payloadType: RTPPayloadType(101), samples: 0, marker: i == 0)
            header.write(to: &buffer)
            _ = TelephoneEvent(key: .three, isEnd: end, duration: UInt16(160 * (i + 1))).write(to: &buffer)
            try await moved.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: buffer))
        }
        try await gotKey.futureResult.get()
        // Now the session sends to where the packets came from.
        try await loop.submit {
            let session = media.value.sessionsForTesting.first!
            session.play([PlayoutFrames(bytes: Array(Self.frames.bytes.prefix(480)), frameSize: 160)], id: 1)
        }.get()
        try await movedArrived.get()
        #expect(movedCollector.packets.withLockedValue { $0.count } == 3)
        let keys = try await loop.submit { delegate.value.keys }.get()
        #expect(keys == [.three], "one key for five packets of one event")
        firstCollector.done.succeed()
        try await first.close()
        try await moved.close()
        try await group.shutdownGracefully()
    }

    @Test func recordsTheCallersAudioDecodedUpToTheLimit() async throws {
        let (sender, senderCollector, _) = try await bindCollector(expecting: .max)
        let loop = self.loop
        let (media, delegate) = try await loop.submit {
            (NIOLoopBound(MediaEngine(eventLoop: loop, host: "127.0.0.1", ports: 31200...31299), eventLoop: loop),
             NIOLoopBound(RecordingDelegate(), eventLoop: loop))
        }.get()
        let port = try await loop.flatSubmit { () -> EventLoopFuture<Int> in
            let promise = loop.makePromise(of: Int.self)
            media.value.openSession(negotiated: self.negotiated(to: sender.localAddress!.port!), delegate: delegate.value) { result in
                guard case .success(let s) = result else { return promise.fail(MediaEngine.MediaError.noFreePort(0...0)) }
                s.startRecording(maxSamples: 400)
                promise.succeed(s.localPort)
            }
            return promise.futureResult
        }.get()
        // Three 20 ms PCMU packets: 480 samples sent, the limit keeps 400.
        var packetizer = RTPPacketizer(ssrc: 7, initialSequenceNumber: 10, initialTimestamp: 0)
        let payload = (0..<160).map { UInt8(truncatingIfNeeded: $0 * 3) }
        for _ in 0..<3 {
            var buffer = ByteBuffer()
            payload.withUnsafeBytes { _ = packetizer.writePacket(payloadType: RTPPayloadType(0), samples: 160, payload: $0, into: &buffer) }
            try await sender.writeAndFlush(AddressedEnvelope(remoteAddress: try SocketAddress(ipAddress: "127.0.0.1", port: port), data: buffer))
        }
        // Wait (bounded) until the session has received them — its statistics say so — then stop.
        var recorded: [Int16]? = nil
        for _ in 0..<200 {
            let received = try await loop.submit { media.value.statistics.packetsReceived }.get()
            if received >= 3 {
                recorded = try await loop.submit { media.value.sessionsForTesting.first?.stopRecording() }.get()
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let samples = try #require(recorded)
        #expect(samples.count == 400)
        #expect(Array(samples.prefix(160)) == payload.map(G711.decodeMuLaw))
        senderCollector.done.succeed()
        try await sender.close()
        try await group.shutdownGracefully()
    }

    @Test func inBandTonesAreKeysWhenNoTelephoneEventWasNegotiated() async throws {
        let (sender, senderCollector, _) = try await bindCollector(expecting: .max)
        let loop = self.loop
        let (media, delegate) = try await loop.submit {
            (NIOLoopBound(MediaEngine(eventLoop: loop, host: "127.0.0.1", ports: 31300...31399), eventLoop: loop),
             NIOLoopBound(RecordingDelegate(), eventLoop: loop))
        }.get()
        let gotKeys = loop.makePromise(of: Void.self)
        var media0 = negotiated(to: sender.localAddress!.port!)
        media0.telephoneEventPayloadType = nil
        let noEvents = media0
        let port = try await loop.flatSubmit { () -> EventLoopFuture<Int> in
            let promise = loop.makePromise(of: Int.self)
            delegate.value.onKey = { if delegate.value.keys.count == 2 { gotKeys.succeed() } }
            media.value.openSession(negotiated: noEvents, delegate: delegate.value) { result in
                if case .success(let s) = result { promise.succeed(s.localPort) } else { promise.fail(MediaEngine.MediaError.noFreePort(0...0)) }
            }
            return promise.futureResult
        }.get()
        // "3" then "#" as Q.23 tones (100 ms each, 100 ms apart) in 20 ms µ-law packets.
        let audio = DTMFToneGenerator.samples(for: [.three, .pound]) + [Int16](repeating: 0, count: 800)
        var packetizer = RTPPacketizer(ssrc: 5, initialSequenceNumber: 1, initialTimestamp: 0)
        for start in stride(from: 0, to: audio.count - 159, by: 160) {
            var buffer = ByteBuffer()
            let frame = audio[start..<start + 160].map(G711.encodeMuLaw)
            frame.withUnsafeBytes { _ = packetizer.writePacket(payloadType: RTPPayloadType(0), samples: 160, payload: $0, into: &buffer) }
            try await sender.writeAndFlush(AddressedEnvelope(remoteAddress: try SocketAddress(ipAddress: "127.0.0.1", port: port), data: buffer))
        }
        try await gotKeys.futureResult.get()
        let keys = try await loop.submit { delegate.value.keys }.get()
        #expect(keys == [.three, .pound])
        senderCollector.done.succeed()
        try await sender.close()
        try await group.shutdownGracefully()
    }

    @Test func portPoolHandsOutEvenPortsAndReusesReleasedOnesLast() {
        var pool = RTPPortPool(range: 20001...20010)
        var taken: [Int] = []
        while let p = pool.acquire() { taken.append(p) }
        #expect(taken == [20002, 20004, 20006, 20008])
        pool.release(20004)
        pool.release(20002)
        pool.release(12)
        #expect(pool.acquire() == 20004)
        #expect(pool.acquire() == 20002)
        #expect(pool.acquire() == nil, "a port outside the range is never taken in")
    }
}
