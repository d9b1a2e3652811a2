// The admin API's request and response types are the web layer's; routes here use them.
@_exported import AdminWeb
import Dialplan
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ACDConfig
import Logging
import Media
import NIOCore
import NIOPosix
import NIOSSL
import SIPTransport
import Tickets
import TicketsSQLite
import TicketsPostgres
import Codecs

/// The running server: loads and checks everything before binding a socket, so a bad
/// dialplan or a missing prompt stops start-up with a located error instead of failing calls.
public final class HotlineServer: Sendable {
    public let configuration: ServerConfiguration
    public let sipAddress: SocketAddress
    public let httpAddress: SocketAddress?
    /// SIP over TCP and TLS, when configured.
    private let streams: StreamListeners?
    public var sipTCPAddress: SocketAddress? { streams?.tcp }
    public var sipTLSAddress: SocketAddress? { streams?.tls }
    private let group: MultiThreadedEventLoopGroup
    private let engines: [CallEnginePeer]
    private let tickets: any HotlineStore
    private let http: AdminWebServer?
    private let logger: Logger
    private let dialplans: DialplanPublisher
    /// Runs the admin API on a loop of its own, so requests (and their JSON, file reads) never
    /// take time from calls on the call loops.
    private let adminGroup: MultiThreadedEventLoopGroup?
    /// Runs the admin API's SQLite reads off the event loops.
    private let readers: NIOThreadPool
    /// Re-reads agents.yaml and queues.yaml; nil without a contact centre.
    let contactCentreReloader: ContactCentreReloader?
    /// Active, draining, drained (``NodeDrain``).
    let lifecycleDriver: NodeLifecycle
    /// The calls the server places; nil without trunks.
    let outbound: OutboundService?
    /// The 110 linkage's outbox; nil without `--handoffs`.
    let handoffs: HandoffService?

    public enum StartError: Error, CustomStringConvertible {
        case dialplan(String)
        case prompts(String)
        case tickets(String)
        case tokens(String)
        case contactCentre(String)
        case trunks(String)
        case handoffs(String)
        case bind(String, Error)

        public var description: String {
            switch self {
            case .dialplan(let s): s
            case .prompts(let s): "prompts: \(s)"
            case .tickets(let s): "ticket store: \(s)"
            case .trunks(let s): "trunks: \(s)"
            case .tokens(let s): "admin tokens: \(s)"
            case .contactCentre(let s): s
            case .handoffs(let s): "hand-offs: \(s)"
            case .bind(let what, let e): "cannot listen on \(what): \(e)"
            }
        }
    }

    private init(configuration: ServerConfiguration, sipAddress: SocketAddress, httpAddress: SocketAddress?,
                 streams: StreamListeners?, group: MultiThreadedEventLoopGroup, engines: [CallEnginePeer],
                 tickets: any HotlineStore, http: AdminWebServer?, adminGroup: MultiThreadedEventLoopGroup?,
                 logger: Logger, dialplans: DialplanPublisher, readers: NIOThreadPool, contactCentreReloader: ContactCentreReloader?,
                 lifecycle: NodeLifecycle, outbound: OutboundService?, handoffs: HandoffService?) {
        self.lifecycleDriver = lifecycle
        self.outbound = outbound
        self.handoffs = handoffs
        self.configuration = configuration
        self.sipAddress = sipAddress
        self.httpAddress = httpAddress
        self.streams = streams
        self.group = group
        self.engines = engines
        self.tickets = tickets
        self.http = http
        self.adminGroup = adminGroup
        self.logger = logger
        self.dialplans = dialplans
        self.readers = readers
        self.contactCentreReloader = contactCentreReloader
    }

