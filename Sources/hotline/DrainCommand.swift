import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `hotline drain`: asks a running node (admin API) to drain: the front's probes and new
/// calls get 503, calls in progress finish (up to the node's --drain-timeout), then it exits.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Drain a running node: no new calls, calls in progress finish, then it exits (as SIGTERM does).")

    @Option(help: "The node's admin HTTP address.") var http = "127.0.0.1:8080"
    @Option(help: "Bearer token for the admin API (default: $HOTLINE_ADMIN_TOKEN).") var token: String?

    func run() async throws {
        let token = self.token ?? ProcessInfo.processInfo.environment["HOTLINE_ADMIN_TOKEN"]
        var request = URLRequest(url: URL(string: "http://\(http)/api/drain")!)
        request.httpMethod = "POST"
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let body = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard status == 202 else {
                FileHandle.standardError.write(Data("hotline: drain refused (\(status)): \(body)\n".utf8))
                throw ExitCode(1)
            }
            print(body)
        } catch let error as URLError {
            throw ValidationError("cannot reach the node at \(http): \(error.localizedDescription)")
        }
    }
}
