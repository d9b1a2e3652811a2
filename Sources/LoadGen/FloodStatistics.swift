import Histogram

/// One finished call: its signalling outcome and what its media side measured.
public struct CallRecord: Sendable {
    public var outcome: CallOutcome
    /// Audio packets received from the server, and those RFC 3550 counts as lost.
    public var packetsReceived = 0
    public var packetsLost = 0
    public var packetsSent = 0
    public var jitterMicroseconds: UInt64?
    /// Answer → first RTP packet.
    public var firstAudio: Duration?
    /// The prompts recognised in what was heard, in order.
    public var heard: [HeardPrompt] = []
    public var unidentified = 0
    /// For each key, the time until the next prompt's first packet.
    public var keyToPrompt: [Duration] = []

    public init(outcome: CallOutcome) { self.outcome = outcome }

    public var failure: FailureCause? { outcome.failure }
    /// `bench_menu > bench_key3`.
    public var promptSequence: String { heard.isEmpty ? "(none)" : heard.map(\.name).joined(separator: " > ") }
}

/// Everything a run measured, merged from every event loop. Times in microseconds in
/// HdrHistograms (three significant digits, up to an hour).
public struct FloodStatistics: Sendable {
    public var started = 0
    public var answered = 0
    public var succeeded = 0
    public var failed = 0
    public var failures: [String: Int] = [:]
    public var finalStatuses: [Int: Int] = [:]
    public var ends: [String: Int] = [:]
    public var behaviours: [String: Int] = [:]
    public var setup = FloodStatistics.histogram()
    public var firstAudio = FloodStatistics.histogram()
    public var keyToPrompt = FloodStatistics.histogram()
    public var gap = FloodStatistics.histogram()
    public var jitter = FloodStatistics.histogram()
    public var packetsReceived = 0
    public var packetsLost = 0
    public var packetsSent = 0
    /// RTP datagrams that matched no call (late packets of ended calls, strays).
    public var strayPackets = 0
    public var promptSequences: [String: Int] = [:]
    public var promptsHeard: [String: Int] = [:]
    public var unidentified = 0
    public var peakActive = 0
    /// Call-IDs of answered calls, kept for `--verify-db`.
    public var answeredCallIDs: [String] = []
    public var keepCallIDs = false

    public init(keepCallIDs: Bool = false) { self.keepCallIDs = keepCallIDs }

    static func histogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    static func microseconds(_ d: Duration) -> UInt64 { max(1, d.nanosecondsUInt64 / 1000) }

    public mutating func record(_ call: CallRecord) {
        let outcome = call.outcome
        behaviours[outcome.behaviour, default: 0] += 1
        ends[outcome.end.rawValue, default: 0] += 1
        if let status = outcome.finalStatus { finalStatuses[status, default: 0] += 1 }
        if let setupTime = outcome.setupTime {
            answered += 1
            _ = setup.record(Self.microseconds(setupTime))
            if keepCallIDs { answeredCallIDs.append(outcome.callID) }
        }
        if let failure = call.failure {
            failed += 1
            failures[failure.description, default: 0] += 1
        } else {
            succeeded += 1
        }
        if let d = call.firstAudio { _ = firstAudio.record(Self.microseconds(d)) }
        for d in call.keyToPrompt { _ = keyToPrompt.record(Self.microseconds(d)) }
        if let j = call.jitterMicroseconds { _ = jitter.record(max(1, j)) }
        packetsReceived += call.packetsReceived
        packetsLost += call.packetsLost
        packetsSent += call.packetsSent
        if outcome.answered {
            promptSequences[call.promptSequence, default: 0] += 1
            for prompt in call.heard { promptsHeard[prompt.name, default: 0] += 1 }
        }
        unidentified += call.unidentified
    }

    /// Records a failure found after the call was recorded (`--verify-db`).
    public mutating func reclassify(succeededAs cause: FailureCause) {
        succeeded -= 1
        failed += 1
        failures[cause.description, default: 0] += 1
    }

    public mutating func merge(_ other: FloodStatistics) {
        started += other.started
        answered += other.answered
        succeeded += other.succeeded
        failed += other.failed
        failures.merge(other.failures, uniquingKeysWith: +)
        finalStatuses.merge(other.finalStatuses, uniquingKeysWith: +)
        ends.merge(other.ends, uniquingKeysWith: +)
        behaviours.merge(other.behaviours, uniquingKeysWith: +)
        setup.add(other.setup)
        firstAudio.add(other.firstAudio)
        keyToPrompt.add(other.keyToPrompt)
        gap.add(other.gap)
        jitter.add(other.jitter)
        packetsReceived += other.packetsReceived
        packetsLost += other.packetsLost
        packetsSent += other.packetsSent
        strayPackets += other.strayPackets
        promptSequences.merge(other.promptSequences, uniquingKeysWith: +)
        promptsHeard.merge(other.promptsHeard, uniquingKeysWith: +)
        unidentified += other.unidentified
        peakActive += other.peakActive
        answeredCallIDs += other.answeredCallIDs
    }
}