    public static func start(_ configuration: ServerConfiguration, logger: Logger) async throws -> HotlineServer {
        try configuration.validate()
        // Every call holds an RTP socket: take all the descriptors the system allows us.
        raiseFileDescriptorLimit(logger: logger)
        // 1. Dialplan: every issue, located.
        let dialplan: Dialplan
        do {
            dialplan = try Dialplan.load(path: configuration.dialplanPath)
        } catch {
            throw StartError.dialplan("\(error)")
        }
        for warning in dialplan.warnings { logger.warning("\(warning)") }
        // 2. Prompts: decoded and encoded once, then checked against the dialplan.
        let cache: PromptCache
        do {
            cache = try PromptCache(root: configuration.promptsPath)
        } catch {
            throw StartError.prompts("\(error)")
        }
        let missing = dialplan.checkPrompts { language, name in cache.prompt(named: name, language: language.rawValue) != nil }
        if !missing.isEmpty {
            throw StartError.prompts(missing.map(\.description).joined(separator: "\n"))
        }
        // 2b. The contact centre (agents.yaml, queues.yaml): checked against the dialplan's
        //     queues and the prompts.
        let centre = try loadContactCentre(configuration, dialplan: dialplan, cache: cache, logger: logger)
        let handoffConfiguration = try loadHandoffs(configuration, dialplan: dialplan, logger: logger)
        // 3. Tickets: crash recovery happens here.
        // This server's own metrics registry: the ticket writer, the call loops and /metrics share it.
        // With --node, every series carries node="NAME"; without, the series keep their bare
        // names (one server alone; the benchmarks match them exactly).
        let metrics = ServerMetrics(node: configuration.nodeName)
        var options = SQLiteTicketStore.Options(durability: configuration.durability, timeZone: configuration.timeZone,
                                                deferral: configuration.ticketDeferral)
        options.writerTimers = metrics.ticketWriter
        if let priority = configuration.realtimePriority {
            options.onWriterThreadStart = {
                if let failure = RealtimeScheduling.enableForCurrentThread(priority: priority) {
                    logger.warning("--realtime: the ticket writer stays time-shared", metadata: ["error": "\(failure)"])
                }
            }
        }
        do {
            if FileManager.default.fileExists(atPath: configuration.slaPath) {
                options.policy = try WorkOrderPolicy.load(contentsOf: configuration.slaPath)
            }
            if FileManager.default.fileExists(atPath: configuration.unitsPath) {
                options.units = try UnitDirectory.load(contentsOf: configuration.unitsPath)
            }
        } catch {
            throw StartError.tickets("\(error)")
        }
        let store: any HotlineStore
        // The knowledge base lives in the same database as the work orders (a direct answer
        // names an article, and the schema checks it exists).
        let knowledge: any KnowledgeBase
        let recovered: Int
        do {
            if configuration.usesPostgres {
                // The store the nodes of a cluster share: this node's calls carry its name,
                // so a restart or another node's lease sweep interrupts only its own.
                let url = try PostgresURL(parsing: configuration.databasePath)
                var shared = PostgresTicketStore.Options(node: configuration.node, timeZone: configuration.timeZone,
                                                         policy: options.policy, units: options.units)
                shared.deferral = configuration.ticketDeferral
                shared.lease = configuration.nodeLease
                shared.maxQueuedWrites = configuration.storeQueueLimit
                shared.heartbeatInterval = min(.seconds(2), configuration.nodeLease / 3)
                shared.writerTimers = options.writerTimers
                shared.onWriterThreadStart = options.onWriterThreadStart
                let postgres = try PostgresTicketStore(url: url, options: shared)
                (store, recovered) = (postgres, postgres.recoveredTicketCount)
                knowledge = postgres.makeKnowledgeBase()
            } else {
                let sqlite = try SQLiteTicketStore(path: configuration.databasePath, options: options)
                (store, recovered) = (sqlite, sqlite.recoveredTicketCount)
                knowledge = sqlite.knowledgeBase
            }
        } catch {
            throw StartError.tickets("\(error)")
        }
        if recovered > 0 {
            logger.warning("marked tickets of calls cut off by the last shutdown as interrupted", metadata: ["count": "\(recovered)"])
        }
        // Every unit the database knows (retired ones too), for the admin API's unit scopes.
        let units = (try? UnitDirectory(units: store.units().map(\.unit))) ?? options.units ?? .empty
        let auth: AdminAuth
        do {
            let loaded = try AdminAuth.load(tokensFile: configuration.tokensPath, adminToken: configuration.adminToken, units: units)
            auth = loaded.auth
            for warning in loaded.warnings { logger.warning("\(warning)") }
        } catch {
            store.close()
            throw StartError.tokens("\(error)")
        }
        let tls: NIOSSLContext?
        do {
            tls = try tlsContext(configuration)
        } catch {
            store.close()
            throw error
        }
        // 4. Sockets: one engine per call loop, each with its own SIP socket on the one port
        //    (SO_REUSEPORT) and its own RTP ports; a call lives on the loop its Call-ID hashes to.
        let loops = max(1, configuration.callLoops)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        if let priority = configuration.realtimePriority {
            for loop in group.makeIterator() {
                if let failure = try? await loop.submit({ RealtimeScheduling.enableForCurrentThread(priority: priority) }).get() {
                    logger.warning("--realtime: call loops stay time-shared", metadata: ["error": "\(failure)"])
                    break
                }
            }
        }
        let library = CachedPrompts(cache: cache)
        var engines: [CallEnginePeer] = []
        var sipAddress: SocketAddress?
        var acdLink: ACDLink?
        var streams: StreamListeners?
        let callCount = SharedCallCount()
        do {
            try UDPTransport.checkPortFree(host: configuration.sipHost, port: configuration.sipPort)
            for (index, loop) in group.makeIterator().enumerated() {
                let port = sipAddress?.port ?? configuration.sipPort
                let (engine, address) = try await loop.flatSubmit {
                    let engine = CallEngine(eventLoop: loop, configuration: configuration, logger: logger, tickets: store,
                                            prompts: library, dialplan: dialplan, shardIndex: index, shardCount: loops,
                                            callCount: callCount, serverMetrics: metrics)
                    let bound = NIOLoopBound(engine, eventLoop: loop)
                    return engine.start(port: port).map { (bound, $0) }
                }.get()
                engines.append(CallEnginePeer(eventLoop: loop, engine: engine))
                if sipAddress == nil { sipAddress = address }
            }
            let peers = engines
            for peer in engines {
                try await peer.eventLoop.submit { peer.engine.value.peers = peers }.get()
            }
            streams = try await startStreams(configuration, tls: tls, group: group, engines: engines)
            if let centre {
                acdLink = try await attachContactCentre(centre, engines: engines, dialplan: dialplan, configuration: configuration,
                                                        logger: logger)
            }
        } catch {
            store.close()
            await streams?.transport.close()
            try? await group.shutdownGracefully()
            if let error = error as? StartError { throw error }
            throw StartError.bind("SIP \(configuration.sipHost):\(configuration.sipPort)", error)
        }
        let sip = sipAddress!
        // 5. Published versions of the dialplan, archived beside the ticket database.
        let archive = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("dialplans")
        let liveACD = centre.map { LiveACDSetup($0.setup) }
        let promptExists: @Sendable (Language, String) -> Bool = { language, name in
            cache.prompt(named: name, language: language.rawValue) != nil
        }
        let dialplans: DialplanLibrary
        do {
            dialplans = try DialplanLibrary(livePath: configuration.dialplanPath, archiveRoot: archive, initial: dialplan,
                                            promptExists: promptExists,
                                            extraCheck: { candidate in
                                                // A published dialplan may only send callers to queues queues.yaml defines.
                                                guard let centre, let liveACD else { return [] }
                                                return checkDialplan(candidate, against: liveACD.current, queuesPath: centre.queuesPath)
                                                    .map(DialplanIssue.init(acd:))
                                            })
        } catch {
            store.close()
            try? await group.shutdownGracefully()
            throw StartError.dialplan("cannot archive dialplan versions in \(archive.path): \(error)")
        }
        let outbound: OutboundService?
        do {
            outbound = try startOutbound(configuration, engines: engines, store: store, dialplan: dialplan, sip: sip, logger: logger)
        } catch {
            store.close()
            try? await group.shutdownGracefully()
            throw error
        }
        let installEngines = HotlineServer.installer(engines: engines, logger: logger)
        let publisher = DialplanPublisher(library: dialplans, install: { dialplan in
            outbound?.install(dialplan)
            return installEngines(dialplan)
        })
        var reloader: ContactCentreReloader?
        if let centre, let liveACD, let acdLink {
            reloader = ContactCentreReloader(agentsPath: centre.agentsPath, queuesPath: centre.queuesPath, live: liveACD,
                                             link: acdLink, dialplans: dialplans,
                                             promptsPath: configuration.promptsPath, promptExists: promptExists,
                                             logger: logger)
        }
        let readers = NIOThreadPool(numberOfThreads: 2)
        readers.start()
        let handoffs = await startHandoffs(handoffConfiguration, store: store, pool: readers, engines: engines, logger: logger)
        let cluster = ClusterMembership(node: configuration.node, shared: store as? PostgresTicketStore, pool: readers,
                                        startedAt: Date())
        let control = engines[0]
        let lifecycle = NodeLifecycle(engines: engines, timeout: configuration.drainTimeout, logger: logger,
                                      onDrainStart: {
                                          cluster.markDraining()
                                          // Another node decides for the cluster's ACD while this one drains.
                                          control.eventLoop.execute { control.engine.value.contactCentre?.cluster?.resign() }
                                      })
        var http: AdminWebServer?
        var adminGroup: MultiThreadedEventLoopGroup?
        if let host = configuration.httpHost {
            let deskContext = AgentDeskRoutes.Context(link: acdLink, engines: engines, store: store, auth: auth, pool: readers,
                                                      units: units, timeZone: configuration.timeZone)
            let ticketRoutes = TicketRoutes.routes(.init(store: store, auth: auth, pool: readers, units: units,
                                                         timeZone: configuration.timeZone))
            let routes = routes(engines: engines, tickets: store, metrics: metrics, lifecycle: lifecycle, cluster: cluster,
                                streams: streams?.transport)
                .merging(drainRoute(lifecycle, auth: auth)) { a, _ in a }
                .merging(ClusterMembership.route(cluster, engines: engines, lifecycle: lifecycle, auth: auth)) { a, _ in a }
                .merging(DialplanRoutes.routes(publisher: publisher, auth: auth)) { a, _ in a }
                .merging(ticketRoutes) { a, _ in a }
                .merging(KnowledgeRoutes.routes(.init(knowledge: knowledge, auth: auth, pool: readers,
                                                      timeZone: configuration.timeZone))) { a, _ in a }
                .merging(ContactCentreRoutes.routes(link: acdLink, auth: auth)) { a, _ in a }
                .merging(reloadRoute(reloader, auth: auth)) { a, _ in a }
                .merging(SessionRoutes.routes(auth: auth)) { a, _ in a }
                .merging(DialplanEditorRoutes.routes(publisher: publisher, auth: auth, prompts: configuration.promptsPath)) { a, _ in a }
                .merging(AgentDeskRoutes.routes(deskContext)) { a, _ in a }
                .merging(CampaignRoutes.routes(outbound, auth: auth, pool: readers)) { a, _ in a }
                .merging(handoffs.map(HandoffRoutes.routes) ?? [:]) { a, _ in a }
            let desks = AgentDeskRoutes.feeds(deskContext)
            let feed = ConsoleFeed.contactCentre(link: acdLink, desks: desks)
            let admin = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            adminGroup = admin
            // Named so ps/top (and the --realtime test) tell it from the call loops.
            try? await admin.next().submit { Thread.current.name = "hotline-admin" }.get()
            do {
                http = try await AdminWebServer.start(host: host, port: configuration.httpPort, group: admin, routes: routes,
                                                      console: ConsoleAssets.locate(), feeds: [feed, desks], logger: logger,
                                                      extend: { router in
                                                          ConsoleFeed.register(feed, auth: auth)(router)
                                                          AgentDeskRoutes.registerFeed(desks, auth: auth)(router)
                                                      })
            } catch {
                await handoffs?.shutdown()
                store.close()
                await publisher.shutdown()
                try? await readers.shutdownGracefully()
                try? await admin.shutdownGracefully()
                try? await group.shutdownGracefully()
                throw StartError.bind("HTTP \(host):\(configuration.httpPort)", error)
            }
            if auth.requiresToken {
                logger.info("admin API: bearer tokens required", metadata: ["tokens": "\(auth.summary)"])
            } else {
                logger.warning("admin API: no token configured (--tokens FILE or HOTLINE_ADMIN_TOKEN), so it serves loopback clients only")
            }
            logger.debug("admin routes", metadata: ["routes": "\(routes.keys.sorted().joined(separator: ", "))"])
        }
        logger.info("hotline serving", metadata: [
            "sip": "\(sip.hostPort)", "tcp": "\(streams?.tcp?.hostPort ?? "off")", "tls": "\(streams?.tls?.hostPort ?? "off")", "loops": "\(loops)", "http": "\(http?.localAddress?.hostPort ?? "off")",
            "dialplan": "\(dialplan.name) \(dialplan.version)", "prompts": "\(cache.languages.joined(separator: ","))",
            "db": "\(configuration.databasePath)",
        ])
        return HotlineServer(configuration: configuration, sipAddress: sip, httpAddress: http?.localAddress, streams: streams,
                             group: group, engines: engines, tickets: store, http: http, adminGroup: adminGroup, logger: logger, dialplans: publisher,
                             readers: readers, contactCentreReloader: reloader, lifecycle: lifecycle, outbound: outbound, handoffs: handoffs)
    }

