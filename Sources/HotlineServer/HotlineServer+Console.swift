// HotlineServer: the composition root.
// This file: what the browser console needs besides the API: the live feed of the contact
// centre (GET /api/events, server-sent events pushed on every change of the ACD, never polled)
// and the console's files.
import ACD
import AdminWeb
import Foundation
import Hummingbird
import NIOCore

enum ConsoleFeed {
    struct Snapshot: Encodable {
        var queues: [ContactCentreRoutes.QueueJSON]
        var agents: [ContactCentreRoutes.AgentJSON]
        var seats: ContactCentreRoutes.Seats?
        var at: Date
    }

    /// One line of JSON: SSE data is line-based.
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = ContactCentreRoutes.encoder.dateEncodingStrategy
        return e
    }()

    /// The contact centre's feed: queues, agents and seats as `/api/queues`, `/api/agents` and
    /// `/api/seats` give them, sent whenever the ACD machine moves.
    static func contactCentre(link: ACDLink?, desks: KeyedLiveFeeds? = nil) -> LiveFeed {
        let feed = LiveFeed(event: "contact_centre") {
            guard let link else {
                return (try? encoder.encode(Snapshot(queues: [], agents: [], seats: nil, at: Date())))
                    .map { String(decoding: $0, as: UTF8.self) }
            }
            let snapshot = try? await link.ask { service in
                Snapshot(queues: service.queueStatistics().map(ContactCentreRoutes.QueueJSON.init),
                         agents: service.agentStatuses().map { ContactCentreRoutes.AgentJSON($0, bindings: service.bindings(of: $0.id)) },
                         seats: ContactCentreRoutes.Seats(service.seats), at: Date())
            }.get()
            return snapshot.flatMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        }
        link?.send { service in
            service.onChange = {
                feed.changed()
                desks?.changed()
            }
        }
        return feed
    }

    /// `GET /api/events`: the feed, for whoever may see the contact centre.
    static func register(_ feed: LiveFeed, auth: AdminAuth) -> @Sendable (Router<AdminRequestContext>) -> Void {
        { router in
            router.get("/api/events") { request, context -> Response in
                let admin = AdminWebServer.adminRequest(request, context: context)
                if case .refused(let refusal) = auth.authorize(admin, for: .readContactCentre) {
                    return AdminWebServer.response(refusal)
                }
                return feed.response()
            }
        }
    }
}
