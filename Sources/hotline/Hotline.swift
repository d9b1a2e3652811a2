// `hotline`: the one executable. A thin ArgumentParser front over HotlineServer and the
// stores; every subcommand's logic lives in a library target.
import ArgumentParser
import ConfigFiles
import Foundation
import HotlineServer
import LoadGen
import Logging
import Media
import NIOCore
import Tickets
import TicketsSQLite

@main
struct Hotline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A SIP IVR and call-routing engine for public-service hotlines.",
        subcommands: [Serve.self, TicketsCommand.self, ReportCommand.self, DialplanCLI.self, FloodCommand.self, ConsoleCommand.self,
                      SeatsCommand.self, AgentsCommand.self, DrainCommand.self, KnowledgeCommand.self],
        defaultSubcommand: Serve.self)
}

/// `host:port`, e.g. `127.0.0.1:5060` or `[::1]:5060`.
struct HostPort: ExpressibleByArgument, CustomStringConvertible {
    var host: String
    var port: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(argument[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
    var description: String { "\(host):\(port)" }
}

/// `20000-29999`.
struct PortRange: ExpressibleByArgument {
    var range: ClosedRange<Int>
    init?(argument: String) {
        let parts = argument.split(separator: "-")
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), low < high else { return nil }
        range = low...high
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Answer calls: SIP on UDP, prompts over RTP, a ticket per call.")

    @Option(help: "SIP/UDP listen address.") var sip = HostPort(argument: "127.0.0.1:5060")!
    @Option(name: .customLong("sip-tcp"), help: "SIP/TCP listen address (default: off).") var sipTCP: HostPort?
    @Option(name: .customLong("sip-tls"), help: "SIP/TLS listen address, usually port 5061 (default: off; needs --tls-cert and --tls-key).") var sipTLS: HostPort?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain of the SIP/TLS listener, leaf first.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("tls-client-ca"), help: "PEM CA certificates: SIP/TLS clients must present a certificate one of them signed (mutual TLS).") var tlsClientCA: String?
    @Option(name: .customLong("sip-message-timeout"), help: "On TCP and TLS: a message still incomplete this long after its first byte closes the connection, e.g. 30s.") var sipMessageTimeout = "30s"
    @Option(help: "Address callers can reach, for Contact and SDP (needed with a wildcard --sip).") var advertise: String?
    @Option(help: "Admin HTTP listen address (/health, /metrics), or 'off'.") var http = "127.0.0.1:8080"
    @Option(help: "Dialplan YAML file.") var dialplan = "Dialplans/12345.yaml"
    @Option(help: "Ticket store: an SQLite file (created if missing), or postgres://USER@HOST:PORT/DB shared by a cluster's nodes (default: HOTLINE_DB_URL, else var/hotline.sqlite).")
    var db: String = TicketStoreLocation.defaultValue
    @Option(name: .customLong("data-dir"), help: "The node's own files: recordings, dialplan archive, licensed seats (default: the SQLite file's directory, or var with PostgreSQL).")
    var dataDir: String?
    @Option(help: "Prompt directory (one subdirectory per language).") var prompts = "Prompts"
    @Option(name: .customLong("rtp-ports"), help: "RTP port range.") var rtpPorts = PortRange(argument: "20000-29999")!
    @Option(name: .customLong("max-calls"), help: "Concurrent calls before new INVITEs get 503 (default: what the RTP ports and open-file limit carry; CPU saturation is shed by --shed-lag-ms).") var maxCalls: Int?
    @Option(name: .customLong("dtmf-inband"), help: "Listen for DTMF tones in the audio: auto (when no RFC 4733 was negotiated), always, off.") var dtmfInband = "auto"
    @Option(name: .customLong("call-loops"), help: "Event loops sharing the calls (default: one per core).") var callLoops: Int?
    @Flag(help: "Run the call loops and the ticket writer under real-time scheduling (SCHED_RR; needs CAP_SYS_NICE or an RTPRIO limit).") var realtime = false
    @Option(name: .customLong("max-cps"), help: "New calls per second before INVITEs get 503 (default: unlimited).") var maxCPS: Double?
    @Option(name: .customLong("max-cps-per-source"), help: "New calls per second from one source address (default: unlimited).") var maxCPSPerSource: Double?
    @Option(name: .customLong("shed-lag-ms"), help: "Refuse new calls while the call loop runs this many ms late (0 = never).") var shedLagMS = 60
    @Option(help: "Ticket durability: 'full' survives a power cut, 'normal' only a process crash.") var durability = "full"
    @Option(name: .customLong("ticket-deferral"), help: "How long a ticket write nobody waits for (a call's finish) may wait to share another's commit; 0 commits each at once.") var ticketDeferral = "20ms"
    @Option(help: "Work-order SLA policy (used if the file exists).") var sla = "Dialplans/tickets/sla.yaml"
    @Option(help: "Units work orders are dispatched to (used if the file exists).") var units = "Dialplans/tickets/units.yaml"
    @Option(help: "Where voice messages are stored (default: recordings/ beside the database).") var recordings: String?
    @Option(help: "Admin API bearer tokens with roles (YAML; see README). HOTLINE_ADMIN_TOKEN adds an admin token.") var tokens: String?
    @Option(help: "Agents of the contact centre (default: Dialplans/acd/agents.yaml if it exists; off: no contact centre).") var agents: String?
    @Option(help: "Agent queues (default: Dialplans/acd/queues.yaml if it exists).") var queues: String?
    @Option(help: "Outbound trunks for the calls the server places (e.g. Dialplans/trunks.yaml; default: none, no calls placed).") var trunks: String?
    @Option(name: .customLong("outbound-pace"), help: "New outbound calls per second for the whole server.") var outboundPace = 20
    @Option(name: .customLong("outbound-max"), help: "Outbound calls up at once for the whole server.") var outboundMax = 100
    @Option(name: .customLong("outbound-retry"), help: "Retry delays by outcome, e.g. busy=10m,no_answer=30m,unreachable=15m,answered=30m.")
    var outboundRetry: String?
    @Option(name: .customLong("return-visits"), help: "on: a work order reaching feedback gets a survey call; off: none.") var returnVisits = "on"
    @Option(name: .customLong("return-visit-poll"), help: "How often the store is checked for work orders due a return visit or an owner's notice.") var returnVisitPoll = "10s"
    @Option(name: .customLong("vehicle-owners"), help: "Move my car: CSV of plates and owners' numbers (plate,owner_number); the server calls the owner.") var vehicleOwners: String?
    @Option(name: .customLong("move-car-escalate"), help: "Unit a move-my-car work order is dispatched to when the owner is not found or not reached.") var moveCarEscalate: String?
    @Option(help: "Partner centres hand-offs go to and come from, e.g. Dialplans/handoffs.yaml (the 110 linkage; default: none).") var handoffs: String?
    @Option(name: .customLong("agent-keepalive"), help: "Seconds between OPTIONS keep-alives to agents' phones; two unanswered (5 s each) make an agent unreachable.")
    var agentKeepAlive = 30
    @Option(name: .customLong("nonce-secret-file"), help: "File (at least 16 bytes, e.g. openssl rand -hex 32) keying digest nonces, shared by servers behind one address (default: 32 secure random bytes drawn at start).")
    var nonceSecret: String?
    @Option(help: "This node's name in a cluster: a node label on every metric, and /health (which otherwise names the --sip address).") var node: String?
    @Option(name: .customLong("drain-timeout"), help: "On drain (hotline drain, SIGTERM): how long calls in progress may go on before they are hung up, e.g. 120s.")
    var drainTimeout = "120s"
    @Option(name: .customLong("node-lease"), help: "With a PostgreSQL store: a node silent this long is gone and a surviving node closes its calls in progress as interrupted, e.g. 15s.")
    var nodeLease = "15s"
    @Option(name: .customLong("front"), help: "The cluster's SIP front (its IP address; repeat for several): agents' REGISTERs through it keep their Path, so calls reach them through it.")
    var front: [String] = []
    @Option(name: .customLong("store-queue"), help: "With a PostgreSQL store: ticket writes held in memory while it is away; past this, new calls get 503.")
    var storeQueue = 50_000
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.") var logLevel = "info"

    func run() async throws {
        var config = ServerConfiguration()
        config.sipHost = sip.host
        config.sipPort = sip.port
        config.sipTCP = sipTCP.map { ($0.host, $0.port) }
        config.sipTLS = sipTLS.map { ($0.host, $0.port) }
        if let tlsCert, let tlsKey {
            config.tls = .init(certificate: tlsCert, key: tlsKey, clientCA: tlsClientCA)
        } else if tlsCert != nil || tlsKey != nil || tlsClientCA != nil {
            throw ValidationError("--tls-cert and --tls-key go together (and --tls-client-ca with them)")
        }
        guard let messageTimeout = DurationSyntax.parse(sipMessageTimeout, .commandLine), messageTimeout >= .seconds(1) else {
            throw ValidationError("--sip-message-timeout wants a duration of at least 1s, such as 30s")
        }
        config.streamMessageTimeout = messageTimeout
        config.advertisedHost = advertise
        config.nodeName = node
        guard let drain = DurationSyntax.parse(drainTimeout, .commandLine) else {
            throw ValidationError("--drain-timeout wants a duration such as 120s or 2m")
        }
        config.drainTimeout = drain
        guard let lease = DurationSyntax.parse(nodeLease, .commandLine), lease >= .seconds(3) else {
            throw ValidationError("--node-lease wants a duration of at least 3s, such as 15s")
        }
        config.nodeLease = lease
        guard storeQueue >= 1 else { throw ValidationError("--store-queue wants a positive number of writes") }
        config.storeQueueLimit = storeQueue
        config.frontHosts = Set(front)
        if http == "off" {
            config.httpHost = nil
        } else {
            guard let address = HostPort(argument: http) else { throw ValidationError("--http wants HOST:PORT or 'off'") }
            config.httpHost = address.host
            config.httpPort = address.port
        }
        config.dialplanPath = dialplan
        config.databasePath = db
        config.dataPath = dataDir
        config.promptsPath = prompts
        config.slaPath = sla
        config.unitsPath = units
        config.recordingsPath = recordings
        config.tokensPath = tokens
        config.agentsPath = agents
        config.queuesPath = queues
        config.trunksPath = trunks
        guard (1...10_000).contains(outboundPace), (1...100_000).contains(outboundMax) else {
            throw ValidationError("--outbound-pace wants 1 to 10000 calls/s, --outbound-max 1 to 100000 calls")
        }
        config.outbound.callsPerSecond = Double(outboundPace)
        config.outbound.maxConcurrent = outboundMax
        if let outboundRetry {
            for item in outboundRetry.split(separator: ",") {
                let parts = item.split(separator: "=")
                guard parts.count == 2, let outcome = OutboundOutcome(rawValue: String(parts[0])),
                      let delay = DurationSyntax.parse(String(parts[1]), .commandLine) else {
                    throw ValidationError("--outbound-retry wants OUTCOME=DURATION pairs (busy, no_answer, unreachable, answered), e.g. busy=10m")
                }
                config.outbound.retry.delays[outcome] = delay
            }
        }
        guard returnVisits == "on" || returnVisits == "off" else { throw ValidationError("--return-visits wants on or off") }
        config.returnVisits = returnVisits == "on"
        guard let poll = DurationSyntax.parse(returnVisitPoll, .commandLine), poll > .zero else {
            throw ValidationError("--return-visit-poll wants a duration, e.g. 10s")
        }
        config.returnVisitPoll = poll
        config.vehicleOwnersPath = vehicleOwners
        config.moveCarEscalationUnit = moveCarEscalate
        config.handoffsPath = handoffs
        config.nonceSecretPath = nonceSecret
        guard (1...3600).contains(agentKeepAlive) else { throw ValidationError("--agent-keepalive wants 1 to 3600 seconds") }
        config.keepAliveInterval = .seconds(agentKeepAlive)
        config.rtpPorts = rtpPorts.range
        if let maxCalls {
            guard maxCalls > 0 else { throw ValidationError("--max-calls wants a positive number") }
            config.maxCalls = maxCalls
        }
        if realtime { config.realtimePriority = 10 }
        if let callLoops {
            guard (1...256).contains(callLoops) else { throw ValidationError("--call-loops wants 1 to 256") }
            config.callLoops = callLoops
        }
        guard let inband = InbandDTMFMode(rawValue: dtmfInband) else { throw ValidationError("--dtmf-inband is auto, always or off") }
        config.inbandDTMF = inband
        config.maxCallsPerSecond = maxCPS
        config.maxCallsPerSecondPerSource = maxCPSPerSource
        config.shedLoopLag = shedLagMS > 0 ? .milliseconds(shedLagMS) : nil
        switch durability {
        case "normal": config.durability = .normal
        case "full": config.durability = .full
        default: throw ValidationError("--durability is 'normal' or 'full'")
        }
        let parsedDeferral: Duration? = ticketDeferral == "0" ? .zero : DurationSyntax.parse(ticketDeferral, .commandLine)
        guard let deferral = parsedDeferral, deferral <= .seconds(1) else {
            throw ValidationError("--ticket-deferral wants a duration up to 1s, such as 20ms or 0")
        }
        config.ticketDeferral = deferral
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown --log-level \(logLevel)") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "hotline")
        // Catch SIGINT/SIGTERM before anything can announce readiness, so a signal sent the
        // moment the ready line appears is never lost.
        let termination = TerminationSignal()

        let server: HotlineServer
        do {
            server = try await HotlineServer.start(config, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("hotline: \(error)\n".utf8))
            throw ExitCode(1)
        }
        // Ready line for scripts and tests: the bound addresses (ports may have been 0).
        var ready = "hotline listening sip=\(server.sipAddress.hostPort) http=\(server.httpAddress?.hostPort ?? "off")"
        if let tcp = server.sipTCPAddress { ready += " tcp=\(tcp.hostPort)" }
        if let tls = server.sipTLSAddress { ready += " tls=\(tls.hostPort)" }
        ready += " max-calls=\(config.effectiveMaxCalls)"
        FileHandle.standardOutput.write(Data((ready + "\n").utf8))
        // SIGHUP: re-read the dialplan, then agents.yaml and queues.yaml; a bad file is refused
        // and the live version stays.
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "hotline.sighup"))
        hangup.setEventHandler {
            Task {
                if case .failure(let error) = await server.reloadDialplan() {
                    FileHandle.standardError.write(Data("hotline: dialplan reload refused:\n\(error)\n".utf8))
                }
                if server.hasContactCentre, case .failure(let error) = await server.reloadContactCentre() {
                    FileHandle.standardError.write(Data("hotline: contact centre reload refused:\n\(error)\n".utf8))
                }
            }
        }
        hangup.resume()
        // SIGTERM drains (the front stops sending calls, calls in progress finish, then the
        // node exits); SIGINT hangs up at once, as before.
        server.onDrained { termination.deliver(.drained) }
        loop: while true {
            switch await termination.next() {
            case .interrupt: break loop
            case .terminate: server.drain()
            case .drained: break loop
            }
        }
        hangup.cancel()
        logger.info("shutting down: hanging up calls and committing tickets")
        await server.shutdown()
    }
}

