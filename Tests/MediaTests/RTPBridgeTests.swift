import Codecs
import Foundation
import NIOCore
import NIOPosix
import SDP
import Testing
@testable import Media
@testable import RTP

/// Two call legs bridged on real loopback sockets: a caller on G.711 and an agent on Opus or
/// G.711, each leg's far end a collecting socket.
@Suite(.serialized) struct RTPBridgeTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    func leg(_ codec: RTPMap, event: UInt8?, to port: Int) -> NegotiatedMedia {
        NegotiatedMedia(codec: codec, telephoneEventPayloadType: event, remoteAddress: "127.0.0.1",
                        remotePort: UInt16(port), ptime: 20, direction: .sendrecv, mediaIndex: 0)
    }

    func collector(_ n: Int) async throws -> (Channel, Collector, EventLoopFuture<Void>) {
        let promise = group.next().makePromise(of: Void.self)
        let c = Collector(expected: n, done: promise)
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(c) } }
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, c, promise.futureResult)
    }

    /// Opens two sessions on one engine and bridges them; returns their local ports.
    func bridged(_ a: NegotiatedMedia, _ b: NegotiatedMedia, ports: ClosedRange<Int>) async throws -> (Int, Int) {
        let loop = group.next()
        return try await loop.flatSubmit { () -> EventLoopFuture<(Int, Int)> in
            let engine = MediaEngine(eventLoop: loop, host: "127.0.0.1", ports: ports)
            let delegate = RecordingDelegate()
            let promise = loop.makePromise(of: (Int, Int).self)
            engine.openSession(negotiated: a, delegate: delegate) { ra in
                engine.openSession(negotiated: b, delegate: delegate) { rb in
                    guard case .success(let sa) = ra, case .success(let sb) = rb else { return promise.fail(MediaEngine.MediaError.noFreePort(ports)) }
                    do {
                        try sa.bridge(to: sb)
                        // Keep the engine and delegate alive as long as the loop runs.
                        keepAlive.append((engine, delegate))
                        promise.succeed((sa.localPort, sb.localPort))
                    } catch { promise.fail(error) }
                }
            }
            return promise.futureResult
        }.get()
    }

    func send(_ channel: Channel, to port: Int, pt: UInt8, frames: [[UInt8]], samples: UInt32, ssrc: UInt32 = 9) async throws {
        var packetizer = RTPPacketizer(ssrc: ssrc, initialSequenceNumber: 100, initialTimestamp: 1000)
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        for frame in frames {
            var buffer = ByteBuffer()
            frame.withUnsafeBytes { _ = packetizer.writePacket(payloadType: RTPPayloadType(pt), samples: samples, payload: $0, into: &buffer) }
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: buffer))
        }
    }

    static func tone(_ hz: Double, rate: Double, count: Int, from start: Int = 0) -> [Int16] {
        (0..<count).map { Int16(8000 * sin(2 * Double.pi * hz * Double(start + $0) / rate)) }
    }

    static func zeroCrossings(_ s: [Int16]) -> Int { zip(s, s.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count }

    @Test func aG711CallerAndAnOpusAgentHearEachOther() async throws {
        let (toCaller, callerSide, callerGot) = try await collector(10)
        let (toAgent, agentSide, agentGot) = try await collector(10)
        let (callerPort, agentPort) = try await bridged(
            leg(.pcmu, event: 101, to: toCaller.localAddress!.port!),
            leg(RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2), event: 102, to: toAgent.localAddress!.port!),
            ports: 31400...31499)
        // The caller speaks a 440 Hz tone in µ-law; the agent must get Opus that decodes to it.
        let speech = Self.tone(440, rate: 8000, count: 160 * 12)
        let callerFrames = stride(from: 0, to: speech.count, by: 160).map { Array(speech[$0..<$0 + 160]).map(G711.encodeMuLaw) }
        try await send(toCaller, to: callerPort, pt: 0, frames: callerFrames, samples: 160)
        try await agentGot.get()
        let opusPackets = agentSide.packets.withLockedValue { $0 }
        let decoder = try OpusDecoder(sampleRate: 48000, channels: 1)
        var heard: [Int16] = []
        for packet in opusPackets.prefix(10) {
            let layout = try RTPPacketLayout(parsing: packet)
            #expect(layout.header.payloadType == RTPPayloadType(111))
            heard += try decoder.decode(Array(buffer: layout.payload(in: packet)))
        }
        // Skip the codec's start-up; 440 Hz at 48 kHz is 880 zero crossings a second.
        let steady = Array(heard.dropFirst(4800))
        let crossingsPerSecond = Double(Self.zeroCrossings(steady)) * 48000 / Double(max(1, steady.count))
        #expect(abs(crossingsPerSecond - 880) < 60, "\(crossingsPerSecond)")
        // The agent answers with Opus; the caller gets 20 ms µ-law frames.
        let encoder = try OpusEncoder(sampleRate: 48000, channels: 1)
        let agentSpeech = Self.tone(300, rate: 48000, count: 960 * 12)
        let agentFrames = try stride(from: 0, to: agentSpeech.count, by: 960).map { try encoder.encode(Array(agentSpeech[$0..<$0 + 960])) }
        try await send(toAgent, to: agentPort, pt: 111, frames: agentFrames, samples: 960)
        try await callerGot.get()
        let g711 = callerSide.packets.withLockedValue { $0 }
        for packet in g711.prefix(10) {
            let layout = try RTPPacketLayout(parsing: packet)
            #expect(layout.header.payloadType == RTPPayloadType(0))
            #expect(layout.payloadLength == 160)
        }
        try await toCaller.close()
        try await toAgent.close()
        try await group.shutdownGracefully()
    }

    @Test func sameCodecIsPassedThroughUntouchedAndKeysAreRelayed() async throws {
        let (toCaller, callerSide, _) = try await collector(.max) // receives nothing here
        let (toAgent, agentSide, agentGot) = try await collector(8)
        let (callerPort, _) = try await bridged(leg(.pcmu, event: 101, to: toCaller.localAddress!.port!),
                                                leg(.pcmu, event: 96, to: toAgent.localAddress!.port!), ports: 31500...31599)
        let frames = (0..<5).map { i in [UInt8](repeating: UInt8(0x10 + i), count: 160) }
        try await send(toCaller, to: callerPort, pt: 0, frames: frames, samples: 160)
        // Key 5: three packets of one event (start, update, end).
        var packetizer = RTPPacketizer(ssrc: 9, initialSequenceNumber: 200, initialTimestamp: 50_000)
        for (i, duration) in [UInt16(160), 320, 480].enumerated() {
            var buffer = ByteBuffer()
            let header = packetizer.nextHeader(payloadType: RTPPayloadType(101), samples: 0, marker: i == 0)
            header.write(to: &buffer)
            _ = TelephoneEvent(key: .five, isEnd: i == 2, duration: duration).write(to: &buffer)
            try await toCaller.writeAndFlush(AddressedEnvelope(remoteAddress: try SocketAddress(ipAddress: "127.0.0.1", port: callerPort), data: buffer))
        }
        try await agentGot.get()
        let packets = try agentSide.packets.withLockedValue { $0 }.map { ($0, try RTPPacketLayout(parsing: $0)) }
        let audio = packets.filter { $0.1.header.payloadType == RTPPayloadType(0) }
        #expect(audio.map { Array(buffer: $0.1.payload(in: $0.0)) } == frames, "payloads untouched")
        let events = packets.filter { $0.1.header.payloadType == RTPPayloadType(96) }
        #expect(events.count == 3, "relayed with the agent leg's payload type")
        #expect(Set(events.map(\.1.header.timestamp)).count == 1, "one event, one timestamp")
        let decoded = try events.map { try TelephoneEvent(decoding: $0.1.payload(in: $0.0)) }
        #expect(decoded.map(\.key) == [.five, .five, .five])
        #expect(decoded.last?.isEnd == true)
        callerSide.done.succeed()
        try await toCaller.close()
        try await toAgent.close()
        try await group.shutdownGracefully()
    }

    /// A packet as a caller's phone sends it, with an explicit timestamp.
    static func packet(pt: UInt8, seq: UInt16, timestamp: UInt32, marker: Bool = false, event: TelephoneEvent? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        _ = RTPHeader(marker: marker, payloadType: RTPPayloadType(pt), sequenceNumber: seq, timestamp: timestamp, ssrc: 9).write(to: &buffer)
        if let event { _ = event.write(to: &buffer) } else { buffer.writeBytes([UInt8](repeating: 0xFF, count: 160)) }
        return buffer
    }

    /// Linphone as caller: the menu key that queued the caller ends with its end packet three
    /// times (RFC 4733 §2.5.1.4), and the last ones can land after the agent's leg is bridged.
    /// The agent must hear only keys pressed after the bridge.
    @Test func aKeyPressedBeforeTheBridgeIsNotRelayedToTheAgent() async throws {
        let (toCaller, callerSide, _) = try await collector(.max)
        // The agent gets one audio frame and the four packets of the key pressed after the bridge.
        let (toAgent, agentSide, agentGot) = try await collector(5)
        let loop = group.next()
        let from = try SocketAddress(ipAddress: "127.0.0.1", port: toCaller.localAddress!.port!)
        let callerLeg = leg(.pcmu, event: 101, to: toCaller.localAddress!.port!)
        let agentLeg = leg(.pcmu, event: 96, to: toAgent.localAddress!.port!)
        try await loop.flatSubmit { () -> EventLoopFuture<Void> in
            let engine = MediaEngine(eventLoop: loop, host: "127.0.0.1", ports: 32720...32739)
            let delegate = RecordingDelegate()
            let promise = loop.makePromise(of: Void.self)
            engine.openSession(negotiated: callerLeg, delegate: delegate) { ra in
                engine.openSession(negotiated: agentLeg, delegate: delegate) { rb in
                    guard case .success(let caller) = ra, case .success(let agent) = rb else {
                        return promise.fail(MediaEngine.MediaError.noFreePort(32720...32739))
                    }
                    keepAlive.append((engine, delegate))
                    func event(_ key: DTMFKey, seq: UInt16, at timestamp: UInt32, start: Bool = false, end: Bool = false,
                               duration: UInt16) -> ByteBuffer {
                        Self.packet(pt: 101, seq: seq, timestamp: timestamp, marker: start,
                                    event: TelephoneEvent(key: key, isEnd: end, duration: duration))
                    }
                    // Before the bridge: audio, then key 3 (start and end) in the IVR menu.
                    caller.received(Self.packet(pt: 0, seq: 1, timestamp: 1000), from: from)
                    caller.received(event(.three, seq: 2, at: 1160, start: true, duration: 160), from: from)
                    caller.received(event(.three, seq: 3, at: 1160, end: true, duration: 800), from: from)
                    do { try caller.bridge(to: agent) } catch { return promise.fail(error) }
                    // After it: key 3's repeated end packets, audio, then key 5 pressed while talking.
                    caller.received(event(.three, seq: 4, at: 1160, end: true, duration: 800), from: from)
                    caller.received(event(.three, seq: 5, at: 1160, end: true, duration: 800), from: from)
                    caller.received(Self.packet(pt: 0, seq: 6, timestamp: 2000), from: from)
                    for (i, duration) in [UInt16(160), 320, 480, 480].enumerated() {
                        caller.received(event(.five, seq: UInt16(7 + i), at: 2160, start: i == 0, end: i >= 2, duration: duration), from: from)
                    }
                    promise.succeed(())
                }
            }
            return promise.futureResult
        }.get()
        try await agentGot.get()
        let packets = try agentSide.packets.withLockedValue { $0 }.map { ($0, try RTPPacketLayout(parsing: $0)) }
        let events = try packets.filter { $0.1.header.payloadType == RTPPayloadType(96) }
            .map { try TelephoneEvent(decoding: $0.1.payload(in: $0.0)) }
        #expect(events.map(\.key) == [.five, .five, .five, .five], "only the key pressed after the bridge")
        #expect(packets.filter { $0.1.header.payloadType == RTPPayloadType(0) }.count == 1)
        callerSide.done.succeed()
        try await toCaller.close()
        try await toAgent.close()
        try await group.shutdownGracefully()
    }
}

/// Engines and delegates the bridged sessions need for the test's lifetime.
nonisolated(unsafe) var keepAlive: [(MediaEngine, RecordingDelegate)] = []
