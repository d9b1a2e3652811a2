/// One step of a call flow, as written under `nodes:`.
///
/// The node types form a closed enum on purpose: they are the language, and the interpreter must
/// handle every one; adding a type is a compile error everywhere it needs a decision.
public struct DialplanNode: Sendable, Equatable, Identifiable {
    public var id: NodeID
    public var kind: Kind
    /// Where the node's name is written (in the file that defines it, which may be an included one).
    public var location: DialplanLocation
    /// Where each value inside the node is written, by key path relative to the node
    /// (`next`, `prompts.0`, `keys.3`), so later checks can point at the exact value.
    public var fieldLocations: [String: DialplanLocation]

    public init(id: NodeID, kind: Kind, location: DialplanLocation, fieldLocations: [String: DialplanLocation] = [:]) {
        self.id = id
        self.kind = kind
        self.location = location
        self.fieldLocations = fieldLocations
    }

    /// What a node does.
    public enum Kind: Sendable, Equatable {
        /// `type: play`: play prompts in order, then go on.
        case play(Play)
        /// `type: menu`: offer keys, retry on no or invalid input.
        case menu(Menu)
        /// `type: say`: read a value (digits, a number, a date, a time) from recorded fragments.
        case say(Say)
        /// `type: collect`: gather several keys into a variable.
        case collect(Collect)
        /// `type: set`: give variables values.
        case set(SetVariables)
        /// `type: branch`: the first case whose condition holds, else `else`.
        case branch(Branch)
        /// `type: goto`: go on to another node (a named junction).
        case goto(Goto)
        /// `type: call`: run a sub-flow; its `return` comes back to `next`.
        case call(CallFlow)
        /// `type: return`: back to the `next` of the innermost `call`.
        case `return`
        /// `type: language`: switch the prompt language.
        case language(SwitchLanguage)
        /// `type: queue`: hand the call to a queue.
        case queue(Queue)
        /// `type: transfer`: blind-transfer the call to an allowed SIP URI.
        case transfer(Transfer)
        /// `type: record`: record a message from the caller.
        case record(Record)
        /// `type: ticket`: annotate the call's ticket.
        case ticket(Ticket)
        /// `type: hangup`: end the call with a disposition.
        case hangup(Hangup)
    }

    /// `type: play`.
    public struct Play: Sendable, Equatable {
        /// Prompt names, played back to back as one playback.
        public var prompts: [String]
        /// Whether a key stops the prompts and is kept for the next menu (type-ahead). Without
        /// barge-in, keys are ignored while the prompts play.
        public var bargeIn: Bool
        public var next: NodeID

        public init(prompts: [String], bargeIn: Bool = false, next: NodeID) {
            self.prompts = prompts
            self.bargeIn = bargeIn
            self.next = next
        }
    }

    /// `type: menu`.
    public struct Menu: Sendable, Equatable {
        /// The menu prompt; keys barge in on it.
        public var prompt: String
        /// How long to wait for the first key once the prompt has ended.
        public var timeout: Duration
        /// How long to wait for the next key while the keys so far start a longer option.
        public var interKeyTimeout: Duration
        /// How many more times the menu is offered after a no-input or invalid key; the menu is
        /// offered at most `1 + retries` times in all.
        public var retries: Int
        /// Played before the menu prompt when it is offered again after an invalid key.
        public var invalidPrompt: String?
        /// Played before the menu prompt when it is offered again after no input.
        public var noInputPrompt: String?
        /// Options: one or more keys → node.
        public var keys: [KeySequence: NodeID]
        public var onNoInput: NodeID?
        public var onInvalid: NodeID?
        /// Where to go when retries run out and the specific branch is not set.
        public var onFailure: NodeID?

        public init(
            prompt: String, timeout: Duration, interKeyTimeout: Duration = .seconds(2), retries: Int,
            invalidPrompt: String? = nil, noInputPrompt: String? = nil, keys: [KeySequence: NodeID],
            onNoInput: NodeID? = nil, onInvalid: NodeID? = nil, onFailure: NodeID? = nil
        ) {
            self.prompt = prompt
            self.timeout = timeout
            self.interKeyTimeout = interKeyTimeout
            self.retries = retries
            self.invalidPrompt = invalidPrompt
            self.noInputPrompt = noInputPrompt
            self.keys = keys
            self.onNoInput = onNoInput
            self.onInvalid = onInvalid
            self.onFailure = onFailure
        }

        /// Where no input goes once retries run out; `nil` hangs up with `no_input`.
        public var noInputTarget: NodeID? { onNoInput ?? onFailure }
        /// Where invalid keys go once retries run out; `nil` hangs up with `invalid_input`.
        public var invalidTarget: NodeID? { onInvalid ?? onFailure }
    }

