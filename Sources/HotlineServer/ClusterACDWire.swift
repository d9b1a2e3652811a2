// HotlineServer: the composition root.
// This file: what the nodes of a cluster and the ACD's leader say to each other through the
// ACD tables (PostgresACDStore), as JSON; and the cluster form of the ACD's call ids.
import ACD
import Foundation
import NIOCore
import SIPCore

/// What a node sends the ACD's leader (a row of `acd_inbox`).
enum ClusterACDEvent: Codable, Sendable, Equatable {
    /// A caller arrived, hung up, an offer was answered or failed, a call ended, a callback
    /// was cancelled: the machine's own event.
    case acd(ACDMachine.Event)
    /// An agent's request (feature code or admin API); the leader replies with `.reply(id, …)`.
    /// `sentAt` (Unix milliseconds): a request older than the node waits for its reply is
    /// refused rather than applied, so an agent told "unavailable" is not logged in later.
    case request(id: UInt64, agent: AgentID, AgentRequest, reason: PauseReason?, sentAt: Int64)
    /// The agent's phone as the node whose registrar holds its binding sees it; `target` is
    /// where any node sends the agent leg (through the front, by the binding's Path).
    case reachability(AgentID, reachable: Bool, target: AgentTarget?)
    /// The node (re)started: calls of its earlier runs are gone.
    case nodeStarted(incarnation: String)

    /// The caller a `callerArrived` queues.
    var arrival: CallID? {
        if case .acd(.callerArrived(let id, _)) = self { return id }
        return nil
    }
}

/// What the leader tells the node holding a call (a row of `acd_outbox`).
enum ClusterACDCommand: Codable, Sendable, Equatable {
    case offer(CallID, target: AgentTarget, Offer)
    case cancelOffer(CallID, agent: AgentID, reason: CancelReason)
    case releaseAgentLeg(CallID, agent: AgentID)
    case playMusic(CallID, prompt: String)
    case announce(CallID, Announcement)
    case moved(CallID, from: QueueName, to: QueueName, reason: OverflowReason)
    case convertedToCallback(CallID, queue: QueueName, reason: OverflowReason)
    case left(CallID, QueueExit)
    case reply(id: UInt64, AgentRequestOutcome)

    /// The call it is about (replies are about a request).
    var call: CallID? {
        switch self {
        case .offer(let id, _, _), .cancelOffer(let id, _, _), .releaseAgentLeg(let id, _), .playMusic(let id, _),
             .announce(let id, _), .moved(let id, _, _, _), .convertedToCallback(let id, _, _), .left(let id, _):
            id
        case .reply:
            nil
        }
    }
}

extension AgentTarget: Codable, Equatable {
    enum CodingKeys: String, CodingKey { case agent, name, sipUsername, contact, host, port, route, seat }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let contact = try c.decode(String.self, forKey: .contact)
        let host = try c.decode(String.self, forKey: .host)
        let port = try c.decode(Int.self, forKey: .port)
        do {
            self.init(agent: try c.decode(AgentID.self, forKey: .agent), name: try c.decode(String.self, forKey: .name),
                      sipUsername: try c.decode(String.self, forKey: .sipUsername), contact: try SIPURI.parse(contact),
                      destination: try SocketAddress(ipAddress: host, port: port),
                      route: try c.decode([String].self, forKey: .route).map { try SIPURI.parse($0) },
                      seat: try c.decode(SeatKind.self, forKey: .seat))
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .contact, in: c, debugDescription: "agent target: \(error)")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(agent, forKey: .agent)
        try c.encode(name, forKey: .name)
        try c.encode(sipUsername, forKey: .sipUsername)
        try c.encode(contact.description, forKey: .contact)
        try c.encode(destination.ipAddress ?? "", forKey: .host)
        try c.encode(destination.port ?? 0, forKey: .port)
        try c.encode(route.map(\.description), forKey: .route)
        try c.encode(seat, forKey: .seat)
    }

    static func == (a: AgentTarget, b: AgentTarget) -> Bool {
        a.agent == b.agent && a.name == b.name && a.sipUsername == b.sipUsername && a.contact == b.contact
            && a.destination == b.destination && a.route == b.route && a.seat == b.seat
    }
}

/// The ACD's call ids in a cluster: `<shard>-<call>@<node>#<incarnation>`, so the leader knows
/// which node holds a call, and a call of a node's earlier run is told from a new one.
enum ClusterCallID {
    static func suffix(node: String, incarnation: String) -> String { "@\(node)#\(incarnation)" }

    static func node(of id: CallID) -> (node: String, incarnation: String)? {
        guard let at = id.rawValue.firstIndex(of: "@") else { return nil }
        let rest = id.rawValue[id.rawValue.index(after: at)...]
        guard let hash = rest.lastIndex(of: "#") else { return nil }
        return (String(rest[..<hash]), String(rest[rest.index(after: hash)...]))
    }
}

enum ClusterACDCoding {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        // Encoding these plain value types cannot fail.
        String(decoding: (try? encoder().encode(value)) ?? Data(), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
