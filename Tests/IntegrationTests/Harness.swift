import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing
import Tickets
import TicketsSQLite
import TicketsPostgres

/// The repository root, found from this file.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let scenarios = Bundle.module.url(forResource: "Scenarios", withExtension: nil)!
    /// A scenario of Tests/IntegrationTests/Scenarios by name, or a file by absolute path (a
    /// variant a test wrote).
    static func scenario(_ name: String) -> String {
        name.hasPrefix("/") ? name : scenarios.appendingPathComponent(name + ".xml").path
    }

    /// The `hotline` executable `swift build` made (HOTLINE_BIN overrides).
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["HOTLINE_BIN"] { return path }
        for config in ["debug", "release"] {
            let path = root.appendingPathComponent(".build/\(config)/hotline").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return root.appendingPathComponent(".build/debug/hotline").path
    }()

    static func which(_ command: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for dir in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(command)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// Where SIPp is, found one way for every test that runs it: `HOTLINE_SIPP` if set (and
/// then only there), else `sipp` on `PATH`, else /usr/bin/sipp (Debian's sip-tester).
/// `make test` installs it, so a missing SIPp fails the tests that need it instead of
/// skipping them.
enum SIPp {
    struct NotFound: Error, CustomStringConvertible {
        var looked: String
        var description: String { "sipp not found: make test installs it (Debian sip-tester); looked at \(looked)" }
    }

    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<String, NotFound> {
        if let override = environment["HOTLINE_SIPP"] {
            return FileManager.default.isExecutableFile(atPath: override) ? .success(override) : .failure(NotFound(looked: "HOTLINE_SIPP=\(override)"))
        }
        if let found = Repo.which("sipp", path: environment["PATH"]) { return .success(found) }
        let debian = "/usr/bin/sipp"
        if FileManager.default.isExecutableFile(atPath: debian) { return .success(debian) }
        return .failure(NotFound(looked: "PATH=\(environment["PATH"] ?? "") and \(debian)"))
    }

    /// SIPp's path, or a recorded failure naming what to install.
    static func require() throws -> String {
        try locate().get()
    }
}

// Fixed ports stay below Linux's ephemeral range (32768-60999 by default), where any socket
// bound to port 0 (a server's SIP socket, an HTTP client) may already sit.

/// RTP port ranges for servers started by one test run: 400 ports each, reused cyclically
/// over 21000-30999 (25 servers apart; never that many run at once). The cycle starts at a
/// random slot, so two test runs sharing a machine seldom hand out the same ranges.
/// 31000-32767 stays free for the in-process media tests' fixed ranges, which a server's
/// RTP sockets there would starve ("no free RTP port in 31400-31499").
let nextRTPBase = Mutex(Int.random(in: 0..<25))
func allocateRTPRange() -> String {
    nextRTPBase.withLock { slot in
        defer { slot = (slot + 1) % 25 }
        let base = 21000 + slot * 400
        return "\(base)-\(base + 399)"
    }
}

/// SIPp media ports (SIPp binds the port and the next ones for RTCP and video): 8 apart over
/// 10000-20999, cyclically, from a random start (as above).
let nextSIPpMediaPort = Mutex(Int.random(in: 0..<1375))
func allocateSIPpMediaPort() -> Int {
    nextSIPpMediaPort.withLock { slot in
        defer { slot = (slot + 1) % 1375 }
        return 10000 + slot * 8
    }
}

/// The value of one sample of Prometheus text (`name{labels} value`; `sample` is the part
/// before the value), nil if the server did not report it.
func prometheusValue(_ text: String, _ sample: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }.flatMap { Double($0.dropFirst(sample.count + 1)) }
}

/// What a finished command printed and how it exited.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Waits for `exited` (signalled by `process`'s termination handler) at most `limit`, then
/// kills the process and waits 10 s more; returns its exit status, nil if its end was never
/// seen. No wait on a child blocks a test, or the whole run, forever: should Foundation miss
/// the end (its notice is a socket that a daemon spawned meanwhile may hold), the child is
/// reaped here.
func awaitTermination(_ exited: DispatchSemaphore, of process: Process, within limit: Duration) -> Int32? {
    let milliseconds = Int(limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000)
    if exited.wait(timeout: .now() + .milliseconds(milliseconds)) == .success {
        exited.signal() // a latch: every later wait returns at once
        return process.terminationStatus
    }
    let pid = process.processIdentifier
    Foundation.kill(pid, SIGKILL)
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
        if exited.wait(timeout: .now() + .milliseconds(100)) == .success {
            exited.signal()
            return process.terminationStatus
        }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            print("process \(pid): reaped by the test, Foundation never reported its end")
            return -1
        }
    }
    return nil
}

/// The tests' HTTP client: no cookie jar. URLSession.shared would keep a console session
/// cookie from one test's server and send it to every later server on 127.0.0.1 (cookies do
/// not care about ports), which refuses it as an ended session.
let testHTTPSession: URLSession = {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.httpCookieStorage = nil
    configuration.httpShouldSetCookies = false
    configuration.httpCookieAcceptPolicy = .never
    return URLSession(configuration: configuration)
}()