/// SIGINT and SIGTERM (and the server's "drained"), caught from the moment this is created
/// and queued in order; `next()` returns at once if one already arrived.
final class TerminationSignal: @unchecked Sendable {
    enum Event: Sendable { case interrupt, terminate, drained }
    private let queue = DispatchQueue(label: "hotline.signals")
    private var sources: [DispatchSourceSignal] = []
    // Both below are only touched on `queue`.
    private var pending: [Event] = []
    private var waiter: CheckedContinuation<Event, Never>?

    init() {
        for (sig, event) in [(SIGINT, Event.interrupt), (SIGTERM, Event.terminate)] {
            signal(sig, SIG_IGN) // the dispatch source receives it instead of the default action
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [unowned self] in record(event) }
            source.resume()
            sources.append(source)
        }
    }

    /// Queues an event from elsewhere (the server drained).
    func deliver(_ event: Event) {
        queue.async { self.record(event) }
    }

    /// On `queue`.
    private func record(_ event: Event) {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: event)
        } else {
            pending.append(event)
        }
    }

    /// Returns on the first signal.
    func wait() async { _ = await next() }

    func next() async -> Event {
        await withCheckedContinuation { (continuation: CheckedContinuation<Event, Never>) in
            queue.async {
                if self.pending.isEmpty { self.waiter = continuation } else { continuation.resume(returning: self.pending.removeFirst()) }
            }
        }
    }
}
