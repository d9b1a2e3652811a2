import ConfigFiles
import Foundation

/// One call walking through a dialplan: a sans-IO state machine.
///
/// The execution knows nothing of SIP, RTP or clocks. The call controller calls ``start(now:)``
/// once, then ``event(_:now:)`` for each playback end, key, timer and outcome, and carries out the
/// returned ``DialplanCommand``s in order. Time enters only as the `now` of each call (for
/// `branch` time conditions, `${time}` and `say`), as `.startTimer` durations and as
/// `.timerFired` events, so a test (or `hotline dialplan simulate`) drives a whole call with a
/// manual clock.
///
/// Rules the controller can rely on:
/// - Stale ids are ignored: a `.playbackFinished`, `.timerFired` or `.recordingFinished` that does
///   not name what the execution is waiting for changes nothing and returns no commands; so do
///   outcome events (`.queueUnavailable`, `.transferFailed`, ...) nobody asked for.
/// - After `.hangup` the execution is finished and ignores every event.
/// - Between two waits at most ``maxTransitionsWithoutWaiting`` nodes are entered; a flow that
///   loops without waiting ends with `.hangup(disposition: .dialplanError)` instead of spinning
///   the controller's thread. Sub-flows nest at most ``maxCallDepth`` deep.
///
/// Menus:
/// - The prompt is played with barge-in. A key during the prompt stops it (`.stopPlayback`); a key
///   after it cancels the running timer (`.cancelTimer`).
/// - When the prompt ends, the `timeout` timer starts; if it fires, that is no input.
/// - Keys that name an option follow it at once. Keys that begin a longer option start the
///   `inter_key_timeout` timer; when it fires the keys so far are taken as they are (an option, or
///   an invalid input). Keys that begin no option are an invalid input at once.
/// - No input or an invalid input counts one failure; while failures are at most `retries`, the
///   menu is offered again, preceded by `no_input_prompt` or `invalid_prompt` if set. The next
///   failure follows `on_no_input`/`on_invalid` (else `on_failure`), or hangs up with
///   `no_input`/`invalid_input` when no branch is set.
///
/// Collects work like menus, except that keys accumulate until the terminator, `max_length`, or
/// the inter-key timer, and are then checked against `min_length` and `pattern`.
///
/// Play and say nodes: with `barge_in: true` a key stops the prompts, the flow goes to `next`, and
/// the key is kept as type-ahead for the next menu or collect, which takes it as input without
/// playing its prompt. A barge-in play reached while type-ahead is kept is skipped. Without
/// barge-in, keys are ignored (still recorded in ``keysPressed``) and kept type-ahead is dropped:
/// the caller is made to listen, so the next menu should be heard too.
public struct DialplanExecution: Sendable {
    /// The most nodes entered in a row without waiting for anything.
    public static let maxTransitionsWithoutWaiting = 100
    /// The most nested `call`s.
    public static let maxCallDepth = 16

    /// The dialplan this call started with; a reload does not affect it.
    public let dialplan: Dialplan
    /// The entry the call came in by (its `start` and `ring`).
    public let entry: DialplanEntry
    /// The controller's facts about the call.
    public private(set) var context: CallContext

    /// The language prompts are played in; starts at the dialplan's default.
    public private(set) var language: Language
    /// Every key the caller pressed after the call was answered, in order, including invalid and
    /// ignored ones (e.g. `"913"`).
    public private(set) var keysPressed: String = ""
    /// How the caller left each menu or collect: `main_menu:3` for an option,
    /// `collect_plate:collected`, `main_menu:no_input` or `main_menu:invalid_input` when retries ran out.
    public private(set) var menuPath: [String] = []
    /// The node the call is at (the last one entered).
    public private(set) var currentNode: NodeID?
    /// Set when the execution has emitted `.hangup`.
    public private(set) var disposition: Disposition?
    /// Why the execution ended with `dialplan_error`, for the log.
    public private(set) var failureReason: String?
    /// The dialplan's own variables (`set`, `collect`), by name.
    public private(set) var variables: [String: String] = [:]
    /// Every ticket annotation so far, merged: what the ticket says about the call.
    public private(set) var ticket = TicketAnnotation()
    /// Whether to keep ``notes`` (off by default: the server has no use for them).
    public var recordsNotes = false
    /// What the execution decided and why, when ``recordsNotes`` is on: variables set, menu
    /// outcomes, branches taken, values `say` could not read.
    public private(set) var notes: [Note] = []

