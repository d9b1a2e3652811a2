/// What a `ticket` node adds to the call's ticket. Fields left `nil` (or absent from ``summary``)
/// leave what an earlier annotation set; the controller merges annotations in order.
public struct TicketAnnotation: Hashable, Sendable, CustomStringConvertible {
    /// The line of business that owns the call, e.g. `enterprise`.
    public var businessLine: String?
    /// The kind of request: one of ``categories``.
    public var category: String?
    /// How the request was handled, e.g. `direct_answer` (answered in the IVR).
    public var resolution: String?
    /// Summary fields by name (`plate: 12345`), values already rendered.
    public var summary: [String: String]

    public init(businessLine: String? = nil, category: String? = nil, resolution: String? = nil,
                summary: [String: String] = [:]) {
        self.businessLine = businessLine
        self.category = category
        self.resolution = resolution
        self.summary = summary
    }

    /// The 12345 work-order categories (咨询, 投诉, 求助, 建议, 举报), the same set the ticket
    /// store knows.
    public static let categories = ["consultation", "complaint", "help", "suggestion", "report"]

    /// Resolutions the reports know; others are allowed with a warning.
    /// `direct_answer`: answered in the IVR; `dispatch`: passed to a department;
    /// `callback`: someone calls the caller back; `message`: the caller left a message.
    public static let knownResolutions = ["direct_answer", "dispatch", "callback", "message"]

    /// This annotation with `later` laid over it: what a ticket holds after both.
    public func merging(_ later: TicketAnnotation) -> TicketAnnotation {
        TicketAnnotation(
            businessLine: later.businessLine ?? businessLine, category: later.category ?? category,
            resolution: later.resolution ?? resolution, summary: summary.merging(later.summary) { $1 })
    }

    /// `business_line=… category=… resolution=… summary.plate=…`, omitting what is not set.
    public var description: String {
        ([businessLine.map { "business_line=\($0)" }, category.map { "category=\($0)" },
          resolution.map { "resolution=\($0)" }].compactMap { $0 }
            + summary.sorted { $0.key < $1.key }.map { "summary.\($0.key)=\($0.value)" })
            .joined(separator: " ")
    }
}
