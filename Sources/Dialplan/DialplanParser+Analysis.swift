/// Checks that need the whole flow: undefined targets and variables, readers for every language,
/// time zones, reachability, loops and menus with no way out.
extension DialplanParser {
    mutating func checkReferences() {
        for reference in references where !nodeIDs.contains(reference.target) {
            report(.error, .undefinedTarget, "undefined node '\(reference.target)'", at: reference.location,
                   keyPath: reference.keyPath,
                   hint: Suggestion.hint(for: reference.target.rawValue, among: nodeIDs.map(\.rawValue).sorted()))
        }
    }

    /// Reads of variables nothing sets are errors (usually typos).
    mutating func checkVariables() {
        let written = Set(variableWrites.map(\.name))
        let known = Set(Variables.builtIn).union(written)
        for read in variableReads where !known.contains(read.name) {
            report(.error, .undefinedVariable, "variable '\(read.name)' is never set", at: read.location, keyPath: read.keyPath,
                   hint: Suggestion.hint(for: read.name, among: known.sorted())
                       ?? "set it with a set or collect node; built-in: \(Variables.builtIn.joined(separator: ", "))")
        }
    }

    /// Variables set but never read: warnings, judged only when there is no error (a broken
    /// template hides its reads).
    mutating func checkUnusedVariables() {
        guard !hasErrors else { return }
        let read = Set(variableReads.map(\.name))
        var reported: Set<String> = []
        for write in variableWrites where !read.contains(write.name) && reported.insert(write.name).inserted {
            report(.warning, .unusedVariable, "variable '\(write.name)' is set but never read", at: write.location,
                   keyPath: write.keyPath, hint: "read it with ${\(write.name)}, a branch, or a ticket summary")
        }
    }

    /// A `say` node must be readable in every declared language: a call may be in any of them.
    mutating func checkSayLanguages() {
        let unsupported = declaredLanguages.filter { !SayFormat.languages.contains($0) }
        guard !unsupported.isEmpty else { return }
        for use in sayUses {
            report(.error, .invalidValue,
                   "say has no reader for language\(unsupported.count == 1 ? "" : "s") \(unsupported.map { "'\($0)'" }.joined(separator: ", "))",
                   at: use.location, keyPath: use.keyPath,
                   hint: "say reads \(SayFormat.languages.map(\.rawValue).joined(separator: " and ")); use play with recorded prompts")
        }
    }

    mutating func checkTimeZoneNeeds() {
        // An invalid time_zone is reported where it is written; do not repeat it for each user.
        guard timeZone == nil, !timeZoneGiven else { return }
        for need in timeZoneNeeds {
            report(.error, .missingField, "\(need.what) needs a time zone", at: need.location, keyPath: need.keyPath,
                   hint: "set time_zone at the top level (e.g. time_zone: Asia/Shanghai)"
                       + (need.what.hasPrefix("calendar") ? " or in the calendar" : ""))
        }
    }

    /// Reachability, `return` outside a sub-flow, loops and menus with no way out.
    ///
    /// Reachability is judged only when there is no error: a broken node or entry hides its
    /// edges, and "unreachable" warnings downstream of it would be noise. Loops and traps are
    /// judged on the nodes that parsed; an edge into a broken node counts as a way out.
    mutating func analyse(nodes: [NodeID: DialplanNode], nodeBindings: [(file: String, binding: Binding)], entries: [DialplanEntry]) {
        let savedFile = file
        defer { file = savedFile }
        if !entries.isEmpty, !hasErrors {
            checkReachability(nodes: nodes, nodeBindings: nodeBindings, entries: entries)
        }
        checkLoops(nodes: nodes)
        checkWaysOut(nodes: nodes)
    }

    /// Whether each sub-flow (a `call`'s `flow`) can reach a `return` in its own frame.
    private func flowsThatReturn(nodes: [NodeID: DialplanNode]) -> Set<NodeID> {
        let flows = Set(nodes.values.compactMap { node -> NodeID? in
            if case .call(let call) = node.kind { call.flow } else { nil }
        })
        var returning: Set<NodeID> = []
        var changed = true
        while changed {
            changed = false
            for flow in flows where !returning.contains(flow) {
                var seen: Set<NodeID> = [flow]
                var frontier = [flow]
                var found = false
                while let id = frontier.popLast(), !found {
                    guard let node = nodes[id] else { continue }
                    if case .return = node.kind { found = true }
                    for next in frameSuccessors(node, returning: returning) where seen.insert(next).inserted {
                        frontier.append(next)
                    }
                }
                if found {
                    returning.insert(flow)
                    changed = true
                }
            }
        }
        return returning
    }

