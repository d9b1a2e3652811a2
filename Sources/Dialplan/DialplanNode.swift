/// One step of a call flow, as written under `nodes:`.
///
/// The node types form a closed enum on purpose: they are the language, and the interpreter must
/// handle every one; adding a type is a compile error everywhere it needs a decision.
public struct DialplanNode: Sendable, Equatable, Identifiable {
    public var id: NodeID
    public var kind: Kind
    /// Where the node's name is written.
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
        /// `type: language`: switch the prompt language.
        case language(SwitchLanguage)
        /// `type: ticket`: annotate the call's ticket.
        case ticket(Ticket)
        /// `type: queue`: hand the call to a queue.
        case queue(Queue)
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
        /// How long to wait for a key once the prompt has ended.
        public var timeout: Duration
        /// How many more times the menu is offered after a no-input or invalid key; the menu is
        /// offered at most `1 + retries` times in all.
        public var retries: Int
        /// Played before the menu prompt when it is offered again after an invalid key.
        public var invalidPrompt: String?
        /// Played before the menu prompt when it is offered again after no input.
        public var noInputPrompt: String?
        public var keys: [DTMFKey: NodeID]
        public var onNoInput: NodeID?
        public var onInvalid: NodeID?
        /// Where to go when retries run out and the specific branch is not set.
        public var onFailure: NodeID?

        public init(
            prompt: String, timeout: Duration, retries: Int, invalidPrompt: String? = nil,
            noInputPrompt: String? = nil, keys: [DTMFKey: NodeID], onNoInput: NodeID? = nil,
            onInvalid: NodeID? = nil, onFailure: NodeID? = nil
        ) {
            self.prompt = prompt
            self.timeout = timeout
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

    /// `type: language`.
    public struct SwitchLanguage: Sendable, Equatable {
        public var language: Language
        public var next: NodeID

        public init(language: Language, next: NodeID) {
            self.language = language
            self.next = next
        }
    }

    /// `type: ticket`.
    public struct Ticket: Sendable, Equatable {
        public var annotation: TicketAnnotation
        public var next: NodeID

        public init(annotation: TicketAnnotation, next: NodeID) {
            self.annotation = annotation
            self.next = next
        }
    }

    /// `type: queue`.
    ///
    /// A queue node has no `next`: when the queue takes the call, the call has left the dialplan.
    /// The flow continues only if the queue cannot take it (see ``DialplanEvent/queueUnavailable``).
    public struct Queue: Sendable, Equatable {
        public var queue: String
        /// Where to go when the queue cannot take the call; `nil` hangs up with `not_routed`.
        public var onUnavailable: NodeID?

        public init(queue: String, onUnavailable: NodeID? = nil) {
            self.queue = queue
            self.onUnavailable = onUnavailable
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
        case .language: "language"
        case .ticket: "ticket"
        case .queue: "queue"
        case .hangup: "hangup"
        }
    }

    /// Every node this one can go to, in source-key order (menu keys in keypad order).
    public var successors: [NodeID] {
        switch kind {
        case .play(let play): [play.next]
        case .menu(let menu):
            menu.keys.sorted { $0.key < $1.key }.map(\.value)
                + [menu.onNoInput, menu.onInvalid, menu.onFailure].compactMap { $0 }
        case .language(let change): [change.next]
        case .ticket(let ticket): [ticket.next]
        case .queue(let queue): queue.onUnavailable.map { [$0] } ?? []
        case .hangup: []
        }
    }

    /// The prompts this node plays, each with its key path relative to the node.
    public var promptUses: [(keyPath: String, name: String)] {
        switch kind {
        case .play(let play):
            return play.prompts.enumerated().map { ("prompts.\($0.offset)", $0.element) }
        case .menu(let menu):
            var uses = [(keyPath: "prompt", name: menu.prompt)]
            if let prompt = menu.invalidPrompt { uses.append(("invalid_prompt", prompt)) }
            if let prompt = menu.noInputPrompt { uses.append(("no_input_prompt", prompt)) }
            return uses
        case .language, .ticket, .queue, .hangup:
            return []
        }
    }
}