    /// Whether `.hangup` has been emitted; every later event is ignored.
    public var isFinished: Bool { disposition != nil }

    /// Whether a key now is taken as input: a menu or collect has played its prompt and waits for
    /// a key, or a recording runs (its terminator key stops it).
    public var isWaitingForKey: Bool {
        switch state {
        case .menu(let input), .collect(let input):
            if case .prompting = input.phase { return false }
            return true
        case .recording(let recording):
            if case .recording = recording.phase { return true }
            return false
        default:
            return false
        }
    }

    /// One decision worth showing in a trace.
    public enum Note: Sendable, Equatable, CustomStringConvertible {
        /// A `set` or `collect` gave a variable a value.
        case variableSet(String, String)
        /// A menu or collect outcome: `main_menu: key 3 → enterprise`, `collect_plate: no input, offered again`.
        case input(NodeID, String)
        /// A branch took a case (its condition) or `else`.
        case branch(NodeID, String, NodeID)
        /// Something went wrong but the call goes on (a value `say` could not read).
        case problem(NodeID, String)

        public var description: String {
            switch self {
            case .variableSet(let name, let value): "set \(name) = \"\(value)\""
            case .input(let node, let text): "\(node): \(text)"
            case .branch(let node, let condition, let next): "\(node): \(condition) → \(next)"
            case .problem(let node, let text): "\(node): \(text)"
            }
        }
    }

    private var state: State = .notStarted
    /// Keys that stopped a barge-in play (and any pressed right after), kept for the next menu.
    private var typeAhead: [DTMFKey] = []
    /// Where each active `call` returns to, innermost last.
    private var callStack: [NodeID] = []
    private var lastPlaybackID: UInt64 = 0
    private var lastTimerID: UInt64 = 0
    private var lastRecordingID: UInt64 = 0
    /// The `now` of the start or event being handled.
    private var now = Date(timeIntervalSince1970: 0)

    private enum State: Sendable {
        case notStarted
        case ringing(TimerID)
        case playing(PlaybackID, next: NodeID, bargeIn: Bool)
        case menu(InputState)
        case collect(InputState)
        case queued(onUnavailable: NodeID?)
        case transferring(onFailure: NodeID?)
        case recording(RecordState)
        case finished
    }

    /// A menu or collect waiting for the caller.
    private struct InputState: Sendable {
        var node: NodeID
        /// No-input and invalid outcomes so far; offered `failures + 1` times.
        var failures = 0
        var phase: Phase
        /// Keys entered in this attempt.
        var keys: [DTMFKey] = []

        enum Phase: Sendable, Equatable {
            /// The prompt plays; no key yet.
            case prompting(PlaybackID)
            /// The prompt ended; the first-key timer runs.
            case waiting(TimerID)
            /// Some keys are in; the inter-key timer runs.
            case entering(TimerID)
            /// Keys from type-ahead are being taken; no timer yet.
            case typeAhead
        }
    }

    private struct RecordState: Sendable {
        var node: NodeID
        var record: DialplanNode.Record
        var phase: Phase

        enum Phase: Sendable, Equatable {
            case beeping(PlaybackID)
            case recording(RecordingID)
            case stopping(RecordingID)
        }
    }

    private enum Failure {
        case noInput
        case invalidInput
    }

