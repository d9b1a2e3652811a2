import Dialplan
import Foundation
import Logging
import Media
import NIOCore
import NIOPosix
import Tickets
import Codecs

/// The running server: loads and checks everything before binding a socket, so a bad
/// dialplan or a missing prompt stops start-up with a located error instead of failing calls.
public final class HotlineServer: Sendable {
    public let configuration: ServerConfiguration
    public let sipAddress: SocketAddress
    public let httpAddress: SocketAddress?
    private let group: MultiThreadedEventLoopGroup
    private let engine: NIOLoopBound<CallEngine>
    private let engineLoop: EventLoop
    private let tickets: SQLiteTicketStore
    private let http: AdminHTTPServer?
    private let logger: Logger

    public enum StartError: Error, CustomStringConvertible {
        case dialplan(String)
        case prompts(String)
        case tickets(String)
        case bind(String, Error)

        public var description: String {
            switch self {
            case .dialplan(let s): s
            case .prompts(let s): "prompts: \(s)"
            case .tickets(let s): "ticket store: \(s)"
            case .bind(let what, let e): "cannot listen on \(what): \(e)"
            }
        }
    }

    private init(configuration: ServerConfiguration, sipAddress: SocketAddress, httpAddress: SocketAddress?,
                 group: MultiThreadedEventLoopGroup, engine: NIOLoopBound<CallEngine>, engineLoop: EventLoop,
                 tickets: SQLiteTicketStore, http: AdminHTTPServer?, logger: Logger) {
        self.configuration = configuration
        self.sipAddress = sipAddress
        self.httpAddress = httpAddress
        self.group = group
        self.engine = engine
        self.engineLoop = engineLoop
        self.tickets = tickets
        self.http = http
        self.logger = logger
    }

    public static func start(_ configuration: ServerConfiguration, logger: Logger) async throws -> HotlineServer {
        try configuration.validate()
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
        // 3. Tickets: crash recovery happens here.
        let store: SQLiteTicketStore
        do {
            store = try SQLiteTicketStore(path: configuration.databasePath,
                                          options: .init(durability: configuration.durability, timeZone: configuration.timeZone))
        } catch {
            throw StartError.tickets("\(error)")
        }
        if store.recoveredTicketCount > 0 {
            logger.warning("marked tickets of calls cut off by the last shutdown as interrupted", metadata: ["count": "\(store.recoveredTicketCount)"])
        }
        // 4. Sockets: calls on one loop, the admin listener on another so it never delays RTP.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let engineLoop = group.any()
        let library = CachedPrompts(cache: cache)
        let engine: NIOLoopBound<CallEngine>
        let sipAddress: SocketAddress
        do {
            (engine, sipAddress) = try await engineLoop.flatSubmit {
                let engine = CallEngine(eventLoop: engineLoop, configuration: configuration, logger: logger,
                                        tickets: store, prompts: library, dialplan: dialplan)
                let bound = NIOLoopBound(engine, eventLoop: engineLoop)
                return engine.start().map { (bound, $0) }
            }.get()
        } catch {
            store.close()
            try? await group.shutdownGracefully()
            throw StartError.bind("SIP \(configuration.sipHost):\(configuration.sipPort)", error)
        }
        var http: AdminHTTPServer?
        if let host = configuration.httpHost {
            do {
                http = try await AdminHTTPServer.start(host: host, port: configuration.httpPort, group: group,
                                                       routes: routes(engine: engine, loop: engineLoop, tickets: store))
            } catch {
                store.close()
                try? await group.shutdownGracefully()
                throw StartError.bind("HTTP \(host):\(configuration.httpPort)", error)
            }
        }
        logger.info("hotline serving", metadata: [
            "sip": "\(sipAddress.hostPort)", "http": "\(http?.localAddress?.hostPort ?? "off")",
            "dialplan": "\(dialplan.name) \(dialplan.version)", "prompts": "\(cache.languages.joined(separator: ","))",
            "db": "\(configuration.databasePath)",
        ])
        return HotlineServer(configuration: configuration, sipAddress: sipAddress, httpAddress: http?.localAddress,
                             group: group, engine: engine, engineLoop: engineLoop, tickets: store, http: http, logger: logger)
    }

    /// Stops taking calls, hangs up the ones in progress (their tickets say
    /// `server_shutdown`), commits every ticket, and closes the sockets.
    public func shutdown() async {
        let engine = self.engine
        try? await engineLoop.submit { engine.value.drain() }.get()
        // Give the BYEs a moment on the wire before the socket closes.
        try? await Task.sleep(for: .milliseconds(200))
        try? await http?.close()
        try? await engineLoop.flatSubmit { engine.value.stop() }.get()
        await tickets.flush()
        tickets.close()
        try? await group.shutdownGracefully()
        logger.info("hotline stopped")
    }

    private static func routes(engine: NIOLoopBound<CallEngine>, loop: EventLoop, tickets: SQLiteTicketStore) -> [String: AdminRoute] {
        [
            "GET /health": { _, _ in
                loop.submit {
                    let e = engine.value
                    return .json("{\"status\":\"\(e.draining ? "draining" : "ok")\",\"active_calls\":\(e.activeCalls)}\n")
                }
            },
            "GET /metrics": { _, _ in
                loop.submit {
                    AdminResponse(contentType: "text/plain; version=0.0.4; charset=utf-8",
                                  body: engine.value.prometheus(tickets: tickets.metrics))
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
