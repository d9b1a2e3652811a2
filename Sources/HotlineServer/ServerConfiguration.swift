// HotlineServer: the composition root. It alone reads configuration, owns the event loops,
// the SIP socket, the media engine, the ticket store and the admin listener, and binds the
// pure machines (transactions, dialogs, dialplan execution) to them.
import Foundation
import Media
import NIOCore
import Tickets
import TicketsSQLite
import TicketsPostgres

/// Everything `hotline serve` needs, decoded once from flags and environment and validated.
public struct ServerConfiguration: Sendable {
    /// SIP/UDP listen address.
    public var sipHost: String = "127.0.0.1"
    public var sipPort: Int = 5060
    /// SIP over TCP (`--sip-tcp`) and over TLS (`--sip-tls`, with the certificate below);
    /// nil: not served.
    public var sipTCP: (host: String, port: Int)?
    public var sipTLS: (host: String, port: Int)?
    public var tls: TLSFiles?
    /// How long one message may take to arrive on a stream (and a new connection its first
    /// message), and how long a connection may stay silent, before it is closed. The silence
    /// allowed outlasts the longest call: a caller's connection carries nothing while they talk.
    public var streamMessageTimeout: Duration = .seconds(30)
    public var streamIdleTimeout: Duration = .seconds(4 * 3600 + 300)
    /// The address put in Contact, Via and SDP `c=`. Defaults to `sipHost`; must be set
    /// when listening on a wildcard address.
    public var advertisedHost: String?
    /// This node's name in a cluster (`--node`): the `node` label of every metric (only when
    /// set: a lone server keeps bare series names) and `/health`, which otherwise names the
    /// SIP listen address (`host:port`), unique among nodes on one machine.
    public var nodeName: String?
    /// The name in effect.
    public var node: String { nodeName ?? (sipHost.contains(":") ? "[\(sipHost)]:\(sipPort)" : "\(sipHost):\(sipPort)") }
    /// How long a drain (`hotline drain`, SIGTERM) lets calls in progress go on before
    /// hanging them up.
    public var drainTimeout: Duration = .seconds(120)
    /// With a shared store: a node silent this long is gone, and a surviving node closes its
    /// calls in progress as interrupted. Heartbeats go at a third of it, at most every 2 s.
    public var nodeLease: Duration = .seconds(15)
    /// With a shared store: ticket writes held in memory while PostgreSQL is away; past it,
    /// new calls get 503 (reason `ticket_store`) rather than be answered unrecorded.
    public var storeQueueLimit: Int = 50_000
    /// Admin HTTP listener (`/health`, `/metrics`); nil to disable.
    public var httpHost: String? = "127.0.0.1"
    public var httpPort: Int = 8080
    public var dialplanPath: String = "Dialplans/12345.yaml"
    /// The ticket store: an SQLite file path (one node), or a `postgres://USER@HOST:PORT/DB`
    /// URL (the store the nodes of a cluster share).
    public var databasePath: String = "var/hotline.sqlite"
    /// Where the node's own files go (recordings, the dialplan archive, licensed seats); by
    /// default the SQLite file's directory, or `var` with a PostgreSQL store.
    public var dataPath: String?
    /// The data directory in effect.
    public var dataDirectory: String {
        if let dataPath { return dataPath }
        if usesPostgres { return "var" }
        return URL(fileURLWithPath: databasePath).deletingLastPathComponent().path
    }
    /// Whether ``databasePath`` names a PostgreSQL server.
    public var usesPostgres: Bool { PostgresURL.looksLikePostgres(databasePath) }
    public var promptsPath: String = "Prompts"
    /// DTMF tones in the caller's audio: `auto` listens when the call negotiated no RFC 4733
    /// telephone-event; `always`; `off`.
    public var inbandDTMF: InbandDTMFMode = .auto
    /// Where the `record` node's messages go (`<ticket id>-<n>.wav`); beside the database by default.
    public var recordingsPath: String?
    /// The recordings directory in effect.
    public var recordingsDirectory: String {
        recordingsPath ?? URL(fileURLWithPath: dataDirectory).appendingPathComponent("recordings").path
    }
    /// How long a blind transfer may take to report success (the NOTIFY with a final status).
    public var transferTimeout: Duration = .seconds(32)
    public var rtpPorts: ClosedRange<Int> = 20000...29999
    /// Admission control: beyond this many calls an INVITE gets 503 before any per-call state.
    /// Nil: what the machine can carry (``carryingCapacity``); CPU saturation is caught by
    /// ``shedLoopLag``, so a fixed default would only cap a larger machine below its means.
    public var maxCalls: Int?
    /// The concurrent-call cap in effect.
    public var effectiveMaxCalls: Int { maxCalls ?? carryingCapacity(openFileLimit: openFileHardLimit()) }

