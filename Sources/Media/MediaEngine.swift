import CoreMetrics
import NIOCore
import NIOPosix
import SDP
import Timers

/// Owns the RTP sockets of the calls on one event loop and paces their playout: one timer for
/// all calls instead of one per call, on absolute deadlines so it does not drift.
///
/// The 20 ms frame period is cut into ``phaseCount`` phases 2.5 ms apart, and each playing
/// session belongs to one: a tick sends the frames of one phase only. Sending every call's
/// frame at once held the loop for milliseconds (about 4 µs of kernel time per datagram, 700
/// calls a loop at 400 calls/s), so a SIP request arriving then waited, and so did the 200 OK
/// its ticket commit released; an eighth of the calls per tick cuts that wait to an eighth and
/// spreads the packets evenly on the wire. Each session still sends every 20 ms exactly.
public final class MediaEngine {
    public let eventLoop: EventLoop
    public let host: String
    public private(set) var ports: RTPPortPool
    /// Totals of closed sessions; add the open ones' for a live figure.
    private var closedStats = RTPStatistics()
    private var sessions: [ObjectIdentifier: RTPSession] = [:]
    /// Playing sessions by phase.
    private var playing: [[RTPSession]] = Array(repeating: [], count: MediaEngine.phaseCount)
    /// Ticks since the engine started, one per phase interval: `slot % phaseCount` is the
    /// phase it serves, `slot / phaseCount` the frame period (what RTP timestamps count).
    private var slot: UInt64 = 0
    /// The deadline of `slot`.
    private var nextDeadline: NIODeadline?
    private var tickTask: Scheduled<Void>?
    public private(set) var bindFailures: UInt64 = 0
    /// Where each pacing tick's lateness goes: how late it started after its deadline, what
    /// outbound RTP spacing loses to a busy loop or an unscheduled thread. The owner picks the
    /// metrics backend (the server's Prometheus registry); the default records nothing.
    public var tickLateness = CoreMetrics.Timer(label: "rtp_tick_lateness", dimensions: [], handler: NOOPMetricsHandler.instance)
    /// Where each tick's duration goes (every playing call's frame of the phase sent).
    public var tickDuration = CoreMetrics.Timer(label: "rtp_tick_duration", dimensions: [], handler: NOOPMetricsHandler.instance)
    /// In-band DTMF detection for new sessions.
    public var inbandDTMF: InbandDTMFMode = .auto
    private let allocator = ByteBufferAllocator()
    public static let frameInterval = TimeAmount.milliseconds(20)
    public static let phaseCount = 8
    static let phaseInterval = TimeAmount.nanoseconds(frameInterval.nanoseconds / Int64(phaseCount))
    /// A new session joins the soonest phase unless that one has this many more sessions than
    /// the emptiest (a burst of calls answered together would otherwise share one phase).
    static let phaseSlack = 8

    public init(eventLoop: EventLoop, host: String, ports: ClosedRange<Int>) {
        self.eventLoop = eventLoop
        self.host = host
        self.ports = RTPPortPool(range: ports)
    }

    public var openSessions: Int { sessions.count }
    var sessionsForTesting: [RTPSession] { Array(sessions.values) }
    public var playingSessions: Int { playing.reduce(0) { $0 + $1.count } }
    /// Sessions per phase, for tests.
    var phaseSizes: [Int] { playing.map(\.count) }

