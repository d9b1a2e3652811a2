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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // MARK: pure cores
        .target(name: "Timers"),
        .target(name: "SIPCore", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "SDP"),
        .target(name: "SIPTransaction", dependencies: ["SIPCore"]),
        .target(name: "SIPDialog", dependencies: ["SIPCore", "SIPTransaction"]),
        .target(name: "RTP", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "WorkCalendar"),
        .target(name: "Dialplan", dependencies: ["Yams", "WorkCalendar"]),
        .target(name: "SIPAuth", dependencies: ["SIPCore"]),
        .target(name: "SIPRegistrar", dependencies: ["SIPCore", "SIPAuth"]),
        .target(name: "ACD"),
        .target(name: "ACDConfig", dependencies: ["ACD", "SIPAuth", "Yams"]),
        .target(name: "CallControl", dependencies: ["SIPCore", "SIPTransaction", "SIPDialog", "Dialplan"]),

        // MARK: system libraries
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),

        // MARK: adapters
        .target(name: "Codecs", dependencies: ["COpus"]),
        .target(name: "AudioDevice", dependencies: ["Codecs", "CALSA"]),
        .target(name: "SIPTransport", dependencies: [
            "SIPCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .target(name: "SIPEndpoint", dependencies: [
            "SIPCore", "SIPTransaction", "SIPDialog", "SIPTransport", "Timers",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "Media", dependencies: [
            "RTP", "Codecs", "SDP", "Timers",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .target(name: "Tickets", dependencies: ["WorkCalendar", "Timers", "Yams", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "LoadGen", dependencies: [
            "SIPCore", "SIPTransaction", "SIPDialog", "SIPTransport", "SIPEndpoint", "SDP", "RTP", "Codecs", "Media", "Timers",
            "Tickets", "Yams",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),

        // MARK: composition root and executable
        .target(name: "HotlineServer", dependencies: [
            "SIPCore", "SDP", "SIPTransaction", "SIPDialog", "SIPTransport", "SIPEndpoint",
            "RTP", "Codecs", "Media", "Dialplan", "Tickets", "Timers", "AudioDevice",
            "ACD", "ACDConfig", "SIPAuth", "SIPRegistrar", "CallControl",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            "Yams", // the admin API's tokens file
        ]),
        // Benchmarks/sip-instructions.sh: the per-message SIP work in a loop, for callgrind.
        .executableTarget(name: "hotline-micro", dependencies: [
            "SIPCore", .product(name: "NIOCore", package: "swift-nio"),
        ], path: "Benchmarks/Micro"),
        .executableTarget(name: "hotline", dependencies: [
            "HotlineServer", "Dialplan", "Tickets", "LoadGen", "AudioDevice", "Media", "ACDConfig",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // MARK: tests
        .testTarget(name: "TimersTests", dependencies: ["Timers"]),
        .testTarget(name: "WorkCalendarTests", dependencies: ["WorkCalendar"]),
        .testTarget(name: "LoadGenTests", dependencies: [
            "LoadGen", "SIPCore", "SIPTransaction", "SIPDialog", "SDP", "RTP", "Codecs", "Media", "Timers", "Tickets",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SDPTests", dependencies: ["SDP"]),
        .testTarget(name: "SIPTransactionTests", dependencies: ["SIPTransaction", "SIPCore"]),
        .testTarget(name: "SIPDialogTests", dependencies: ["SIPDialog", "SIPCore"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP"]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs"]),
        .testTarget(name: "AudioDeviceTests", dependencies: ["AudioDevice"]),
        .testTarget(name: "DialplanTests", dependencies: ["Dialplan"], exclude: ["Fixtures"]),
        .testTarget(name: "TicketsTests", dependencies: ["Tickets"]),
        .testTarget(name: "SIPAuthTests", dependencies: ["SIPAuth", "SIPCore"]),
        .testTarget(name: "CallControlTests", dependencies: ["CallControl", "Dialplan", "SIPCore"]),
        .testTarget(name: "ACDTests", dependencies: ["ACD", "ACDConfig", "SIPAuth", "Dialplan"]),
        .testTarget(name: "SIPRegistrarTests", dependencies: ["SIPRegistrar", "SIPAuth", "SIPCore"]),
        .testTarget(name: "MediaTests", dependencies: [
            "Media", "RTP", "Codecs", "SDP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "SIPEndpointTests", dependencies: [
            "SIPEndpoint", "SIPCore", "SIPTransaction", "Timers", .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "HotlineServerTests", dependencies: ["HotlineServer", "SIPCore", "Tickets", "ACD", "ACDConfig"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Tickets", "Yams", "Codecs", "SIPAuth"], exclude: ["Dialplans"], resources: [.copy("Scenarios")]),
    ]
)
