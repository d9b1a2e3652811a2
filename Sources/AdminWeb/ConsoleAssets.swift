// AdminWeb: the admin listener on Hummingbird 2.
// This file: the console's files. Our own pages, styles and scripts (Console/, copied beside
// the binary by SwiftPM as Hotline_AdminWeb.resources) at / and /console/..., and Debian's
// front-end libraries (libjs-* packages, /usr/share/javascript) at /vendor/...: no CDN, no
// build step, so the console works on a closed network.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

public struct ConsoleAssets: Sendable {
    /// Where our console files are, or nil if they are not installed (the API still serves).
    public let directory: URL?
    /// Debian's shared front-end libraries.
    public let vendor: URL

    public init(directory: URL?, vendor: URL = URL(fileURLWithPath: "/usr/share/javascript")) {
        self.directory = directory
        self.vendor = vendor
    }

    /// `HOTLINE_CONSOLE_DIR`, else the resources SwiftPM put beside the executable.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> ConsoleAssets {
        var candidates: [URL] = []
        if let dir = environment["HOTLINE_CONSOLE_DIR"], !dir.isEmpty { candidates.append(URL(fileURLWithPath: dir)) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for base in [executable, Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
            candidates.append(base.appendingPathComponent("Hotline_AdminWeb.resources/Console"))
        }
        let found = candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }
        return ConsoleAssets(directory: found)
    }

    static let types = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8", "svg": "image/svg+xml", "png": "image/png", "json": "application/json",
        "woff2": "font/woff2", "map": "application/json",
    ]

    /// `/`, `/console/**` and `/vendor/**`, GET only.
    func register(on router: Router<AdminRequestContext>) {
        router.get("/") { _, _ in file(directory, "index.html", cache: false) }
        router.get("/console/**") { _, context in
            file(directory, context.parameters.getCatchAll().joined(separator: "/"), cache: false)
        }
        router.get("/vendor/**") { _, context in
            file(vendor, context.parameters.getCatchAll().joined(separator: "/"), cache: true)
        }
    }

    /// A file under `root`, never outside it (no `..`, no hidden files).
    func file(_ root: URL?, _ relative: String, cache: Bool) -> Response {
        guard let root else {
            return AdminWebServer.response(AdminResponse(
                status: .serviceUnavailable,
                body: "the console's files are not installed beside the hotline binary (Hotline_AdminWeb.resources) "
                    + "and HOTLINE_CONSOLE_DIR is not set; the API still serves\n"))
        }
        let parts = relative.split(separator: "/")
        guard !parts.isEmpty, parts.allSatisfy({ !$0.hasPrefix(".") && !$0.contains("\\") }) else {
            return AdminWebServer.response(AdminResponse(status: .notFound, body: "no such file\n"))
        }
        let url = parts.reduce(root) { $0.appendingPathComponent(String($1)) }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return AdminWebServer.response(AdminResponse(status: .notFound, body: "no such file: \(relative)\n"))
        }
        var headers = HTTPFields()
        headers[.contentType] = Self.types[url.pathExtension.lowercased()] ?? "application/octet-stream"
        headers[.cacheControl] = cache ? "public, max-age=86400" : "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
