import ConfigFiles
import Synchronization

/// Everything a run needs, validated by ``FloodConfiguration/validate()``.
public struct FloodConfiguration: Sendable {
    /// The server: loopback only.
    public var targetHost: String
    public var targetPort: Int
    /// The number dialled (the Request-URI user).
    public var number: String
    public var schedule: RateSchedule
    /// Stop starting calls after this many, or after this long (at least one is required).
    public var calls: Int?
    public var duration: Duration?
    /// At most this many calls at once; a call due while the limit is reached waits.
    public var maxConcurrent: Int?
    public var sources: SourceAddresses
    /// Event loops (threads); each has its own SIP and RTP sockets on every source address
    /// it serves.
    public var loops: Int
    public var scenario: Scenario
    /// Prompts to recognise in the received audio; nil skips identification.
    public var prompts: PromptReferences?
    /// The hard limit on one call.
    public var maxCallDuration: Duration
    /// How long to wait for calls in progress once the last call started; nil: the longest
    /// call the scenario makes plus 40 s (INVITE Timer B is 32 s).
    public var drainTimeout: Duration?
    /// Read RTP on the 5 ms tick instead of as it arrives: far fewer wake-ups and system calls
    /// under load, but every arrival time (gap, jitter, first audio, key → prompt) is then
    /// only good to the tick (`--rtp-read batched`).
    public var batchedRTPReads = false
    /// Check the server's tickets afterwards (`--verify-db`).
    public var verifyDatabase: String?
    /// Seeds the hold-time draws, so runs are repeatable.
    public var seed: UInt64
    /// Called on an event loop with each 20 ms of decoded audio a call receives (the console).
    public var audioSink: (@Sendable (_ samples: [Int16]) -> Void)?
    /// Called on an event loop with what a call does, in words (the console).
    public var eventSink: (@Sendable (_ event: String) -> Void)?
    /// Called on an event loop for each 20 ms a caller would send silence: 160 samples to send
    /// instead (the console's microphone), or nil for silence.
    public var audioSource: (@Sendable () -> [Int16]?)?

    public init(targetHost: String, targetPort: Int, number: String, schedule: RateSchedule = .constant(10), calls: Int? = nil,
                duration: Duration? = nil, maxConcurrent: Int? = nil, sources: SourceAddresses = .loopback, loops: Int = 1,
                scenario: Scenario = .single(CallerBehaviour()), prompts: PromptReferences? = nil,
                maxCallDuration: Duration = .seconds(300), drainTimeout: Duration? = nil, verifyDatabase: String? = nil,
                seed: UInt64 = 1) {
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.number = number
        self.schedule = schedule
        self.calls = calls
        self.duration = duration
        self.maxConcurrent = maxConcurrent
        self.sources = sources
        self.loops = loops
        self.scenario = scenario
        self.prompts = prompts
        self.maxCallDuration = maxCallDuration
        self.drainTimeout = drainTimeout
        self.verifyDatabase = verifyDatabase
        self.seed = seed
    }

    public static let maximumCalls = 10_000_000
    public static let maximumDuration = Duration.seconds(24 * 3600)

    /// Refuses what would send anywhere but loopback or run without bounds.
    public func validate() throws(FloodSyntaxError) {
        guard let ip = SourceAddresses.parseIPv4(targetHost), ip >> 24 == 127 else {
            throw FloodSyntaxError(targetHost, expected: "a loopback target (127.x.y.z): the generator sends nowhere else")
        }
        guard (1...65535).contains(targetPort) else { throw FloodSyntaxError(String(targetPort), expected: "a port from 1 to 65535") }
        guard calls != nil || duration != nil else {
            throw FloodSyntaxError("", expected: "--calls N or --duration TIME (every run is bounded)")
        }
        if let calls, calls < 1 || calls > FloodConfiguration.maximumCalls {
            throw FloodSyntaxError(String(calls), expected: "--calls from 1 to \(FloodConfiguration.maximumCalls)")
        }
        if let duration, duration <= .zero || duration > FloodConfiguration.maximumDuration {
            throw FloodSyntaxError(DurationSyntax.format(duration), expected: "--duration above 0 and at most 24h")
        }
        if let maxConcurrent, maxConcurrent < 1 { throw FloodSyntaxError(String(maxConcurrent), expected: "--max-concurrent of at least 1") }
        guard (1...64).contains(loops) else { throw FloodSyntaxError(String(loops), expected: "--loops from 1 to 64") }
        guard !number.isEmpty, number.allSatisfy({ $0.isLetter || $0.isNumber || "*#+-._".contains($0) }) else {
            throw FloodSyntaxError(number, expected: "a number to dial (digits, letters, * # + - . _)")
        }
    }

    /// The drain bound in effect.
    public var effectiveDrainTimeout: Duration { drainTimeout ?? (scenario.longestCall + .seconds(40)) }
}

/// Live counters a run updates from its event loops and the progress line reads.
public final class FloodProgress: Sendable {
    let startedCount = Atomic<Int>(0)
    let answeredCount = Atomic<Int>(0)
    let failedCount = Atomic<Int>(0)
    let finishedCount = Atomic<Int>(0)

    public init() {}

    public struct Snapshot: Sendable, Equatable {
        public var started: Int
        public var answered: Int
        public var failed: Int
        public var finished: Int
        public var active: Int { started - finished }
    }

    public var snapshot: Snapshot {
        Snapshot(started: startedCount.load(ordering: .relaxed), answered: answeredCount.load(ordering: .relaxed),
                 failed: failedCount.load(ordering: .relaxed), finished: finishedCount.load(ordering: .relaxed))
    }
}
