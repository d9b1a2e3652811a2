/// One call walking through a dialplan: a sans-IO state machine.
///
/// The execution knows nothing of SIP, RTP or clocks. The call controller calls ``start()`` once,
/// then ``event(_:)`` for each playback end, key and timer, and carries out the returned
/// ``DialplanCommand``s in order. Time enters only as `.startTimer` durations and `.timerFired`
/// events, so a test (or `hotline dialplan simulate`) drives a whole call with no clock at all.
///
/// Rules the controller can rely on:
/// - Stale ids are ignored: a `.playbackFinished` or `.timerFired` that does not name the
///   playback or timer the execution is waiting for changes nothing and returns no commands.
/// - After `.hangup` the execution is finished and ignores every event.
/// - Between two waits (for playback, a key, a timer or the queue) at most
///   ``maxTransitionsWithoutWaiting`` nodes are entered; a flow that loops without waiting ends
///   with `.hangup(disposition: .dialplanError)` instead of spinning the controller's thread.
///
/// Menus:
/// - The prompt is played with barge-in. A key during the prompt stops it (`.stopPlayback`); a key
///   after it cancels the timeout timer (`.cancelTimer`).
/// - When the prompt ends, the `timeout` timer starts; if it fires, that is no input.
/// - A valid key follows its node. No input or an invalid key counts one failure; while failures
///   are at most `retries`, the menu is offered again, preceded by `no_input_prompt` or
///   `invalid_prompt` if set. The next failure follows `on_no_input`/`on_invalid` (else
///   `on_failure`), or hangs up with `no_input`/`invalid_input` when no branch is set.
///
/// Play nodes: with `barge_in: true` a key stops the prompts, the flow goes to `next`, and the key
/// is kept as type-ahead for the next menu, which takes it as its answer without playing its
/// prompt. A barge-in play reached while a type-ahead key is kept is skipped. Without barge-in,
/// keys are ignored (still recorded in ``keysPressed``) and a kept type-ahead key is dropped: the
/// caller is made to listen, so the next menu should be heard too.
public struct DialplanExecution: Sendable {
    /// The most nodes entered in a row without waiting for anything.
    public static let maxTransitionsWithoutWaiting = 100

    /// The dialplan this call started with; a reload does not affect it.
    public let dialplan: Dialplan
    public let entry: DialplanEntry
    public let context: CallContext

    /// The language prompts are played in; starts at the dialplan's default.
    public private(set) var language: Language
    /// Every key the caller pressed after the call was answered, in order, including invalid and
    /// ignored ones (e.g. `"913"`).
    public private(set) var keysPressed: String = ""
    /// How the caller left each menu: `main_menu:3` for a key, `main_menu:no_input` or
    /// `main_menu:invalid_input` when retries ran out.
    public private(set) var menuPath: [String] = []
    /// The node the call is at (the last one entered).
    public private(set) var currentNode: NodeID?
    /// Set when the execution has emitted `.hangup`.
    public private(set) var disposition: Disposition?
    /// Why the execution ended with `dialplan_error`, for the log.
    public private(set) var failureReason: String?

    /// Whether `.hangup` has been emitted; every later event is ignored.
    public var isFinished: Bool { disposition != nil }

    /// Whether a menu's prompt has ended and it is waiting for a key (its timeout timer runs).
    public var isWaitingForKey: Bool {
        if case .menu(let menu) = state, case .waiting = menu.phase { return true }
        return false
    }

    private var state: State = .notStarted
    /// A key that stopped a barge-in play, kept for the next menu.
    private var typeAhead: DTMFKey?
    private var lastPlaybackID: UInt64 = 0
    private var lastTimerID: UInt64 = 0

    private enum State: Sendable {
        case notStarted
        case ringing(TimerID)
        case playing(PlaybackID, Play)
        case menu(MenuState)
        case queued(onUnavailable: NodeID?)
        case finished
    }

    private struct Play: Sendable {
        var next: NodeID
        var bargeIn: Bool
    }

    private struct MenuState: Sendable {
        var node: NodeID
        var menu: DialplanNode.Menu
        /// No-input and invalid-key outcomes so far; the menu has been offered `failures + 1` times.
        var failures: Int = 0
        var phase: Phase

        enum Phase: Sendable, Equatable {
            case prompting(PlaybackID)
            case waiting(TimerID)
        }
    }

    private enum Failure {
        case noInput
        case invalidInput
    }

    /// What a menu decision leads to.
    private enum Step {
        case go(NodeID)
        case wait
        case finished
    }

    /// Prepares a call for `entry`; nothing happens until ``start()``.
    public init(dialplan: Dialplan, entry: DialplanEntry, context: CallContext) {
        self.dialplan = dialplan
        self.entry = entry
        self.context = context
        self.language = dialplan.defaultLanguage
    }

