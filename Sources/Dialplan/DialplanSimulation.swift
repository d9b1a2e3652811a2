import ConfigFiles
import Foundation

/// Runs a ``DialplanExecution`` against a virtual clock and a scripted caller, producing a
/// readable trace: what `hotline dialplan simulate` prints. The same interpreter the server runs,
/// with no network and no waiting.
///
/// The simulated controller plays each prompt for ``promptDuration`` (the WAV files' real
/// lengths when the CLI finds them, else 2 s), fires timers at their deadlines, answers every
/// `.enqueue` with `.queueUnavailable` (no agents are logged in to a simulation), answers
/// `.transfer` with success unless ``transferSucceeds`` is off, records until the record node's
/// terminator key or its maximum duration, and presses the script's keys.
///
/// Trace lines are `<seconds> <direction> <what>`: `>` for a command the execution gave, `<` for
/// an event fed to it, `=` for a note (a decision of the execution, or of the simulator):
///
///     0.000 > answer
///     0.000 > play p1 [en/bench_menu]
///     1.000 < key 3
///     1.000 = bench_menu: key 3 → enterprise
///     1.000 > stop p1
public struct DialplanSimulation: Sendable {
    /// One scripted key press.
    public struct KeyPress: Sendable, Equatable, CustomStringConvertible {
        /// When to press it.
        public enum Timing: Sendable, Equatable {
            /// At this time since the call started (keys during prompts barge in).
            case at(Duration)
            /// This long after the previous scripted key was pressed (or the call started).
            case after(Duration)
            /// As soon as a menu or collect has played its prompt and waits for a key.
            case whenWaiting
        }

        /// The key; `nil` for `-`: press nothing at the next wait and let it time out.
        public var key: DTMFKey?
        public var timing: Timing

        public init(_ key: DTMFKey, _ timing: Timing = .whenWaiting) {
            self.key = key
            self.timing = timing
        }

        private init(timeOut: Void) {
            key = nil
            timing = .whenWaiting
        }

        /// `-`: let the next wait for a key time out.
        public static let letTimeOut = KeyPress(timeOut: ())

        /// As written in a script: `3`, `3@1.5s`, `3+2s`, `-`.
        public var description: String {
            guard let key else { return "-" }
            switch timing {
            case .whenWaiting: return "\(key)"
            case .at(let time): return "\(key)@\(DurationSyntax.format(time))"
            case .after(let delay): return "\(key)+\(DurationSyntax.format(delay))"
            }
        }
    }

    /// A key script that could not be read.
    public struct ScriptError: Error, Sendable, Equatable, CustomStringConvertible {
        public var token: String
        public var description: String {
            "'\(token)' is not a key press; write a key (3), a key at a time since the call started (3@1.5s), "
                + "a key some time after the previous one (3+2s), or - to let a wait time out"
        }
    }

    /// One line of the trace.
    public struct Step: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable, Equatable {
            /// `>`: the execution told the controller to do something.
            case command
            /// `<`: the controller told the execution what happened.
            case event
            /// `=`: a decision of the execution, or a remark of the simulator.
            case note
        }

        /// Milliseconds since the call started.
        public var milliseconds: Int64
        public var kind: Kind
        public var text: String