    /// What an input decision leads to.
    private enum Step {
        /// Leave for this node.
        case go(NodeID)
        /// The keys so far are incomplete: wait for more (the caller starts the inter-key timer).
        case needMore
        /// Waiting for something already requested (a re-offered prompt), or the call ended.
        case waiting
    }

    /// Prepares a call for `entry`; nothing happens until ``start(now:)``.
    public init(dialplan: Dialplan, entry: DialplanEntry, context: CallContext) {
        self.dialplan = dialplan
        self.entry = entry
        self.context = context
        self.language = dialplan.defaultLanguage
    }

    /// Sets a variable before the call starts, as a `set` node would: what the controller knows
    /// of a call it places (`${plate}` for a car owner's notice).
    public mutating func preset(_ name: String, _ value: String) {
        variables[name] = value
    }

    /// The ticket id is known now (the controller opens the ticket when it answers); `${ticket_id}`
    /// reads it from here on.
    public mutating func assignTicketID(_ id: String) {
        context.ticketID = id
    }

    /// Begins the call: rings first if the entry says so, else answers and enters the start node.
    /// A second call returns no commands.
    public mutating func start(now: Date) -> [DialplanCommand] {
        guard case .notStarted = state else { return [] }
        self.now = now
        var commands: [DialplanCommand] = []
        if entry.ring > .zero {
            let timer = newTimer()
            commands += [.ring, .startTimer(timer, entry.ring)]
            state = .ringing(timer)
        } else {
            commands.append(.answer)
            run(from: entry.start, into: &commands)
        }
        return commands
    }

    /// Feeds one event that happened at `now`; returns what to do about it (often nothing).
    public mutating func event(_ event: DialplanEvent, now: Date) -> [DialplanCommand] {
        self.now = now
        var commands: [DialplanCommand] = []
        if case .keyPressed(let key) = event, !isFinished {
            switch state {
            case .notStarted, .ringing, .finished: break
            default: keysPressed.append(key.rawValue)
            }
        }
        switch (state, event) {
        case (.ringing(let timer), .timerFired(let fired)) where fired == timer:
            commands.append(.answer)
            run(from: entry.start, into: &commands)

        case (.playing(let playback, let next, _), .playbackFinished(let finished)) where finished == playback:
            run(from: next, into: &commands)

        case (.playing(let playback, let next, let bargeIn), .keyPressed(let key)):
            if bargeIn {
                commands.append(.stopPlayback(playback))
                typeAhead.append(key)
                run(from: next, into: &commands)
            }

        case (.menu(var input), .playbackFinished(let finished)) where input.phase == .prompting(finished),
            (.collect(var input), .playbackFinished(let finished)) where input.phase == .prompting(finished):
            let timer = newTimer()
            commands.append(.startTimer(timer, inputTimeouts(input.node).first))
            input.phase = .waiting(timer)
            setInput(input)

        case (.menu(var input), .timerFired(let fired)), (.collect(var input), .timerFired(let fired)):
            let step: Step
            switch input.phase {
            case .waiting(let timer) where timer == fired:
                step = fail(.noInput, in: &input, into: &commands)
            case .entering(let timer) where timer == fired:
                step = complete(&input, into: &commands)
            default:
                return []  // stale
            }
            carryOut(step, input: &input, into: &commands)

        case (.menu(var input), .keyPressed(let key)), (.collect(var input), .keyPressed(let key)):
            switch input.phase {
            case .prompting(let playback): commands.append(.stopPlayback(playback))
            case .waiting(let timer), .entering(let timer): commands.append(.cancelTimer(timer))
            case .typeAhead: break
            }
            let step = take(key, in: &input, into: &commands)
            carryOut(step, input: &input, into: &commands)

        case (.queued(let onUnavailable), .queueUnavailable):
            if let onUnavailable {
                run(from: onUnavailable, into: &commands)
            } else {
                finish(.notRouted, into: &commands)
            }

        case (.transferring, .transferSucceeded):
            finish(.transferred, into: &commands)

        case (.transferring(let onFailure), .transferFailed):
            if let onFailure {
                run(from: onFailure, into: &commands)
            } else {
                finish(.notRouted, into: &commands)
            }

        case (.recording(var recording), .playbackFinished(let finished)) where recording.phase == .beeping(finished):
            let id = newRecording()
            commands.append(.startRecording(id, maxDuration: recording.record.maxDuration))
            recording.phase = .recording(id)
            state = .recording(recording)

        case (.recording(var recording), .keyPressed(let key)):
            if case .recording(let id) = recording.phase, key == recording.record.terminator {
                commands.append(.stopRecording(id))
                recording.phase = .stopping(id)
                state = .recording(recording)
            }

        case (.recording(let recording), .recordingFinished(let finished, let duration)):
            switch recording.phase {
            case .recording(let id) where id == finished, .stopping(let id) where id == finished:
                let next = duration == .zero ? recording.record.onFailure ?? recording.record.next : recording.record.next
                note(.input(recording.node, "recorded \(DurationSyntax.format(duration)) → \(next)"))
                run(from: next, into: &commands)
            default:
                break
            }

        default:
            // Stale ids, events before start or after hangup, keys while ringing or queued: nothing to do.
            break
        }
        return commands
    }

