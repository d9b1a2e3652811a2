import Foundation
import Testing
import Tickets

/// A real softphone as a home agent of the cluster (issue 13): baresip (Debian 12's 1.0.0)
/// registers with digest through the Kamailio front, is logged in through the admin API, and
/// auto-answers one queue caller arriving on each of the three nodes, every offer rung through
/// the front on the binding's Path. docs/softphones.md has the same configuration.
extension LoopbackClusterSuites {
@Suite struct ClusterSoftphoneTests {
    struct BaresipMissing: Error, CustomStringConvertible {
        var description: String {
            "baresip not found on PATH (nor /usr/bin/baresip): make test installs it (Debian package baresip, 1.0.0 on Debian 12)"
        }
    }

    /// baresip in its own directory: config, accounts, a file of silence as its microphone,
    /// what it decodes dumped by `sndfile` (dump-*-dec.wav; 1.0.0's aufile has no player),
    /// its output in baresip.log.
    final class Baresip: @unchecked Sendable {
        let directory: URL
        let sipPort: Int
        let log: URL
        private var process: SpawnedProcess?

        static func locate() -> String? {
            Repo.which("baresip") ?? (FileManager.default.isExecutableFile(atPath: "/usr/bin/baresip") ? "/usr/bin/baresip" : nil)
        }

        /// The account line: agent a2001's phone, registering through the front.
        static func account(front: Int) -> String {
            "<sip:2001@127.0.0.1:\(front)>;auth_pass=pw-2001;regint=60;answermode=auto;audio_codecs=PCMA,PCMU"
        }

        /// `directory`: absolute, since baresip opens the audio files from its working directory.
        /// `extra`: lines for TLS (sip_cafile), SRTP and Opus modules, another audio source.
        static func config(directory: String, sipPort: Int, rtpPorts: String,
                           audioSource: String? = nil, extra: String = "") -> String {
            """
            poll_method      epoll
            sip_listen       127.0.0.1:\(sipPort)
            net_interface    127.0.0.1
            audio_source     \(audioSource ?? "aufile,\(directory)/silence.wav")
            audio_alert      aufile,/dev/null
            module_path      /usr/lib/baresip/modules
            module           g711.so
            module           aufile.so
            module           sndfile.so
            snd_path         \(directory)
            module_app       account.so
            module_app       menu.so
            rtp_ports        \(rtpPorts)
            \(extra)

            """
        }

        /// The cluster tests' phone: agent a2001 through the Kamailio front, on G.711.
        convenience init(_ executable: String) throws {
            try self.init(executable, account: Self.account(front: Cluster.frontPort))
        }

        init(_ executable: String, account: String, audioSource: String? = nil, extraConfig: String = "") throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-baresip-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // Two slots of 8 ports in the SIPp media range (below the ephemeral range, where an
            // outgoing connection may hold the TCP port of the same number: baresip binds
            // sip_listen for UDP and TCP), ours alone in this run.
            sipPort = allocateSIPpMediaPort()
            log = directory.appendingPathComponent("baresip.log")
            let rtp = allocateSIPpMediaPort()
            try Self.config(directory: directory.path, sipPort: sipPort, rtpPorts: "\(rtp)-\(rtp + 7)",
                            audioSource: audioSource, extra: extraConfig)
                .write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
            try (account + "\n")
                .write(to: directory.appendingPathComponent("accounts"), atomically: true, encoding: .utf8)
            try Data().write(to: directory.appendingPathComponent("contacts"))
            try Self.silence(seconds: 60).write(to: directory.appendingPathComponent("silence.wav"))
            process = try SpawnedProcess(executable, ["-f", directory.path], output: log.path)
        }

