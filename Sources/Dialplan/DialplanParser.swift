import Foundation
import WorkCalendar
import Yams

/// Builds a ``Dialplan`` from YAML files (the main file and everything it includes), collecting
/// every issue instead of stopping at the first.
///
/// Each reader reports its own problem and returns `nil`; the caller carries on with the next
/// key, so one pass finds everything. The work goes in phases so that order in the files never
/// matters: every file is read and every node name gathered first, then the declarations
/// (`queues`, `transfer_targets`, `calendars`, `seasons`), then nodes and entries, then the
/// checks that need the whole flow (undefined targets, variables, overlaps, reachability,
/// loops). A broken node still counts as defined, so it does not cause a second, misleading
/// "undefined" issue wherever it is referenced.
struct DialplanParser {
    /// The file issues are currently located in: the main file, or an included one.
    var file: String
    /// Reads an included file's text; `nil` when it cannot be read.
    let readFile: (String) -> String?
    /// Keys the composer renamed to get past duplicate keys, per file.
    var renamedKeys: [String: [YAMLComposer.Position: String]] = [:]
    var issues: [DialplanIssue] = []

    /// Full key path → where its value is written; nodes copy their part into `fieldLocations`.
    var valueLocations: [String: DialplanLocation] = [:]
    var declaredLanguages: [Language] = []
    var timeZone: TimeZone?
    /// Whether `time_zone` is written at all (even if invalid).
    var timeZoneGiven = false
    var nodeIDs: Set<NodeID> = []
    /// Where each node name is first defined, for duplicates across files.
    var nodeDefinitions: [NodeID: DialplanLocation] = [:]
    /// Every node reference, including ones made by nodes that failed to parse, for the
    /// undefined-target check.
    var references: [Reference] = []
    /// Variables read by templates and conditions, and written by `set` and `collect`.
    var variableReads: [VariableUse] = []
    var variableWrites: [VariableUse] = []
    var queues: [String] = []
    var queueLocations: [String: DialplanLocation] = [:]
    var transferTargets: [String] = []
    var transferTargetLocations: [String: DialplanLocation] = [:]
    var calendars: [String: WorkCalendar] = [:]
    var calendarLocations: [String: DialplanLocation] = [:]
    var seasons: [String: SeasonalRange] = [:]
    var seasonLocations: [String: DialplanLocation] = [:]
    /// Declared names whose declaration was broken: uses of them are not reported again.
    var brokenDeclarations: Set<String> = []
    /// `as:` of every `say` node, for the check that each language has a reader.
    var sayUses: [(location: DialplanLocation, keyPath: String)] = []
    /// Every file read, the main one first, in the order they were read.
    var loadedFiles: [String] = []
    /// Where each entry's number, pattern or prefix is written, parallel to the entries.
    var entrySites: [(location: DialplanLocation, keyPath: String)] = []
    /// Where each time-dependent construct is, for the "needs time_zone" check.
    var timeZoneNeeds: [(location: DialplanLocation, keyPath: String, what: String)] = []

    struct Reference {
        /// The node making the reference; `nil` for an entry's `start`.
        var source: NodeID?
        var target: NodeID
        var location: DialplanLocation
        var keyPath: String
    }

    struct VariableUse {
        var name: String
        var location: DialplanLocation
        var keyPath: String
    }

    /// One `key: value` binding of a mapping, with the key's text as written (duplicates undone).
    struct Binding {
        var name: String
        var key: Node
        var value: Node
    }

    /// One file of the dialplan and its top-level keys.
    struct Unit {
        var file: String
        var text: String
        var fields: [String: Binding]
    }

    init(file: String, renamedKeys: [YAMLComposer.Position: String], readFile: @escaping (String) -> String?) {
        self.file = file
        self.renamedKeys[file] = renamedKeys
        self.readFile = readFile
    }

    // MARK: - Top level

    static let topLevelKeys = [
        "dialplan", "languages", "default_language", "time_zone", "include", "queues", "transfer_targets",
        "calendars", "seasons", "entries", "nodes",
    ]
    /// What an included file may hold: everything but the dialplan-wide settings.
    static let includedFileKeys = ["include", "queues", "transfer_targets", "calendars", "seasons", "entries", "nodes"]
    static let mainOnlyAdvice: [String: String] = Dictionary(
        uniqueKeysWithValues: ["dialplan", "languages", "default_language", "time_zone"].map {
            ($0, "'\($0)' is set once, in the main dialplan file; an included file adds entries, nodes and declarations")
        })