    /// The calls the machine's own resources can hold: one even RTP port per call leg (an IVR
    /// call one, a bridged call two: counted as one, the queue's share is small) and one open
    /// file per leg, keeping 1,024 descriptors for SIP connections, the store and the admin API.
    public func carryingCapacity(openFileLimit: Int) -> Int {
        let evenPorts = rtpPorts.count / 2
        return max(1, min(evenPorts, openFileLimit - 1024))
    }
    /// Event loops sharing the calls (each with its own SIP socket and RTP ports).
    public var callLoops: Int = System.coreCount
    /// SCHED_RR priority (1–99) for the call loops and the ticket writer; nil: the default
    /// time-sharing scheduler.
    public var realtimePriority: Int32?
    /// New calls per second admitted (token bucket, one second of burst); nil = unlimited.
    public var maxCallsPerSecond: Double?
    /// New calls per second admitted from one source address; nil = unlimited.
    public var maxCallsPerSecondPerSource: Double?
    /// Refuse new calls while the event loop runs this late (CPU saturated); nil = never.
    public var shedLoopLag: Duration? = .milliseconds(60)
    /// Seconds a rejected caller is told to wait (Retry-After).
    public var retryAfterSeconds: Int = 5
    /// Hard cap on one call's length, so a lost BYE cannot hold a port and a ticket open forever.
    public var maxCallDuration: Duration = .seconds(4 * 3600)
    /// `.full` (default): a commit survives a power cut; `.normal`: a process crash only.
    public var durability: SQLiteTicketStore.Durability = .full
    /// How long a ticket write nobody waits for may wait to ride in another commit.
    public var ticketDeferral: Duration = .milliseconds(20)
    /// SLA clocks and call intake for work orders; used when the file exists.
    public var slaPath: String = "Dialplans/tickets/sla.yaml"
    /// The units work orders are dispatched to; used when the file exists.
    public var unitsPath: String = "Dialplans/tickets/units.yaml"
    public var timeZone: TimeZone = .current
    public var userAgent: String = "Hotline/0.1"
    /// An admin bearer token for the admin API (`HOTLINE_ADMIN_TOKEN`), besides those of
    /// ``tokensPath``. With neither, the API answers loopback clients only.
    public var adminToken: String? = ProcessInfo.processInfo.environment["HOTLINE_ADMIN_TOKEN"]
    /// The admin API's tokens file (`--tokens`): bearer tokens (or their SHA-256) with roles
    /// `admin`, `unit_staff` (with a unit) and `auditor`; see ``AdminAuth/parse(yaml:file:units:)``.
    public var tokensPath: String?
    /// The partner centres of hand-offs (`--handoffs`, docs/handoffs.md): nil, none. Not read
    /// by default: it names secrets that must be provided before the server can start.
    public var handoffsPath: String?
    /// The contact centre's agents (`--agents`); nil: `Dialplans/acd/agents.yaml` if it
    /// exists. With no agents file (and no queues file) there is no ACD: queue nodes are
    /// unavailable and REGISTER gets 405.
    public var agentsPath: String?
    /// The agent queues (`--queues`); nil: `Dialplans/acd/queues.yaml` if it exists.
    public var queuesPath: String?
    /// Outbound trunks (`--trunks`, e.g. `Dialplans/trunks.yaml`); nil: the server places no
    /// calls (no return visits).
    public var trunksPath: String?
    /// The outbound schedule: the server's pace and concurrency, and the retry delays.
    public var outbound = OutboundScheduler.Configuration()
    /// Return visits: a work order that reaches `feedback` gets a survey call (the dialplan's
    /// `outbound: return_visit` flow); how often the store is checked for such orders.
    public var returnVisits = true
    public var returnVisitPoll: Duration = .seconds(10)
    /// A survey score at or below this reopens the work order (0: never).
    public var reopenAtOrBelowScore = 2
    /// Move my car: plates to owners' numbers (`--vehicle-owners`, CSV); nil: no owner calls.
    public var vehicleOwnersPath: String?
    /// The unit a move-my-car work order goes to when its owner cannot be reached or found
    /// (`--move-car-escalate`, e.g. yinchuan.traffic_police); nil: it waits at the desk.
    public var moveCarEscalationUnit: String?
    /// A file whose contents (at least 16 bytes) key the digest nonces (`--nonce-secret-file`),
    /// so several servers behind one address accept each other's nonces. Without it, 32 bytes
    /// are drawn from the system's secure random source at start (phones then re-register after
    /// a restart with a `stale=true` challenge, without asking their user).
    public var nonceSecretPath: String?
    /// How often registered agent phones are sent an OPTIONS keep-alive, and how many may go
    /// unanswered before the phone counts as unreachable.
    public var keepAliveInterval: Duration = .seconds(30)
    /// The cluster's SIP front(s) (`--front`): REGISTERs from these addresses keep their Path
    /// (RFC 3327), so agent legs and keep-alives reach the phone through the front holding its
    /// NAT binding; lockout counts the phone's own address from the Path, not the front's.
    public var frontHosts: Set<String> = []
    public var keepAliveFailures: Int = 2
    /// A keep-alive OPTIONS unanswered this long counts as failed.
    public var keepAliveTimeout: Duration = .seconds(5)

