/// What a `ticket` node adds to the call's ticket.
public struct TicketAnnotation: Hashable, Sendable, CustomStringConvertible {
    /// The line of business that owns the call, e.g. `enterprise`.
    public var businessLine: String?
    /// The kind of request, e.g. `consultation`, `complaint`, `help`.
    public var category: String?

    public init(businessLine: String? = nil, category: String? = nil) {
        self.businessLine = businessLine
        self.category = category
    }

    /// `business_line=… category=…`, omitting what is not set.
    public var description: String {
        [businessLine.map { "business_line=\($0)" }, category.map { "category=\($0)" }]
            .compactMap { $0 }.joined(separator: " ")
    }
}