    /// Stops taking calls, hangs up the ones in progress (their tickets say
    /// `server_shutdown`), commits every ticket, and closes the sockets.
    public func shutdown() async {
        let control = engines[0]
        outbound?.stop()
        try? await control.eventLoop.submit { control.engine.value.contactCentre?.cluster?.resign() }.get()
        for peer in engines { try? await peer.eventLoop.submit { peer.engine.value.drain() }.get() }
        // Give the BYEs a moment on the wire before the sockets close.
        try? await Task.sleep(for: .milliseconds(200))
        try? await http?.close()
        try? await adminGroup?.shutdownGracefully()
        await dialplans.shutdown() // after the admin API: no publish starts once the loops stop
        await handoffs?.shutdown() // pending hand-offs stay in the outbox for the next start
        try? await readers.shutdownGracefully()
        await streams?.transport.close()
        for peer in engines { try? await peer.eventLoop.flatSubmit { peer.engine.value.stop() }.get() }
        await tickets.flush()
        tickets.close()
        try? await control.eventLoop.submit { control.engine.value.contactCentre?.cluster?.close() }.get()
        try? await group.shutdownGracefully()
        logger.info("hotline stopped")
    }

    /// Hands a newly live dialplan to every call loop: new calls take it, calls in progress
    /// keep the version they started with.
    static func installer(engines: [CallEnginePeer], logger: Logger) -> @Sendable (Dialplan) -> EventLoopFuture<Void> {
        { dialplan in
            let futures = engines.map { peer in peer.eventLoop.submit { peer.engine.value.dialplan = dialplan } }
            logger.notice("dialplan published", metadata: ["dialplan": "\(dialplan.name)", "version": "\(dialplan.version)"])
            return EventLoopFuture.andAllSucceed(futures, on: engines[0].eventLoop)
        }
    }

