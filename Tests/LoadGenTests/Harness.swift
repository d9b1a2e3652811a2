import Foundation
import Synchronization
import Testing

/// The `hotline` executable `swift build` made (HOTLINE_BIN overrides), as the integration
/// tests use it.
enum Binary {
    static let path: String = {
        if let path = ProcessInfo.processInfo.environment["HOTLINE_BIN"] { return path }
        for config in ["debug", "release"] {
            let path = Repo.root.appendingPathComponent(".build/\(config)/hotline").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return Repo.root.appendingPathComponent(".build/debug/hotline").path
    }()
}

/// RTP port ranges for servers these tests start: above the kernel's ephemeral ports
/// (32768–60999) and away from the integration tests' and benchmarks' 20000–39999.
let nextServerRTPBase = Mutex(63_000)
func allocateServerRTPRange() -> String {
    nextServerRTPBase.withLock { base in
        defer { base = base >= 64_600 ? 63_000 : base + 400 }
        return "\(base)-\(base + 399)"
    }
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to completion off the cooperative pool, with a hard time limit; `input` is
/// written to its stdin `inputDelay` after its stdout first shows `inputAfter` (at once when
/// nil), and stdin stays open until it exits. Waiting for the output rather than a fixed time
/// keeps a slow start (a loaded machine) from moving the keypress.
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
         inputAfter marker: String? = nil, inputDelay: Duration = .zero, timeout: Duration = .seconds(120)) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-lg-\(UUID().uuidString)")
            let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
            _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
            defer {
                try? FileManager.default.removeItem(at: outURL)
                try? FileManager.default.removeItem(at: errURL)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.currentDirectoryURL = Repo.root
            if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            let exited = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in exited.signal() }
            let stdin = Pipe()
            do {
                process.standardOutput = try FileHandle(forWritingTo: outURL)
                process.standardError = try FileHandle(forWritingTo: errURL)
                process.standardInput = input == nil ? FileHandle.nullDevice : stdin
                try process.run()
            } catch {
                return continuation.resume(throwing: error)
            }
            if let input {
                DispatchQueue.global().async {
                    if let marker {
                        // Bounded by the command's own time limit.
                        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
                        while process.isRunning, Date() < deadline,
                              !((try? String(contentsOf: outURL, encoding: .utf8))?.contains(marker) ?? false) {
                            usleep(20_000)
                        }
                    }
                    usleep(useconds_t(inputDelay.components.seconds * 1_000_000 + inputDelay.components.attoseconds / 1_000_000_000_000))
                    if process.isRunning { stdin.fileHandleForWriting.write(Data(input.utf8)) }
                }
            }
            let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(timeout.components.seconds)), execute: killer)
            // SIGTERM at the time limit, then SIGKILL: never a wait without end.
            var ended = exited.wait(timeout: .now() + .seconds(Int(timeout.components.seconds) + 10)) == .success
            if !ended {
                kill(process.processIdentifier, SIGKILL)
                ended = exited.wait(timeout: .now() + .seconds(10)) == .success
            }
            killer.cancel()
            try? stdin.fileHandleForWriting.close()
            continuation.resume(returning: CommandResult(
                status: ended ? process.terminationStatus : -1,
                stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""))
        }
    }
}

/// `hotline serve --dialplan Dialplans/bench.yaml` on a free loopback port with its own
/// database; stopped with SIGTERM when the test is done.
final class Server: @unchecked Sendable {
    let process = Process()
    let directory: URL
    let database: String
    private(set) var sipPort = 0
    private let exited = DispatchSemaphore(value: 0)
    private let errorLog: URL

    init(extra: [String] = []) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-lg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = directory.appendingPathComponent("tickets.sqlite").path
        errorLog = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.currentDirectoryURL = Repo.root
        process.arguments = ["serve", "--sip", "127.0.0.1:0", "--http", "off", "--dialplan", "Dialplans/bench.yaml",
                             "--db", database, "--prompts", "Prompts", "--rtp-ports", allocateServerRTPRange(),
                             "--log-level", "warning"] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errorLog)
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let line = await Self.readLine(out.fileHandleForReading)
        // "hotline listening sip=127.0.0.1:PORT http=off"
        guard let match = line.firstMatch(of: /sip=[0-9.]+:(\d+)/) else {
            process.terminate()
            throw NotReady(output: line + log)
        }
        sipPort = Int(match.1)!
    }

    struct NotReady: Error { var output: String }

    var target: String { "127.0.0.1:\(sipPort)" }
    var log: String { (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "" }

    private static func readLine(_ handle: FileHandle) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var data = Data()
                while !data.contains(UInt8(ascii: "\n")) {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                }
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
    }

    /// SIGTERM, and the exit status (−1 if it had to be killed after 20 s).
    func stop() async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                if self.process.isRunning { self.process.terminate() }
                if self.exited.wait(timeout: .now() + .seconds(20)) == .timedOut {
                    kill(self.process.processIdentifier, SIGKILL)
                    _ = self.exited.wait(timeout: .now() + .seconds(10))
                    return continuation.resume(returning: -1)
                }
                continuation.resume(returning: self.process.terminationStatus)
            }
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }
}
