/// One header line as received or to be sent.
public struct SIPHeaderField: Hashable, Sendable {
    public var name: SIPHeaderName
    public var value: String
    public init(name: SIPHeaderName, value: String) {
        self.name = name
        self.value = value
    }
}

/// The ordered header fields of a message. Order matters for Via, Route and Record-Route
/// (RFC 3261 §7.3.1), so this is a list, not a dictionary.
public struct SIPHeaders: Hashable, Sendable, Sequence, ExpressibleByArrayLiteral {
    public private(set) var fields: [SIPHeaderField]

    public init(_ fields: [SIPHeaderField] = []) { self.fields = fields }
    public init(arrayLiteral elements: (SIPHeaderName, String)...) {
        self.fields = elements.map { SIPHeaderField(name: $0.0, value: $0.1) }
    }

    public func makeIterator() -> IndexingIterator<[SIPHeaderField]> { fields.makeIterator() }
    public var count: Int { fields.count }

    /// The first value of a header, whole (not split on commas).
    public subscript(_ name: SIPHeaderName) -> String? {
        fields.first(where: { $0.name == name })?.value
    }

    public func contains(_ name: SIPHeaderName) -> Bool { fields.contains { $0.name == name } }

    /// Every value of a header, in order, with list headers split on top-level commas
    /// (`Via: a, b` gives two values).
    public func values(_ name: SIPHeaderName) -> [String] {
        var result: [String] = []
        for field in fields where field.name == name {
            if name.isList {
                result.append(contentsOf: SIPGrammar.splitList(field.value))
            } else {
                result.append(field.value)
            }
        }
        return result
    }

    public mutating func append(_ name: SIPHeaderName, _ value: String) {
        fields.append(SIPHeaderField(name: name, value: value))
    }

    /// Replaces every line of `name` with one line, or appends it if absent; the first
    /// occurrence keeps its position.
    public mutating func set(_ name: SIPHeaderName, _ value: String) {
        if let index = fields.firstIndex(where: { $0.name == name }) {
            fields[index].value = value
            var i = fields.count - 1
            while i > index {
                if fields[i].name == name { fields.remove(at: i) }
                i -= 1
            }
        } else {
            append(name, value)
        }
    }

    public mutating func remove(_ name: SIPHeaderName) {
        fields.removeAll { $0.name == name }
    }

    /// Replaces the first value of a list header (e.g. the top Via) without touching the rest,
    /// splitting a combined line if needed.
    public mutating func replaceFirstValue(_ name: SIPHeaderName, with value: String) {
        guard let index = fields.firstIndex(where: { $0.name == name }) else { return }
        let parts = name.isList ? SIPGrammar.splitList(fields[index].value) : [fields[index].value]
        if parts.count <= 1 {
            fields[index].value = value
        } else {
            fields[index].value = value
            fields.insert(SIPHeaderField(name: name, value: parts.dropFirst().joined(separator: ", ")), at: index + 1)
        }
    }
}
