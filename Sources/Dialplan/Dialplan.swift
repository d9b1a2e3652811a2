// Dialplan: the call-flow language of Hotline.
// A YAML file becomes a validated `Dialplan` value (every issue located file:line:column), and a
// `DialplanExecution` runs it per call as a sans-IO state machine: events in, commands out.

/// A loaded, validated call flow: which numbers enter where, and the nodes a call walks through.
///
/// A value: a call keeps the `Dialplan` it started with, so reloading the file never changes a
/// call in progress (per-call version pinning comes for free), and ``version`` tells a ticket
/// which text handled the call.
public struct Dialplan: Sendable, Equatable {
    /// The `dialplan:` name, e.g. `12345`.
    public var name: String
    /// Languages with a full prompt set, in declared order.
    public var languages: [Language]
    /// The language a call starts in.
    public var defaultLanguage: Language
    public var entries: [DialplanEntry]
    public var nodes: [NodeID: DialplanNode]
    /// The file the dialplan was read from, as named to the loader.
    public var file: String
    /// A content fingerprint of the source text (FNV-1a 64-bit, 16 lower-case hex digits).
    /// Equal text gives an equal version on every machine; it is a change detector, not a
    /// security hash.
    public var version: String
    /// Warnings found while loading (unreachable nodes, loops that never wait, ...).
    public var warnings: [DialplanIssue]

    public init(
        name: String, languages: [Language], defaultLanguage: Language, entries: [DialplanEntry],
        nodes: [NodeID: DialplanNode], file: String, version: String, warnings: [DialplanIssue] = []
    ) {
        self.name = name
        self.languages = languages
        self.defaultLanguage = defaultLanguage
        self.entries = entries
        self.nodes = nodes
        self.file = file
        self.version = version
        self.warnings = warnings
    }

    /// The entry a call to `number` uses, or `nil` (the server answers 404).
    public func entry(forNumber number: String) -> DialplanEntry? {
        entries.first { $0.matches(number) }
    }

    /// Nodes in the order they are written.
    public var nodesInSourceOrder: [DialplanNode] {
        nodes.values.sorted { ($0.location, $0.id) < ($1.location, $1.id) }
    }

    /// The fingerprint ``version`` uses: FNV-1a 64-bit over the UTF-8 bytes, as 16 hex digits.
    public static func fingerprint(of text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