    // MARK: - Walking nodes

    /// Enters `start` and follows nodes until one waits or the call ends.
    private mutating func run(from start: NodeID, into commands: inout [DialplanCommand]) {
        var target = start
        var entered = 0
        while true {
            entered += 1
            guard entered <= DialplanExecution.maxTransitionsWithoutWaiting else {
                fail(reason: "entered \(DialplanExecution.maxTransitionsWithoutWaiting) nodes without waiting, "
                    + "last at node '\(target)'", into: &commands)
                return
            }
            guard let node = dialplan.nodes[target] else {
                // The loader rejects undefined targets; a hand-built Dialplan might not.
                fail(reason: "node '\(target)' does not exist", into: &commands)
                return
            }
            currentNode = target
            switch node.kind {
            case .play(let play):
                guard let next = startPlayback(play.prompts, bargeIn: play.bargeIn, next: play.next, into: &commands) else {
                    return
                }
                target = next

            case .say(let say):
                var spoken: [String] = []
                switch say.format.fragments(for: render(say.value), in: language) {
                case .success(let fragments): spoken = fragments
                case .failure(let error): note(.problem(target, "cannot say: \(error)"))
                }
                guard let next = startPlayback(say.before + spoken + say.after, bargeIn: say.bargeIn, next: say.next,
                                               into: &commands)
                else { return }
                target = next

            case .menu, .collect:
                var input = InputState(node: target, phase: .typeAhead)
                if typeAhead.isEmpty {
                    offer(&input, after: nil, into: &commands)
                    return
                }
                switch takeTypeAhead(&input, into: &commands) {
                case .go(let next): target = next
                case .needMore, .waiting: return
                }

            case .set(let set):
                for assignment in set.assignments {
                    let value = render(assignment.value)
                    variables[assignment.name] = value
                    note(.variableSet(assignment.name, value))
                }
                target = set.next

            case .branch(let branch):
                if let chosen = branch.cases.first(where: { holds($0.condition) }) {
                    note(.branch(target, "\(chosen.condition)", chosen.next))
                    target = chosen.next
                } else {
                    note(.branch(target, "else", branch.otherwise))
                    target = branch.otherwise
                }

            case .goto(let goto):
                target = goto.next

            case .call(let call):
                guard callStack.count < DialplanExecution.maxCallDepth else {
                    fail(reason: "calls nested more than \(DialplanExecution.maxCallDepth) deep at node '\(target)'",
                         into: &commands)
                    return
                }
                callStack.append(call.next)
                target = call.flow

            case .return:
                guard let back = callStack.popLast() else {
                    fail(reason: "return node '\(target)' reached outside any call", into: &commands)
                    return
                }
                target = back

            case .language(let change):
                language = change.language
                commands.append(.setLanguage(change.language))
                target = change.next

            case .ticket(let node):
                var annotation = TicketAnnotation(businessLine: node.businessLine, category: node.category,
                                                  resolution: node.resolution)
                for field in node.summary { annotation.summary[field.name] = render(field.value) }
                ticket = ticket.merging(annotation)
                commands.append(.annotateTicket(annotation))
                target = node.next

            case .queue(let queue):
                commands.append(.enqueue(QueueRequest(queue: queue.queue, priority: queue.priority, skills: queue.skills,
                                                      language: language)))
                state = .queued(onUnavailable: queue.onUnavailable)
                return

            case .transfer(let transfer):
                typeAhead = []
                commands.append(.transfer(transfer.to))
                state = .transferring(onFailure: transfer.onFailure)
                return

            case .record(let record):
                typeAhead = []
                if let beep = record.beep {
                    let playback = newPlayback()
                    commands.append(.play(playback, prompts([beep])))
                    state = .recording(RecordState(node: target, record: record, phase: .beeping(playback)))
                } else {
                    let id = newRecording()
                    commands.append(.startRecording(id, maxDuration: record.maxDuration))
                    state = .recording(RecordState(node: target, record: record, phase: .recording(id)))
                }
                return

            case .hangup(let hangup):
                finish(hangup.disposition, into: &commands)
                return
            }
        }
    }