    /// Counters over every session, open or closed.
    public var statistics: RTPStatistics {
        var total = closedStats
        for session in sessions.values {
            total.packetsSent += session.stats.packetsSent
            total.packetsDropped += session.stats.packetsDropped
            total.packetsReceived += session.stats.packetsReceived
            total.invalidPacketsReceived += session.stats.invalidPacketsReceived
            total.srtpRejected += session.stats.srtpRejected
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
        closedStats.srtpRejected += session.stats.srtpRejected
        closedStats.digitsReceived += session.stats.digitsReceived
        session.socket = nil // NIO closes the descriptor with the channel
        session.channel?.close(promise: nil)
        session.channel = nil
        ports.release(session.localPort)
    }

    // MARK: pacing

    func startPlaying(_ session: RTPSession) {
        if session.playingIndex == nil {
            let phase = phase(for: session)
            session.phase = phase
            session.playingIndex = playing[phase].count
            playing[phase].append(session)
        }
        armTick()
    }

    package func stopPlaying(_ session: RTPSession) {
        guard let phase = session.phase, let index = session.playingIndex else { return }
        let last = playing[phase].removeLast()
        if index < playing[phase].count {
            playing[phase][index] = last
            last.playingIndex = index
        }
        session.playingIndex = nil
    }

    /// The phase the session played in before, so a prompt following another keeps the
    /// 20 ms spacing; for a first prompt, the soonest phase to tick (its first frame leaves
    /// within 2.5 ms); either unless crowded.
    private func phase(for session: RTPSession) -> Int {
        let emptiest = playing.map(\.count).min() ?? 0
        if let previous = session.phase, playing[previous].count <= emptiest + MediaEngine.phaseSlack { return previous }
        let first = nextDeadline == nil ? 0 : Int(slot % UInt64(MediaEngine.phaseCount))
        for offset in 0..<MediaEngine.phaseCount {
            let phase = (first + offset) % MediaEngine.phaseCount
            if playing[phase].count <= emptiest + MediaEngine.phaseSlack { return phase }
        }
        return first
    }

    private func armTick() {
        guard tickTask == nil else { return }
        let now = NIODeadline.now()
        if let next = nextDeadline, next < now {
            // Idle since `next`: count the slots that passed, so frame periods keep tracking time.
            let missed = (now - next).nanoseconds / MediaEngine.phaseInterval.nanoseconds
            slot &+= UInt64(missed)
            nextDeadline = next + MediaEngine.phaseInterval * missed
        }
        scheduleTick(at: max(nextDeadline ?? now, now))
    }

    private func scheduleTick(at deadline: NIODeadline) {
        nextDeadline = deadline
        let engine = NIOLoopBound(self, eventLoop: eventLoop)
        tickTask = eventLoop.scheduleTask(deadline: deadline) { engine.value.runTick() }
    }

    private func runTick() {
        let started = NIODeadline.now()
        if let deadline = nextDeadline {
            // Clamped: a tick cannot start early, but readers of two clocks could say so.
            tickLateness.recordNanoseconds(max(0, Int64(started.uptimeNanoseconds) - Int64(deadline.uptimeNanoseconds)))
        }
        defer { tickDuration.recordNanoseconds(max(0, Int64(NIODeadline.now().uptimeNanoseconds) - Int64(started.uptimeNanoseconds))) }
        tickTask = nil
        let phase = Int(slot % UInt64(MediaEngine.phaseCount))
        let period = slot / UInt64(MediaEngine.phaseCount) + 1 // 0 means "never sent"
        slot &+= 1
        var finished: [RTPSession] = []
        var i = 0
        while i < playing[phase].count {
            let session = playing[phase][i]
            if session.tick(period) {
                i += 1
            } else {
                stopPlaying(session) // swaps the last one into i
                finished.append(session)
            }
        }
        for session in finished { session.playlistFinished() }
        guard playing.contains(where: { !$0.isEmpty }), var next = nextDeadline else { return }
        next = next + MediaEngine.phaseInterval
        let now = NIODeadline.now()
        if next < now - MediaEngine.frameInterval * 3 {
            // Far behind (the loop was blocked): resynchronise rather than burst. The frame
            // periods do not count the stall, so a prompt goes on where it was, late, rather
            // than restarting as a new talkspurt (a marker and a timestamp jump) mid-word.
            next = now
        }
        scheduleTick(at: next)
    }
}