/// A value shared between threads.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
}

/// Runs a command to completion off the cooperative pool, with a hard time limit. Output
/// goes to temporary files, so a chatty child never blocks on a full pipe.
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
         directory: URL? = nil, timeout: Duration = .seconds(120)) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-run-\(UUID().uuidString)")
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
            if let environment { process.environment = environment }
            if let directory { process.currentDirectoryURL = directory }
            // Foundation's waitUntilExit spins a run loop on Linux (a core at 100 %, stolen
            // from the server under test); the termination handler does not.
            let exited = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in exited.signal() }
            do {
                process.standardOutput = try FileHandle(forWritingTo: outURL)
                process.standardError = try FileHandle(forWritingTo: errURL)
                process.standardInput = FileHandle.nullDevice
                try process.run()
            } catch {
                return continuation.resume(throwing: error)
            }
            let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeout.components.seconds * 1000)), execute: killer)
            // SIGTERM at the time limit, SIGKILL 10 s later.
            let status = awaitTermination(exited, of: process, within: timeout + .seconds(10))
            killer.cancel()
            continuation.resume(returning: CommandResult(
                status: status ?? -1,
                stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""))
        }
    }
}

/// `hotline serve` on free loopback ports with its own database, driven by the tests.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let directory: URL
    let database: String
    private(set) var sipPort = 0
    private(set) var httpPort = 0
    /// The admin listener's address (127.0.0.1 unless --http named another).
    private(set) var httpHost = "127.0.0.1"
    /// The SIP socket's address (127.0.0.1 unless --sip named another).
    private(set) var sipHost = "127.0.0.1"
    /// The SIP/TCP and SIP/TLS listeners' ports, when --sip-tcp / --sip-tls asked for them.
    private(set) var tcpPort: Int?
    private(set) var tlsPort: Int?
    private let errorLog: URL

    private let ownsDirectory: Bool

    /// A second server on the first one's database (after a crash, say).
    convenience init(reusing other: ServerProcess, dialplan: String = "Dialplans/bench.yaml", extra: [String] = []) async throws {
        try await self.init(directory: other.directory, ownsDirectory: false, database: other.database, dialplan: dialplan, extra: extra)
    }

    /// A server on a directory the test prepared (a seeded `tickets.sqlite`, a tokens file...),
    /// removed with the server. `database`: another store (a `postgres://` URL) instead of
    /// the directory's `tickets.sqlite`.
    convenience init(directory: URL, database: String? = nil, dialplan: String = "Dialplans/bench.yaml",
                     extra: [String] = []) async throws {
        try await self.init(directory: directory, ownsDirectory: true, database: database, dialplan: dialplan, extra: extra)
    }

    convenience init(database: String? = nil, dialplan: String = "Dialplans/bench.yaml", extra: [String] = []) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await self.init(directory: directory, ownsDirectory: true, database: database, dialplan: dialplan, extra: extra)
    }

    private init(directory: URL, ownsDirectory: Bool, database: String? = nil, dialplan: String = "Dialplans/bench.yaml",
                 extra: [String] = []) async throws {
        self.directory = directory
        self.ownsDirectory = ownsDirectory
        self.database = database ?? directory.appendingPathComponent("tickets.sqlite").path
        errorLog = directory.appendingPathComponent("server-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Repo.binary)
        process.currentDirectoryURL = Repo.root
        process.arguments = ["serve", "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0", "--dialplan", dialplan,
                             "--db", self.database, "--data-dir", directory.path, "--prompts", "Prompts", "--rtp-ports", allocateRTPRange(),
                             "--log-level", "debug"] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errorLog)
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let line = try await ServerProcess.readLine(out.fileHandleForReading, timeout: .seconds(30))
        // "hotline listening sip=127.0.0.1:PORT http=127.0.0.1:PORT[ tcp=127.0.0.1:PORT][ tls=127.0.0.1:PORT]"
        guard let sip = line.firstMatch(of: /sip=[0-9.]+:(\d+)/), let http = line.firstMatch(of: /http=[0-9.]+:(\d+)/) else {
            process.terminate()
            throw HarnessError.notReady(line + "\n" + log)
        }
        sipPort = Int(sip.1)!
        httpPort = Int(http.1)!
        if let host = line.firstMatch(of: /http=([0-9.]+):/) { httpHost = String(host.1) }
        if let host = line.firstMatch(of: /sip=([0-9.]+):/) { sipHost = String(host.1) }
        if let tcp = line.firstMatch(of: /\stcp=[0-9.]+:(\d+)/) { tcpPort = Int(tcp.1) }
        if let tls = line.firstMatch(of: /\stls=[0-9.]+:(\d+)/) { tlsPort = Int(tls.1) }
    }

    enum HarnessError: Error { case notReady(String), noTCPListener }

    /// How SIPp reaches the server: UDP, or TCP to the --sip-tcp listener, all calls on one
    /// connection (`-t t1`) or each call on its own (`-t tn`). (Debian's SIPp has no TLS.)
    enum SIPpTransport { case udp, tcp, tcpPerCall }

    var log: String { (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "" }

    /// The server's first line of standard output; "" if none comes within `timeout` (the
    /// caller then kills the server and reports its log).
    private static func readLine(_ handle: FileHandle, timeout: Duration) async throws -> String {
        let line = LockedValue<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var data = Data()
            while !data.contains(UInt8(ascii: "\n")) {
                let chunk = handle.availableData
                if chunk.isEmpty { break } // EOF: the server exited
                data.append(chunk)
            }
            line.set(String(decoding: data, as: UTF8.self))
            done.signal()
        }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                _ = done.wait(timeout: .now() + .seconds(Int(timeout.components.seconds)))
                continuation.resume(returning: line.get() ?? "")
            }
        }
    }

    private let exited = DispatchSemaphore(value: 0)
    /// Set once a wait has seen the process end: it is not signalled after that (its pid may
    /// be another process's by then).
    private let exitSeen = LockedValue(false)

    /// Waits for the process to end; after `timeout` it is killed and -1 returned.
    func waitForExit(timeout: Duration) async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                if self.exited.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000))) == .success {
                    self.exited.signal() // a latch: every later wait returns at once
                    self.exitSeen.set(true)
                    return continuation.resume(returning: self.process.terminationStatus)
                }
                _ = awaitTermination(self.exited, of: self.process, within: .zero) // killed, reaped
                self.exitSeen.set(true)
                continuation.resume(returning: -1)
            }
        }
    }

    /// SIGINT: the server hangs up, commits every ticket and exits (status 0); a server that
    /// does not exit within 20 s is killed and -1 returned. (SIGTERM drains instead.)
    func stop() async -> Int32 {
        if !exitSeen.get() { process.interrupt() }
        return await waitForExit(timeout: .seconds(20))
    }

    /// kill -9: no chance to flush anything.
    func kill9() async {
        if !exitSeen.get() { Foundation.kill(process.processIdentifier, SIGKILL) }
        _ = await waitForExit(timeout: .seconds(20))
    }

    func tickets() throws -> [CallTicket] {
        if database.hasPrefix("postgres") {
            return try PostgresTicketReader(url: PostgresURL(parsing: database)).list(limit: 10_000, since: nil)
        }
        return try SQLiteTicketReader(path: database).list(limit: 10_000, since: nil)
    }

    /// Runs one SIPp scenario against this server.
    func sipp(_ scenario: String, service: String = "12345", calls: Int = 1, rate: Int = 1,
              transport: SIPpTransport = .udp, extra: [String] = [], timeout: Duration = .seconds(90)) async throws -> CommandResult {
        let sipp = try SIPp.require()
        let target: String
        var extra = extra
        switch transport {
        case .udp:
            target = "\(sipHost):\(sipPort)"
        case .tcp, .tcpPerCall:
            guard let tcpPort else { throw HarnessError.noTCPListener }
            target = "\(sipHost):\(tcpPort)"
            // tn: SIPp refuses to start while its socket limit (50 000) exceeds `ulimit -n`.
            extra = (transport == .tcp ? ["-t", "t1"] : ["-t", "tn", "-max_socket", "1000"]) + extra
        }
        let mediaPort = allocateSIPpMediaPort()
        let logs = directory.appendingPathComponent("sipp-\((scenario as NSString).lastPathComponent)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var result = try await run(sipp, [
            target, "-sf", Repo.scenario(scenario), "-s", service, "-i", "127.0.0.1",
            "-mi", "127.0.0.1", "-mp", String(mediaPort), "-m", String(calls), "-r", String(rate), "-l", "500",
            "-recv_timeout", "60000", "-timeout_error", "-max_retrans", "3", "-nostdin",
            "-trace_err", "-error_file", logs.appendingPathComponent("errors.log").path,
            "-trace_msg", "-message_file", logs.appendingPathComponent("messages.log").path,
        ] + extra, timeout: timeout)
        if result.status != 0 {
            result.stderr += (try? String(contentsOf: logs.appendingPathComponent("errors.log"), encoding: .utf8)) ?? ""
        }
        return result
    }

    func messagesLog(_ pattern: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.lastPathComponent.hasPrefix("sipp-\(pattern)") }
            .compactMap { try? String(contentsOf: $0.appendingPathComponent("messages.log"), encoding: .utf8) }
    }

    /// Any admin request; returns the status and the body.
    func http(_ method: String, _ path: String, body: String? = nil, token: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://\(httpHost):\(httpPort)\(path)")!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpShouldHandleCookies = false
        // Foundation caches GET answers without Cache-Control: a second /metrics or /health
        // read would see the first one's figures.
        request.cachePolicy = .reloadIgnoringLocalCacheData
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await testHTTPSession.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    var pid: Int32 { process.processIdentifier }

    func http(_ path: String) async throws -> String {
        let (_, body) = try await http("GET", path)
        return body
    }

    deinit {
        if process.isRunning { process.terminate() }
        if ownsDirectory { try? FileManager.default.removeItem(at: directory) }
    }
}