    /// Plays `names` for a play or say node, or returns the node to go to at once (barge-in with
    /// type-ahead kept, or nothing to play).
    private mutating func startPlayback(
        _ names: [String], bargeIn: Bool, next: NodeID, into commands: inout [DialplanCommand]
    ) -> NodeID? {
        if bargeIn, !typeAhead.isEmpty { return next }
        if !bargeIn { typeAhead = [] }
        guard !names.isEmpty else { return next }
        let playback = newPlayback()
        commands.append(.play(playback, prompts(names)))
        state = .playing(playback, next: next, bargeIn: bargeIn)
        return nil
    }

    // MARK: - Menus and collects

    /// The first-key and inter-key timeouts of the menu or collect `node`.
    private func inputTimeouts(_ node: NodeID) -> (first: Duration, next: Duration) {
        switch dialplan.nodes[node]?.kind {
        case .menu(let menu): (menu.timeout, menu.interKeyTimeout)
        case .collect(let collect): (collect.timeout, collect.interKeyTimeout)
        default: (.seconds(5), .seconds(2))
        }
    }

    private mutating func setInput(_ input: InputState) {
        if case .collect = dialplan.nodes[input.node]?.kind { state = .collect(input) } else { state = .menu(input) }
    }

    /// Acts on an input step taken while handling an event.
    private mutating func carryOut(_ step: Step, input: inout InputState, into commands: inout [DialplanCommand]) {
        switch step {
        case .go(let next):
            run(from: next, into: &commands)
        case .needMore:
            let timer = newTimer()
            commands.append(.startTimer(timer, inputTimeouts(input.node).next))
            input.phase = .entering(timer)
            setInput(input)
        case .waiting:
            break
        }
    }

    /// Feeds kept type-ahead keys to a menu or collect just entered.
    private mutating func takeTypeAhead(_ input: inout InputState, into commands: inout [DialplanCommand]) -> Step {
        setInput(input)
        while !typeAhead.isEmpty {
            let key = typeAhead.removeFirst()
            switch take(key, in: &input, into: &commands) {
            case .go(let next):
                return .go(next)  // the rest stays type-ahead for the next node
            case .needMore:
                continue
            case .waiting:
                typeAhead = []
                return .waiting
            }
        }
        carryOut(.needMore, input: &input, into: &commands)
        return .needMore
    }

