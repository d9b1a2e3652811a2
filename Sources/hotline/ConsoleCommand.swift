// `hotline console`: one interactive caller on the machine's sound card.
import ArgumentParser
import Foundation
import LoadGen

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "console", abstract: "Call a server and hear it on the sound card (placeholder).")
    func run() async throws {}
}