    /// Begins the call: rings first if the entry says so, else answers and enters the start node.
    /// A second call returns no commands.
    public mutating func start() -> [DialplanCommand] {
        guard case .notStarted = state else { return [] }
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

    /// Feeds one event; returns what to do about it (often nothing).
    public mutating func event(_ event: DialplanEvent) -> [DialplanCommand] {
        var commands: [DialplanCommand] = []
        switch (state, event) {
        case (.ringing(let timer), .timerFired(let fired)) where fired == timer:
            commands.append(.answer)
            run(from: entry.start, into: &commands)

        case (.playing(let playback, let play), .playbackFinished(let finished)) where finished == playback:
            run(from: play.next, into: &commands)

        case (.playing(let playback, let play), .keyPressed(let key)):
            keysPressed.append(key.rawValue)
            if play.bargeIn {
                commands.append(.stopPlayback(playback))
                typeAhead = key
                run(from: play.next, into: &commands)
            }

        case (.menu(var menu), .playbackFinished(let finished)) where menu.phase == .prompting(finished):
            let timer = newTimer()
            commands.append(.startTimer(timer, menu.menu.timeout))
            menu.phase = .waiting(timer)
            state = .menu(menu)

        case (.menu(var menu), .timerFired(let fired)) where menu.phase == .waiting(fired):
            continueAfter(fail(.noInput, in: &menu, into: &commands), into: &commands)

        case (.menu(var menu), .keyPressed(let key)):
            keysPressed.append(key.rawValue)
            switch menu.phase {
            case .prompting(let playback): commands.append(.stopPlayback(playback))
            case .waiting(let timer): commands.append(.cancelTimer(timer))
            }
            continueAfter(select(key, in: &menu, into: &commands), into: &commands)

        case (.queued(let onUnavailable), .queueUnavailable):
            if let onUnavailable {
                run(from: onUnavailable, into: &commands)
            } else {
                finish(.notRouted, into: &commands)
            }

        case (.queued, .keyPressed(let key)):
            keysPressed.append(key.rawValue)

        default:
            // Stale ids, events before start or after hangup, keys while ringing: nothing to do.
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
                failureReason = "entered \(DialplanExecution.maxTransitionsWithoutWaiting) nodes without waiting, "
                    + "last at node '\(target)'"
                finish(.dialplanError, into: &commands)
                return
            }
            guard let node = dialplan.nodes[target] else {
                // The loader rejects undefined targets; a hand-built Dialplan might not.
                failureReason = "node '\(target)' does not exist"
                finish(.dialplanError, into: &commands)
                return
            }
            currentNode = target
            switch node.kind {
            case .play(let play):
                if play.bargeIn, typeAhead != nil {
                    target = play.next
                    continue
                }
                if !play.bargeIn { typeAhead = nil }
                let playback = newPlayback()
                commands.append(.play(playback, prompts(play.prompts)))
                state = .playing(playback, Play(next: play.next, bargeIn: play.bargeIn))
                return

            case .menu(let menu):
                var menuState = MenuState(node: target, menu: menu, phase: .prompting(PlaybackID(rawValue: 0)))
                guard let key = typeAhead else {
                    offer(&menuState, after: nil, into: &commands)
                    return
                }
                typeAhead = nil
                switch select(key, in: &menuState, into: &commands) {
                case .go(let next): target = next
                case .wait, .finished: return
                }

            case .language(let change):
                language = change.language
                commands.append(.setLanguage(change.language))
                target = change.next

            case .ticket(let ticket):
                commands.append(.annotateTicket(ticket.annotation))
                target = ticket.next

            case .queue(let queue):
                commands.append(.enqueue(queue: queue.queue, language: language))
                state = .queued(onUnavailable: queue.onUnavailable)
                return

            case .hangup(let hangup):
                finish(hangup.disposition, into: &commands)
                return
            }
        }
    }

    /// Carries out a menu decision made while handling an event.
    private mutating func continueAfter(_ step: Step, into commands: inout [DialplanCommand]) {
        if case .go(let next) = step { run(from: next, into: &commands) }
    }

    /// A key at a menu: follow it, or count an invalid input.
    private mutating func select(_ key: DTMFKey, in menu: inout MenuState, into commands: inout [DialplanCommand]) -> Step {
        if let next = menu.menu.keys[key] {
            menuPath.append("\(menu.node):\(key)")
            return .go(next)
        }
        return fail(.invalidInput, in: &menu, into: &commands)
    }

    /// One failed attempt: offer the menu again while retries remain, else leave it.
    private mutating func fail(_ failure: Failure, in menu: inout MenuState, into commands: inout [DialplanCommand]) -> Step {
        menu.failures += 1
        if menu.failures <= menu.menu.retries {
            let prefix = failure == .noInput ? menu.menu.noInputPrompt : menu.menu.invalidPrompt
            offer(&menu, after: prefix, into: &commands)
            return .wait
        }
        menuPath.append("\(menu.node):\(failure == .noInput ? "no_input" : "invalid_input")")
        if let next = failure == .noInput ? menu.menu.noInputTarget : menu.menu.invalidTarget {
            return .go(next)
        }
        finish(failure == .noInput ? .noInput : .invalidInput, into: &commands)
        return .finished
    }

    /// Plays the menu prompt (after `prefix`, if any) and waits for it.
    private mutating func offer(_ menu: inout MenuState, after prefix: String?, into commands: inout [DialplanCommand]) {
        let playback = newPlayback()
        commands.append(.play(playback, prompts([prefix, menu.menu.prompt].compactMap { $0 })))
        menu.phase = .prompting(playback)
        state = .menu(menu)
    }

    private mutating func finish(_ disposition: Disposition, into commands: inout [DialplanCommand]) {
        self.disposition = disposition
        state = .finished
        typeAhead = nil
        commands.append(.hangup(disposition: disposition))
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
}