    /// The most files one dialplan may be made of, against runaway includes.
    static let maxFiles = 64

    /// The dialplan, or `nil` if any error was found; `issues` holds everything either way.
    mutating func parse(root: Node?, text: String) -> Dialplan? {
        let mainFile = file
        guard let root else {
            report(.error, .missingField, "the file holds no dialplan (it is empty)", at: location(nil), path: [])
            return nil
        }
        guard case .mapping(let mapping) = root else {
            report(
                .error, .wrongType, "a dialplan must be a mapping, found \(kindName(root))", at: location(root),
                path: [], hint: "start with 'dialplan:', 'languages:', 'entries:' and 'nodes:'")
            return nil
        }
        let fields = self.fields(of: mapping, at: [], allowed: DialplanParser.topLevelKeys, what: "at the top level")
        let rootLocation = location(root)

        let name = string(fields["dialplan"], at: ["dialplan"], what: "dialplan name")
        if fields["dialplan"] == nil {
            missing("dialplan", in: [], at: rootLocation, what: "the dialplan",
                    hint: fields["nodes"] != nil && fields["languages"] == nil
                        ? "an included file is checked as part of the dialplan that includes it" : nil)
        }

        let languages = parseLanguages(fields["languages"], rootLocation: rootLocation)
        declaredLanguages = languages
        var defaultLanguage = languages.first
        if let field = fields["default_language"], let code = string(field, at: ["default_language"], what: "language code") {
            let language = Language(rawValue: code)
            if languages.isEmpty {
                // Nothing to compare against; the missing `languages` is already reported.
            } else if !languages.contains(language) {
                report(
                    .error, .invalidValue,
                    "default_language '\(code)' is not one of languages [\(languages.map(\.rawValue).joined(separator: ", "))]",
                    at: location(field.value), path: ["default_language"],
                    hint: Suggestion.hint(for: code, among: languages.map(\.rawValue)))
            } else {
                defaultLanguage = language
            }
        }
        if let field = fields["time_zone"] {
            timeZoneGiven = true
            timeZone = parseTimeZone(field, at: ["time_zone"])
        }

        // Phase 1: every file, and every node name in it.
        var units = [Unit(file: mainFile, text: text, fields: fields)]
        loadIncludes(of: units[0], chain: [mainFile], into: &units)
        loadedFiles = units.map(\.file)
        for unit in units {
            file = unit.file
            gatherNodeNames(unit.fields["nodes"], required: unit.file == mainFile, rootLocation: rootLocation)
        }

        // Phase 2: declarations.
        for unit in units {
            file = unit.file
            parseQueues(unit.fields["queues"])
            parseTransferTargets(unit.fields["transfer_targets"])
            parseCalendars(unit.fields["calendars"])
            parseSeasons(unit.fields["seasons"])
        }

        // Phase 3: nodes and entries.
        var nodes: [NodeID: DialplanNode] = [:]
        var nodeBindings: [(file: String, binding: Binding)] = []
        var entries: [DialplanEntry] = []
        var entryRequired = true
        for unit in units {
            file = unit.file
            if case .mapping(let nodesMapping)? = unit.fields["nodes"]?.value {
                for binding in bindings(of: nodesMapping, at: ["nodes"], quiet: true) where NodeID.isValid(binding.name) {
                    // A name defined twice across files: only the first definition is read.
                    guard nodeDefinitions[NodeID(binding.name)] == location(binding.key) else { continue }
                    nodeBindings.append((unit.file, binding))
                    if let node = parseNode(binding) { nodes[node.id] = node }
                }
            }
            entries += parseEntries(unit.fields["entries"], required: entryRequired, rootLocation: rootLocation)
            entryRequired = false
        }
        file = mainFile

        // Phase 4: the whole flow.
        checkReferences()
        checkEntryOverlaps(entries)
        checkVariables()
        checkSayLanguages()
        checkTimeZoneNeeds()
        analyse(nodes: nodes, nodeBindings: nodeBindings, entries: entries)
        checkUnusedVariables()
        file = mainFile

        guard !issues.contains(where: { $0.severity == .error }), let name, let defaultLanguage else {
            return nil
        }
        let version = units.count == 1
            ? Dialplan.fingerprint(of: text)
            : Dialplan.fingerprint(of: units.map { "\($0.file)\u{0}\($0.text)" }.joined(separator: "\u{0}"))
        return Dialplan(
            name: name, languages: languages, defaultLanguage: defaultLanguage, timeZone: timeZone,
            entries: entries, nodes: nodes, queues: queues, transferTargets: transferTargets,
            calendars: calendars, seasons: seasons, file: mainFile, files: units.map(\.file), version: version,
            warnings: issues)
    }

