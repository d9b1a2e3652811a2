/// Runs a ``DialplanExecution`` against a virtual clock and a scripted caller, producing a
/// readable trace. The same interpreter the server runs, with no network and no waiting: the
/// seed of `hotline dialplan simulate`.
///
/// The simulated controller plays each prompt for ``promptDuration`` (2 s unless told otherwise),
/// fires timers at their deadlines, answers every `.enqueue` with `.queueUnavailable` (as the
/// server does until the ACD exists), and presses the script's keys.
///
/// Trace lines are `<seconds> <direction> <what>`: `>` for a command the execution gave, `<` for
/// an event fed to it, `=` for a note from the simulator:
///
///     0.000 > answer
///     0.000 > play p1 [en/bench_menu]
///     1.000 < key 3
///     1.000 > stop p1
public struct DialplanSimulation: Sendable {
    /// One scripted key press.
    public struct KeyPress: Sendable, Equatable {
        /// When to press it.
        public enum Timing: Sendable, Equatable {
            /// At this time since the call started (keys during prompts barge in).
            case at(Duration)
            /// As soon as a menu has played its prompt and waits for a key.
            case whenWaiting
        }

        public var key: DTMFKey
        public var timing: Timing

        public init(_ key: DTMFKey, _ timing: Timing = .whenWaiting) {
            self.key = key
            self.timing = timing
        }
    }

    /// A key script that could not be read.
    public struct ScriptError: Error, Sendable, Equatable, CustomStringConvertible {
        public var token: String
        public var description: String {
            "'\(token)' is not a key press; write a key (3) or a key at a time (3@1.5s)"
        }
    }

    /// Everything the simulation saw.
    public struct Result: Sendable {
        public var trace: [String]
        /// The execution at the end, for its disposition, keys and menu path.
        public var execution: DialplanExecution
        /// Scripted keys never pressed because the call ended first.
        public var unusedKeys: [KeyPress]
    }

    public var promptDuration: @Sendable (PromptRef) -> Duration
    /// Stop after this much virtual time, in case a dialplan never hangs up.
    public var timeLimit: Duration

    public init(
        promptDuration: @escaping @Sendable (PromptRef) -> Duration = { _ in .seconds(2) },
        timeLimit: Duration = .seconds(3600)
    ) {
        self.promptDuration = promptDuration
        self.timeLimit = timeLimit
    }

    /// Reads a key script: presses separated by spaces, each a key (`3`, pressed when a menu next
    /// waits) or a key at a time since the call started (`3@1.5s`).
    public static func parseScript(_ script: String) throws(ScriptError) -> [KeyPress] {
        var presses: [KeyPress] = []
        for token in script.split(whereSeparator: \.isWhitespace).map(String.init) {
            let parts = token.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let key = DTMFKey(parts[0]) else { throw ScriptError(token: token) }
            if parts.count == 2 {
                guard let time = DurationSyntax.parse(parts[1]) else { throw ScriptError(token: token) }
                presses.append(KeyPress(key, .at(time)))
            } else {
                presses.append(KeyPress(key))
            }
        }
        return presses
    }

    /// Simulates a call to `number` with the given key presses, in script order.
    public func run(
        _ dialplan: Dialplan, number: String, keys: [KeyPress], caller: String = "simulator"
    ) -> Result? {
        guard let entry = dialplan.entry(forNumber: number) else { return nil }
        let execution = DialplanExecution(
            dialplan: dialplan, entry: entry,
            context: CallContext(caller: caller, dialledNumber: number, callID: "simulated"))
        return run(execution, keys: keys)
    }

    /// Simulates an execution that has not started yet.
    public func run(_ execution: DialplanExecution, keys: [KeyPress]) -> Result {
        var run = Run(execution: execution, keys: keys[...], promptDuration: promptDuration)
        run.apply(run.execution.start())
        let limit = DurationSyntax.milliseconds(timeLimit)
        while !run.execution.isFinished {
            guard let (time, event) = run.nextEvent() else {
                run.note("stuck: nothing to wait for")
                break
            }
            guard time <= limit else {
                run.now = limit
                run.note("time limit reached")
                break
            }
            run.now = time
            run.trace.append("\(Run.format(run.now)) < \(event)")
            run.apply(run.execution.event(event))
        }
        if !run.keys.isEmpty {
            run.note("keys never pressed: \(run.keys.map(\.key.description).joined(separator: " "))")
        }
        return Result(trace: run.trace, execution: run.execution, unusedKeys: Array(run.keys))
    }

    /// The simulated controller's state. Times are milliseconds since the call started.
    private struct Run {
        var execution: DialplanExecution
        var keys: ArraySlice<KeyPress>
        let promptDuration: (PromptRef) -> Duration
        var now: Int64 = 0
        var trace: [String] = []
        var playback: (id: PlaybackID, end: Int64)?
        var timers: [TimerID: Int64] = [:]
        var queueUnavailable = false

        mutating func apply(_ commands: [DialplanCommand]) {
            for command in commands {
                trace.append("\(Run.format(now)) > \(command)")
                switch command {
                case .play(let id, let prompts):
                    let length = prompts.reduce(Int64(0)) { $0 + DurationSyntax.milliseconds(promptDuration($1)) }
                    playback = (id, now + length)
                case .stopPlayback(let id):
                    if playback?.id == id { playback = nil }
                case .startTimer(let id, let duration):
                    timers[id] = now + DurationSyntax.milliseconds(duration)
                case .cancelTimer(let id):
                    timers[id] = nil
                case .enqueue:
                    queueUnavailable = true
                case .ring, .answer, .setLanguage, .annotateTicket, .hangup:
                    break
                }
            }
        }

        /// The earliest thing to happen next. At equal times: the queue answer, then a key, then
        /// the playback end, then timers in start order.
        mutating func nextEvent() -> (Int64, DialplanEvent)? {
            if queueUnavailable {
                queueUnavailable = false
                return (now, .queueUnavailable)
            }
            var candidates: [(time: Int64, rank: Int, event: DialplanEvent)] = []
            if let press = keys.first {
                switch press.timing {
                case .at(let time): candidates.append((max(now, DurationSyntax.milliseconds(time)), 0, .keyPressed(press.key)))
                case .whenWaiting where execution.isWaitingForKey: candidates.append((now, 0, .keyPressed(press.key)))
                case .whenWaiting: break
                }
            }
            if let playback { candidates.append((playback.end, 1, .playbackFinished(playback.id))) }
            for (id, deadline) in timers {
                candidates.append((deadline, 2 + Int(id.rawValue), .timerFired(id)))
            }
            guard let next = candidates.min(by: { ($0.time, $0.rank) < ($1.time, $1.rank) }) else { return nil }
            switch next.event {
            case .keyPressed: keys.removeFirst()
            case .playbackFinished: playback = nil
            case .timerFired(let id): timers[id] = nil
            case .queueUnavailable: break
            }
            return (next.time, next.event)
        }

        mutating func note(_ text: String) {
            trace.append("\(Run.format(now)) = \(text)")
        }

        /// Seconds with millisecond precision: `12.345`.
        static func format(_ milliseconds: Int64) -> String {
            let fraction = String(milliseconds % 1000)
            return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
        }
    }
}
