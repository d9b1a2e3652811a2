import Foundation
import Tickets
import GRDB
import Synchronization

/// Moves committed pages from the WAL into the database file off the commit path.
///
/// SQLite's default is for the committing connection to checkpoint once the WAL passes 1,000
/// pages: that commit then also copies the pages and fsyncs the database file, and every call
/// whose ticket rides in it waits for its 200 OK meanwhile — the tail of the setup-time
/// distribution. So the writer never checkpoints (`wal_autocheckpoint = 0`), and this thread
/// runs PASSIVE checkpoints on a connection of its own, which never block the writer (it
/// keeps appending to the WAL while pages are copied; SQLite starts the WAL over once a
/// checkpoint has caught up and no reader needs the old pages).
///
/// `@unchecked Sendable`: the timer is set up in `init` and only cancelled afterwards, which
/// Dispatch allows from any thread; `stopped` guards the rest.
final class WALCheckpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let timer: DispatchSourceTimer
    private let stopped = Mutex(false)

    init(path: String, every interval: DispatchTimeInterval = .milliseconds(500)) throws {
        var configuration = Configuration()
        configuration.label = "hotline.tickets.checkpoint"
        configuration.busyMode = .timeout(5)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "hotline-tickets-checkpoint", qos: .utility))
        self.timer = timer
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(100))
        timer.setEventHandler { [connection] in
            // A busy database (the CLI, a long read) just waits for the next round.
            _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        }
        timer.resume()
    }

    /// Stops the timer and waits for a checkpoint in progress; the connection closes with
    /// the last reference.
    func stop() {
        guard stopped.withLock({ wasStopped in defer { wasStopped = true }; return !wasStopped }) else { return }
        timer.cancel()
        _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        try? connection.close()
    }
}