    /// Successors within one frame: a call continues at its `next` only if its flow returns.
    private func frameSuccessors(_ node: DialplanNode, returning: Set<NodeID>) -> [NodeID] {
        if case .call(let call) = node.kind { return returning.contains(call.flow) ? [call.next] : [] }
        return node.successors
    }

    private mutating func checkReachability(
        nodes: [NodeID: DialplanNode], nodeBindings: [(file: String, binding: Binding)], entries: [DialplanEntry]
    ) {
        let returning = flowsThatReturn(nodes: nodes)
        var reached: Set<NodeID> = []
        var returnsOutside: [NodeID] = []
        // Frames to explore: a start node and whether it runs inside a call.
        var frames: [(start: NodeID, inCall: Bool)] = entries.map { ($0.start, false) }
        var explored: Set<String> = []
        while let frame = frames.popLast() {
            guard explored.insert("\(frame.inCall):\(frame.start)").inserted else { continue }
            var seen: Set<NodeID> = [frame.start]
            var frontier = [frame.start]
            while let id = frontier.popLast() {
                reached.insert(id)
                guard let node = nodes[id] else { continue }
                switch node.kind {
                case .return where !frame.inCall:
                    returnsOutside.append(id)
                case .call(let call):
                    frames.append((call.flow, true))
                default:
                    break
                }
                for next in frameSuccessors(node, returning: returning) where seen.insert(next).inserted {
                    frontier.append(next)
                }
            }
        }
        for (bindingFile, binding) in nodeBindings where !reached.contains(NodeID(binding.name)) {
            file = bindingFile
            report(.warning, .unreachableNode, "node '\(binding.name)' is never reached from any entry",
                   at: location(binding.key), path: ["nodes", binding.name])
        }
        for id in Set(returnsOutside).sorted() {
            guard let node = nodes[id] else { continue }
            report(.error, .returnOutsideCall, "return node '\(id)' is reached outside any call",
                   at: node.location, keyPath: "nodes.\(id)",
                   hint: "enter the sub-flow with a call node; at the top level use a hangup or goto")
        }
        for node in nodes.values.sorted(by: { $0.location < $1.location }) where reached.contains(node.id) {
            guard case .call(let call) = node.kind, !returning.contains(call.flow) else { continue }
            report(.warning, .unusedField, "sub-flow '\(call.flow)' never returns, so 'next' is never taken",
                   at: node.fieldLocations["next"] ?? node.location, keyPath: "nodes.\(node.id).next",
                   hint: "end the sub-flow with a return node, or use goto")
        }
    }

    /// What a `call` node's sub-flow does before it can come back: whether it takes input or
    /// waits at all. A loop through a call passes through its sub-flow.
    private func subFlowBehaviour(nodes: [NodeID: DialplanNode]) -> (takesInput: Set<NodeID>, waits: Set<NodeID>) {
        var takesInput: Set<NodeID> = [], waits: Set<NodeID> = []
        for node in nodes.values {
            guard case .call(let call) = node.kind else { continue }
            var seen: Set<NodeID> = [call.flow]
            var frontier = [call.flow]
            while let id = frontier.popLast(), let inner = nodes[id] {
                if inner.takesInput { takesInput.insert(node.id) }
                if inner.waits { waits.insert(node.id) }
                for next in inner.successors where seen.insert(next).inserted { frontier.append(next) }
            }
        }
        return (takesInput, waits)
    }

    /// Strongly connected groups of nodes in which the caller has no say (no menu or collect).
    private mutating func checkLoops(nodes: [NodeID: DialplanNode]) {
        let subFlows = subFlowBehaviour(nodes: nodes)
        for component in stronglyConnectedComponents(nodes) {
            let members = Set(component)
            let isCycle = component.count > 1 || nodes[component[0]]!.successors.contains(component[0])
            guard isCycle, !component.contains(where: { nodes[$0]!.takesInput || subFlows.takesInput.contains($0) })
            else { continue }
            let hasExit = component.contains { id in
                let node = nodes[id]!
                if case .queue = node.kind { return true }
                if case .transfer = node.kind { return true }
                return node.successors.contains { !members.contains($0) }
            }
            let waits = component.contains { nodes[$0]!.waits || subFlows.waits.contains($0) }
            let first = component.min { nodes[$0]!.location < nodes[$1]!.location }!
            let cycle = cyclePath(from: first, within: members, nodes: nodes)
            let loop = "nodes \(cycle.map(\.rawValue).joined(separator: " → ")) loop"
            let message: String
            let hint: String
            if waits {
                message = "\(loop) without taking input from the caller"
                hint = hasExit ? "only a variable or the time can end this loop" : "a caller who gets here can only hang up"
            } else {
                message = "\(loop) without waiting for anything"
                hint = hasExit ? "only a variable or the time can end this loop; otherwise the call ends with dialplan_error"
                    : "a call reaching this loop ends with dialplan_error"
            }
            report(hasExit ? .warning : .error, waits ? .loopWithoutInput : .loopWithoutWait, message,
                   at: nodes[first]!.location, keyPath: "nodes.\(first)", hint: hint)
        }
    }

