// swift-tools-version:6.0
// Hotline: a telephony IVR and call-routing engine for public-service hotlines.
// Target layering follows ../shared/ARCHITECTURE.md: pure cores (no sockets, no disk) at the
// bottom, NIO/SQLite adapters above them, one composition root (HotlineServer) on top.
import PackageDescription

let package = Package(
    name: "Hotline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hotline", targets: ["hotline"]),
        // The parsers Benchmarks/Fuzz (a package of its own, built with -sanitize=fuzzer) drives.
        .library(name: "HotlineParsers", targets: ["SIPCore", "SIPTransport", "SDP", "RTP", "Dialplan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The 110 hand-offs' webhook client (already resolved: Hummingbird's tests use it).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // MARK: pure cores
        .target(name: "Randomness"),
        .target(name: "Timers", dependencies: [.product(name: "HeapModule", package: "swift-collections")]),
        // What the nodes of a cluster agree on, sans-IO (leadership of cluster-wide decisions).
        .target(name: "Cluster", dependencies: ["Timers"]),
        .target(name: "SIPCore", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "SDP"),
        .target(name: "SIPTransaction", dependencies: ["SIPCore"]),
        .target(name: "SIPDialog", dependencies: ["SIPCore", "SIPTransaction"]),
        .target(name: "RTP", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "WorkCalendar"),
        // Admin-edited files read with located issues, and the duration syntax, shared by the
        // dialplan, the ACD and ticket configuration and the CLI.
        .target(name: "ConfigFiles", dependencies: ["Yams"]),
        .target(name: "Dialplan", dependencies: ["Yams", "WorkCalendar", "ConfigFiles"]),
        .target(name: "SIPAuth", dependencies: ["SIPCore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "SIPRegistrar", dependencies: ["SIPCore", "SIPAuth"]),
        .target(name: "ACD"),
        .target(name: "ACDConfig", dependencies: ["ACD", "SIPAuth", "SDP", "Yams", "ConfigFiles"]),
        .target(name: "Outbound", dependencies: ["SIPAuth", "Yams", "ConfigFiles", "WorkCalendar",
                                                 .product(name: "HeapModule", package: "swift-collections")]),
        .target(name: "CallControl", dependencies: ["SIPCore", "SIPTransaction", "SIPDialog", "Dialplan"]),
        // The 110 linkage's signed webhook, sans-IO: HMAC signatures, replay refusal, retry
        // timing, handoffs.yaml.
        .target(name: "Handoffs", dependencies: ["ConfigFiles", "Yams", .product(name: "Crypto", package: "swift-crypto")]),

        // MARK: system libraries
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),

        // MARK: adapters
        .target(name: "Codecs", dependencies: ["COpus"]),
        .target(name: "AudioDevice", dependencies: ["Codecs", "CALSA"]),
        .target(name: "SIPTransport", dependencies: [
            "SIPCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "SIPEndpoint", dependencies: [
            "SIPCore", "SIPTransaction", "SIPDialog", "SIPTransport", "Timers",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "DequeModule", package: "swift-collections"),
        ]),
        .target(name: "Media", dependencies: [
            "RTP", "Codecs", "SDP", "Timers", "CSRTP",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // The work-order domain (calls' tickets, work orders, lifecycle, SLA clocks, intake,
        // KPI definitions, CSV) and the group-commit writer, with no storage: every backend
        // implements its protocols (TicketWriteTransaction, TicketBatchCommitter).
        .target(name: "Tickets", dependencies: [
            "WorkCalendar", "Timers", "Yams", "ConfigFiles", "Outbound",
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        // The single-node store: SQLite in WAL mode (the only place of its SQL).
        .target(name: "TicketsSQLite", dependencies: [
            "Tickets", "Timers", "CSQLiteConfig", .product(name: "GRDB", package: "GRDB.swift"),
            // The C API, for the writer's hot statements (SQLiteRawStatement).
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        // sqlite3_config (variadic, so C) for TicketsSQLite: SQLite's threading mode and statistics.
        .target(name: "CSQLiteConfig", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The PostgreSQL backend of the ticket store (issue 12): SQL only here, rules in Tickets.
        .target(name: "TicketsPostgres", dependencies: [
            "Tickets", "Cluster", "Timers",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .target(name: "LoadGen", dependencies: [
            "SIPCore", "SIPTransaction", "SIPDialog", "SIPTransport", "SIPEndpoint", "SDP", "RTP", "Codecs", "Media", "Timers",
            "Tickets", "TicketsSQLite", "Yams", "ConfigFiles", "Randomness",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),

        // The admin listener on Hummingbird 2: routing, body limits, security headers, the
        // console's pages and pushes. Routes are plain functions given by HotlineServer.
        .target(name: "AdminWeb", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("Console")]),

        // MARK: composition root and executable
        .target(name: "HotlineServer", dependencies: [
            "SIPCore", "SDP", "SIPTransaction", "SIPDialog", "SIPTransport", "SIPEndpoint",
            "RTP", "Codecs", "Media", "Dialplan", "Tickets", "TicketsSQLite", "TicketsPostgres", "Timers", "AudioDevice",
            "ACD", "ACDConfig", "SIPAuth", "SIPRegistrar", "CallControl", "AdminWeb", "Outbound", "Handoffs",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            "Yams", // the admin API's tokens file
        ]),
        // Benchmarks/sip-instructions.sh: the per-message SIP work in a loop, for callgrind.
        .executableTarget(name: "hotline-micro", dependencies: [
            "SIPCore", .product(name: "NIOCore", package: "swift-nio"),
        ], path: "Benchmarks/Micro"),
        // Benchmarks/callgrind-stages.sh: one call's work stage by stage (SIP, dialplan, RTP send
        // path, ticket writes) through the production code, synchronous so valgrind can run it.
        .executableTarget(name: "hotline-stages", dependencies: [
            "SIPCore", "SIPTransaction", "SIPDialog", "SIPTransport", "SIPEndpoint", "SDP", "Dialplan", "RTP", "Media", "Codecs",
            "Tickets", "TicketsSQLite", "Timers", "CCallgrind",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ], path: "Benchmarks/Stages"),
        // callgrind's client requests (start/stop instrumentation) for hotline-stages.
        .target(name: "CCallgrind", path: "Benchmarks/CCallgrind"),
        .executableTarget(name: "hotline", dependencies: [
            "HotlineServer", "Dialplan", "Tickets", "TicketsSQLite", "TicketsPostgres", "LoadGen", "AudioDevice", "Media", "ACDConfig", "ConfigFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // MARK: tests
        .testTarget(name: "TimersTests", dependencies: ["Randomness", "Timers"]),
        .testTarget(name: "WorkCalendarTests", dependencies: ["WorkCalendar"]),
        .testTarget(name: "LoadGenTests", dependencies: [
            "Randomness", "LoadGen", "SIPCore", "SIPTransaction", "SIPDialog", "SDP", "RTP", "Codecs", "Media", "Timers", "Tickets", "TicketsSQLite", "ConfigFiles",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SDPTests", dependencies: ["SDP"]),
        // A TCP/TLS client end for the stream transport's tests (SIPTransportTests, IntegrationTests).
        .target(name: "StreamTestSupport", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], path: "Tests/StreamTestSupport"),
        .testTarget(name: "SIPTransportTests", dependencies: [
            "SIPTransport", "SIPCore", "StreamTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "SIPTransactionTests", dependencies: ["SIPTransaction", "SIPCore"]),
        .testTarget(name: "SIPDialogTests", dependencies: ["SIPDialog", "SIPCore"]),
        .testTarget(name: "RTPTests", dependencies: ["Randomness", "RTP"]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs"]),
        .testTarget(name: "AudioDeviceTests", dependencies: ["AudioDevice"]),
        .testTarget(name: "DialplanTests", dependencies: ["Dialplan", "ConfigFiles"], exclude: ["Fixtures"]),
        .testTarget(name: "OutboundTests", dependencies: ["Outbound", "ConfigFiles", "SIPAuth", "WorkCalendar"]),
        // Tickets' tests: the pure domain (no database); the store tests, run against every
        // backend of TicketsTestSupport's StoreBackend; and what only SQLite has.
        .testTarget(name: "TicketsTests", dependencies: ["Tickets", "WorkCalendar"]),
        .testTarget(name: "LeaderElectionTests", dependencies: ["Cluster", "Timers"]),
        .target(name: "TicketsTestSupport", dependencies: [
                    "Tickets", "TicketsSQLite", "TicketsPostgres", "WorkCalendar", .product(name: "GRDB", package: "GRDB.swift"),
                ],
                path: "Tests/TicketsTestSupport"),
        .testTarget(name: "TicketStoreTests", dependencies: ["Tickets", "TicketsTestSupport", "WorkCalendar"]),
        .testTarget(name: "TicketsSQLiteTests", dependencies: [
            "Tickets", "TicketsSQLite", "TicketsTestSupport", "WorkCalendar", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // PostgreSQL only (migrations, outage, nodes, numbering across nodes); needs a real server:
        // HOTLINE_TEST_DB_URL (make test starts deploy/postgres/pgctl.sh).
        .testTarget(name: "TicketsPostgresTests", dependencies: ["Tickets", "TicketsPostgres", "TicketsTestSupport", "Cluster"]),
        .testTarget(name: "SIPAuthTests", dependencies: ["SIPAuth", "SIPCore"]),
        .testTarget(name: "HandoffsTests", dependencies: ["Handoffs", "ConfigFiles"]),
        .testTarget(name: "CallControlTests", dependencies: ["CallControl", "Dialplan", "SIPCore"]),
        .testTarget(name: "ACDTests", dependencies: ["Randomness", "ACD", "ACDConfig", "SIPAuth", "Dialplan"]),
        .testTarget(name: "SIPRegistrarTests", dependencies: ["SIPRegistrar", "SIPAuth", "SIPCore"]),
        .testTarget(name: "MediaTests", dependencies: [
            "Media", "RTP", "Codecs", "SDP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "SIPEndpointTests", dependencies: [
            "SIPEndpoint", "SIPCore", "SIPTransaction", "SIPTransport", "Timers", .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "HotlineServerTests", dependencies: [
            "HotlineServer", "AdminWeb", "SIPCore", "Tickets", "TicketsSQLite", "ACD", "ACDConfig", "SIPAuth", "SIPDialog", "SIPTransaction", "Dialplan",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "Tickets", "TicketsSQLite", "TicketsPostgres", "TicketsTestSupport", "StreamTestSupport", "Yams", "Codecs", "SIPAuth",
            "Handoffs", // HandoffTests sign as the partner does
            // SRTPBridgeTests: the agent phone's SRTP (Media's SRTPContext) and SDES keys (SDP).
            "Media", "SDP",
            // StreamTransportTests' TCP and TLS clients.
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], exclude: ["Dialplans"], resources: [.copy("Scenarios")]),
    ]
)
