import Dialplan
import Foundation
import NIOCore
import NIOPosix

/// Publishes dialplan versions (PUT, rollback, reload, SIGHUP) one at a time on a thread of
/// its own. Parsing, checking and writing files never run on the call loops (which may run
/// at real-time priority), and a publish holds the thread until every call loop has the new
/// version, so two publishes never interleave: each one's `previous` is the one before it,
/// archive order is publication order, and the last one published is the one the loops run.
final class DialplanPublisher: Sendable {
    /// A version made live, and the one it replaced.
    struct Outcome: Sendable {
        var dialplan: Dialplan
        var previous: String
    }

    let library: DialplanLibrary
    private let install: @Sendable (Dialplan) -> EventLoopFuture<Void>
    /// One thread: work runs in arrival order, never two items at once.
    private let thread: NIOThreadPool

    /// - Parameter install: hands a newly live dialplan to every call loop; its future
    ///   completes once they all have it.
    init(library: DialplanLibrary, install: @escaping @Sendable (Dialplan) -> EventLoopFuture<Void>) {
        self.library = library
        self.install = install
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        thread.submit { _ in Thread.current.name = "hotline-publish" } // for ps/top and the --realtime test
    }

    /// Runs `change` (a publish, rollback or reload of the library) on the admin thread and
    /// installs its result; the future fires on `loop`.
    func publish(on loop: EventLoop,
                 _ change: @escaping @Sendable (DialplanLibrary) throws(DialplanLibrary.PublishError) -> Dialplan)
        -> EventLoopFuture<Result<Outcome, DialplanLibrary.PublishError>> {
        thread.runIfActive(eventLoop: loop) { self.run(change) }
    }

    /// As ``publish(on:_:)``, for callers outside any event loop (SIGHUP).
    func publish(_ change: @escaping @Sendable (DialplanLibrary) throws(DialplanLibrary.PublishError) -> Dialplan) async
        -> Result<Outcome, DialplanLibrary.PublishError> {
        do {
            return try await thread.runIfActive { self.run(change) }
        } catch {
            return .failure(.io("the admin thread has stopped: \(error)"))
        }
    }

    /// Runs only on `thread`.
    private func run(_ change: (DialplanLibrary) throws(DialplanLibrary.PublishError) -> Dialplan)
        -> Result<Outcome, DialplanLibrary.PublishError> {
        let previous = library.current.version
        do throws(DialplanLibrary.PublishError) {
            let dialplan = try change(library)
            do {
                // Blocking here (a pool thread, not an event loop) is what keeps the next
                // publish from overtaking this one on its way to the loops.
                try install(dialplan).wait()
            } catch {
                return .failure(.io("version \(dialplan.version) is on disk but not on every call loop: \(error)"))
            }
            return .success(Outcome(dialplan: dialplan, previous: previous))
        } catch {
            return .failure(error)
        }
    }

    func shutdown() async {
        try? await thread.shutdownGracefully()
    }
}
