// A real `kill -9`: a child process (this test binary, running only the child test) writes
// tickets the way calls do and reports each commit callback on stdout; the parent kills it
// with SIGKILL mid-flight, reopens the file and checks that every reported commit survived.

import Foundation
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

@Suite struct KillNineTests {
    static let childDatabaseVariable = "HOTLINE_TICKETS_KILL9_CHILD_DB"

    /// The parent runs where the test binary can be started again as a plain executable
    /// (`swift test` on Linux runs `<package>PackageTests.xctest` directly).
    static var canSpawnChild: Bool {
        #if os(Linux)
        let binary = ProcessInfo.processInfo.arguments.first ?? ""
        return binary.hasSuffix(".xctest") && FileManager.default.isExecutableFile(atPath: binary)
            && ProcessInfo.processInfo.environment[childDatabaseVariable] == nil
        #else
        return false
        #endif
    }

    @Test(.enabled(if: canSpawnChild))
    func everyReportedCommitSurvivesKillNine() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("var/hotline.sqlite")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        child.arguments = ["--testing-library", "swift-testing", "--filter", "childWritesTicketsUntilKilled"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childDatabaseVariable] = path
        child.environment = environment
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        // Not waitUntilExit: it can hang on Linux while other tests run processes.
        let exited = DispatchSemaphore(value: 0)
        child.terminationHandler = { _ in exited.signal() }
        try child.run()

        // Read commit reports until enough have arrived, kill, then read what was written
        // before the kill up to end of file.
        var buffer = Data()
        var killed = false
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            // Kill once 300 calls have their ticket (finish reports come on top, in whatever
            // proportion the threads' timing gives).
            if !killed, String(decoding: buffer, as: UTF8.self).split(separator: "\n")
                .count(where: { $0.hasPrefix("OPENED ") || $0.hasPrefix("RECORDED ") }) >= 300 {
                kill(child.processIdentifier, SIGKILL)
                killed = true
            }
        }
        if !killed { kill(child.processIdentifier, SIGKILL) }
        let ended = exited.wait(timeout: .now() + .seconds(30)) == .success
        try #require(ended, "the killed child's end was seen")
        #expect(killed)
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(child.terminationStatus == SIGKILL)

        var opened = Set<String>(), finished = Set<String>(), recorded = Set<String>()
        for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "OPENED": opened.insert(String(parts[1]))
            case "FINISHED": finished.insert(String(parts[1]))
            case "RECORDED": recorded.insert(String(parts[1]))
            default: continue
            }
        }
        #expect(opened.count + recorded.count >= 200)

        let store = try SQLiteTicketStore(path: path, options: .init(timeZone: shanghai))
        defer { store.close() }
        let tickets = Dictionary(uniqueKeysWithValues: try store.list(limit: 1_000_000).map { ($0.id.rawValue, $0) })
        for id in opened {
            let disposition = tickets[id]?.disposition
            if finished.contains(id) {
                #expect(disposition == .callerHangup, "\(id) was reported finished")
            } else {
                #expect(disposition == .interrupted || disposition == .callerHangup, "\(id) was reported opened")
            }
        }
        for id in recorded {
            #expect(tickets[id]?.disposition == .rejected, "\(id) was reported recorded")
        }
        #expect(tickets.values.allSatisfy { !$0.isInProgress })
        #expect(store.recoveredTicketCount == tickets.values.count { $0.disposition == .interrupted })
        // Not every opened-but-unreported-finished ticket is interrupted: a finish can commit
        // in the instant between its commit and the printed callback. But the calls that never
        // finish (one in four) leave interrupted rows.
        #expect(store.recoveredTicketCount >= 1)
        // Numbering continues after the newest ticket that reached the disk.
        let newest = try #require(tickets.values.map(\.id).max())
        let next = store.allocateID(at: Date())
        #expect(next > newest)
    }

    /// The child: four "calls" at a time, each waiting for its commit as the server waits
    /// before sending 200 OK; one in four is rejected (record), one in four stays up
    /// (opened, never finished), the others are finished. Runs only in the child process.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[childDatabaseVariable] != nil))
    func childWritesTicketsUntilKilled() throws {
        let path = try #require(ProcessInfo.processInfo.environment[Self.childDatabaseVariable])
        let store = try SQLiteTicketStore(path: path, options: .init(timeZone: shanghai))
        @Sendable func report(_ line: String) {
            // One write(2) per line, under PIPE_BUF, so lines from threads never interleave.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for n in 0..<25_000 {
                let now = Date()
                let id = store.allocateID(at: now)
                let committed = DispatchSemaphore(value: 0)
                if n % 4 == 3 {
                    store.record(rejectedTicket(id, at: now)) { result in
                        if result.succeeded { report("RECORDED \(id)") }
                        committed.signal()
                    }
                    committed.wait()
                    continue
                }
                store.open(arrivingTicket(id, at: now)) { result in
                    if result.succeeded { report("OPENED \(id)") }
                    committed.signal()
                }
                committed.wait()
                if n % 4 == 2 { continue }
                let outcome = CallOutcome(
                    answeredAt: now, endedAt: now.addingTimeInterval(1), keys: "1", menuPath: ["main_menu:1"],
                    disposition: .callerHangup, sipStatus: 200)
                store.finish(id: id, outcome: outcome) { result in
                    if result.succeeded { report("FINISHED \(id)") }
                    committed.signal()
                }
                committed.wait()
            }
        }
        Issue.record("the parent should have killed this process before it ran out of calls")
    }
}