    /// `type: say`.
    public struct Say: Sendable, Equatable {
        /// Prompts played before the value (`you_entered`).
        public var before: [String]
        /// The value to read, e.g. `"${plate}"`.
        public var value: Template
        /// How to read it.
        public var format: SayFormat
        /// Prompts played after the value.
        public var after: [String]
        /// As for `play`: a key stops the playback and is kept as type-ahead.
        public var bargeIn: Bool
        public var next: NodeID

        public init(before: [String] = [], value: Template, format: SayFormat, after: [String] = [],
                    bargeIn: Bool = false, next: NodeID) {
            self.before = before
            self.value = value
            self.format = format
            self.after = after
            self.bargeIn = bargeIn
            self.next = next
        }
    }

    /// `type: collect`.
    public struct Collect: Sendable, Equatable {
        /// Asks for the keys; the first key interrupts it.
        public var prompt: String
        /// The variable that receives the keys (terminator excluded).
        public var variable: String
        /// Fewer keys than this are an invalid input.
        public var minLength: Int
        /// The input ends by itself when this many keys are in.
        public var maxLength: Int
        /// Ends the input early; never part of the value. `nil`: no terminator.
        public var terminator: DTMFKey?
        /// A regular expression the whole value must match (checked after the lengths).
        public var pattern: String?
        /// How long to wait for the first key once the prompt has ended.
        public var timeout: Duration
        /// How long to wait for each further key; when it runs out the input is complete.
        public var interKeyTimeout: Duration
        /// As for menus: the prompt is offered at most `1 + retries` times.
        public var retries: Int
        /// Played before the prompt when it is offered again after an invalid input.
        public var invalidPrompt: String?
        /// Played before the prompt when it is offered again after no input.
        public var noInputPrompt: String?
        /// Where a valid value goes (it is stored in ``variable`` first).
        public var next: NodeID
        public var onNoInput: NodeID?
        public var onInvalid: NodeID?
        /// Where to go when retries run out and the specific branch is not set.
        public var onFailure: NodeID?

        public init(
            prompt: String, variable: String, minLength: Int = 1, maxLength: Int, terminator: DTMFKey? = "#",
            pattern: String? = nil, timeout: Duration = .seconds(5), interKeyTimeout: Duration = .seconds(3),
            retries: Int = 2, invalidPrompt: String? = nil, noInputPrompt: String? = nil, next: NodeID,
            onNoInput: NodeID? = nil, onInvalid: NodeID? = nil, onFailure: NodeID? = nil
        ) {
            self.prompt = prompt
            self.variable = variable
            self.minLength = minLength
            self.maxLength = maxLength
            self.terminator = terminator
            self.pattern = pattern
            self.timeout = timeout
            self.interKeyTimeout = interKeyTimeout
            self.retries = retries
            self.invalidPrompt = invalidPrompt
            self.noInputPrompt = noInputPrompt
            self.next = next
            self.onNoInput = onNoInput
            self.onInvalid = onInvalid
            self.onFailure = onFailure
        }

        /// Where no input goes once retries run out; `nil` hangs up with `no_input`.
        public var noInputTarget: NodeID? { onNoInput ?? onFailure }
        /// Where invalid input goes once retries run out; `nil` hangs up with `invalid_input`.
        public var invalidTarget: NodeID? { onInvalid ?? onFailure }
    }

    /// One `name: template` of a `set` node or a ticket's `summary`.
    public struct Assignment: Sendable, Equatable {
        /// The variable or summary field.
        public var name: String
        /// Rendered when the node runs.
        public var value: Template

        public init(_ name: String, _ value: Template) {
            self.name = name
            self.value = value
        }
    }

    /// `type: set`.
    public struct SetVariables: Sendable, Equatable {
        /// Applied in order, so a later value may read an earlier one.
        public var assignments: [Assignment]
        public var next: NodeID

        public init(assignments: [Assignment], next: NodeID) {
            self.assignments = assignments
            self.next = next
        }
    }

    /// `type: branch`.
    public struct Branch: Sendable, Equatable {
        /// One `if:`/`next:` pair.
        public struct Case: Sendable, Equatable {
            /// `if:`.
            public var condition: Condition
            /// Where the call goes when the condition holds.
            public var next: NodeID

            public init(_ condition: Condition, next: NodeID) {
                self.condition = condition
                self.next = next
            }
        }

        /// Tried in order; the first that holds wins.
        public var cases: [Case]
        /// `else:` where the call goes when no case holds.
        public var otherwise: NodeID

