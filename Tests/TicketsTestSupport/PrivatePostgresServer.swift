// A private PostgreSQL server on its own port, for tests that stop, kill and restart it.

import Foundation
import TicketsPostgres

/// A private PostgreSQL server on its own port (deploy/postgres/pgctl.sh), for tests that stop,
/// kill and restart it: the shared test server must stay up for the other tests.
public final class PrivatePostgresServer: Sendable {
    public let port: Int
    let script: String

    public init() throws {
        script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/postgres/pgctl.sh").path
        // A random port may be taken (another test's server): try a few.
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = Int.random(in: 55_500...55_899)
            do {
                try Self.pgctl(script, "start", port)
                self.port = port
                return
            } catch {
                lastError = error
                try? FileManager.default.removeItem(atPath: "/tmp/hotline-pg-\(port)")
            }
        }
        throw lastError!
    }

    public var url: PostgresURL { PostgresURL(user: "hotline", host: "127.0.0.1", port: port, database: "hotline") }

    /// Runs `pgctl.sh COMMAND PORT` and waits for it (posix_spawn and waitpid: Foundation's
    /// Process.waitUntilExit can hang on Linux when tests run processes in parallel).
    public func run(_ command: String) throws {
        try Self.pgctl(script, command, port)
    }

    static func pgctl(_ script: String, _ command: String, _ port: Int) throws {
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("pgctl-\(port)-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: errors) }
        let line = "sh '\(script)' \(command) \(port) >/dev/null 2>'\(errors)'"
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", line]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        closeInheritedDescriptors(&actions)
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, environ)
        guard spawned == 0 else { throw TestDatabaseError(description: "cannot run pgctl.sh: errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw TestDatabaseError(description: "pgctl.sh \(command) \(port) failed (status \(status)): \(text)")
        }
    }

    deinit {
        try? run("stop")
        try? FileManager.default.removeItem(atPath: "/tmp/hotline-pg-\(port)")
    }
}


/// Makes a posix_spawn close every descriptor above standard error in the child. A daemon the
/// tests start (PostgreSQL, Kamailio) would otherwise keep, for its whole life, whatever the
/// test process had open at that instant: among them the socket by which Foundation's Process
/// learns that another test's child has exited, whose end would then never be seen.
/// (glibc ≥ 2.34 has the call; Swift's Glibc module does not declare it.)
public func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    // The program's global scope (glibc's RTLD_DEFAULT is a null handle: dlsym(nil, ...)).
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
        fatalError("glibc without posix_spawn_file_actions_addclosefrom_np: Debian 12 has it")
    }
    let addCloseFrom = unsafeBitCast(symbol, to: AddCloseFrom.self)
    let status = addCloseFrom(&actions, 3)
    precondition(status == 0, "posix_spawn_file_actions_addclosefrom_np: \(status)")
}
