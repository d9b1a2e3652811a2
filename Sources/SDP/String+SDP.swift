extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, CR and LF: the
    /// whitespace SDP producers leave around values.
    func trimmingSDPWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