        /// A WAV file of silence: 8 kHz, mono, 16-bit PCM.
        static func silence(seconds: Int) -> Data {
            let samples = 8000 * seconds, bytes = UInt32(samples * 2)
            var data = Data()
            func le32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
            func le16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
            data.append(contentsOf: Array("RIFF".utf8)); le32(36 + bytes); data.append(contentsOf: Array("WAVE".utf8))
            data.append(contentsOf: Array("fmt ".utf8)); le32(16); le16(1); le16(1); le32(8000); le32(16000); le16(2); le16(16)
            data.append(contentsOf: Array("data".utf8)); le32(bytes)
            data.append(Data(count: Int(bytes)))
            return data
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        var isRunning: Bool { process?.isRunning ?? false }

        /// SIGTERM, up to 10 s to unregister and exit, then SIGKILL.
        func stop() async { await process?.stop() }

        deinit {
            process?.kill()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// A queue call in the shared `calls` table, with its agent's answer.
    struct QueueCall: CustomStringConvertible {
        var node, callID, queue, agent, answeredAt, disposition: String
        var description: String { "\(node) \(callID) \(queue) agent=\(agent) answered=\(answeredAt) \(disposition)" }
    }

    static func queueCalls(_ cluster: Cluster) async throws -> [QueueCall] {
        let psql = try #require(Repo.which("psql"), "make test installs postgresql")
        let result = try await run(psql, [cluster.postgres.description, "-X", "-A", "-t", "-F", "|", "-c", """
            SELECT node, call_id, queue, coalesce(agent, ''), coalesce(agent_answered_at, ''), coalesce(disposition, '')
            FROM calls WHERE queue IS NOT NULL ORDER BY enqueued_at
            """], timeout: .seconds(30))
        try #require(result.status == 0, "psql: \(result.stderr)")
        return result.stdout.split(separator: "\n").map { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return QueueCall(node: f[0], callID: f[1], queue: f[2], agent: f[3], answeredAt: f[4], disposition: f[5])
        }
    }

    /// ClusterACDTests.agents with the agents file swapped for `agents`.
    static func nodeExtra(agents: String) -> [String] {
        var extra = ClusterACDTests.agents
        if let flag = extra.firstIndex(of: "--agents") { extra[flag + 1] = agents }
        return extra
    }

    /// The cluster tests' agents.yaml (a2001 2001/pw-2001, a2002) with `digest_algorithms: [md5]`,
    /// in a directory of its own.
    static func md5OnlyAgents() throws -> URL {
        let source = ClusterACDTests.agents[try #require(ClusterACDTests.agents.firstIndex(of: "--agents")) + 1]
        let text = try String(contentsOf: Repo.root.appendingPathComponent(source), encoding: .utf8)
        let md5Only = text.replacing(/(?m)^digest_algorithms: .*$/, with: "digest_algorithms: [md5]")
        try #require(md5Only.contains("digest_algorithms: [md5]\n"), "\(source) names its digest algorithms")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-md5-agents-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("agents.yaml")
        try md5Only.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// hotline_agent_rtp_packets_total in one direction ("in": from the agents' phones).
    static func agentRTP(_ metrics: String, _ direction: String) -> Double {
        metrics.split(separator: "\n")
            .filter { $0.hasPrefix("hotline_agent_rtp_packets_total{") && $0.contains("direction=\"\(direction)\"") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    static func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test("a real softphone (baresip) registers through the front as a home agent and answers a caller from each node")
    func baresipAnswersACallerFromEachNode() async throws {
        let executable = try #require(Baresip.locate(), "\(BaresipMissing())")
        // baresip 1.0 (libre 1.x) gives up registering ("Register: Function not implemented") as
        // soon as one challenge is SHA-256, even after an MD5 one: the centre challenges with
        // MD5 only, the cluster tests' agents otherwise unchanged.
        let agents = try Self.md5OnlyAgents()
        defer { try? FileManager.default.removeItem(at: agents.deletingLastPathComponent()) }
        let cluster = try await Cluster(nodes: 3, dialplan: ClusterACDTests.dialplan,
                                        nodeExtra: Self.nodeExtra(agents: agents.path))
        let phone = try Baresip(executable)
        func cleanUp() async {
            await phone.stop()
            await cluster.stop()
        }
        do {
            // Its REGISTER reaches one node through the front; every node's view follows.
            var seen = ""
            let registered = try await ClusterACDTests.eventually(.seconds(20)) {
                try #require(phone.isRunning, "baresip exited:\n\(phone.output.suffix(3000))")
                for index in cluster.nodes.indices {
                    let agent = try await ContactCentreTests.agents(cluster.node(index))["a2001"]
                    seen = "\(agent ?? [:])"
                    if agent?["reachable"] as? Bool == true { return true }
                }
                return false
            }
            try #require(registered, "baresip registered a2001 through the front: \(seen)\nbaresip:\n\(phone.output.suffix(3000))")
            let (status, body) = try await ContactCentreTests.agentAction("login", "a2001", on: cluster.node(1))
            try #require(status == 200, "login a2001 on node2: \(body)")

            for index in cluster.nodes.indices {
                // The agent is free again (the previous call over, no wrap-up) on this node's view.
                #expect(try await ClusterACDTests.eventually {
                    try await ClusterACDTests.agentStates(cluster, from: index)["a2001"] == "available"
                }, "node\(index + 1) sees a2001 available")
                let caller = try await cluster.sipp("caller-queue", service: "12345", logs: "caller-node\(index + 1)",
                                                    extra: ["-d", "1500"], node: index)
                #expect(caller.status == 0, "caller on node\(index + 1): \(caller.stderr)\n\(cluster.node(index).log.suffix(3000))")
            }

            let calls = try await Self.queueCalls(cluster)
            #expect(calls.count == 3, "three queue calls: \(calls)")
            #expect(calls.map(\.node).sorted() == ["node1", "node2", "node3"], "one per node: \(calls)")
            #expect(calls.allSatisfy { $0.agent == "a2001" && !$0.answeredAt.isEmpty }, "each answered by a2001: \(calls)")
            // Media both ways on every node's agent leg: baresip sent its "microphone" (silence).
            for index in cluster.nodes.indices {
                let metrics = try await cluster.node(index).http("/metrics")
                let (received, sent) = (Self.agentRTP(metrics, "in"), Self.agentRTP(metrics, "out"))
                print("node\(index + 1): agent RTP packets in=\(received) out=\(sent)")
                #expect(received > 0 && sent > 0, "node\(index + 1) exchanged RTP with baresip: in=\(received) out=\(sent)")
            }
            let output = phone.output
            #expect(Self.occurrences("Call established", in: output) == 3,
                    "baresip established three calls:\n\(output.suffix(4000))")
            print("baresip output:\n\(output)\nqueue calls:\n\(calls.map(\.description).joined(separator: "\n"))")
            #expect(phone.isRunning, "baresip still running")
            let dumps = try FileManager.default.contentsOfDirectory(atPath: phone.directory.path).filter { $0.hasSuffix("-dec.wav") }
            let sizes = dumps.map { (try? FileManager.default.attributesOfItem(atPath: phone.directory.appendingPathComponent($0).path)[.size] as? Int) ?? 0 }
            print("baresip decoded-audio dumps: \(zip(dumps, sizes).map { "\($0) \($1) bytes" })")
            #expect(dumps.count == 3 && sizes.allSatisfy { $0 > 44 }, "sndfile dumped what baresip decoded on each call: \(dumps) \(sizes)")
        } catch {
            print("baresip output:\n\(phone.output.suffix(4000))")
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}
}
