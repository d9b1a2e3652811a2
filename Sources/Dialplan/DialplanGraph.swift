/// Graphviz DOT for a dialplan: `hotline dialplan graph FILE | dot -Tsvg > flow.svg`.
///
/// Entries point at their start nodes; every node shows its name and what it does; edges carry
/// what takes them (menu keys, branch conditions, `no input`, ...). Nodes of an included file are
/// drawn in a cluster labelled with the file. Output is deterministic (source order), so it can
/// be kept as a golden file.

import ConfigFiles
public enum DialplanGraph {
    /// The DOT text of `dialplan`.
    public static func dot(_ dialplan: Dialplan) -> String {
        var lines = [
            "digraph \(quote(dialplan.name)) {",
            "  graph [rankdir=LR, fontname=\"Helvetica\", label=\(quote("dialplan \(dialplan.name)")), labelloc=t];",
            "  node [fontname=\"Helvetica\", fontsize=10];",
            "  edge [fontname=\"Helvetica\", fontsize=9];",
        ]
        for entry in dialplan.entries {
            let id = "entry \(entry.match)"
            let ring = entry.ring > .zero ? "\\nring \(DurationSyntax.format(entry.ring))" : ""
            lines.append("  \(quote(id)) [shape=cds, style=filled, fillcolor=\"#e8f0fe\", label=\(quote("\(entry.match.key) \(entry.match)", extra: ring))];")
            lines.append("  \(quote(id)) -> \(quote(entry.start.rawValue));")
        }
        let ordered = dialplan.nodesInSourceOrder
        for file in dialplan.files {
            let nodes = ordered.filter { $0.location.file == file }
            guard !nodes.isEmpty else { continue }
            let indent: String
            if file == dialplan.file {
                indent = "  "
            } else {
                indent = "    "
                let name = relative(file, to: dialplan.file)
                lines.append("  subgraph \(quote("cluster_\(name)")) {")
                lines.append("    label=\(quote(name)); style=dashed; color=\"#999999\";")
            }
            for node in nodes { lines.append(indent + declaration(node)) }
            if file != dialplan.file { lines.append("  }") }
        }
        for node in ordered {
            for edge in node.edges {
                var attributes: [String] = []
                if let label = edge.label { attributes.append("label=\(quote(label))") }
                if edge.isCall { attributes.append("style=dashed") }
                if let label = edge.label, fallbackLabels.contains(label) { attributes.append("color=\"#888888\"") }
                let suffix = attributes.isEmpty ? "" : " [\(attributes.joined(separator: ", "))]"
                lines.append("  \(quote(node.id.rawValue)) -> \(quote(edge.target.rawValue))\(suffix);")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `file` relative to the directory of the main file, as `include:` names it.
    static func relative(_ file: String, to main: String) -> String {
        guard let slash = main.lastIndex(of: "/") else { return file }
        let directory = main[...slash]
        return file.hasPrefix(directory) ? String(file.dropFirst(directory.count)) : file
    }

    /// Edges taken when something did not go as asked; drawn grey.
    static let fallbackLabels: Set<String> = ["no input", "invalid", "failure", "unavailable", "failed", "nothing recorded", "else"]

    private static func declaration(_ node: DialplanNode) -> String {
        let (shape, detail): (String, String)
        switch node.kind {
        case .play(let play): (shape, detail) = ("note", "play \(play.prompts.joined(separator: ", "))")
        case .menu(let menu): (shape, detail) = ("box, style=\"rounded,bold\"", "menu \(menu.prompt)")
        case .say(let say):
            (shape, detail) = ("note", (say.before + ["say \(say.value) as \(say.format)"] + say.after).joined(separator: ", "))
        case .collect(let collect):
            let length = collect.minLength == collect.maxLength ? "\(collect.maxLength)" : "\(collect.minLength)-\(collect.maxLength)"
            (shape, detail) = ("box, style=rounded", "collect \(collect.variable) (\(length) keys)")
        case .set(let set):
            (shape, detail) = ("box, style=dashed", set.assignments.map { "\($0.name) = \($0.value)" }.joined(separator: "\n"))
        case .branch: (shape, detail) = ("diamond", "branch")
        case .goto: (shape, detail) = ("box, style=dashed", "goto")
        case .call(let call): (shape, detail) = ("component", "call \(call.flow)")
        case .return: (shape, detail) = ("larrow", "return")
        case .language(let change): (shape, detail) = ("box, style=dashed", "language \(change.language)")
        case .queue(let queue): (shape, detail) = ("house", "queue \(queue.queue)")
        case .transfer(let transfer): (shape, detail) = ("rarrow", "transfer \(transfer.to)")
        case .record(let record): (shape, detail) = ("cylinder", "record up to \(DurationSyntax.format(record.maxDuration))")
        case .ticket(let ticket):
            let fields = [ticket.businessLine, ticket.category, ticket.resolution].compactMap { $0 }
                + ticket.summary.map { "\($0.name)=\($0.value)" }
            (shape, detail) = ("box, style=dashed", "ticket \(fields.joined(separator: " "))")
        case .hangup(let hangup): (shape, detail) = ("doubleoctagon", "hangup \(hangup.disposition)")
        }
        return "\(quote(node.id.rawValue)) [shape=\(shape), label=\(quote(node.id.rawValue + "\n" + detail))];"
    }

    /// A DOT string: quotes and backslashes escaped, newlines as `\n`; `extra` is appended as is.
    static func quote(_ text: String, extra: String = "") -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\(extra)\""
    }
}
