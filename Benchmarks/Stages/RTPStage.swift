// The `rtp` stage: one call's outbound RTP through the real send path: a new RTPSession
// (random SSRC, sequence and timestamp), the prompts' frames from the PromptCache as
// CachedPrompts hands them out, and MediaEngine's pacing tick calling RTPSession.tick once
// per 20 ms frame: RTPPacketizer writes header and payload into the session's reused buffer
// and RTPSocket sends it with one sendto. 150 packets, as in the key-3 call: the menu prompt
// until the key (1.5 s, 75 frames, then stopPlayback), then bench_key3 (1.5 s, 75 frames)
// to its end. The sink socket on 127.0.0.1 is never read: once its buffer is full the kernel
// drops what arrives (sendto still succeeds). Timing and the engine's tick scheduling are not
// part of it: the stage calls tick directly, frame after frame.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs
import Media
import NIOCore
import NIOEmbedded
import RTP
import SDP

final class RTPStage: Stage, RTPSessionDelegate {
    /// MediaEngine needs a loop to arm its tick on; nothing ever runs it here.
    let loop = EmbeddedEventLoop()
    let engine: MediaEngine
    let cache: PromptCache
    let socket: RTPSocket
    let sink: RTPSocket
    let negotiated: NegotiatedMedia
    let allocator = ByteBufferAllocator()
    /// The engine's frame-period counter (what RTPSession.tick is given).
    var period: UInt64 = 0
    var packetsSent: UInt64 = 0
    var packetsDropped: UInt64 = 0
    var finishedPlaybacks = 0
    var unexpected = 0

    enum Failure: Error, CustomStringConvertible {
        case prompt(String)
        case socket(String)
        var description: String {
            switch self {
            case .prompt(let name): "prompt \(name) missing or not 150 frames in all"
            case .socket(let why): "socket: \(why)"
            }
        }
    }

    init(prompts root: String) throws {
        cache = try PromptCache(root: root)
        engine = MediaEngine(eventLoop: loop, host: "127.0.0.1", ports: 40_000...40_998)
        do {
            socket = try RTPSocket.bind(host: "127.0.0.1", port: 0)
            sink = try RTPSocket.bind(host: "127.0.0.1", port: 0)
        } catch {
            throw Failure.socket("\(error)")
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let sinkDescriptor = sink.descriptor
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sinkDescriptor, $0, &length) }
        }
        guard named == 0 else { throw Failure.socket("getsockname: \(errno)") }
        negotiated = NegotiatedMedia(codec: RTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000), telephoneEventPayloadType: 101,
                                     remoteAddress: "127.0.0.1", remotePort: UInt16(bigEndian: address.sin_port), ptime: 20,
                                     direction: .sendrecv, mediaIndex: 0)
        guard let menu = cache.prompt(named: "bench_menu", language: "en"), menu.frameCount > 75 else { throw Failure.prompt("bench_menu") }
        guard cache.prompt(named: "bench_key3", language: "en")?.frameCount == 75 else { throw Failure.prompt("bench_key3") }
    }

    /// CachedPrompts.frames: the prompt's encoded frames for PCMU, shared, not copied.
    private func frames(_ name: String) -> PlayoutFrames? {
        guard let prompt = cache.prompt(named: name, language: "en") else { return nil }
        return PlayoutFrames(bytes: prompt.payload(negotiated.codec.payloadType == 8 ? .aLaw : .muLaw), frameSize: 160)
    }

    @inline(never)
    func call(_ index: Int) {
        // MediaEngine.bindNext, less the bind and the NIO channel (one socket serves every call).
        let session = RTPSession(engine: engine, localPort: 40_000, negotiated: negotiated, allocator: allocator)
        session.delegate = self
        session.socket = socket
        // play p1 [en/bench_menu]; the key comes 1.5 s in: stopPlayback.
        guard let menu = frames("bench_menu") else { return }
        session.play([menu], id: 1)
        for _ in 0..<75 {
            period += 1
            _ = session.tick(period)
        }
        session.stopPlayback()
        // play p2 [en/bench_key3] to its end, then MediaEngine.runTick's end of a playlist.
        guard let key3 = frames("bench_key3") else { return }
        session.play([key3], id: 2)
        var playing = true
        while playing {
            period += 1
            playing = session.tick(period)
        }
        engine.stopPlaying(session)
        session.playlistFinished()
        packetsSent += session.stats.packetsSent
        packetsDropped += session.stats.packetsDropped
        session.socket = nil
    }

    func rtpSession(_ session: RTPSession, receivedDigit key: DTMFKey) { unexpected += 1 }
    func rtpSession(_ session: RTPSession, finishedPlayback id: UInt64) {
        if id == 2 { finishedPlaybacks += 1 } else { unexpected += 1 }
    }

    func verify(calls: Int) -> String? {
        guard packetsSent == 150 * UInt64(calls), packetsDropped == 0, finishedPlaybacks == calls, unexpected == 0,
              engine.playingSessions == 0 else {
            return "\(packetsSent) packets sent, \(packetsDropped) refused, \(finishedPlaybacks) playbacks finished for \(calls) calls"
        }
        return nil
    }

    func finish() {
        for descriptor in [socket.descriptor, sink.descriptor] {
            #if canImport(Glibc)
            _ = Glibc.close(descriptor)
            #elseif canImport(Darwin)
            _ = Darwin.close(descriptor)
            #endif
        }
    }
}