    /// Re-reads the dialplan file (SIGHUP). A file with errors is refused and the live
    /// version stays; the errors are returned (and logged) with their locations.
    public func reloadDialplan() async -> Result<String, Error> {
        switch await dialplans.publish({ library throws(DialplanLibrary.PublishError) in try library.reload() }) {
        case .success(let outcome):
            return .success(outcome.dialplan.version)
        case .failure(let error):
            logger.error("dialplan reload refused; the live version stays", metadata: ["errors": "\(error)"])
            return .failure(error)
        }
    }

    /// Every engine's counters, summed.
    static func snapshot(_ engines: [CallEnginePeer]) -> EventLoopFuture<EngineSnapshot> {
        let futures = engines.map { peer in peer.eventLoop.submit { peer.engine.value.snapshot() } }
        return EventLoopFuture.reduce(EngineSnapshot(), futures, on: engines[0].eventLoop, +)
    }

    private static func routes(engines: [CallEnginePeer], tickets: any TicketStore, metrics: ServerMetrics,
                               lifecycle: NodeLifecycle, cluster: ClusterMembership, streams: SIPStreamTransport?) -> [String: AdminRoute] {
        let nodeJSON = jsonString(cluster.node)
        return [
            "GET /health": { _, _ in
                snapshot(engines).map { s in
                    // "degraded": answering, but the shared store is away (tickets queued in memory).
                    let store = cluster.health
                    let status = s.draining ? "draining" : store.degraded ? "degraded" : "ok"
                    return .json("{\"status\":\"\(status)\",\"node\":\(nodeJSON),\"state\":\"\(lifecycle.state.rawValue)\","
                        + "\"active_calls\":\(s.activeCalls),\"call_loops\":\(engines.count)\(store.fields)}\n")
                }
            },
            "GET /metrics": { _, _ in
                snapshot(engines).map { s in
                    AdminResponse(contentType: "text/plain; version=0.0.4; charset=utf-8",
                                  body: metrics.exposition { p in
                                      s.publish(into: &p, tickets: tickets.metrics, loops: engines.count)
                                      ProcessStatistics.current().publish(into: &p)
                                      cluster.publish(into: &p)
                                      streams?.statistics.publish(into: &p)
                                  })
                }
            },
        ]
    }
}