        public init(cases: [Case], otherwise: NodeID) {
            self.cases = cases
            self.otherwise = otherwise
        }
    }

    /// `type: goto`.
    public struct Goto: Sendable, Equatable {
        public var next: NodeID
        public init(next: NodeID) { self.next = next }
    }

    /// `type: call`.
    public struct CallFlow: Sendable, Equatable {
        /// The sub-flow's first node.
        public var flow: NodeID
        /// Where its `return` comes back to.
        public var next: NodeID

        public init(flow: NodeID, next: NodeID) {
            self.flow = flow
            self.next = next
        }
    }

    /// `type: language`.
    public struct SwitchLanguage: Sendable, Equatable {
        public var language: Language
        public var next: NodeID

        public init(language: Language, next: NodeID) {
            self.language = language
            self.next = next
        }
    }

    /// `type: queue`.
    ///
    /// A queue node has no `next`: when the queue takes the call, the call has left the dialplan.
    /// The flow continues only if the queue cannot take it (see ``DialplanEvent/queueUnavailable``).
    public struct Queue: Sendable, Equatable {
        /// One of the dialplan's declared `queues`.
        public var queue: String
        /// 0 (default) to 9; higher is served first.
        public var priority: Int
        /// Skills an agent must have, instead of the queue's own; `nil` keeps the queue's.
        public var skills: [String]?
        /// Where to go when the queue cannot take the call; `nil` hangs up with `not_routed`.
        public var onUnavailable: NodeID?

        public init(queue: String, priority: Int = 0, skills: [String]? = nil, onUnavailable: NodeID? = nil) {
            self.queue = queue
            self.priority = priority
            self.skills = skills
            self.onUnavailable = onUnavailable
        }
    }

    /// `type: transfer`.
    public struct Transfer: Sendable, Equatable {
        /// A SIP URI listed in the dialplan's `transfer_targets`.
        public var to: String
        /// Where to go when the transfer fails; `nil` hangs up with `not_routed`.
        public var onFailure: NodeID?

        public init(to: String, onFailure: NodeID? = nil) {
            self.to = to
            self.onFailure = onFailure
        }
    }

    /// `type: record`.
    public struct Record: Sendable, Equatable {
        /// Played before recording starts (a beep); `nil` starts at once.
        public var beep: String?
        /// The controller stops the recording after this long.
        public var maxDuration: Duration
        /// The key that ends the message.
        public var terminator: DTMFKey
        public var next: NodeID
        /// Where to go when nothing was recorded (zero duration); `nil`: `next` anyway.
        public var onFailure: NodeID?

        public init(beep: String? = nil, maxDuration: Duration, terminator: DTMFKey = "#", next: NodeID,
                    onFailure: NodeID? = nil) {
            self.beep = beep
            self.maxDuration = maxDuration
            self.terminator = terminator
            self.next = next
            self.onFailure = onFailure
        }
    }

    /// `type: ticket`.
    public struct Ticket: Sendable, Equatable {
        /// The line of business that owns the call, e.g. `enterprise`.
        public var businessLine: String?
        /// One of ``TicketAnnotation/categories``.
        public var category: String?
        /// How the request was handled, e.g. `direct_answer`.
        public var resolution: String?
        /// Summary fields, rendered when the node runs.
        public var summary: [Assignment]
        public var next: NodeID

        public init(businessLine: String? = nil, category: String? = nil, resolution: String? = nil,
                    summary: [Assignment] = [], next: NodeID) {
            self.businessLine = businessLine
            self.category = category
            self.resolution = resolution
            self.summary = summary
            self.next = next
        }
    }

    /// `type: hangup`.
    public struct Hangup: Sendable, Equatable {
        public var disposition: Disposition

        public init(disposition: Disposition = .completedInIVR) { self.disposition = disposition }
    }

    /// The YAML `type:` name.
    public var typeName: String {
        switch kind {
        case .play: "play"
        case .menu: "menu"
        case .say: "say"
        case .collect: "collect"
        case .set: "set"
        case .branch: "branch"
        case .goto: "goto"
        case .call: "call"
        case .return: "return"
        case .language: "language"
        case .queue: "queue"
        case .transfer: "transfer"
        case .record: "record"
        case .ticket: "ticket"
        case .hangup: "hangup"
        }
    }

    /// One way out of a node, for checks and graphs.
    public struct Edge: Sendable, Equatable {
        /// What takes this edge: a menu key, `no input`, a branch condition...; `nil` for plain `next`.
        public var label: String?
        public var target: NodeID
        /// The key path of the reference, relative to the node (`keys.3`, `cases.0.next`).
        public var keyPath: String
        /// `call`: the edge into a sub-flow (the flow comes back to the call's `next`).
        public var isCall: Bool

