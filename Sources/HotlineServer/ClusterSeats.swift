// The licensed seat count across the cluster (issue 13): `hotline seats set N` (PUT /api/seats)
// on any node is written to PostgreSQL and announced on the event bus; every node applies it at
// once, and a node starting (or reconnecting to the bus) takes the count in force. Counting
// logged-in agents across nodes is the cluster ACD's job (docs/contact-centre-cluster.md).
import Foundation
import Logging
import Tickets
import TicketsPostgres

final class ClusterSeats: Sendable {
    private let seats: PostgresSeats
    private let bus: PostgresEventBus
    private let node: String
    private let queue = DispatchQueue(label: "hotline-cluster-seats")
    private let logger: Logger

    init(url: PostgresURL, node: String, logger: Logger) throws(TicketStoreError) {
        seats = try PostgresSeats(url: url)
        bus = PostgresEventBus(url: url, node: node, channel: "hotline_seats")
        self.node = node
        self.logger = logger
    }

    /// The count in force for the cluster, if one was set at runtime (blocking: start-up only).
    func current() throws(TicketStoreError) -> PostgresSeats.Setting? { try seats.current() }

    /// `apply(licensed, agents.yaml value)` runs for every count another node sets, and for the
    /// one in force each time the bus (re)connects.
    func start(apply: @escaping @Sendable (Int, Int) -> Void) {
        let events = bus.events()
        let seats = self.seats, queue = self.queue, node = self.node, logger = self.logger
        Task {
            for await event in events {
                switch event {
                case .resync:
                    queue.async {
                        do {
                            if let setting = try seats.current() { apply(setting.licensed, setting.agentsYAMLLicensedSeats) }
                        } catch {
                            logger.warning("the cluster's licensed seats could not be read", metadata: ["error": "\(error)"])
                        }
                    }
                case .message(let from, let payload):
                    guard from != node, let (licensed, yaml) = PostgresSeats.parse(payload) else { continue }
                    apply(licensed, yaml)
                }
            }
        }
    }

    /// This node set the count: every other node applies it too.
    func announce(licensed: Int, agentsYAMLLicensedSeats: Int) {
        let seats = self.seats, bus = self.bus, node = self.node, logger = self.logger
        queue.async {
            let setting = PostgresSeats.Setting(licensed: licensed, agentsYAMLLicensedSeats: agentsYAMLLicensedSeats,
                                                setAt: Date(), setBy: node)
            do {
                try seats.set(setting)
                try bus.publish(PostgresSeats.message(setting))
            } catch {
                logger.error("licensed seats not shared with the cluster; other nodes keep their count",
                             metadata: ["seats": "\(licensed)", "error": "\(error)"])
            }
        }
    }

    /// agents.yaml's licensed_seats was edited: its value rules again.
    func retire() {
        let seats = self.seats
        queue.async { try? seats.clear() }
    }

    func close() {
        bus.close()
        seats.close()
    }
}