/// Prompts from the start-up cache, as playout frames for the negotiated G.711 law.
struct CachedPrompts: PromptLibrary {
    let cache: PromptCache
    func frames(name: String, language: String, payloadType: UInt8) -> PlayoutFrames? {
        guard let prompt = cache.prompt(named: name, language: language) else { return nil }
        // The payload arrays were encoded once at start-up; this shares them, it does not copy.
        return PlayoutFrames(bytes: prompt.payload(payloadType == 8 ? .aLaw : .muLaw), frameSize: 160)
    }
}

extension SocketAddress {
    /// `127.0.0.1:5060` / `[::1]:5060`, for logs and the ready line.
    public var hostPort: String {
        let host = ipAddress ?? "?"
        return (host.contains(":") ? "[\(host)]" : host) + ":\(port ?? 0)"
    }
}

/// The hard limit on open files (the soft one is raised to it at start-up).
func openFileHardLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
    return Int(clamping: min(limit.rlim_max, rlim_t(Int32.max))) // RLIM_INFINITY is all ones
}

/// Raises the soft limit on open files to the hard limit.
func raiseFileDescriptorLimit(logger: Logger) {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    let before = limit.rlim_cur
    limit.rlim_cur = limit.rlim_max
    if setrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 {
        logger.debug("raised the open-file limit", metadata: ["from": "\(before)", "to": "\(limit.rlim_max)"])
    }
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
