import Foundation
import Testing
import Tickets
import TicketsPostgres
import TicketsTestSupport

/// A cluster on loopback for the tests: Kamailio with the repository's
/// deploy/kamailio/kamailio.cfg on 127.0.0.1:`frontPort`, and `hotline serve` nodes on
/// 127.0.0.11, .12, ... (SIP `nodePort`, HTTP `nodePort + 1`), sharing one PostgreSQL
/// database: a fresh one on the tests' server, or a private server the test may stop.
/// Fixed ports below 10000, under the SIPp media and RTP ranges the other tests use and under
/// the ephemeral range; the nodes' own addresses keep them apart from 127.0.0.1's servers.
final class Cluster: @unchecked Sendable {
    struct KamailioMissing: Error, CustomStringConvertible {
        var description: String {
            "kamailio not found (looked on PATH and /usr/sbin/kamailio): make test installs it (Debian kamailio kamailio-extra-modules)"
        }
    }
    struct FrontNotReady: Error, CustomStringConvertible {
        var log: String
        var description: String { "Kamailio did not answer OPTIONS within 10 s; its output:\n\(log)" }
    }

    static let frontPort = 9150
    static let nodePort = 9160
    let directory: URL
    private(set) var nodes: [ServerProcess?]
    /// Nodes that exited and were restarted: kept so their directories (the restarted node's
    /// database) outlive them.
    private var retired: [ServerProcess] = []
    private var kamailio: SpawnedProcess!
    private let kamailioLog: URL
    let drainTimeout: String
    let lease: String
    let dialplan: String
    /// More `hotline serve` flags (default: no contact centre).
    let nodeExtra: [String]
    /// The shared store, kept alive (and dropped) with the cluster.
    private let testDatabase: TestDatabase?
    let privateServer: PrivatePostgresServer?
    let postgres: PostgresURL

    /// Where the nodes' shared database lives.
    enum Store {
        /// A fresh database on the tests' server (HOTLINE_TEST_DB_URL).
        case shared
        /// A PostgreSQL server of its own, which the test may stop and restart.
        case privateServer
    }

    static func nodeIP(_ index: Int) -> String { "127.0.0.\(11 + index)" }

    /// The flags that put node `index` on its own address with its name.
    func nodeArguments(_ index: Int) -> [String] {
        ["--sip", "\(Cluster.nodeIP(index)):\(Cluster.nodePort)", "--http", "\(Cluster.nodeIP(index)):\(Cluster.nodePort + 1)",
         "--node", "node\(index + 1)", "--drain-timeout", drainTimeout, "--node-lease", lease,
         "--call-loops", "1", "--front", "127.0.0.1"] + nodeExtra
    }

