import Foundation

/// The licensed seat count set at runtime (`PUT /api/seats`, `hotline seats set`), kept in
/// `licensed-seats.json` beside the database so a restart does not silently take back the
/// 200 seats added overnight. It records the `licensed_seats` agents.yaml said when it was set:
/// once an admin edits that value, the file is stale and agents.yaml rules again.
struct SeatOverride: Codable, Equatable {
    var licensed: Int
    var agentsYAMLLicensedSeats: Int
    var setAt: Date

    enum CodingKeys: String, CodingKey {
        case licensed
        case agentsYAMLLicensedSeats = "agents_yaml_licensed_seats"
        case setAt = "set_at"
    }

    static func url(in dataDirectory: String) -> URL {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("licensed-seats.json")
    }

    /// The seats to start with: the saved override if agents.yaml still says what it said
    /// when the override was set; nil to use agents.yaml. A file that cannot be read is an
    /// error (a start-up refusal beats quietly dropping seats).
    static func load(from url: URL, agentsYAMLLicensedSeats: Int) throws(SeatOverrideError) -> SeatOverride? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let saved: SeatOverride
        do { saved = try decoder.decode(SeatOverride.self, from: data) } catch {
            throw SeatOverrideError(path: url.path, reason: "\(error)")
        }
        return saved.agentsYAMLLicensedSeats == agentsYAMLLicensedSeats ? saved : nil
    }

    /// Written atomically (temporary file, rename): a crash leaves the old or the new count.
    func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}

struct SeatOverrideError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "\(path): cannot read the saved seat count: \(reason) (delete it to use agents.yaml's licensed_seats)" }
}
