// Dialplan: the call-flow language of Hotline.
// YAML files become a validated `Dialplan` value (every issue located file:line:column), and a
// `DialplanExecution` runs it per call as a sans-IO state machine: events and `now` in, commands out.
import Foundation
import WorkCalendar

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
    /// `time_zone:` the zone `${time}`, `say` dates and seasons use; calendars may name their own.
    /// `nil` when the dialplan has no time-dependent construct (then `${time}` is in UTC).
    public var timeZone: TimeZone?
    /// Entries of the file and every included file, in reading order.
    public var entries: [DialplanEntry]
    /// Nodes of the file and every included file: one namespace.
    public var nodes: [NodeID: DialplanNode]
    /// `queues:` the queue names `queue` nodes may use (the ACD will define them; for now the
    /// dialplan declares them so a typo is caught).
    public var queues: [String]
    /// `transfer_targets:` the SIP URIs `transfer` nodes may send calls to.
    public var transferTargets: [String]
    /// `calendars:` opening hours, holidays and make-up working days, by name.
    public var calendars: [String: WorkCalendar]
    /// `seasons:` recurring date ranges such as the heating season, by name.
    public var seasons: [String: SeasonalRange]
    /// The file the dialplan was read from, as named to the loader.
    public var file: String
    /// Every file that makes up the dialplan: ``file`` first, then included files in the order
    /// they were read.
    public var files: [String]
    /// A content fingerprint of the source text of every file (FNV-1a 64-bit, 16 lower-case hex
    /// digits). Equal text gives an equal version on every machine; it is a change detector, not
    /// a security hash.
    public var version: String
    /// Warnings found while loading (unreachable nodes, loops only time can end, ...).
    public var warnings: [DialplanIssue]

    public init(
        name: String, languages: [Language], defaultLanguage: Language, timeZone: TimeZone? = nil,
        entries: [DialplanEntry], nodes: [NodeID: DialplanNode], queues: [String] = [],
        transferTargets: [String] = [], calendars: [String: WorkCalendar] = [:],
        seasons: [String: SeasonalRange] = [:], file: String, files: [String]? = nil, version: String,
        warnings: [DialplanIssue] = []
    ) {
        self.name = name
        self.languages = languages
        self.defaultLanguage = defaultLanguage
        self.timeZone = timeZone
        self.entries = entries
        self.nodes = nodes
        self.queues = queues
        self.transferTargets = transferTargets
        self.calendars = calendars
        self.seasons = seasons
        self.file = file
        self.files = files ?? [file]
        self.version = version
        self.warnings = warnings
    }

    /// The entry a call to `number` uses, or `nil` (the server answers 404). Entries never
    /// overlap, so there is at most one.
    public func entry(forNumber number: String) -> DialplanEntry? {
        entries.first { $0.matches(number) }
    }

    /// The `outbound:` entry named `name` (the flow run on a call the server places).
    public func outboundEntry(named name: String) -> DialplanEntry? {
        entries.first { $0.outboundName == name }
    }

    /// Nodes in the order they are written (main file first, then included files).
    public var nodesInSourceOrder: [DialplanNode] {
        let order = Dictionary(uniqueKeysWithValues: files.enumerated().map { ($0.element, $0.offset) })
        return nodes.values.sorted {
            (order[$0.location.file] ?? .max, $0.location.line, $0.location.column, $0.id)
                < (order[$1.location.file] ?? .max, $1.location.line, $1.location.column, $1.id)
        }
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
