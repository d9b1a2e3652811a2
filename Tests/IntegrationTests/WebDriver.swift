import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real browser for the console's tests: Debian's chromium, headless, driven by
/// chromium-driver over the W3C WebDriver protocol (what Selenium speaks), on loopback.
final class Browser: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let driver: Process
    private let driverExited = DispatchSemaphore(value: 0)
    private let base: URL
    private let session: String
    let log: URL

    /// Starts chromium-driver and a headless chromium of `width`×`height`. Both are installed by
    /// `make test` (TEST_PACKAGES); a missing one is a failure, not a skip.
    init(width: Int = 1366, height: Int = 768) async throws {
        guard let driverPath = Repo.which("chromedriver") else {
            throw Failure(description: "chromedriver is not installed (apt-get install chromium-driver; make test installs it)")
        }
        guard let chromium = Repo.which("chromium") else {
            throw Failure(description: "chromium is not installed (apt-get install chromium; make test installs it)")
        }
        let port = try RawTCPPort.free()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("chromedriver-\(UUID().uuidString).log")
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: driverPath)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1", "--log-path=\(log.path)"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        let exited = driverExited
        driver.terminationHandler = { _ in exited.signal() }
        try driver.run()
        base = URL(string: "http://127.0.0.1:\(port)")!
        // The driver is up once it answers /status (bounded: 20 s).
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            if let status = try? await Self.send("GET", base.appendingPathComponent("status"), nil),
               let ready = (status["value"] as? [String: Any])?["ready"], (ready as? NSNumber)?.boolValue ?? (ready as? Bool) ?? false { break }
            guard ContinuousClock.now < deadline else {
                kill(driver.processIdentifier, SIGKILL)
                throw Failure(description: "chromedriver did not start on port \(port)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)").path
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": [
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=\(width),\(height)", "--user-data-dir=\(profile)", "--lang=zh-CN",
                         "--no-proxy-server", "--force-device-scale-factor=1"],
            ],
        ]]]
        do {
            let created = try await Self.send("POST", base.appendingPathComponent("session"), capabilities)
            guard let value = created["value"] as? [String: Any], let id = value["sessionId"] as? String else {
                throw Failure(description: "no WebDriver session: \(created)")
            }
            session = id
        } catch {
            kill(driver.processIdentifier, SIGKILL)
            throw error
        }
    }

    /// Ends the session (the driver closes chromium) and the driver: SIGKILL, as
    /// chromium-driver does not exit on SIGTERM.
    func quit() async {
        _ = try? await command("DELETE", "")
        kill(driver.processIdentifier, SIGKILL)
        // Not waitUntilExit: it can hang on Linux while other tests run processes.
        if awaitTermination(driverExited, of: driver, within: .seconds(10)) == nil {
            print("chromedriver \(driver.processIdentifier): its end was not seen within 20 s")
        }
    }

    // MARK: commands

    func open(_ url: String) async throws { _ = try await command("POST", "url", ["url": url]) }

    /// The element matching a CSS selector, or nil.
    func find(_ css: String) async throws -> String? {
        let result = try? await command("POST", "element", ["using": "css selector", "value": css])
        guard let value = result?["value"] as? [String: Any] else { return nil }
        return value.values.first as? String
    }

    func element(_ css: String) async throws -> String {
        guard let id = try await find(css) else { throw Failure(description: "no element \(css) on the page") }
        return id
    }

    func text(_ css: String) async throws -> String? {
        guard let id = try await find(css) else { return nil }
        return (try? await command("GET", "element/\(id)/text"))?["value"] as? String
    }

    func type(_ css: String, _ text: String) async throws {
        let id = try await element(css)
        _ = try await command("POST", "element/\(id)/clear", [:])
        _ = try await command("POST", "element/\(id)/value", ["text": text])
    }

    func click(_ css: String) async throws {
        let id = try await element(css)
        _ = try await command("POST", "element/\(id)/click", [:])
    }

    /// Runs `script` in the page (its `return` value back).
    func execute(_ script: String, _ arguments: [Any] = []) async throws -> Any? {
        try await command("POST", "execute/sync", ["script": script, "args": arguments])["value"]
    }

    /// Waits (bounded) until the text of `css` satisfies `condition`; returns it.
    @discardableResult
    func waitForText(_ css: String, timeout: Duration = .seconds(10), _ what: String,
                     _ condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last: String?
        while ContinuousClock.now < deadline {
            last = try await text(css)
            if let last, condition(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "\(css): \(what) within \(timeout); its text was \(last.map { "'\($0)'" } ?? "absent")")
    }

    /// A PNG of the viewport.
    func screenshot() async throws -> Data {
        guard let base64 = try await command("GET", "screenshot")["value"] as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    func setWindow(width: Int, height: Int) async throws {
        _ = try await command("POST", "window/rect", ["width": width, "height": height])
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        var url = base.appendingPathComponent("session").appendingPathComponent(session)
        if !path.isEmpty { url = url.appendingPathComponent(path) }
        return try await Self.send(method, url, body)
    }

    /// One WebDriver exchange. A plain HTTP/1.1 client on a socket of its own thread:
    /// FoundationNetworking's curl refuses chromedriver's response headers ("Failed writing header").
    private static func send(_ method: String, _ url: URL, _ body: [String: Any]?) async throws -> [String: Any] {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        let port = url.port ?? 80, path = url.path
        let (status, data) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int, Data), any Error>) in
            Thread {
                continuation.resume(with: Result { try exchange(port: port, method: method, path: path, payload: payload) })
            }.start()
        }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        if status >= 400 {
            throw Failure(description: "WebDriver \(method) \(path): \(status) \(object["value"] ?? "")")
        }
        return object
    }

    private static func exchange(port: Int, method: String, path: String, payload: Data) throws -> (Int, Data) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        // Page loads and script runs are bounded by the driver; this bounds a stuck driver.
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to chromedriver: errno \(errno)") }
        var request = Data("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n".utf8)
        request += Data("Content-Type: application/json; charset=utf-8\r\nContent-Length: \(payload.count)\r\n\r\n".utf8)
        request += payload
        var offset = 0
        while offset < request.count {
            let sent = request[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send to chromedriver: errno \(errno)") }
            offset += sent
        }
        // chromedriver keeps the connection open despite Connection: close, and writes its
        // headers without a space ("Content-Length:252"): read up to Content-Length.
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var split: Range<Data.Index>?
        var expected: Int?
        while true {
            if split == nil, let found = received.range(of: Data("\r\n\r\n".utf8)) {
                split = found
                let head = String(decoding: received[..<found.lowerBound], as: UTF8.self).lowercased()
                if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
                    expected = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
                }
            }
            if let split, let expected, received.count - split.upperBound >= expected { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw Failure(description: "recv from chromedriver: errno \(errno)") }
            if n == 0 { break }
            received.append(contentsOf: buffer[0..<n])
        }
        guard let split else { throw Failure(description: "chromedriver answered no HTTP response") }
        let head = String(decoding: received[..<split.lowerBound], as: UTF8.self)
        let status = head.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        var body = Data(received[split.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return (status, body)
    }

    private static func dechunk(_ data: Data) -> Data {
        var out = Data(), rest = data[...]
        while let line = rest.range(of: Data("\r\n".utf8)) {
            let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
            if size == 0 { break }
            let start = line.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size else { break }
            let end = rest.index(start, offsetBy: size)
            out += rest[start..<end]
            rest = rest[(rest.index(end, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex)...]
        }
        return out
    }
}

/// A TCP port free on loopback now (the socket closes at once).
enum RawTCPPort {
    static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw Browser.Failure(description: "no free TCP port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
