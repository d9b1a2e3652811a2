// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the hierarchy of handling units (region → city → county → township, and
// departments), checked, and loaded from `Dialplans/tickets/units.yaml`.

import ConfigFiles
import Foundation
import Yams

/// Every unit work orders can be dispatched to, as a tree.
///
/// The store copies it into its `units` table when it opens (units that left the file stay,
/// marked inactive, so old dispatches keep their names), so reports and unit filters work on
/// the database alone.
public struct UnitDirectory: Sendable, Equatable {
    /// Parents before children, in file order.
    public private(set) var units: [Unit]
    private var index: [UnitID: Int]
    private var childIDs: [UnitID: [UnitID]]

    /// No units: nothing can be dispatched.
    public static let empty = UnitDirectory(checked: [])

    /// Checks and takes `units`: ids well formed and unique, parents present (listed before or
    /// after their children), no cycles, levels under the right level (``UnitKind/requiredParent``).
    public init(units: [Unit]) throws(TicketsConfigError) {
        var issues: [String] = []
        var seen: Set<UnitID> = []
        for unit in units {
            if !unit.id.isWellFormed { issues.append("unit id '\(unit.id)' must match [a-z0-9][a-z0-9_.-]*") }
            if !seen.insert(unit.id).inserted { issues.append("unit '\(unit.id)' is defined twice") }
            if unit.name.allSatisfy(\.isWhitespace) { issues.append("unit '\(unit.id)' has no name") }
        }
        let byID = Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for unit in units {
            guard let parentID = unit.parent else {
                if let required = unit.kind.requiredParent {
                    issues.append("unit '\(unit.id)' is a \(unit.kind) and must sit under a \(required)")
                }
                continue
            }
            guard let parent = byID[parentID] else {
                issues.append("unit '\(unit.id)' names a parent '\(parentID)' that is not defined")
                continue
            }
            if let required = unit.kind.requiredParent, parent.kind != required {
                issues.append("unit '\(unit.id)' is a \(unit.kind) and must sit under a \(required), not a \(parent.kind)")
            }
        }
        // Order parents first; whatever is left is on a cycle.
        var ordered: [Unit] = []
        var placed: Set<UnitID> = []
        var remaining = units.filter { $0.parent == nil || byID[$0.parent!] != nil }
        while !remaining.isEmpty {
            let ready = remaining.filter { $0.parent == nil || placed.contains($0.parent!) }
            if ready.isEmpty {
                issues.append("units " + remaining.map { "'\($0.id)'" }.joined(separator: ", ") + " are their own ancestors")
                break
            }
            for unit in ready where placed.insert(unit.id).inserted { ordered.append(unit) }
            remaining.removeAll { placed.contains($0.id) }
        }
        guard issues.isEmpty else {
            throw TicketsConfigError(issues: issues.map {
                TicketsConfigIssue(file: "<units>", line: 1, column: 1, keyPath: "", message: $0)
            })
        }
        self.init(checked: ordered)
    }

    private init(checked units: [Unit]) {
        self.units = units
        index = Dictionary(uniqueKeysWithValues: units.enumerated().map { ($1.id, $0) })
        var children: [UnitID: [UnitID]] = [:]
        for unit in units {
            if let parent = unit.parent { children[parent, default: []].append(unit.id) }
        }
        childIDs = children
    }

    public static func == (lhs: UnitDirectory, rhs: UnitDirectory) -> Bool { lhs.units == rhs.units }

    /// The unit with this id.
    public func unit(_ id: UnitID) -> Unit? {
        index[id].map { units[$0] }
    }

    /// The units directly under `id`, in file order.
    public func children(of id: UnitID) -> [Unit] {
        (childIDs[id] ?? []).compactMap(unit)
    }

    /// `id` and every unit under it, parents first; empty if `id` is unknown.
    public func subtree(of id: UnitID) -> [UnitID] {
        guard index[id] != nil else { return [] }
        var result = [id]
        var next = 0
        while next < result.count {
            result += childIDs[result[next]] ?? []
            next += 1
        }
        return result
    }

    /// `id`'s chain of parents, nearest first.
    public func ancestors(of id: UnitID) -> [UnitID] {
        var chain: [UnitID] = []
        var current = unit(id)?.parent
        while let parent = current, !chain.contains(parent) {
            chain.append(parent)
            current = unit(parent)?.parent
        }
        return chain
    }

    /// True if `id` is `ancestor` or sits anywhere under it.
    public func unit(_ id: UnitID, isWithin ancestor: UnitID) -> Bool {
        id == ancestor || ancestors(of: id).contains(ancestor)
    }
}

