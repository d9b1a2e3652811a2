/// A position in a dialplan source file, as a compiler reports it.
///
/// Lines and columns are 1-based; columns count Unicode scalars (the unit libYAML uses), so a
/// line holding Chinese text still points at the right character.
public struct DialplanLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file as it was named to the loader (path or a label such as `<memory>`).
    public var file: String
    /// Line, starting at 1.
    public var line: Int
    /// Column in Unicode scalars, starting at 1.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`.
    public var description: String { "\(file):\(line):\(column)" }

    /// Orders by file, then line, then column, so issues print in reading order.
    public static func < (lhs: DialplanLocation, rhs: DialplanLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}
