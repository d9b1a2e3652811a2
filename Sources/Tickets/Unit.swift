// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: a handling unit (承办单位) — a government level or a department — and its id.

/// A unit's id as written in `units.yaml` and stored on dispatches: lower case letters,
/// digits, `_`, `.` and `-`, starting with a letter or digit (`yinchuan.xingqing`).
public struct UnitID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    /// Any text; ``isWellFormed`` says whether the schema will take it.
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static func < (lhs: UnitID, rhs: UnitID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Matches `[a-z0-9][a-z0-9_.-]*`, the schema's `unit_id_format`.
    public var isWellFormed: Bool {
        guard let first = rawValue.unicodeScalars.first, Self.allowed(first), first != "_", first != ".", first != "-"
        else { return false }
        return rawValue.unicodeScalars.allSatisfy(Self.allowed)
    }

    private static func allowed(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "." || scalar == "-"
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The level of a unit. An open set; the four government levels have a required parent level
/// (a county sits under a city), departments may sit anywhere.
public struct UnitKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// 省/自治区: the top of the hierarchy.
    public static let region = UnitKind("region")
    /// 市: under a region.
    public static let city = UnitKind("city")
    /// 县/区: under a city.
    public static let county = UnitKind("county")
    /// 乡镇/街道: under a county.
    public static let township = UnitKind("township")
    /// 部门 (a bureau, an office, a utility): under any unit, or at the top.
    public static let department = UnitKind("department")

    /// The kinds `units.yaml` accepts.
    public static let known: [UnitKind] = [.region, .city, .county, .township, .department]

    /// The kind a unit of this kind must sit under; nil if any parent (or none) will do.
    public var requiredParent: UnitKind? {
        switch self {
        case .city: .region
        case .county: .city
        case .township: .county
        default: nil
        }
    }
}

/// One handling unit.
public struct Unit: Sendable, Hashable, Codable {
    public var id: UnitID
    /// The name people read: `银川市兴庆区`.
    public var name: String
    public var kind: UnitKind
    /// The unit above it; nil at the top.
    public var parent: UnitID?

    public init(id: UnitID, name: String, kind: UnitKind, parent: UnitID? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.parent = parent
    }

    enum CodingKeys: String, CodingKey {
        case id, name, kind, parent
    }
}
