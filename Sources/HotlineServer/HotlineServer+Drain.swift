// Drain, from the outside: the admin API's `POST /api/drain`, and SIGTERM through `hotline
// serve` (both end in ``NodeLifecycle/drain()``).
import Foundation
import NIOCore

extension HotlineServer {
    /// Starts draining (see ``NodeDrain``); false if the node was already draining.
    @discardableResult
    public func drain() -> Bool { lifecycleDriver.drain() }

    /// Runs `body` once the node has drained: every call ended, so it may shut down.
    public func onDrained(_ body: @escaping @Sendable () -> Void) { lifecycleDriver.onDrained(body) }

    /// Active, draining or drained.
    public var nodeState: NodeState { lifecycleDriver.state }

    /// `POST /api/drain` (admin): 202 with the node's state; draining twice is not an error.
    static func drainRoute(_ lifecycle: NodeLifecycle, auth: AdminAuth) -> [String: AdminRoute] {
        [
            "POST /api/drain": { request, loop in
                if case .refused(let refusal) = auth.authorize(request, for: .operateNode) {
                    return loop.makeSucceededFuture(refusal)
                }
                let started = lifecycle.drain()
                return loop.makeSucceededFuture(.json("{\"state\":\"\(lifecycle.state.rawValue)\",\"started\":\(started)}\n",
                                                      status: .accepted))
            },
        ]
    }

    /// A JSON string literal.
    static func jsonString(_ value: String) -> String {
        let data = (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
