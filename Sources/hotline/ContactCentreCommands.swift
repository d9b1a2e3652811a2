// `hotline seats` and `hotline agents`: the contact centre from the command line. Seats talk to
// a running server's admin API; `agents passwd` only computes the HA1 lines (ACDConfig).
import ACDConfig
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One admin API call: the status and the body.
private func adminRequest(_ method: String, _ url: String, token: String?, body: String? = nil) async throws -> (Int, String) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    if let body {
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

struct SeatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seats", abstract: "Show or change a running server's licensed seats (agents logged in at once).",
        subcommands: [Show.self, Set.self], defaultSubcommand: Show.self)

    struct Options: ParsableArguments {
        @Option(help: "The server's admin HTTP address.") var http = "127.0.0.1:8080"
        @Option(help: "Bearer token for the admin API (default: $HOTLINE_ADMIN_TOKEN).") var token: String?
        var bearer: String? { token ?? ProcessInfo.processInfo.environment["HOTLINE_ADMIN_TOKEN"] }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print {\"licensed\": N, \"logged_in\": M, \"remote\": R}.")
        @OptionGroup var options: Options

        func run() async throws {
            try await SeatsCommand.call("GET", options: options, body: nil)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the licensed seats at once, without a restart (nobody is logged out; logins beyond it are refused).")
        @Argument(help: "Licensed seats.") var seats: Int
        @OptionGroup var options: Options

        func validate() throws {
            guard (0...100_000).contains(seats) else { throw ValidationError("seats is 0 to 100000") }
        }

        func run() async throws {
            try await SeatsCommand.call("PUT", options: options, body: "{\"licensed\": \(seats)}")
        }
    }

    static func call(_ method: String, options: Options, body: String?) async throws {
        do {
            let (status, text) = try await adminRequest(method, "http://\(options.http)/api/seats", token: options.bearer, body: body)
            guard status == 200 else {
                FileHandle.standardError.write(Data("hotline: the server answered \(status): \(text)".utf8))
                throw ExitCode(1)
            }
            print(text.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch let error as URLError {
            throw ValidationError("cannot reach the server at \(options.http): \(error.localizedDescription)")
        }
    }
}

struct AgentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents", abstract: "Agents of the contact centre.", subcommands: [Passwd.self])

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the ha1_md5 and ha1_sha256 lines of agents.yaml for a new password (the password itself is kept nowhere).",
            discussion: "Reads the password from standard input (one line); on a terminal it asks for it without echo.")

        @Argument(help: "The agent's SIP username (sip_username in agents.yaml).") var username: String
        @Option(help: "The digest realm of agents.yaml.") var realm = "hotline"

        func run() throws {
            let password: String
            if isatty(STDIN_FILENO) != 0 {
                guard let typed = getpass("Password for \(username): ").map({ String(cString: $0) }), !typed.isEmpty else {
                    throw ValidationError("no password given")
                }
                password = typed
            } else {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("no password on standard input") }
                password = line
            }
            print(AgentsFile.ha1Lines(sipUsername: username, password: password, realm: realm), terminator: "")
        }
    }
}
