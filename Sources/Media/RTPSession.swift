import Codecs
import NIOCore
import RTP
import SDP

/// Told about what arrives on a call's RTP socket. Called on the media event loop.
public protocol RTPSessionDelegate: AnyObject {
    /// A key, once per RFC 4733 event however many packets carry it.
    func rtpSession(_ session: RTPSession, receivedDigit key: DTMFKey)
    /// Every item of a `play` has been sent.
    func rtpSession(_ session: RTPSession, finishedPlayback id: UInt64)
}

/// Encoded audio ready to send: equal-size frames (160 bytes = 20 ms of G.711) stored back
/// to back, shared by every call that plays them.
public struct PlayoutFrames: Sendable {
    public let bytes: [UInt8]
    public let frameSize: Int
    public init(bytes: [UInt8], frameSize: Int) {
        self.bytes = bytes
        self.frameSize = frameSize
    }
    public var frameCount: Int { bytes.count / frameSize }
}

/// When a session listens for DTMF tones in the caller's audio.
public enum InbandDTMFMode: String, Sendable, CaseIterable {
    /// Only when no RFC 4733 telephone-event was negotiated (and not while bridged to an agent).
    case auto
    /// Always (for gateways that send both, at the risk of counting a key twice).
    case always
    case off
}

/// Counters of one session (and, summed, of the engine).
public struct RTPStatistics: Sendable, Equatable {
    public var packetsSent: UInt64 = 0
    /// Packets the socket buffer refused (the machine was overloaded).
    public var packetsDropped: UInt64 = 0
    public var packetsReceived: UInt64 = 0
    public var invalidPacketsReceived: UInt64 = 0
    /// SRTP packets refused: failed authentication, replayed, or not SRTP at all.
    public var srtpRejected: UInt64 = 0
    public var digitsReceived: UInt64 = 0
    public init() {}
}

/// One call's RTP stream: a bound UDP socket, the sender state, the DTMF detector, and the
/// current playlist. Loop-confined; the engine's tick drives sending.
public final class RTPSession {
    public let localPort: Int
    public weak var delegate: RTPSessionDelegate?
    /// The owner's identifier for this session (the engine's call number).
    public var ownerID: UInt64 = 0
    /// Where packets go: the SDP address until the caller's own packets arrive, then their
    /// source (symmetric RTP, so callers behind NAT hear us).
    public private(set) var remote: SocketAddress?
    /// `remote` as a `sockaddr`, converted once per change rather than per packet.
    private var preparedRemote: PreparedAddress?

    private func setRemote(_ address: SocketAddress) {
        remote = address
        preparedRemote = PreparedAddress(address)
    }
    public private(set) var stats = RTPStatistics()
    public private(set) var payloadType: RTPPayloadType
    public private(set) var isPlaying = false

    var channel: Channel?
    /// The socket's descriptor for sending (NIO owns and closes it); nil once closed.
    package var socket: RTPSocket?
    unowned let engine: MediaEngine
    /// The pacing phase this session sends in, or sent in last (a prompt that follows keeps
    /// it); and its position in that phase's list (for O(1) removal), nil when not playing.
    var phase: Int?
    var playingIndex: Int?

    // Bridging (RTPSession+Bridge.swift)
    weak var peer: RTPSession?
    var transcoder: AudioTranscoder?
    var lastRelayedTimestamp: UInt32?
    /// Event start timestamps received on this leg → the ones used on the other leg.
    var relayedEvents: [UInt32: UInt32] = [:]
    /// The newest RTP timestamp received on this leg, audio or event.
    var newestReceivedTimestamp: UInt32?
    /// While set, key events that began at or before this timestamp are not relayed: they began
    /// before the bridge (the menu key that chose the queue repeats its end packets after it).
    var relayEventsAfter: UInt32?
    private var relayBuffer: ByteBuffer
    public private(set) var encodingName: String
    public private(set) var clockRate: Int = 8000