    /// Menus and collects from which no path leads to an end (hangup, queue, transfer, return, or
    /// the hangup a menu makes itself when a failure branch is missing).
    private mutating func checkWaysOut(nodes: [NodeID: DialplanNode]) {
        var predecessors: [NodeID: [NodeID]] = [:]
        var canEnd: Set<NodeID> = []
        for node in nodes.values {
            for next in node.successors {
                predecessors[next, default: []].append(node.id)
                // A broken node's edges are unknown: assume it can end.
                if nodes[next] == nil { canEnd.insert(next) }
            }
            switch node.kind {
            case .hangup, .queue, .transfer, .return: canEnd.insert(node.id)
            case .menu(let menu) where menu.noInputTarget == nil || menu.invalidTarget == nil: canEnd.insert(node.id)
            case .collect(let collect) where collect.noInputTarget == nil || collect.invalidTarget == nil: canEnd.insert(node.id)
            default: break
            }
        }
        var frontier = Array(canEnd)
        while let id = frontier.popLast() {
            for previous in predecessors[id] ?? [] where canEnd.insert(previous).inserted {
                frontier.append(previous)
            }
        }
        for node in nodes.values.sorted(by: { $0.location < $1.location }) where node.takesInput && !canEnd.contains(node.id) {
            report(.error, .noWayOut,
                   "\(node.typeName) '\(node.id)' has no way out: no key or branch leads to a hangup, queue or transfer",
                   at: node.location, keyPath: "nodes.\(node.id)",
                   hint: "send on_failure (or on_no_input) to a goodbye that hangs up")
        }
    }

    /// Tarjan's algorithm over the parsed nodes, in source order for stable output.
    private func stronglyConnectedComponents(_ nodes: [NodeID: DialplanNode]) -> [[NodeID]] {
        var index = 0
        var indices: [NodeID: Int] = [:]
        var lowLinks: [NodeID: Int] = [:]
        var stack: [NodeID] = []
        var onStack: Set<NodeID> = []
        var components: [[NodeID]] = []
        func connect(_ id: NodeID) {
            indices[id] = index
            lowLinks[id] = index
            index += 1
            stack.append(id)
            onStack.insert(id)
            for next in nodes[id]!.successors where nodes[next] != nil {
                if indices[next] == nil {
                    connect(next)
                    lowLinks[id] = min(lowLinks[id]!, lowLinks[next]!)
                } else if onStack.contains(next) {
                    lowLinks[id] = min(lowLinks[id]!, indices[next]!)
                }
            }
            if lowLinks[id] == indices[id] {
                var component: [NodeID] = []
                while let top = stack.popLast() {
                    onStack.remove(top)
                    component.append(top)
                    if top == id { break }
                }
                components.append(component)
            }
        }
        for node in nodes.values.sorted(by: { $0.location < $1.location }) where indices[node.id] == nil {
            connect(node.id)
        }
        return components
    }

    /// The shortest cycle from `start` back to itself inside `members`: `a → b → a`.
    private func cyclePath(from start: NodeID, within members: Set<NodeID>, nodes: [NodeID: DialplanNode]) -> [NodeID] {
        var previous: [NodeID: NodeID] = [:]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let id = queue[head]
            head += 1
            for next in nodes[id]!.successors where members.contains(next) {
                if next == start {
                    var path = [start]
                    var walk = id
                    while walk != start {
                        path.insert(walk, at: 1)
                        walk = previous[walk]!
                    }
                    return path + [start]
                }
                if previous[next] == nil {
                    previous[next] = id
                    queue.append(next)
                }
            }
        }
        return [start, start]
    }
}
