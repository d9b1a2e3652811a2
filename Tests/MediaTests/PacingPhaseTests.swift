import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SDP
import Testing
@testable import Media
@testable import RTP

/// The pacing tick serves one of the phases every 2.5 ms: sessions spread over the phases,
/// and each still sends a whole, gapless stream (consecutive sequence numbers and timestamps).
@Suite(.serialized) struct PacingPhaseTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static let frames = PlayoutFrames(bytes: (0..<6).flatMap { Array(repeating: UInt8($0), count: 160) }, frameSize: 160)

    /// A receiving socket for the collector and an engine on `ports` (below the ephemeral
    /// ports, above the integration servers' 21000-30999).
    func setUp(_ collector: Collector, on loop: EventLoop, ports: ClosedRange<Int>) async throws
        -> (Channel, Int, NIOLoopBound<MediaEngine>)
    {
        let receiver = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let media = try await loop.submit {
            NIOLoopBound(MediaEngine(eventLoop: loop, host: "127.0.0.1", ports: ports), eventLoop: loop)
        }.get()
        return (receiver, receiver.localAddress!.port!, media)
    }

    func negotiated(to port: Int) -> NegotiatedMedia {
        NegotiatedMedia(codec: .pcmu, telephoneEventPayloadType: 101, remoteAddress: "127.0.0.1",
                        remotePort: UInt16(port), ptime: 20, direction: .sendrecv, mediaIndex: 0)
    }

    @Test func sessionsStartedTogetherSpreadOverThePhasesAndEachSendsAGaplessStream() async throws {
        let loop = group.next()
        let sessionCount = 40
        let expected = sessionCount * 6 * 2 // two prompts of six frames each
        let done = loop.makePromise(of: Void.self)
        let collector = Collector(expected: expected, done: done)
        let (receiver, port, media) = try await setUp(collector, on: loop, ports: 32600...32699)
        let allFinished = loop.makePromise(of: Void.self)
        let delegates = try await loop.submit { NIOLoopBound((0..<sessionCount).map { _ in RecordingDelegate() }, eventLoop: loop) }.get()
        // Phases of the first and the second prompt, per session.
        let phases = NIOLockedValueBox<[Int: (Int, Int?)]>([:])
        let sizes = try await loop.flatSubmit { () -> EventLoopFuture<[Int]> in
            let allOpened = loop.makePromise(of: [Int].self)
            var sessions: [RTPSession] = []
            var finishedCount = 0
            for (index, delegate) in delegates.value.enumerated() {
                delegate.onFinished = {
                    let session = media.value.sessionsForTesting.first { $0.delegate === delegate }!
                    if delegate.finished.count == 1 {
                        // The next prompt follows at once: it keeps the phase, so the 20 ms
                        // spacing holds across prompts.
                        session.play([Self.frames], id: 2)
                        phases.withLockedValue { $0[index]!.1 = session.phase }
                    } else {
                        finishedCount += 1
                        if finishedCount == sessionCount { allFinished.succeed() }
                    }
                }
                media.value.openSession(negotiated: self.negotiated(to: port), delegate: delegate) { result in
                    guard case .success(let session) = result else { return allOpened.fail(MediaEngine.MediaError.noFreePort(0...0)) }
                    sessions.append(session)
                    guard sessions.count == sessionCount else { return }
                    // All answered in the same instant: a burst that must not land in one phase.
                    for session in sessions {
                        session.play([Self.frames], id: 1)
                        phases.withLockedValue { $0[delegates.value.firstIndex { $0 === session.delegate }!] = (session.phase!, nil) }
                    }
                    allOpened.succeed(media.value.phaseSizes)
                }
            }
            return allOpened.futureResult
        }.get()
        #expect(sizes.count == MediaEngine.phaseCount)
        #expect(sizes.reduce(0, +) == sessionCount)
        #expect(sizes.max()! - sizes.min()! <= MediaEngine.phaseSlack + 1, "\(sizes)")
        try await allFinished.futureResult.get()
        try await done.futureResult.get()
        for (index, pair) in phases.withLockedValue({ $0 }) {
            #expect(pair.1 == pair.0, "session \(index) changed phase between prompts")
        }
        // Per SSRC: every packet, in order, one frame apart.
        let packets = try collector.packets.withLockedValue { $0 }.map { buffer in (try RTPPacketLayout(parsing: buffer), buffer) }
        let streams = Dictionary(grouping: packets, by: { $0.0.header.ssrc })
        #expect(streams.count == sessionCount)
        for (ssrc, stream) in streams {
            #expect(stream.count == 12, "ssrc \(ssrc)")
            for (i, (layout, buffer)) in stream.enumerated() {
                #expect(layout.header.sequenceNumber == stream[0].0.header.sequenceNumber &+ UInt16(i))
                if i > 0 {
                    // One frame apart on an idle machine. A loop that ran late skips the ticks it
                    // missed (RTPSession.tick: the RTP clock follows real time, RFC 3550 §5.1), so
                    // under load a step may be several whole frames, never part of one: every
                    // packet stays on its session's 20 ms grid. No packet is missing (the sequence
                    // numbers above) and the frames come in order (the payloads below).
                    let step = layout.header.timestamp &- stream[i - 1].0.header.timestamp
                    #expect(step >= 160 && step % 160 == 0, "ssrc \(ssrc) packet \(i): step \(step), not whole frames")
                }
                #expect(Array(buffer: layout.payload(in: buffer)).first == UInt8(i % 6))
            }
        }
        let after = try await loop.submit { (media.value.playingSessions, media.value.phaseSizes) }.get()
        #expect(after.0 == 0)
        #expect(after.1 == Array(repeating: 0, count: MediaEngine.phaseCount))
        try await receiver.close()
        try await group.shutdownGracefully()
    }

    @Test func aBlockedLoopResumesThePromptWithoutATalkspurtBreak() async throws {
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        let collector = Collector(expected: 10, done: done)
        let (receiver, port, media) = try await setUp(collector, on: loop, ports: 32700...32719)
        let delegate = try await loop.submit { NIOLoopBound(RecordingDelegate(), eventLoop: loop) }.get()
        let frames = PlayoutFrames(bytes: (0..<10).flatMap { Array(repeating: UInt8($0), count: 160) }, frameSize: 160)
        let threeSent = loop.makePromise(of: Void.self)
        try await loop.flatSubmit { () -> EventLoopFuture<Void> in
            let opened = loop.makePromise(of: Void.self)
            media.value.openSession(negotiated: self.negotiated(to: port), delegate: delegate.value) { result in
                guard case .success(let session) = result else { return opened.fail(MediaEngine.MediaError.noFreePort(0...0)) }
                session.play([frames], id: 1)
                opened.succeed()
            }
            return opened.futureResult
        }.get()
        // Once three frames are out, hold the loop for 100 ms: more than the 60 ms after
        // which the pacer resynchronises instead of catching up.
        Task {
            // Bounded: a pacer that never sends fails the test instead of hanging it.
            let deadline = ContinuousClock.now + .seconds(5)
            while collector.packets.withLockedValue({ $0.count }) < 3 {
                guard ContinuousClock.now < deadline else { return threeSent.fail(CancellationError()) }
                try await Task.sleep(for: .milliseconds(2))
            }
            threeSent.succeed()
        }
        try await threeSent.futureResult.get()
        try await loop.submit { Thread.sleep(forTimeInterval: 0.1) }.get()
        try await done.futureResult.get()
        let packets = try collector.packets.withLockedValue { $0 }.map { try RTPPacketLayout(parsing: $0) }
        #expect(packets.count == 10)
        for (i, packet) in packets.enumerated() {
            #expect(packet.header.timestamp == packets[0].header.timestamp &+ UInt32(160 * i), "frame \(i): no timestamp jump")
            #expect(packet.header.marker == (i == 0), "frame \(i): one talkspurt")
        }
        try await receiver.close()
        try await group.shutdownGracefully()
    }
}