    private var latched = false
    private var sends = true
    private var telephoneEventPayloadType: UInt8?
    private var samplesPerFrame: UInt32 = 160
    private var packetizer: RTPPacketizer
    private var detector = DTMFEventDetector()
    private var sendBuffer: ByteBuffer
    private var playlist: [PlayoutFrames] = []
    private var item = 0
    private var frame = 0
    private var playbackID: UInt64 = 0
    private var lastSentTick: UInt64?
    /// In-band DTMF (Q.23 tones in the audio): for callers whose gateway sends keys as
    /// sound, not RFC 4733 events. On when the call negotiated no telephone-event, or always.
    public var inbandDTMF: InbandDTMFMode = .auto
    private var toneDetector: GoertzelDTMFDetector?
    private var toneScratch: [Int16] = []
    /// The caller's audio, decoded to 8 kHz PCM while a recording runs.
    private var recording: [Int16]?
    private var recordingLimit = 0
    /// SRTP for this stream (SDES keys from the offer/answer); nil for plain RTP.
    private var srtp: SRTPStream?
    private var srtpKeys: SRTPKeys?
    /// Whether what this stream sends and receives is SRTP.
    public var isEncrypted: Bool { srtpKeys != nil }

    /// A session on `engine` (which paces it); `socket` is set by whoever binds it: the
    /// engine's `openSession`, or hotline-stages (Benchmarks/Stages), which drives the send
    /// path without an event loop.
    package init(engine: MediaEngine, localPort: Int, negotiated: NegotiatedMedia, allocator: ByteBufferAllocator) {
        self.engine = engine
        self.localPort = localPort
        var rng = SystemRandomNumberGenerator()
        // RFC 3550 §5.1: random initial SSRC, sequence number and timestamp.
        self.packetizer = RTPPacketizer(ssrc: .random(in: 1...UInt32.max, using: &rng),
                                        initialSequenceNumber: .random(in: 0...UInt16.max, using: &rng),
                                        initialTimestamp: .random(in: 0...UInt32.max, using: &rng))
        self.payloadType = RTPPayloadType(negotiated.codec.payloadType)
        self.encodingName = negotiated.codec.encodingName
        self.sendBuffer = allocator.buffer(capacity: 12 + 320)
        self.relayBuffer = allocator.buffer(capacity: 12 + 1500)
        update(negotiated)
    }

    /// Applies a (re-)negotiation: codec, remote address, direction, events.
    public func update(_ negotiated: NegotiatedMedia) {
        payloadType = RTPPayloadType(negotiated.codec.payloadType)
        encodingName = negotiated.codec.encodingName
        clockRate = Int(negotiated.codec.clockRate)
        telephoneEventPayloadType = negotiated.telephoneEventPayloadType
        samplesPerFrame = UInt32(negotiated.codec.clockRate / 50)
        sends = negotiated.direction.sends && negotiated.remoteAddress != "0.0.0.0"
        if negotiated.srtp != srtpKeys {
            srtpKeys = negotiated.srtp
            srtp = nil
            if let keys = negotiated.srtp {
                // Keys that cannot be installed must not fall back to plain RTP: send nothing.
                if let stream = try? SRTPStream(keys) { srtp = stream } else { sends = false }
            }
        }
        if let address = try? SocketAddress(ipAddress: negotiated.remoteAddress, port: Int(negotiated.remotePort)) {
            if !latched || remote != address { setRemote(address) }
        }
        // A new offer may move the stream: latch again on the next packet.
        latched = false
        detector.reset()
    }

    /// Plays `items` one after the other, replacing what was playing; the delegate hears
    /// `finishedPlayback(id)` when the last frame has left.
    public func play(_ items: [PlayoutFrames], id: UInt64) {
        playlist = items
        item = 0
        frame = 0
        playbackID = id
        isPlaying = true
        engine.startPlaying(self)
    }

    /// Stops the current playlist without a `finishedPlayback`.
    public func stopPlayback() {
        guard isPlaying else { return }
        isPlaying = false
        playlist = []
        engine.stopPlaying(self)
    }