        public init(_ label: String?, _ target: NodeID, keyPath: String, isCall: Bool = false) {
            self.label = label
            self.target = target
            self.keyPath = keyPath
            self.isCall = isCall
        }
    }

    /// Every way out of this node, in source-key order (menu keys in keypad order).
    public var edges: [Edge] {
        func failures(noInput: NodeID?, invalid: NodeID?, failure: NodeID?) -> [Edge] {
            [noInput.map { Edge("no input", $0, keyPath: "on_no_input") },
             invalid.map { Edge("invalid", $0, keyPath: "on_invalid") },
             failure.map { Edge("failure", $0, keyPath: "on_failure") }].compactMap { $0 }
        }
        switch kind {
        case .play(let play): return [Edge(nil, play.next, keyPath: "next")]
        case .menu(let menu):
            return menu.keys.sorted { $0.key < $1.key }.map { Edge($0.key.rawValue, $0.value, keyPath: "keys.\($0.key)") }
                + failures(noInput: menu.onNoInput, invalid: menu.onInvalid, failure: menu.onFailure)
        case .say(let say): return [Edge(nil, say.next, keyPath: "next")]
        case .collect(let collect):
            return [Edge("collected", collect.next, keyPath: "next")]
                + failures(noInput: collect.onNoInput, invalid: collect.onInvalid, failure: collect.onFailure)
        case .set(let set): return [Edge(nil, set.next, keyPath: "next")]
        case .branch(let branch):
            return branch.cases.enumerated().map { Edge("\($0.element.condition)", $0.element.next, keyPath: "cases.\($0.offset).next") }
                + [Edge("else", branch.otherwise, keyPath: "else")]
        case .goto(let goto): return [Edge(nil, goto.next, keyPath: "next")]
        case .call(let call):
            return [Edge("call", call.flow, keyPath: "flow", isCall: true), Edge("after return", call.next, keyPath: "next")]
        case .return: return []
        case .language(let change): return [Edge(nil, change.next, keyPath: "next")]
        case .queue(let queue): return queue.onUnavailable.map { [Edge("unavailable", $0, keyPath: "on_unavailable")] } ?? []
        case .transfer(let transfer): return transfer.onFailure.map { [Edge("failed", $0, keyPath: "on_failure")] } ?? []
        case .record(let record):
            return [Edge(nil, record.next, keyPath: "next")]
                + (record.onFailure.map { [Edge("nothing recorded", $0, keyPath: "on_failure")] } ?? [])
        case .ticket(let ticket): return [Edge(nil, ticket.next, keyPath: "next")]
        case .hangup: return []
        }
    }

    /// Every node this one can go to, in ``edges`` order.
    public var successors: [NodeID] { edges.map(\.target) }

    /// The prompts this node names, each with its key path relative to the node. `say` nodes also
    /// play fragments chosen at run time; see ``SayFormat/fragments(in:)``.
    public var promptUses: [(keyPath: String, name: String)] {
        func list(_ key: String, _ names: [String]) -> [(keyPath: String, name: String)] {
            names.enumerated().map { ("\(key).\($0.offset)", $0.element) }
        }
        func optional(_ key: String, _ name: String?) -> [(keyPath: String, name: String)] {
            name.map { [(key, $0)] } ?? []
        }
        switch kind {
        case .play(let play): return list("prompts", play.prompts)
        case .menu(let menu):
            return [("prompt", menu.prompt)] + optional("invalid_prompt", menu.invalidPrompt)
                + optional("no_input_prompt", menu.noInputPrompt)
        case .say(let say): return list("before", say.before) + list("after", say.after)
        case .collect(let collect):
            return [("prompt", collect.prompt)] + optional("invalid_prompt", collect.invalidPrompt)
                + optional("no_input_prompt", collect.noInputPrompt)
        case .record(let record): return optional("beep", record.beep)
        case .set, .branch, .goto, .call, .return, .language, .queue, .transfer, .ticket, .hangup:
            return []
        }
    }

    /// Whether the node waits for the caller's keys and acts on them (a menu or a collect): a loop
    /// through such a node is in the caller's hands.
    public var takesInput: Bool {
        switch kind {
        case .menu, .collect: true
        default: false
        }
    }

    /// Whether the node waits for anything at all (media, keys, the queue, the transfer) before it
    /// moves on; the others pass straight through in the same instant.
    public var waits: Bool {
        switch kind {
        case .play, .menu, .say, .collect, .queue, .transfer, .record: true
        case .set, .branch, .goto, .call, .return, .language, .ticket, .hangup: false
        }
    }
}