    /// `defines` are more Kamailio `-A` settings (e.g. `PIKE_DENSITY=10`).
    init(nodes count: Int = 3, drainTimeout: String = "10s", lease: String = "5s", store: Store = .shared,
         dialplan: String = "Dialplans/bench.yaml", nodeExtra: [String] = ["--agents", "off"], defines: [String] = []) async throws {
        guard let kamailioPath = Repo.which("kamailio")
                ?? (FileManager.default.isExecutableFile(atPath: "/usr/sbin/kamailio") ? "/usr/sbin/kamailio" : nil) else {
            throw KamailioMissing()
        }
        _ = try SIPp.require()
        self.drainTimeout = drainTimeout
        self.lease = lease
        self.dialplan = dialplan
        self.nodeExtra = nodeExtra
        switch store {
        case .shared:
            let database = try await TestDatabase(.postgres)
            testDatabase = database
            privateServer = nil
            postgres = database.postgresURL!
        case .privateServer:
            let server = try PrivatePostgresServer()
            testDatabase = nil
            privateServer = server
            postgres = server.url
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        kamailioLog = directory.appendingPathComponent("kamailio.log")
        self.nodes = []
        let list = (0..<count).map { "1 sip:\(Cluster.nodeIP($0)):\(Cluster.nodePort)" }.joined(separator: "\n") + "\n"
        let listPath = directory.appendingPathComponent("dispatcher.list").path
        try list.write(toFile: listPath, atomically: true, encoding: .utf8)
        for index in 0..<count {
            let nodeDirectory = directory.appendingPathComponent("node\(index + 1)")
            try FileManager.default.createDirectory(at: nodeDirectory, withIntermediateDirectories: true)
            nodes.append(try await ServerProcess(directory: nodeDirectory, database: postgres.description, dialplan: dialplan,
                                                 extra: nodeArguments(index)))
        }
        kamailio = try SpawnedProcess(kamailioPath, [
            "-f", Repo.root.appendingPathComponent("deploy/kamailio/kamailio.cfg").path, "-DD", "-E",
            "-A", "LISTEN=udp:127.0.0.1:\(Cluster.frontPort)", "-A", "DS_LIST=\"\(listPath)\"",
            // the tests' load generator runs on 127.0.0.1: pike must not ban it
            "-A", "TRUSTED_NET=\"127.0.0.1/32\"",
        ] + defines.flatMap { ["-A", $0] }, output: kamailioLog.path)
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !frontAnswers() {
            guard ContinuousClock.now < deadline, kamailio.isRunning else {
                kamailio.kill()
                throw FrontNotReady(log: kamailioLogText)
            }
        }
        // The dispatcher's first probe round: every node answered and is in rotation.
        for index in 0..<count { try await waitUntilProbed(index) }
        if !nodeExtra.contains("off") { _ = try await acdLeader(within: .seconds(20)) }
    }

    /// The node deciding for the cluster's ACD, once one does (with a contact centre).
    func acdLeader(within limit: Duration = .seconds(20), except: String? = nil) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while true {
            for index in nodes.indices where nodes[index]?.process.isRunning == true {
                let body = (try? await node(index).http("/api/cluster")) ?? ""
                if let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                   let leader = json["acd_leader"] as? String, leader != except,
                   let number = Int(leader.dropFirst("node".count)), nodes.indices.contains(number - 1),
                   let leading = nodes[number - 1], leading.process.isRunning,
                   // The leader has rebuilt its state once it says so.
                   leading.log.contains("ACD state rebuilt from the shared store") {
                    return leader
                }
            }
            guard ContinuousClock.now < deadline else { throw NoACDLeader() }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    struct NoACDLeader: Error, CustomStringConvertible {
        var description: String { "no node took the cluster's ACD over in time" }
    }

    var kamailioLogText: String { (try? String(contentsOf: kamailioLog, encoding: .utf8)) ?? "" }

    /// An OPTIONS to the front itself from `source`, answered by Kamailio.
    func frontAnswers(from source: String = "127.0.0.1") async throws -> Bool {
        try await probeFront(from: source, count: 1, rate: 1).status == 0
    }

    /// `count` OPTIONS to the front itself from `source` at `rate`/s.
    func probeFront(from source: String, count: Int, rate: Int) async throws -> CommandResult {
        try await run(try SIPp.require(), [
            "127.0.0.1:\(Cluster.frontPort)", "-sf", Repo.root.appendingPathComponent("deploy/kamailio/probe.xml").path,
            "-m", String(count), "-r", String(rate), "-i", source, "-recv_timeout", "1000", "-timeout", "10s", "-timeout_error",
            "-max_retrans", "1", "-nostdin",
        ], timeout: .seconds(15))
    }

    func node(_ index: Int) -> ServerProcess { nodes[index]! }

    /// How many out-of-dialog OPTIONS node `index` has received (the front's probes).
    func optionsReceived(_ index: Int) async throws -> Double {
        let text = try await node(index).http("/metrics")
        return prometheusValue(text, "hotline_sip_requests_total{node=\"node\(index + 1)\",direction=\"in\",method=\"OPTIONS\"}") ?? 0
    }

    /// Waits (up to 10 s) until node `index` has answered two more probes: the front has
    /// seen it answer since it was last changed.
    func waitUntilProbed(_ index: Int) async throws {
        let start = try await optionsReceived(index)
        let deadline = ContinuousClock.now + .seconds(10)
        while try await optionsReceived(index) < start + 2 {
            if ContinuousClock.now >= deadline {
                let metrics = try await node(index).http("/metrics").split(separator: "\n").filter { $0.contains("OPTIONS") }
                Issue.record("node\(index + 1) was not probed by the front within 10 s (from \(start)): \(metrics)\n\(kamailioLogText.suffix(3000))")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Restarts node `index` (on the shared database) after it exited.
    func restart(_ index: Int) async throws {
        let old = node(index)
        retired.append(old)
        nodes[index] = try await ServerProcess(reusing: old, dialplan: dialplan, extra: nodeArguments(index))
    }

    /// Any SIPp scenario against the front, its logs under `sipp-NAME`.
    /// `node`: call that node directly instead of the front.
    func sipp(_ scenario: String, service: String, logs name: String, extra: [String], from source: String = "127.0.0.1",
              node: Int? = nil, timeout: Duration = .seconds(90)) async throws -> CommandResult {
        let logs = directory.appendingPathComponent("sipp-\(name)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let target = node.map { "\(Cluster.nodeIP($0)):\(Cluster.nodePort)" } ?? "127.0.0.1:\(Cluster.frontPort)"
        var result = try await run(try SIPp.require(), [
            target, "-sf", Repo.scenario(scenario), "-s", service, "-i", source,
            "-mi", source, "-mp", String(allocateSIPpMediaPort()), "-m", "1", "-recv_timeout", "60000",
            // A UAS scenario waits for its first request with no call yet: only -timeout bounds it.
            "-timeout", "\(Int(timeout.components.seconds))s", "-timeout_error", "-max_retrans", "3", "-nostdin",
            "-trace_err", "-error_file", logs.appendingPathComponent("errors.log").path,
            "-trace_msg", "-message_file", logs.appendingPathComponent("messages.log").path,
        ] + extra, timeout: timeout)
        if result.status != 0 {
            result.stderr += (try? String(contentsOf: logs.appendingPathComponent("errors.log"), encoding: .utf8)) ?? ""
        }
        return result
    }

    /// The SIP messages SIPp run `name` exchanged.
    func messages(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("sipp-\(name)/messages.log"), encoding: .utf8)) ?? ""
    }

    /// A SIPp caller through the front: `calls` calls at `rate`/s, each `hold` ms long.
    func sipp(calls: Int, rate: Int, hold: Int, service: String = "12345", logs name: String,
              timeout: Duration = .seconds(120)) async throws -> CommandResult {
        let logs = directory.appendingPathComponent("sipp-\(name)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var result = try await run(try SIPp.require(), [
            "127.0.0.1:\(Cluster.frontPort)", "-sf", Repo.scenario("cluster-call"), "-s", service, "-i", "127.0.0.1",
            "-mi", "127.0.0.1", "-mp", String(allocateSIPpMediaPort()), "-m", String(calls), "-r", String(rate), "-l", "200",
            "-d", String(hold), "-recv_timeout", "20000", "-timeout_error", "-max_retrans", "5", "-nostdin",
            "-trace_err", "-error_file", logs.appendingPathComponent("errors.log").path,
            "-trace_msg", "-message_file", logs.appendingPathComponent("messages.log").path,
        ], timeout: timeout)
        if result.status != 0 {
            result.stderr += (try? String(contentsOf: logs.appendingPathComponent("errors.log"), encoding: .utf8)) ?? ""
        }
        return result
    }

    /// Call-IDs of the calls SIPp saw answered (a 200 to its INVITE) in run `name`.
    func answeredCallIDs(_ name: String) -> Set<String> {
        let text = (try? String(contentsOf: directory.appendingPathComponent("sipp-\(name)/messages.log"), encoding: .utf8)) ?? ""
        var ids = Set<String>()
        for message in text.components(separatedBy: "----------------------------------------------- ") {
            guard message.contains("message received"), message.contains("SIP/2.0 200"),
                  message.range(of: #"CSeq:\s*1 INVITE"#, options: [.regularExpression, .caseInsensitive]) != nil,
                  let id = message.firstMatch(of: /(?i)Call-ID:\s*(\S+)/) else { continue }
            ids.insert(String(id.1))
        }
        return ids
    }

    /// One row of the shared `calls` table, as an administrator's psql shows it.
    struct CallRow: Sendable {
        var node: String
        var callID: String
        var answered: Bool
        var disposition: String?
    }

    /// Every call the nodes recorded in PostgreSQL, read with psql (the store's API has no
    /// node column to show: which node took a call is cluster bookkeeping).
    func calls() async throws -> [CallRow] {
        guard let psql = Repo.which("psql") else {
            throw TestDatabaseError(description: "psql not found: make test installs postgresql")
        }
        let result = try await run(psql, [postgres.description, "-X", "-A", "-t", "-F", "|", "-c",
                                          "SELECT node, call_id, answered_at IS NOT NULL, coalesce(disposition, '') FROM calls"],
                                   timeout: .seconds(30))
        guard result.status == 0 else { throw TestDatabaseError(description: "psql failed: \(result.stderr)") }
        return result.stdout.split(separator: "\n").map { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return CallRow(node: f[0], callID: f[1], answered: f[2] == "t", disposition: f[3].isEmpty ? nil : f[3])
        }
    }

    /// Answered calls by node (node1 first).
    func answeredByNode() async throws -> [[CallRow]] {
        let rows = try await calls().filter(\.answered)
        return (0..<nodes.count).map { index in rows.filter { $0.node == "node\(index + 1)" } }
    }

    /// `GET /api/cluster` from node `index`: name → (state, calls).
    func clusterView(from index: Int) async throws -> [String: (state: String, calls: Int)] {
        let body = try await node(index).http("/api/cluster")
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let list = json?["nodes"] as? [[String: Any]] ?? []
        var view: [String: (state: String, calls: Int)] = [:]
        for item in list {
            if let name = item["name"] as? String { view[name] = ((item["state"] as? String) ?? "?", (item["calls"] as? Int) ?? -1) }
        }
        return view
    }

    func stop() async {
        for case let node? in nodes { _ = await node.stop() }
        await kamailio.stop()
    }

    deinit {
        kamailio?.kill()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A child started with posix_spawn and a clean signal mask. Foundation's Process starts its
/// child from a dispatch thread, whose blocked signals the child inherits: Kamailio's timer
/// (SIGALRM) then never ticks, so the dispatcher never probes and nothing times out.
final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    private var status: Int32?

    init(_ path: String, _ arguments: [String], output: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeInheritedDescriptors(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        // Its own process group: stop() signals Kamailio's workers along with their parent.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        self.pid = pid
    }

    var isRunning: Bool {
        if status != nil { return false }
        var s: Int32 = 0
        if waitpid(pid, &s, WNOHANG) == pid { status = s; return false }
        return true
    }

    /// SIGTERM to the group, up to 10 s for the parent to exit, then SIGKILL to the group.
    func stop() async {
        guard isRunning else { return kill() }
        Foundation.kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        kill()
    }

    /// SIGKILL to the whole group (workers a dead parent left behind included), reaped.
    func kill() {
        Foundation.kill(-pid, SIGKILL)
        if status == nil {
            var s: Int32 = 0
            waitpid(pid, &s, 0)
            status = s
        }
    }
}