    /// Sends the next frame. Returns false when the playlist is done: at once after its last
    /// frame, so a prompt that follows sends its first frame one period later, no gap.
    package func tick(_ tick: UInt64) -> Bool {
        skipPlayedItems()
        guard item < playlist.count else { return false }
        guard sends, let destination = preparedRemote, let socket else {
            frame += 1 // on hold: time passes, nothing is sent
            skipPlayedItems()
            return item < playlist.count
        }
        if let last = lastSentTick, tick > last + 1 {
            // RFC 3550 §5.1: the timestamp keeps counting through silence; the next packet
            // starts a talkspurt (marker).
            packetizer.skip(samples: UInt32(tick - last - 1) * samplesPerFrame)
        }
        let frames = playlist[item]
        let start = frame * frames.frameSize
        sendBuffer.clear()
        frames.bytes.withUnsafeBytes { all in
            let payload = UnsafeRawBufferPointer(rebasing: all[start..<(start + frames.frameSize)])
            packetizer.writePacket(payloadType: payloadType, samples: samplesPerFrame, payload: payload, into: &sendBuffer)
        }
        if Self.send(&sendBuffer, srtp: srtp, on: socket, to: destination) {
            stats.packetsSent += 1
        } else {
            stats.packetsDropped += 1
        }
        lastSentTick = tick
        frame += 1
        skipPlayedItems()
        return item < playlist.count
    }

    private func skipPlayedItems() {
        while item < playlist.count, frame >= playlist[item].frameCount {
            item += 1
            frame = 0
        }
    }

    /// Called by the engine when the playlist ran out during a tick.
    package func playlistFinished() {
        isPlaying = false
        playlist = []
        delegate?.rtpSession(self, finishedPlayback: playbackID)
    }

    // MARK: in-band DTMF

    private var listensForTones: Bool {
        switch inbandDTMF {
        case .off: false
        case .always: clockRate == 8000
        case .auto: clockRate == 8000 && telephoneEventPayloadType == nil && peer == nil
        }
    }

    private func detectTones(_ payload: ByteBuffer) {
        if toneDetector == nil {
            toneDetector = GoertzelDTMFDetector(sampleRate: 8000)
            toneScratch = [Int16](repeating: 0, count: 1600)
        }
        let aLaw = encodingName.uppercased() == "PCMA"
        let count = min(payload.readableBytes, toneScratch.count)
        payload.withUnsafeReadableBytes { bytes in
            for i in 0..<count { toneScratch[i] = aLaw ? G711.decodeALaw(bytes[i]) : G711.decodeMuLaw(bytes[i]) }
        }
        var found: [DTMFTone] = []
        toneScratch.withUnsafeBufferPointer { pcm in
            toneDetector!.process(UnsafeBufferPointer(rebasing: pcm[0..<count])) { found.append($0) }
        }
        for tone in found {
            guard let key = DTMFKey(character: tone.rawValue) else { continue }
            stats.digitsReceived += 1
            delegate?.rtpSession(self, receivedDigit: key)
        }
    }

    // MARK: relaying (for the bridge)

    var samplesPerFrameValue: Int { Int(samplesPerFrame) }
    var telephoneEventType: UInt8? { telephoneEventPayloadType }
    var currentTimestamp: UInt32 { packetizer.nextTimestamp }

    /// Sends one frame of relayed audio at once (not paced: it is paced by the other leg).
    func sendRelayed(_ payload: UnsafeRawBufferPointer, samples: UInt32) {
        guard sends, let destination = preparedRemote, let socket else { return }
        relayBuffer.clear()
        packetizer.writePacket(payloadType: payloadType, samples: samples, payload: payload, into: &relayBuffer)
        if Self.send(&relayBuffer, srtp: srtp, on: socket, to: destination) { stats.packetsSent += 1 } else { stats.packetsDropped += 1 }
    }