        /// `12.345 > play p3 [zh/goodbye]`.
        public var description: String {
            "\(DialplanSimulation.format(milliseconds)) \(kind == .command ? ">" : kind == .event ? "<" : "=") \(text)"
        }
    }

    /// Everything the simulation saw.
    public struct Result: Sendable {
        /// The dialled number and the caller's.
        public var number: String
        public var caller: String
        /// When the simulated call arrived.
        public var startTime: Date
        public var steps: [Step]
        /// The execution at the end, for its disposition, keys, menu path, variables and ticket.
        public var execution: DialplanExecution
        /// Scripted keys never pressed because the call ended first.
        public var unusedKeys: [KeyPress]
        /// The call's length in virtual time.
        public var milliseconds: Int64
        /// The last command that handed the call on or ended it (`enqueue ...`, `transfer ...`,
        /// `hangup ...`), if any.
        public var finalAction: String?

        /// The trace as text lines.
        public var trace: [String] { steps.map(\.description) }
    }

    public var promptDuration: @Sendable (PromptRef) -> Duration
    /// Stop after this much virtual time, in case a dialplan never hangs up.
    public var timeLimit: Duration
    /// Whether the simulated controller reports `.transferSucceeded` (else `.transferFailed`).
    public var transferSucceeds: Bool

    public init(
        promptDuration: @escaping @Sendable (PromptRef) -> Duration = { _ in .seconds(2) },
        timeLimit: Duration = .seconds(3600), transferSucceeds: Bool = true
    ) {
        self.promptDuration = promptDuration
        self.timeLimit = timeLimit
        self.transferSucceeds = transferSucceeds
    }

    /// Reads a key script: presses separated by commas or spaces, each a key (`3`, pressed when a
    /// menu or collect next waits), a key at a time since the call started (`3@1.5s`), a key some
    /// time after the previous press (`3+2s`), or `-` (let the next wait time out). Several keys in
    /// one token (`13912345678#`) are pressed one after the other, each as soon as a menu or
    /// collect waits; a timing on such a token applies to its first key.
    public static func parseScript(_ script: String) throws(ScriptError) -> [KeyPress] {
        var presses: [KeyPress] = []
        for token in script.split(whereSeparator: { $0.isWhitespace || $0 == "," }).map(String.init) {
            if token == "-" {
                presses.append(.letTimeOut)
                continue
            }
            let separator = token.firstIndex { $0 == "@" || $0 == "+" }
            let keyText = separator.map { String(token[..<$0]) } ?? token
            guard let keys = KeySequence(rawValue: keyText) else { throw ScriptError(token: token) }
            var timing = KeyPress.Timing.whenWaiting
            if let separator {
                guard let time = DurationSyntax.parse(String(token[token.index(after: separator)...])) else {
                    throw ScriptError(token: token)
                }
                timing = token[separator] == "@" ? .at(time) : .after(time)
            }
            presses.append(KeyPress(keys.keys[0], timing))
            presses += keys.keys.dropFirst().map { KeyPress($0) }
        }
        return presses
    }

    /// Simulates a call to `number` from `caller`, arriving at `startTime`, with the given key
    /// presses in script order; `nil` when no entry takes the number (the server's 404).
    public func run(
        _ dialplan: Dialplan, number: String, keys: [KeyPress], caller: String = "13800000000",
        startTime: Date = Date(timeIntervalSince1970: 1_790_000_000)
    ) -> Result? {
        guard let entry = dialplan.entry(forNumber: number) else { return nil }
        // A ticket id shaped like the server's (local date, sequence), for ${ticket_id}.
        let date = DialplanExecution.iso8601(startTime, in: dialplan.timeZone ?? TimeZone(identifier: "UTC")!).prefix(10)
        var execution = DialplanExecution(
            dialplan: dialplan, entry: entry,
            context: CallContext(caller: caller, dialledNumber: number, callID: "simulated",
                                 ticketID: date.replacingOccurrences(of: "-", with: "") + "-000001"))
        execution.recordsNotes = true
        return run(execution, keys: keys, startTime: startTime)
    }

    /// Simulates an execution that has not started yet.
    public func run(_ execution: DialplanExecution, keys: [KeyPress], startTime: Date = Date(timeIntervalSince1970: 1_790_000_000))
        -> Result
    {
        var run = Run(execution: execution, keys: keys[...], promptDuration: promptDuration,
                      transferSucceeds: transferSucceeds, startTime: startTime)
        let commands = run.execution.start(now: startTime)
        run.takeNotes()
        run.apply(commands)
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
            run.steps.append(Step(milliseconds: run.now, kind: .event, text: "\(event)"))
            let commands = run.execution.event(event, now: startTime.addingTimeInterval(Double(run.now) / 1000))
            run.takeNotes()
            run.apply(commands)
        }
        let unused = run.keys.filter { $0.key != nil }
        if !unused.isEmpty {
            run.note("keys never pressed: \(unused.map(\.description).joined(separator: " "))")
        }
        return Result(number: execution.context.dialledNumber, caller: execution.context.caller, startTime: startTime,
                      steps: run.steps, execution: run.execution, unusedKeys: Array(run.keys), milliseconds: run.now,
                      finalAction: run.finalAction)
    }

    /// The simulated controller's state. Times are milliseconds since the call started.
    private struct Run {
        var execution: DialplanExecution
        var keys: ArraySlice<KeyPress>
        let promptDuration: (PromptRef) -> Duration
        let transferSucceeds: Bool
        let startTime: Date
        var now: Int64 = 0
        var steps: [Step] = []
        var notesSeen = 0
        var playback: (id: PlaybackID, end: Int64)?
        var timers: [TimerID: Int64] = [:]
        var recording: (id: RecordingID, start: Int64, end: Int64)?
        /// Outcomes the controller reports at once (queue, transfer, a stopped recording).
        var immediate: [DialplanEvent] = []
        /// When the previous scripted key was pressed.
        var lastKeyTime: Int64 = 0
        var finalAction: String?

        mutating func apply(_ commands: [DialplanCommand]) {
            for command in commands {
                steps.append(Step(milliseconds: now, kind: .command, text: "\(command)"))
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
                    finalAction = "\(command)"
                    immediate.append(.queueUnavailable)
                case .transfer:
                    finalAction = "\(command)"
                    immediate.append(transferSucceeds ? .transferSucceeded : .transferFailed)
                case .startRecording(let id, let maxDuration):
                    recording = (id, now, now + DurationSyntax.milliseconds(maxDuration))
                case .stopRecording(let id):
                    if let running = recording, running.id == id {
                        recording = nil
                        immediate.append(.recordingFinished(id, .milliseconds(now - running.start)))
                    }
                case .hangup:
                    finalAction = "\(command)"
                case .ring, .answer, .setLanguage, .annotateTicket:
                    break
                }
            }
        }

        /// The execution's notes since the last look, as `=` steps.
        mutating func takeNotes() {
            let notes = execution.notes
            for note in notes[notesSeen...] { steps.append(Step(milliseconds: now, kind: .note, text: "\(note)")) }
            notesSeen = notes.count
        }

        /// The earliest thing to happen next. At equal times: an immediate outcome, then a key,
        /// then the playback end, then the recording end, then timers in start order.
        mutating func nextEvent() -> (Int64, DialplanEvent)? {
            if !immediate.isEmpty { return (now, immediate.removeFirst()) }
            var candidates: [(time: Int64, rank: Int, event: DialplanEvent)] = []
            if let press = keys.first, let key = press.key {
                switch press.timing {
                case .at(let time): candidates.append((max(now, DurationSyntax.milliseconds(time)), 0, .keyPressed(key)))
                case .after(let delay): candidates.append((max(now, lastKeyTime + DurationSyntax.milliseconds(delay)), 0, .keyPressed(key)))
                case .whenWaiting where execution.isWaitingForKey: candidates.append((now, 0, .keyPressed(key)))
                case .whenWaiting: break
                }
            }
            if let playback { candidates.append((playback.end, 1, .playbackFinished(playback.id))) }
            if let recording {
                candidates.append((recording.end, 2, .recordingFinished(recording.id, .milliseconds(recording.end - recording.start))))
            }
            for (id, deadline) in timers {
                candidates.append((deadline, 3 + Int(id.rawValue), .timerFired(id)))
            }
            guard let next = candidates.min(by: { ($0.time, $0.rank) < ($1.time, $1.rank) }) else { return nil }
            switch next.event {
            case .keyPressed:
                keys.removeFirst()
                lastKeyTime = next.time
            case .playbackFinished: playback = nil
            case .recordingFinished: recording = nil
            case .timerFired(let id):
                timers[id] = nil
                // `-`: this wait has timed out as the script asked.
                if keys.first?.key == nil, !keys.isEmpty, execution.isWaitingForKey { keys.removeFirst() }
            case .queueUnavailable, .transferSucceeded, .transferFailed: break
            }
            return (next.time, next.event)
        }

        mutating func note(_ text: String) {
            steps.append(Step(milliseconds: now, kind: .note, text: text))
        }
    }

    /// Seconds with millisecond precision: `12.345`.
    static func format(_ milliseconds: Int64) -> String {
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