    private mutating func parseLanguages(_ field: Binding?, rootLocation: DialplanLocation) -> [Language] {
        guard let field else {
            missing("languages", in: [], at: rootLocation, what: "the dialplan", hint: "e.g. languages: [zh, en]")
            return []
        }
        guard case .sequence(let sequence) = field.value else {
            wrongKind(field.value, expected: "a list of language codes such as [zh, en]", at: ["languages"])
            return []
        }
        var languages: [Language] = []
        for (index, item) in sequence.enumerated() {
            let path = ["languages", String(index)]
            guard let code = string(Binding(name: String(index), key: item, value: item), at: path, what: "language code")
            else { continue }
            if !Language.isValid(code) {
                report(
                    .error, .invalidValue, "'\(code)' is not a language code", at: location(item), path: path,
                    hint: "use a lower-case ISO 639 code such as zh or en; it names the Prompts/ directory")
            } else if languages.contains(Language(rawValue: code)) {
                report(.error, .invalidValue, "language '\(code)' is listed twice", at: location(item), path: path)
            } else {
                languages.append(Language(rawValue: code))
            }
        }
        if sequence.isEmpty {
            report(.error, .missingField, "'languages' is empty", at: location(field.value), path: ["languages"])
        }
        return languages
    }

    // MARK: - Includes