    /// Sends one RFC 4733 event packet with the given event start timestamp.
    func sendEvent(_ event: TelephoneEvent, payloadType pt: UInt8, timestamp: UInt32, marker: Bool) {
        guard sends, let destination = preparedRemote, let socket else { return }
        relayBuffer.clear()
        var header = packetizer.nextHeader(payloadType: RTPPayloadType(pt), samples: 0, marker: marker)
        header.timestamp = timestamp
        header.write(to: &relayBuffer)
        _ = event.write(to: &relayBuffer)
        if Self.send(&relayBuffer, srtp: srtp, on: socket, to: destination) { stats.packetsSent += 1 } else { stats.packetsDropped += 1 }
    }

    // MARK: recording

    /// Starts keeping the caller's audio (decoded G.711), at most `maxSamples` samples.
    public func startRecording(maxSamples: Int) {
        recording = []
        recording!.reserveCapacity(min(maxSamples, 8000 * 10))
        recordingLimit = maxSamples
    }

    /// Stops and returns what was recorded (nil if no recording ran).
    public func stopRecording() -> [Int16]? {
        defer { recording = nil }
        return recording
    }

    public var isRecording: Bool { recording != nil }

    private func record(_ payload: ByteBuffer) {
        guard var samples = recording else { return }
        recording = nil // keep the array uniquely referenced while appending
        let law: G711.Law = payloadType.rawValue == 8 ? .aLaw : .muLaw
        payload.withUnsafeReadableBytes { bytes in
            for byte in bytes.prefix(max(0, recordingLimit - samples.count)) {
                samples.append(law == .aLaw ? G711.decodeALaw(byte) : G711.decodeMuLaw(byte))
            }
        }
        recording = samples
    }

    /// Protects the packet when the stream is SRTP, then sends it.
    @inline(__always)
    private static func send(_ buffer: inout ByteBuffer, srtp: SRTPStream?, on socket: RTPSocket, to destination: PreparedAddress) -> Bool {
        if let srtp, !srtp.outbound.protect(&buffer) { return false }
        return socket.send(buffer, to: destination)
    }

    func received(_ buffer: ByteBuffer, from source: SocketAddress) {
        var buffer = buffer
        // SRTP is authenticated before anything else, the latch included: a forged packet
        // cannot move the stream or inject audio.
        if let srtp, !srtp.inbound.unprotect(&buffer) {
            stats.srtpRejected += 1
            return
        }
        guard let layout = try? RTPPacketLayout(parsing: buffer) else {
            stats.invalidPacketsReceived += 1
            return
        }
        stats.packetsReceived += 1
        if !latched {
            latched = true
            if remote != source { setRemote(source) }
        }
        if recording != nil, layout.header.payloadType == payloadType {
            record(layout.payload(in: buffer))
        }
        if layout.header.payloadType == payloadType, listensForTones {
            detectTones(layout.payload(in: buffer))
        }
        defer { noteReceived(timestamp: layout.header.timestamp) }
        if peer != nil {
            if layout.header.payloadType == payloadType {
                relayAudio(layout.payload(in: buffer), timestamp: layout.header.timestamp)
            } else if let pt = telephoneEventPayloadType, layout.header.payloadType.rawValue == pt {
                relayEvent(layout.payload(in: buffer), timestamp: layout.header.timestamp, marker: layout.header.marker)
            }
        }
        if let pt = telephoneEventPayloadType, layout.header.payloadType.rawValue == pt {
            if let key = detector.receivedPacket(rtpTimestamp: layout.header.timestamp, marker: layout.header.marker,
                                                 payload: layout.payload(in: buffer)) {
                stats.digitsReceived += 1
                delegate?.rtpSession(self, receivedDigit: key)
            }
        }
    }
}

final class RTPSessionHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let session: RTPSession
    init(session: RTPSession) { self.session = session }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        session.received(envelope.data, from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP unreachable from a caller that hung up: keep the socket for the call's end.
    }
}
