import Foundation
import Testing
@testable import HotlineServer

/// The runtime seat count saved beside the database.
@Suite struct SeatOverrideTests {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("hotline-seats-\(UUID().uuidString)/licensed-seats.json")

    @Test func aSavedCountIsUsedWhileAgentsYAMLStillSaysWhatItSaid() throws {
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        #expect(try SeatOverride.load(from: url, agentsYAMLLicensedSeats: 4) == nil, "no file: agents.yaml")
        let saved = SeatOverride(licensed: 204, agentsYAMLLicensedSeats: 4, setAt: Date(timeIntervalSince1970: 1_796_000_000))
        try saved.save(to: url)
        #expect(try SeatOverride.load(from: url, agentsYAMLLicensedSeats: 4) == saved)
        #expect(try SeatOverride.load(from: url, agentsYAMLLicensedSeats: 250) == nil, "agents.yaml edited since: it rules")
    }

    @Test func aDamagedFileStopsStartUpWithItsPath() throws {
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{\"licensed\": ".utf8).write(to: url)
        #expect { try SeatOverride.load(from: url, agentsYAMLLicensedSeats: 4) } throws: { error in
            "\(error)".contains(url.path) && "\(error)".contains("delete it")
        }
    }
}