    /// Reads the files `unit` includes, and theirs, depth first, appending each once to `units`.
    private mutating func loadIncludes(of unit: Unit, chain: [String], into units: inout [Unit]) {
        guard let field = unit.fields["include"] else { return }
        file = unit.file
        guard case .sequence(let sequence) = field.value else {
            if case .scalar = field.value, let name = field.value.string {
                report(.error, .wrongType, "'include' takes a list of files", at: location(field.value), path: ["include"],
                       hint: "write include: [\(name)]")
            } else {
                wrongKind(field.value, expected: "a list of files", at: ["include"])
            }
            return
        }
        for (index, item) in sequence.enumerated() {
            file = unit.file
            let path = ["include", String(index)]
            guard let relative = string(Binding(name: String(index), key: item, value: item), at: path, what: "file path")
            else { continue }
            let itemLocation = location(item)
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml"), !relative.hasPrefix("/") else {
                report(.error, .invalidValue, "'\(relative)' is not a relative path to a .yaml file", at: itemLocation,
                       path: path, hint: "paths are relative to the including file, e.g. 12345/enterprise.yaml")
                continue
            }
            let included = DialplanParser.resolve(relative, from: unit.file)
            if let cycleStart = chain.firstIndex(of: included) {
                report(.error, .includeCycle,
                       "including '\(relative)' makes a cycle: \((chain[cycleStart...] + [included]).joined(separator: " → "))",
                       at: itemLocation, path: path)
                continue
            }
            if units.contains(where: { $0.file == included }) {
                report(.error, .duplicateKey, "'\(relative)' is already included", at: itemLocation, path: path,
                       hint: "include each file once")
                continue
            }
            guard units.count < DialplanParser.maxFiles else {
                report(.error, .invalidValue, "a dialplan is made of at most \(DialplanParser.maxFiles) files",
                       at: itemLocation, path: path)
                return
            }
            guard let text = readFile(included) else {
                report(.error, .unreadableFile, "cannot read included file '\(included)'", at: itemLocation, path: path)
                continue
            }
            let composed = YAMLComposer(text: text, file: included)
            issues += composed.issues
            renamedKeys[included] = composed.renamedKeys
            guard composed.issues.isEmpty else { continue }
            file = included
            guard let root = composed.root else {
                report(.error, .missingField, "the included file is empty", at: location(nil), path: [])
                file = unit.file
                continue
            }
            guard case .mapping(let mapping) = root else {
                report(.error, .wrongType, "an included file must be a mapping, found \(kindName(root))",
                       at: location(root), path: [], hint: "give it 'nodes:' and, if it has numbers of its own, 'entries:'")
                file = unit.file
                continue
            }
            let fields = self.fields(of: mapping, at: [], allowed: DialplanParser.includedFileKeys,
                                     advice: DialplanParser.mainOnlyAdvice, what: "in an included file")
            let child = Unit(file: included, text: text, fields: fields)
            units.append(child)
            loadIncludes(of: child, chain: chain + [included], into: &units)
        }
        file = unit.file
    }

    /// `relative` seen from the directory of `including`, with `.` and `..` segments resolved.
    static func resolve(_ relative: String, from including: String) -> String {
        var components = including.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast()
        for part in relative.split(separator: "/").map(String.init) {
            switch part {
            case ".": continue
            case "..":
                if let last = components.last, last != "..", !last.isEmpty { components.removeLast() } else { components.append("..") }
            default: components.append(part)
            }
        }
        let absolute = including.hasPrefix("/")
        let joined = components.filter { !$0.isEmpty }.joined(separator: "/")
        return absolute ? "/" + joined : joined
    }

    // MARK: - Node names

    private mutating func gatherNodeNames(_ field: Binding?, required: Bool, rootLocation: DialplanLocation) {
        guard let field else {
            if required { missing("nodes", in: [], at: rootLocation, what: "the dialplan") }
            return
        }
        guard case .mapping(let nodesMapping) = field.value else {
            wrongKind(field.value, expected: "a mapping of node names to nodes", at: ["nodes"])
            return
        }
        let nodeBindings = bindings(of: nodesMapping, at: ["nodes"])
        for binding in nodeBindings {
            guard NodeID.isValid(binding.name) else {
                report(.error, .invalidValue, "node name '\(binding.name)' may use only letters, digits, '_' and '-'",
                       at: location(binding.key), path: ["nodes", binding.name])
                continue
            }
            let id = NodeID(binding.name)
            if let first = nodeDefinitions[id] {
                report(.error, .duplicateKey, "node '\(binding.name)' is already defined at \(first)",
                       at: location(binding.key), path: ["nodes", binding.name], hint: "node names are shared by all included files")
                continue
            }
            nodeDefinitions[id] = location(binding.key)
            nodeIDs.insert(id)
        }
        if nodeBindings.isEmpty {
            report(.error, .missingField, "'nodes' is empty", at: location(field.value), path: ["nodes"])
        }
    }

    // MARK: - Entries

    private mutating func parseEntries(_ field: Binding?, required: Bool, rootLocation: DialplanLocation) -> [DialplanEntry] {
        guard let field else {
            if required {
                missing("entries", in: [], at: rootLocation, what: "the dialplan",
                        hint: "e.g. entries: [{number: \"12345\", start: welcome}]")
            }
            return []
        }
        guard case .sequence(let sequence) = field.value else {
            wrongKind(field.value, expected: "a list of entries", at: ["entries"])
            return []
        }
        if sequence.isEmpty {
            report(.error, .missingField, "'entries' is empty; no number would reach this dialplan",
                   at: location(field.value), path: ["entries"])
        }
        var entries: [DialplanEntry] = []
        for (index, item) in sequence.enumerated() {
            let path = ["entries", String(index)]
            guard case .mapping(let mapping) = item else {
                wrongKind(item, expected: "an entry mapping with 'number' (or 'pattern' or 'prefix') and 'start'", at: path)
                continue
            }
            let fields = self.fields(of: mapping, at: path, allowed: ["number", "pattern", "prefix", "outbound", "start", "ring", "calendar", "variables"],
                                     what: "in an entry")
            let itemLocation = location(item)
            let given = ["number", "pattern", "prefix", "outbound"].filter { fields[$0] != nil }
            var match: DialplanEntry.Match?
            if given.isEmpty {
                missing("number", in: path, at: itemLocation, what: "the entry",
                        hint: "give one of 'number' (exact), 'pattern' (1234X), 'prefix' or 'outbound' (a flow for calls we place)")
            } else if given.count > 1 {
                report(.error, .invalidValue, "an entry takes one of 'number', 'pattern', 'prefix' and 'outbound', found \(given.joined(separator: " and "))",
                       at: location(fields[given[1]]!.key), path: path + [given[1]])
            } else if given[0] == "outbound", let nameField = fields["outbound"] {
                if let name = string(nameField, at: path + ["outbound"], what: "outbound flow name") {
                    if NodeID.isValid(name) {
                        match = .outbound(name)
                    } else {
                        report(.error, .invalidValue, "'\(name)' is not an outbound flow name", at: location(nameField.value),
                               path: path + ["outbound"], hint: "lower_snake_case, e.g. return_visit")
                    }
                }
            } else if let matchField = fields[given[0]] {
                match = parseMatch(kind: given[0], matchField, at: path + [given[0]])
            }
            // An outbound flow's `variables`: what the server passes in when it places the call
            // (the plate of a car to move...), set before the first node as a `set` would.
            var provided: [String] = []
            if let variablesField = fields["variables"] {
                if case .outbound? = match {
                    for (index, node) in (self.sequence(variablesField, at: path + ["variables"], expected: "a list of variable names") ?? []).enumerated() {
                        let itemPath = path + ["variables", String(index)]
                        if let name = string(self.item(node, index), at: itemPath, what: "variable name"),
                           let written = checkWritable(name, at: location(node), path: itemPath) {
                            provided.append(written)
                        }
                    }
                } else if match != nil {
                    report(.error, .invalidValue, "'variables' is for outbound entries (values the server passes to the flow)",
                           at: location(variablesField.key), path: path + ["variables"])
                }
            }
            var calendar: String?
            if let calendarField = fields["calendar"] {
                if case .outbound? = match {
                    if let name = string(calendarField, at: path + ["calendar"], what: "calendar name") {
                        if calendars[name] == nil {
                            report(.error, .undefinedName, "no calendar '\(name)'", at: location(calendarField.value),
                                   path: path + ["calendar"], hint: calendars.isEmpty ? "declare it under 'calendars'"
                                       : "declared: \(calendars.keys.sorted().joined(separator: ", "))")
                        }
                        calendar = name
                    }
                } else if match != nil {
                    report(.error, .invalidValue, "'calendar' is for outbound entries (when we may call); inbound entries branch on calendars in their nodes",
                           at: location(calendarField.key), path: path + ["calendar"])
                }
            }
            let start = reference(fields["start"], at: path + ["start"], from: nil)
            if fields["start"] == nil { missing("start", in: path, at: itemLocation, what: "the entry") }
            var ring = Duration.zero
            if let ringField = fields["ring"] {
                if let value = duration(ringField, at: path + ["ring"], allowZero: true) { ring = value }
            }
            if let match, let start {
                entries.append(DialplanEntry(match: match, start: start, ring: ring, location: itemLocation, calendar: calendar,
                                             variables: provided))
                entrySites.append((location(fields[given[0]]!.value), (path + [given[0]]).joined(separator: ".")))
            }
        }
        return entries
    }

    private mutating func parseMatch(kind: String, _ field: Binding, at path: [String]) -> DialplanEntry.Match? {
        guard let text = string(field, at: path, what: "dialled number") else { return nil }
        switch kind {
        case "pattern":
            switch NumberPattern.parse(text) {
            case .success(let pattern): return .pattern(pattern)
            case .failure(let error):
                report(.error, .invalidValue, "'\(text)' is not a number pattern: \(error)", at: location(field.value), path: path,
                       hint: "X is any digit, Z 1-9, N 2-9, [1-35] one of a set; other characters are digits, '*', '#'")
                return nil
            }
        default:
            guard DialplanEntry.isValidNumber(text) else {
                let looksLikePattern = text.contains { "XZN[".contains($0) }
                report(.error, .invalidValue, "'\(text)' is not a dialled number", at: location(field.value), path: path,
                       hint: looksLikePattern && kind == "number" ? "write pattern: \"\(text)\" for a pattern"
                           : "use digits, '*', '#' and an optional leading '+'")
                return nil
            }
            return kind == "prefix" ? .prefix(text) : .exact(text)
        }
    }

    /// Two entries that could take the same number. Equal exact numbers keep their own code.
    private mutating func checkEntryOverlaps(_ entries: [DialplanEntry]) {
        for (index, entry) in entries.enumerated() {
            let site = entrySites[index]
            for (earlierIndex, earlier) in entries[..<index].enumerated() {
                guard let example = entry.match.overlap(with: earlier.match) else { continue }
                let at = entrySites[earlierIndex].location
                let whereText = at.file == site.location.file ? "\(at.line):\(at.column)" : "\(at)"
                if case .exact(let a) = entry.match, case .exact(let b) = earlier.match, a == b {
                    report(.error, .duplicateEntry, "number '\(a)' already has an entry at \(whereText)",
                           at: site.location, keyPath: site.keyPath)
                } else if case .outbound(let a) = entry.match {
                    report(.error, .duplicateEntry, "outbound flow '\(a)' already has an entry at \(whereText)",
                           at: site.location, keyPath: site.keyPath)
                } else {
                    report(.error, .overlappingEntries,
                           "\(entry.match.key) '\(entry.match)' overlaps the entry at \(whereText) (\(earlier.match.key) '\(earlier.match)'): both take \(example)",
                           at: site.location, keyPath: site.keyPath,
                           hint: "make the patterns disjoint, e.g. list the exact numbers")
                }
                break
            }
        }
    }
}