// MARK: - units.yaml

extension UnitDirectory {
    /// Loads `Dialplans/tickets/units.yaml` (or any file of that shape):
    ///
    /// ```yaml
    /// units:
    ///   - id: ningxia
    ///     name: 宁夏回族自治区
    ///     kind: region
    ///     units:                      # the units under it, same shape, any depth
    ///       - {id: yinchuan, name: 银川市, kind: city}
    /// ```
    ///
    /// Every issue is reported with its `file:line:column`.
    public static func load(contentsOf path: String) throws(TicketsConfigError) -> UnitDirectory {
        var reader = LocatedYAMLReader(file: path)
        let root = reader.compose(contentsOf: path)
        return try parse(root, reader: &reader)
    }

    /// Parses the text of a units file; `file` names it in issues.
    public static func parse(yaml: String, file: String = "units.yaml") throws(TicketsConfigError) -> UnitDirectory {
        var reader = LocatedYAMLReader(file: file)
        let root = reader.compose(yaml)
        return try parse(root, reader: &reader)
    }

    private static func parse(_ root: Node?, reader: inout LocatedYAMLReader) throws(TicketsConfigError) -> UnitDirectory {
        var units: [Unit] = []
        var nodes: [UnitID: Node] = [:]
        if let root, let top = reader.mapping(root, path: "", allowed: ["units"]) {
            if let list = top.first(where: { $0.key == "units" }) {
                parseList(list.value, parent: nil, path: "units", into: &units, nodes: &nodes, reader: &reader)
            } else {
                reader.issue("missing key 'units'", at: root, path: "")
            }
        }
        if let error = reader.error() { throw error }
        do {
            return try UnitDirectory(units: units)
        } catch {
            // Place the semantic issues on the unit they are about.
            throw TicketsConfigError(issues: error.issues.map { issue in
                var located = issue
                located.file = reader.file
                if let id = units.first(where: { issue.message.contains("'\($0.id)'") })?.id, let node = nodes[id] {
                    located.line = node.mark?.line ?? 1
                    located.column = node.mark?.column ?? 1
                }
                return located
            })
        }
    }

    private static func parseList(_ node: Node, parent: UnitID?, path: String, into units: inout [Unit],
                                  nodes: inout [UnitID: Node], reader: inout LocatedYAMLReader) {
        guard let items = reader.sequence(node, path: path) else { return }
        for (position, item) in items.enumerated() {
            let itemPath = "\(path).\(position)"
            guard let entries = reader.mapping(item, path: itemPath, allowed: ["id", "name", "kind", "units"]) else { continue }
            var id: UnitID?, name: String?, kind: UnitKind?, children: Node?
            for entry in entries {
                let keyPath = reader.join(itemPath, entry.key)
                switch entry.key {
                case "id":
                    guard let text = reader.text(entry.value, path: keyPath) else { continue }
                    let candidate = UnitID(text)
                    if candidate.isWellFormed {
                        id = candidate
                    } else {
                        reader.issue("unit id '\(text)' must match [a-z0-9][a-z0-9_.-]*", at: entry.value, path: keyPath)
                    }
                case "name":
                    name = reader.text(entry.value, path: keyPath)
                case "kind":
                    guard let text = reader.text(entry.value, path: keyPath) else { continue }
                    if UnitKind.known.contains(UnitKind(text)) {
                        kind = UnitKind(text)
                    } else {
                        reader.issue("unknown unit kind '\(text)'", at: entry.value, path: keyPath,
                                     hint: LocatedYAMLReader.closest(to: text, among: UnitKind.known.map(\.rawValue))
                                         .map { "did you mean '\($0)'?" } ?? "one of region, city, county, township, department")
                    }
                default:
                    children = entry.value
                }
            }
            for required in ["id", "name", "kind"] where !entries.contains(where: { $0.key == required }) {
                reader.issue("missing key '\(required)'", at: item, path: itemPath)
            }
            guard let id, let name, let kind else { continue }
            if let first = nodes[id] {
                reader.issue("unit '\(id)' is defined twice (first at line \(first.mark?.line ?? 0))", at: item, path: itemPath)
                continue
            }
            units.append(Unit(id: id, name: name, kind: kind, parent: parent))
            nodes[id] = item
            if let children {
                parseList(children, parent: id, path: reader.join(itemPath, "units"), into: &units, nodes: &nodes, reader: &reader)
            }
        }
    }
}