    /// One key at a menu or collect.
    private mutating func take(_ key: DTMFKey, in input: inout InputState, into commands: inout [DialplanCommand]) -> Step {
        switch dialplan.nodes[input.node]?.kind {
        case .menu(let menu):
            input.keys.append(key)
            let entered = KeySequence(input.keys)
            if menu.keys.keys.contains(where: { $0.count > entered.count && $0.hasPrefix(entered) }) { return .needMore }
            return complete(&input, into: &commands)
        case .collect(let collect):
            if key == collect.terminator { return complete(&input, into: &commands) }
            input.keys.append(key)
            return input.keys.count >= collect.maxLength ? complete(&input, into: &commands) : .needMore
        default:
            return .waiting
        }
    }

    /// The keys of this attempt are all in: follow the option, store the value, or count a failure.
    private mutating func complete(_ input: inout InputState, into commands: inout [DialplanCommand]) -> Step {
        switch dialplan.nodes[input.node]?.kind {
        case .menu(let menu):
            guard !input.keys.isEmpty else { return fail(.noInput, in: &input, into: &commands) }
            let entered = KeySequence(input.keys)
            guard let next = menu.keys[entered] else { return fail(.invalidInput, in: &input, into: &commands) }
            menuPath.append("\(input.node):\(entered)")
            note(.input(input.node, "key \(entered) → \(next)"))
            return .go(next)
        case .collect(let collect):
            let value = String(input.keys.map(\.rawValue))
            guard !value.isEmpty else { return fail(.noInput, in: &input, into: &commands) }
            guard value.count >= collect.minLength, collect.pattern.map({ DialplanExecution.wholeMatch(value, $0) }) ?? true
            else { return fail(.invalidInput, in: &input, into: &commands) }
            variables[collect.variable] = value
            menuPath.append("\(input.node):collected")
            note(.variableSet(collect.variable, value))
            return .go(collect.next)
        default:
            return .waiting
        }
    }

    /// One failed attempt: offer the menu again while retries remain, else leave it.
    private mutating func fail(_ failure: Failure, in input: inout InputState, into commands: inout [DialplanCommand]) -> Step {
        let (retries, noInputPrompt, invalidPrompt, noInputTarget, invalidTarget): (Int, String?, String?, NodeID?, NodeID?)
        switch dialplan.nodes[input.node]?.kind {
        case .menu(let menu): (retries, noInputPrompt, invalidPrompt, noInputTarget, invalidTarget) =
            (menu.retries, menu.noInputPrompt, menu.invalidPrompt, menu.noInputTarget, menu.invalidTarget)
        case .collect(let collect): (retries, noInputPrompt, invalidPrompt, noInputTarget, invalidTarget) =
            (collect.retries, collect.noInputPrompt, collect.invalidPrompt, collect.noInputTarget, collect.invalidTarget)
        default: return .waiting
        }
        let what = failure == .noInput ? "no input" : "invalid input \(String(input.keys.map(\.rawValue)))"
        input.failures += 1
        input.keys = []
        if input.failures <= retries {
            note(.input(input.node, "\(what), offered again (\(input.failures + 1) of \(retries + 1))"))
            offer(&input, after: failure == .noInput ? noInputPrompt : invalidPrompt, into: &commands)
            return .waiting
        }
        menuPath.append("\(input.node):\(failure == .noInput ? "no_input" : "invalid_input")")
        if let next = failure == .noInput ? noInputTarget : invalidTarget {
            note(.input(input.node, "\(what), retries used up → \(next)"))
            return .go(next)
        }
        note(.input(input.node, "\(what), retries used up"))
        finish(failure == .noInput ? .noInput : .invalidInput, into: &commands)
        return .waiting
    }

    /// Plays the menu or collect prompt (after `prefix`, if any) and waits for it.
    private mutating func offer(_ input: inout InputState, after prefix: String?, into commands: inout [DialplanCommand]) {
        let prompt: String
        switch dialplan.nodes[input.node]?.kind {
        case .menu(let menu): prompt = menu.prompt
        case .collect(let collect): prompt = collect.prompt
        default: return
        }
        let playback = newPlayback()
        commands.append(.play(playback, prompts([prefix, prompt].compactMap { $0 })))
        input.phase = .prompting(playback)
        setInput(input)
    }

