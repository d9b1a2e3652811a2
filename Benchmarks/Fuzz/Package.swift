// swift-tools-version:6.0
// libFuzzer targets for Hotline's parsers (issue 15), a package of its own so the fuzzer's
// instrumentation never reaches the product build. Each executable is one fuzz target: it
// defines LLVMFuzzerTestOneInput and takes its main from libFuzzer. Build and run them with
// Benchmarks/fuzz.sh; by hand:
//   swift build -c release --package-path Benchmarks/Fuzz -Xswiftc -sanitize=fuzzer,address
// Seed corpora: Corpus/<target>/ (see make-corpus.py).
import PackageDescription

let parsers = Target.Dependency.product(name: "HotlineParsers", package: "main")

let package = Package(
    name: "HotlineFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "main", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // The SIP datagram parser, its stream mode, and what the endpoint calls before parsing.
        .executableTarget(name: "FuzzSIPMessage", dependencies: [parsers]),
        // SIPStreamFramer (TCP/TLS framing), the same bytes sliced differently and at other times.
        .executableTarget(name: "FuzzStreamFramer", dependencies: [parsers]),
        // SDP parse, serialize and both directions of offer/answer.
        .executableTarget(name: "FuzzSDP", dependencies: [parsers]),
        // RTP packet layout, RFC 4733 telephone-events, the DTMF detector and reception statistics.
        .executableTarget(name: "FuzzRTP", dependencies: [parsers, .product(name: "NIOCore", package: "swift-nio")]),
        // The YAML dialplan loader and validator, with included files.
        .executableTarget(name: "FuzzDialplan", dependencies: [parsers]),
    ]
)
