import Timers

/// Decides, before any per-call state exists, whether a new INVITE may become a call: a cap
/// on concurrent calls, a call-rate token bucket, a per-source rate, and load shedding when
/// the event loop falls behind (its 10 ms tick running late means the CPU is saturated, and
/// admitting more would degrade every call already up). Pure: time and lag are inputs.
struct AdmissionControl {
    struct Limits: Sendable {
        var maxCalls: Int
        /// New calls per second across all sources; nil = unlimited.
        var callsPerSecond: Double?
        /// New calls per second from one source IP; nil = unlimited.
        var perSourceCallsPerSecond: Double?
        /// Start refusing when the smoothed loop lag exceeds this...
        var shedAbove: Duration = .milliseconds(60)
        /// ...and admit again once it is back under this.
        var recoverBelow: Duration = .milliseconds(20)
        /// Also refuse while answering takes longer than this (the time from the dialplan's
        /// answer to our 200 OK, i.e. the ticket commit: a disk or writer that cannot keep up)...
        var shedAnswerDelayAbove: Duration = .milliseconds(300)
        /// ...until it is back under this.
        var recoverAnswerDelayBelow: Duration = .milliseconds(100)
    }

    enum Reason: String, Sendable, CaseIterable {
        case draining, maxCalls = "max_calls", rate, sourceRate = "source_rate", overload
        /// The ticket store cannot record more calls (shared store down, its queue full).
        case ticketStore = "ticket_store"
    }

    enum Decision: Equatable, Sendable {
        case admit
        case reject(Reason)
    }

    var limits: Limits
    private var bucket: TokenBucket?
    private var sources: [String: TokenBucket] = [:]
    private var lastSweep = Instant.zero
    /// The loop lag, smoothed (EWMA over ticks).
    private(set) var smoothedLag: Duration = .zero
    /// The answer delay, smoothed (EWMA over answered calls).
    private(set) var smoothedAnswerDelay: Duration = .zero
    private var laggingLoop = false
    private var slowAnswers = false
    var shedding: Bool { laggingLoop || slowAnswers }
    private(set) var rejections: [Reason: UInt64] = [:]

    init(limits: Limits) {
        self.limits = limits
        if let rate = limits.callsPerSecond { bucket = TokenBucket(rate: rate, burst: max(1, rate)) }
    }

    /// One tick's lateness.
    mutating func observeLag(_ lag: Duration) {
        // α = 1/8: a stall of one tick does not trip shedding; a saturated loop does in ~100 ms.
        smoothedLag = smoothedLag + (lag - smoothedLag) / 8
        if !laggingLoop, smoothedLag > limits.shedAbove { laggingLoop = true }
        if laggingLoop, smoothedLag < limits.recoverBelow { laggingLoop = false }
    }

    /// One call's answer delay (answer decided → 200 OK sent).
    mutating func observeAnswerDelay(_ delay: Duration) {
        smoothedAnswerDelay = smoothedAnswerDelay + (delay - smoothedAnswerDelay) / 8
        if !slowAnswers, smoothedAnswerDelay > limits.shedAnswerDelayAbove { slowAnswers = true }
        if slowAnswers, smoothedAnswerDelay < limits.recoverAnswerDelayBelow { slowAnswers = false }
    }

    /// While shedding for slow answers no call is answered, so no new delay is observed:
    /// the tick feeds the age of the oldest answer still waiting (zero when none waits).
    mutating func observePendingAnswer(oldest age: Duration) {
        guard slowAnswers else { return }
        observeAnswerDelay(age)
    }

    mutating func admit(source: String, activeCalls: Int, draining: Bool, storeRefusing: Bool = false, now: Instant) -> Decision {
        let decision = storeRefusing && !draining ? .reject(.ticketStore)
            : decide(source: source, activeCalls: activeCalls, draining: draining, now: now)
        if case .reject(let reason) = decision { rejections[reason, default: 0] += 1 }
        return decision
    }

    private mutating func decide(source: String, activeCalls: Int, draining: Bool, now: Instant) -> Decision {
        if draining { return .reject(.draining) }
        if activeCalls >= limits.maxCalls { return .reject(.maxCalls) }
        if shedding { return .reject(.overload) }
        if let rate = limits.perSourceCallsPerSecond {
            sweepSources(now: now)
            var sourceBucket = sources[source] ?? TokenBucket(rate: rate, burst: max(1, rate), now: now)
            let ok = sourceBucket.take(now: now)
            sources[source] = sourceBucket
            if !ok { return .reject(.sourceRate) }
        }
        if bucket != nil, !bucket!.take(now: now) { return .reject(.rate) }
        return .admit
    }

    /// Forgets sources idle long enough for their bucket to be full again, so a flood from
    /// many addresses cannot grow the table without bound.
    private mutating func sweepSources(now: Instant) {
        guard now - lastSweep > .seconds(10) else { return }
        lastSweep = now
        sources = sources.filter { !$0.value.isFull(now: now) }
    }
}

/// Tokens refill at `rate` per second up to `burst`; each admitted call takes one.
struct TokenBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: Instant?

    init(rate: Double, burst: Double, now: Instant? = nil) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = now
    }

    private mutating func refill(now: Instant) {
        if let last, now > last {
            tokens = min(burst, tokens + Double((now - last).nanosecondsClamped) / 1e9 * rate)
        }
        last = now
    }

    mutating func take(now: Instant) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    func isFull(now: Instant) -> Bool {
        guard let last else { return true }
        return tokens + Double((now - last).nanosecondsClamped) / 1e9 * rate >= burst
    }
}
