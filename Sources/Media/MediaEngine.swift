import NIOCore
import NIOPosix
import SDP

/// Owns the RTP sockets of the calls on one event loop and paces their playout on a single
/// 20 ms tick (scheduled on absolute deadlines, so it does not drift): one timer for all
/// calls instead of one per call.
public final class MediaEngine {
    public let eventLoop: EventLoop
    public let host: String
    public private(set) var ports: RTPPortPool
    /// Totals of closed sessions; add the open ones' for a live figure.
    private var closedStats = RTPStatistics()
    private var sessions: [ObjectIdentifier: RTPSession] = [:]
    private var playing: [RTPSession] = []
    private var tickCount: UInt64 = 0
    private var nextDeadline: NIODeadline?
    private var tickTask: Scheduled<Void>?
    public private(set) var bindFailures: UInt64 = 0
    /// In-band DTMF detection for new sessions.
    public var inbandDTMF: InbandDTMFMode = .auto
    private let allocator = ByteBufferAllocator()
    public static let frameInterval = TimeAmount.milliseconds(20)

    public init(eventLoop: EventLoop, host: String, ports: ClosedRange<Int>) {
        self.eventLoop = eventLoop
        self.host = host
        self.ports = RTPPortPool(range: ports)
    }

    public var openSessions: Int { sessions.count }
    var sessionsForTesting: [RTPSession] { Array(sessions.values) }
    public var playingSessions: Int { playing.count }

    /// Counters over every session, open or closed.
    public var statistics: RTPStatistics {
        var total = closedStats
        for session in sessions.values {
            total.packetsSent += session.stats.packetsSent
            total.packetsDropped += session.stats.packetsDropped
            total.packetsReceived += session.stats.packetsReceived
            total.invalidPacketsReceived += session.stats.invalidPacketsReceived
            total.digitsReceived += session.stats.digitsReceived
        }
        return total
    }

    public enum MediaError: Error, CustomStringConvertible {
        case noFreePort(ClosedRange<Int>)
        public var description: String {
            switch self {
            case .noFreePort(let r): "no free RTP port in \(r.lowerBound)-\(r.upperBound)"
            }
        }
    }

    /// Binds a socket on a free even port and hands the session to `completion` on the
    /// engine's loop. Ports held by another process are skipped (and kept out of the pool).
    public func openSession(negotiated: NegotiatedMedia, delegate: RTPSessionDelegate,
                            completion: @escaping (Result<RTPSession, Error>) -> Void) {
        eventLoop.preconditionInEventLoop()
        bindNext(negotiated: negotiated, delegate: delegate, attemptsLeft: 8, completion: completion)
    }

    private func bindNext(negotiated: NegotiatedMedia, delegate: RTPSessionDelegate, attemptsLeft: Int,
                          completion: @escaping (Result<RTPSession, Error>) -> Void) {
        guard let port = ports.acquire() else {
            completion(.failure(MediaError.noFreePort(ports.range)))
            return
        }
        let socket: RTPSocket
        do {
            socket = try RTPSocket.bind(host: host, port: port)
        } catch {
            bindFailures += 1
            // The port stays out of the pool: something else holds it.
            guard attemptsLeft > 1, error.isAddressInUse else { return completion(.failure(error)) }
            return bindNext(negotiated: negotiated, delegate: delegate, attemptsLeft: attemptsLeft - 1, completion: completion)
        }
        let session = RTPSession(engine: self, localPort: port, negotiated: negotiated, allocator: allocator)
        session.delegate = delegate
        session.inbandDTMF = inbandDTMF
        session.socket = socket
        let bound = NIOLoopBound(session, eventLoop: eventLoop)
        DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RTPSessionHandler(session: bound.value))
                }
            }
            .withBoundSocket(socket.descriptor)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    session.channel = channel
                    self.sessions[ObjectIdentifier(session)] = session
                    completion(.success(session))
                case .failure(let error):
                    // Registration failed: NIO has closed the descriptor.
                    session.socket = nil
                    self.bindFailures += 1
                    completion(.failure(error))
                }
            }
    }

    /// Stops playout, closes the socket and returns the port.
    public func close(_ session: RTPSession) {
        session.stopPlayback()
        session.delegate = nil
        guard sessions.removeValue(forKey: ObjectIdentifier(session)) != nil else { return }
        closedStats.packetsSent += session.stats.packetsSent
        closedStats.packetsDropped += session.stats.packetsDropped
        closedStats.packetsReceived += session.stats.packetsReceived
        closedStats.invalidPacketsReceived += session.stats.invalidPacketsReceived
        closedStats.digitsReceived += session.stats.digitsReceived
        session.socket = nil // NIO closes the descriptor with the channel
        session.channel?.close(promise: nil)
        session.channel = nil
        ports.release(session.localPort)
    }

    // MARK: pacing

    func startPlaying(_ session: RTPSession) {
        if session.playingIndex == nil {
            session.playingIndex = playing.count
            playing.append(session)
        }
        armTick()
    }

    func stopPlaying(_ session: RTPSession) {
        guard let index = session.playingIndex else { return }
        let last = playing.removeLast()
        if index < playing.count {
            playing[index] = last
            last.playingIndex = index
        }
        session.playingIndex = nil
    }

    private func armTick() {
        guard tickTask == nil else { return }
        let now = NIODeadline.now()
        let deadline = max(nextDeadline ?? now, now)
        scheduleTick(at: deadline)
    }

    private func scheduleTick(at deadline: NIODeadline) {
        nextDeadline = deadline
        let engine = NIOLoopBound(self, eventLoop: eventLoop)
        tickTask = eventLoop.scheduleTask(deadline: deadline) { engine.value.runTick() }
    }

    private func runTick() {
        tickTask = nil
        tickCount += 1
        var finished: [RTPSession] = []
        var i = 0
        while i < playing.count {
            let session = playing[i]
            if session.tick(tickCount) {
                i += 1
            } else {
                stopPlaying(session) // swaps the last one into i
                finished.append(session)
            }
        }
        for session in finished { session.playlistFinished() }
        guard !playing.isEmpty, var next = nextDeadline else { return }
        next = next + MediaEngine.frameInterval
        let now = NIODeadline.now()
        if next < now - MediaEngine.frameInterval * 3 {
            // Far behind (the loop was blocked): resynchronise rather than burst.
            next = now
        }
        scheduleTick(at: next)
    }
}
