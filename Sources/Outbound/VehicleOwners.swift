// Outbound: the calls the server places. This file: who owns which vehicle, for the
// move-my-car notice (a CSV the traffic authority exports, until a live lookup replaces it).

import Foundation

/// Plates (as callers key them: the digits) to owners' numbers. The numbers never leave the
/// server: the owner is called from the hotline's number and the caller never hears them.
public struct VehicleOwners: Sendable, Hashable {
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var message: String
        public var description: String { "\(file):\(line): error: \(message)" }
    }

    public private(set) var owners: [String: String]

    public init(owners: [String: String]) { self.owners = owners }

    public func owner(ofPlate plate: String) -> String? { owners[plate] }

    public var count: Int { owners.count }

    /// `plate,number` lines after a header naming them (`plate,owner_number`); `#` comments and
    /// blank lines are skipped. Every bad line is reported; nothing is taken from a bad file.
    public static func load(contentsOf path: String) throws(VehicleOwnersError) -> VehicleOwners {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw VehicleOwnersError(errors: [ParseError(file: path, line: 1, message: "cannot read the file as UTF-8")])
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String = "vehicle-owners.csv") throws(VehicleOwnersError) -> VehicleOwners {
        var owners: [String: String] = [:]
        var firstLine: [String: Int] = [:]
        var errors: [ParseError] = []
        var sawHeader = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let number = index + 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if !sawHeader {
                sawHeader = true
                guard fields == ["plate", "owner_number"] else {
                    errors.append(ParseError(file: file, line: number, message: "the first line must be the header 'plate,owner_number'"))
                    continue
                }
                continue
            }
            guard fields.count == 2 else {
                errors.append(ParseError(file: file, line: number, message: "expected 2 fields (plate,owner_number), found \(fields.count)"))
                continue
            }
            let (plate, owner) = (fields[0], fields[1])
            guard (4...8).contains(plate.count), plate.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                errors.append(ParseError(file: file, line: number, message: "plate '\(plate)' is not 4 to 8 digits (as callers key it)"))
                continue
            }
            guard TrunksFile.isCallable(owner) else {
                errors.append(ParseError(file: file, line: number, message: "owner_number is not a number we can call"))
                continue
            }
            if let first = firstLine[plate] {
                errors.append(ParseError(file: file, line: number, message: "plate '\(plate)' is already listed at line \(first)"))
                continue
            }
            firstLine[plate] = number
            owners[plate] = owner
        }
        if !sawHeader { errors.append(ParseError(file: file, line: 1, message: "the file is empty (header 'plate,owner_number' expected)")) }
        guard errors.isEmpty else { throw VehicleOwnersError(errors: errors) }
        return VehicleOwners(owners: owners)
    }
}

public struct VehicleOwnersError: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [VehicleOwners.ParseError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