    // MARK: - Values and conditions

    /// The value of a variable: a built-in, a dialplan variable, or empty.
    public func value(of name: String) -> String {
        switch name {
        case Variables.caller: context.caller
        case Variables.dialledNumber: context.dialledNumber
        case Variables.time: DialplanExecution.iso8601(now, in: dialplan.timeZone ?? TimeZone(identifier: "UTC")!)
        case Variables.language: language.rawValue
        case Variables.keys: keysPressed
        case Variables.ticketID: context.ticketID ?? ""
        default: variables[name] ?? ""
        }
    }

    private func render(_ template: Template) -> String {
        template.render { value(of: $0) }
    }

    /// Whether `condition` holds now.
    private func holds(_ condition: Condition) -> Bool {
        switch condition {
        case .variable(let name, let test):
            let value = value(of: name)
            switch test {
            case .equals(let expected): return value == expected
            case .notEquals(let expected): return value != expected
            case .oneOf(let values): return values.contains(value)
            case .matches(let pattern): return DialplanExecution.wholeMatch(value, pattern)
            case .isSet: return !value.isEmpty
            }
        case .callerPrefix(let prefixes):
            return prefixes.contains { context.caller.hasPrefix($0) }
        case .calendar(let name, let test):
            guard let calendar = dialplan.calendars[name] else { return false }
            switch test {
            case .open: return calendar.isOpen(at: now)
            case .holiday: return calendar.isHoliday(now)
            case .workingDay: return calendar.isWorkingDay(now)
            }
        case .season(let name):
            guard let season = dialplan.seasons[name] else { return false }
            return season.contains(now, in: dialplan.timeZone ?? TimeZone(identifier: "UTC")!)
        case .not(let inner):
            return !holds(inner)
        case .all(let conditions):
            return conditions.allSatisfy { holds($0) }
        case .any(let conditions):
            return conditions.contains { holds($0) }
        }
    }

    /// Whether the whole of `value` matches the regular expression `pattern` (validated at load).
    static func wholeMatch(_ value: String, _ pattern: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return value.wholeMatch(of: regex) != nil
    }

    /// `2026-12-01T20:00:00+08:00`: the local time in `zone` with its offset.
    public static func iso8601(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let offset = zone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let zoneText = offset == 0 ? "Z" : "\(sign)\(two(abs(offset) / 3600)):\(two(abs(offset) % 3600 / 60))"
        return "\(c.year!)-\(two(c.month!))-\(two(c.day!))T\(two(c.hour!)):\(two(c.minute!)):\(two(c.second!))\(zoneText)"
    }

    // MARK: - Ending and ids

    private mutating func fail(reason: String, into commands: inout [DialplanCommand]) {
        failureReason = reason
        finish(.dialplanError, into: &commands)
    }

    private mutating func finish(_ disposition: Disposition, into commands: inout [DialplanCommand]) {
        self.disposition = disposition
        state = .finished
        typeAhead = []
        commands.append(.hangup(disposition: disposition))
    }

    private mutating func note(_ note: Note) {
        if recordsNotes { notes.append(note) }
    }

    private func prompts(_ names: [String]) -> [PromptRef] {
        names.map { PromptRef(language: language, name: $0) }
    }

    private mutating func newPlayback() -> PlaybackID {
        lastPlaybackID += 1
        return PlaybackID(rawValue: lastPlaybackID)
    }

    private mutating func newTimer() -> TimerID {
        lastTimerID += 1
        return TimerID(rawValue: lastTimerID)
    }

    private mutating func newRecording() -> RecordingID {
        lastRecordingID += 1
        return RecordingID(rawValue: lastRecordingID)
    }
}
