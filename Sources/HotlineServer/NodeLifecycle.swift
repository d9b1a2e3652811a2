// The IO side of ``NodeDrain``: feeds it the drain request and, every 100 ms while draining,
// the calls still in progress on every loop; carries out its actions on the call engines.
import Foundation
import Logging
import NIOCore
import Synchronization
import Timers

final class NodeLifecycle: Sendable {
    private struct Shared {
        var machine = NodeDrain()
        var onDrained: [@Sendable () -> Void] = []
    }
    private let shared = Mutex(Shared())
    private let engines: [CallEnginePeer]
    private let timeout: Duration
    private let logger: Logger
    /// Told once when draining starts (the shared store's node table).
    private let onDrainStart: @Sendable () -> Void
    static let pollInterval: Duration = .milliseconds(100)

    init(engines: [CallEnginePeer], timeout: Duration, logger: Logger, onDrainStart: @escaping @Sendable () -> Void = {}) {
        self.engines = engines
        self.onDrainStart = onDrainStart
        self.timeout = timeout
        self.logger = logger
    }

    var state: NodeState { shared.withLock { $0.machine.state } }

    /// Runs `body` once the node has drained (at once if it already has).
    func onDrained(_ body: @escaping @Sendable () -> Void) {
        let now = shared.withLock { shared in
            if shared.machine.state == .drained { return true }
            shared.onDrained.append(body)
            return false
        }
        if now { body() }
    }

    /// Starts draining; false if the node was already draining or drained.
    @discardableResult
    func drain() -> Bool {
        let actions = shared.withLock { $0.machine.requestDrain(now: CallEngine.monotonicNow(), timeout: timeout) }
        guard !actions.isEmpty else { return false }
        logger.notice("draining: new calls and the front's probes get 503; calls in progress go on",
                      metadata: ["timeout": "\(timeout)"])
        onDrainStart()
        Task { await self.run(actions) }
        return true
    }

    private func run(_ first: [NodeAction]) async {
        var actions = first
        while true {
            for action in actions {
                switch action {
                case .refuseNewCalls:
                    for peer in engines { try? await peer.eventLoop.submit { peer.engine.value.refuseNewCalls() }.get() }
                case .hangUpRemaining:
                    logger.warning("drain timeout: hanging up the calls still in progress")
                    for peer in engines { try? await peer.eventLoop.submit { peer.engine.value.drain() }.get() }
                case .finish:
                    logger.notice("drained")
                    let waiters = shared.withLock { shared in
                        defer { shared.onDrained = [] }
                        return shared.onDrained
                    }
                    for waiter in waiters { waiter() }
                    return
                }
            }
            try? await Task.sleep(for: Self.pollInterval)
            var calls = 0
            for peer in engines { calls += (try? await peer.eventLoop.submit { peer.engine.value.activeCalls }.get()) ?? 0 }
            let now = CallEngine.monotonicNow()
            actions = shared.withLock { $0.machine.observe(activeCalls: calls, now: now) }
        }
    }
}

typealias NodeAction = NodeDrain.Action
