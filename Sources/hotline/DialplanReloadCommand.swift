import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension DialplanCLI {
    /// `hotline dialplan reload`: asks a running server (admin API) to re-read its dialplan
    /// file; the server checks it first and keeps the live version if it has errors.
    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a running server re-read its dialplan file (checked first; a bad file changes nothing).")

        @Option(help: "The server's admin HTTP address.") var http = "127.0.0.1:8080"
        @Option(help: "Bearer token for the admin API (default: $HOTLINE_ADMIN_TOKEN).") var token: String?

        func run() async throws {
            let base = "http://\(http)/api/dialplans"
            let token = self.token ?? ProcessInfo.processInfo.environment["HOTLINE_ADMIN_TOKEN"]
            func request(_ method: String, _ url: String) async throws -> (Int, String) {
                var r = URLRequest(url: URL(string: url)!)
                r.httpMethod = method
                if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
                let (data, response) = try await URLSession.shared.data(for: r)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
            }
            do {
                let (status, list) = try await request("GET", base)
                guard status == 200, let name = list.firstMatch(of: /"name"\s*:\s*"([^"]+)"/)?.1 else {
                    throw ValidationError("the server at \(http) answered \(status): \(list)")
                }
                let (reloadStatus, body) = try await request("POST", "\(base)/\(name)/reload")
                if reloadStatus == 200 {
                    print(body.trimmingCharacters(in: .whitespacesAndNewlines))
                } else {
                    FileHandle.standardError.write(Data("hotline: reload refused (\(reloadStatus)); the live version stays\n\(body)\n".utf8))
                    throw ExitCode(1)
                }
            } catch let error as URLError {
                throw ValidationError("cannot reach the server at \(http): \(error.localizedDescription)")
            }
        }
    }
}
