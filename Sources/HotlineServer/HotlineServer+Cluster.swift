// What a node knows of its cluster, for the admin API: `GET /api/cluster`, the store's part
// of /health and /metrics, and telling the others it drains. With a local (SQLite) store the
// node is a cluster of one; with PostgreSQL the `nodes` table every node heartbeats into.
import Foundation
import NIOCore
import NIOPosix
import Tickets
import TicketsPostgres

struct ClusterMembership: Sendable {
    let node: String
    /// The shared store, when there is one.
    let shared: PostgresTicketStore?
    /// Blocking PostgreSQL round trips run here, never on a call loop or the admin loop.
    let pool: NIOThreadPool
    let startedAt: Date

    /// Marks this node draining in the shared table, so the cluster view says so.
    func markDraining() {
        guard let shared else { return }
        pool.submit { state in
            guard case .active = state else { return }
            try? shared.markDraining()
        }
    }

    /// The cluster's nodes; a lone node lists itself from its own state.
    func nodes(on loop: EventLoop, state: NodeState, calls: Int) -> EventLoopFuture<AdminResponse> {
        guard let shared else {
            let me = ClusterNode(name: node, state: state == .active ? .active : .draining, startedAt: startedAt,
                                 heartbeatAt: Date(), callsInProgress: calls)
            return loop.makeSucceededFuture(.json(Self.json([me], store: "sqlite")))
        }
        return pool.runIfActive(eventLoop: loop) {
            do {
                let leader = try? PostgresLeadership.current(PostgresACDStore.leadershipName, url: shared.url)
                return .json(Self.json(try shared.nodes(), store: "postgresql", acdLeader: leader?.leader))
            } catch {
                return .json("{\"error\":\(HotlineServer.jsonString("the shared store is unreachable: \(error)")),\"code\":\"unavailable\"}\n",
                             status: .serviceUnavailable)
            }
        }
    }

    /// The store's part of /health: `,"store":{...}`, and whether the node is degraded
    /// (answering, but the shared store is away and tickets wait in memory).
    var health: (fields: String, degraded: Bool) {
        guard let shared else { return (",\"store\":{\"backend\":\"sqlite\"}", false) }
        let h = shared.health
        let admission: String
        switch h.admission {
        case .accepting: admission = "accepting"
        case .degraded: admission = "degraded"
        case .refusing: admission = "refusing"
        }
        var fields = "\"backend\":\"postgresql\",\"connected\":\(h.connected),\"admission\":\"\(admission)\","
            + "\"queued_writes\":\(h.queuedWrites),\"reconnects\":\(h.reconnects)"
        if let error = h.lastError { fields += ",\"last_error\":\(HotlineServer.jsonString(error))" }
        return (",\"store\":{\(fields)}", h.admission != .accepting)
    }

    func publish(into p: inout MetricsPublisher) {
        guard let shared else { return }
        let h = shared.health
        p.add("hotline_store_connected", .gauge, help: "1 while the shared ticket store (PostgreSQL) is reachable", value: h.connected ? 1 : 0)
        p.add("hotline_store_reconnects_total", .counter, help: "Reconnections of the ticket writer to PostgreSQL", value: h.reconnects)
        p.add("hotline_store_refusing_calls", .gauge,
              help: "1 while new calls get 503: PostgreSQL away and the in-memory write queue full", value: h.admission == .refusing ? 1 : 0)
    }

    /// `acd_leader`: the node deciding for the cluster's ACD (as the leadership table says).
    static func json(_ nodes: [ClusterNode], store: String, acdLeader: String? = nil) -> String {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let items = nodes.map { n in
            "{\"name\":\(HotlineServer.jsonString(n.name)),\"state\":\"\(n.state.rawValue)\",\"calls\":\(n.callsInProgress),"
                + "\"started_at\":\"\(iso.string(from: n.startedAt))\",\"heartbeat_at\":\"\(iso.string(from: n.heartbeatAt))\"}"
        }
        let leader = acdLeader.map { ",\"acd_leader\":\(HotlineServer.jsonString($0))" } ?? ""
        return "{\"store\":\"\(store)\"\(leader),\"nodes\":[\(items.joined(separator: ","))]}\n"
    }

    static func route(_ cluster: ClusterMembership, engines: [CallEnginePeer], lifecycle: NodeLifecycle,
                      auth: AdminAuth) -> [String: AdminRoute] {
        [
            "GET /api/cluster": { request, loop in
                if case .refused(let refusal) = auth.authorize(request, for: .readConfiguration) {
                    return loop.makeSucceededFuture(refusal)
                }
                return HotlineServer.snapshot(engines).hop(to: loop).flatMap { s in
                    cluster.nodes(on: loop, state: lifecycle.state, calls: s.activeCalls)
                }
            },
        ]
    }
}