    public static let defaultAgentsPath = "Dialplans/acd/agents.yaml"
    public static let defaultQueuesPath = "Dialplans/acd/queues.yaml"

    /// The ACD files in effect: both given or defaulted, or nil when there is no contact
    /// centre (neither given and the defaults do not exist). One without the other is an
    /// error the server reports at start.
    public var acdFiles: (agents: String, queues: String)? {
        if agentsPath == "off" { return nil } // an IVR only: REGISTER gets 405
        let agents = agentsPath ?? (FileManager.default.fileExists(atPath: Self.defaultAgentsPath) ? Self.defaultAgentsPath : nil)
        let queues = queuesPath ?? (FileManager.default.fileExists(atPath: Self.defaultQueuesPath) ? Self.defaultQueuesPath : nil)
        guard agents != nil || queues != nil else { return nil }
        return (agents ?? Self.defaultAgentsPath, queues ?? Self.defaultQueuesPath)
    }

    public init() {}

    /// The TLS listener's certificate chain and key (PEM), and the CA whose certificates
    /// clients must present (mutual TLS) when given.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public var clientCA: String?
        public init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    /// The address we advertise to peers.
    public var contactHost: String { advertisedHost ?? sipHost }

    public enum ValidationError: Error, CustomStringConvertible {
        case wildcardWithoutAdvertisedAddress
        case badRTPRange(ClosedRange<Int>)
        case badPort(String, Int)
        case tlsWithoutCertificate

        public var description: String {
            switch self {
            case .wildcardWithoutAdvertisedAddress:
                "listening on \("0.0.0.0") needs --advertise ADDRESS: the address callers can reach, for Contact and SDP"
            case .badRTPRange(let r):
                "RTP port range \(r.lowerBound)-\(r.upperBound) must lie within 1024-65535 and hold at least two ports"
            case .badPort(let what, let p):
                "\(what) port \(p) is out of range 0-65535"
            case .tlsWithoutCertificate:
                "--sip-tls needs --tls-cert FILE and --tls-key FILE"
            }
        }
    }

    public func validate() throws(ValidationError) {
        if (sipHost == "0.0.0.0" || sipHost == "::") && advertisedHost == nil { throw .wildcardWithoutAdvertisedAddress }
        guard rtpPorts.lowerBound >= 1024, rtpPorts.upperBound <= 65535, rtpPorts.count >= 2 else { throw .badRTPRange(rtpPorts) }
        guard (0...65535).contains(sipPort) else { throw .badPort("SIP", sipPort) }
        guard (0...65535).contains(httpPort) else { throw .badPort("HTTP", httpPort) }
        if let sipTCP, !(0...65535).contains(sipTCP.port) { throw .badPort("SIP/TCP", sipTCP.port) }
        if let sipTLS {
            guard (0...65535).contains(sipTLS.port) else { throw .badPort("SIP/TLS", sipTLS.port) }
            guard tls != nil else { throw .tlsWithoutCertificate }
        }
    }
}
