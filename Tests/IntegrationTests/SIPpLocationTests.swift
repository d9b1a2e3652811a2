import Foundation
import Testing

/// The one way every test finds SIPp: HOTLINE_SIPP, else PATH, else /usr/bin/sipp.
@Suite struct SIPpLocationTests {
    /// A directory holding an executable named `sipp` (a stand-in, never run).
    static func fakeSIPpDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-sipp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sipp = dir.appendingPathComponent("sipp").path
        _ = FileManager.default.createFile(atPath: sipp, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        return dir
    }

    @Test func theOverrideWinsAndIsTheOnlyPlaceLookedAtWhenSet() throws {
        let dir = try Self.fakeSIPpDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fake = dir.appendingPathComponent("sipp").path
        #expect(try SIPp.locate(environment: ["HOTLINE_SIPP": fake, "PATH": "/usr/bin"]).get() == fake)
        let missing = SIPp.locate(environment: ["HOTLINE_SIPP": "/nonexistent", "PATH": dir.path])
        guard case .failure(let error) = missing else {
            Issue.record("a missing HOTLINE_SIPP fell back to \(missing)")
            return
        }
        #expect(error.description.hasPrefix("sipp not found: make test installs it (Debian sip-tester)"))
        #expect(error.description.contains("HOTLINE_SIPP=/nonexistent"))
    }

    @Test func pathComesBeforeTheDebianLocation() throws {
        let dir = try Self.fakeSIPpDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try SIPp.locate(environment: ["PATH": "/nonexistent-dir:\(dir.path)"]).get() == dir.appendingPathComponent("sipp").path)
    }

    /// Without the override and off PATH, only an installed /usr/bin/sipp is found.
    @Test func offThePathOnlyTheDebianLocationIsFound() {
        let found = SIPp.locate(environment: ["PATH": "/nonexistent-dir"])
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/sipp") {
            #expect((try? found.get()) == "/usr/bin/sipp")
        } else {
            #expect((try? found.get()) == nil)
        }
    }
}
