// Lockout counted across the cluster (issue 13): every failed digest authentication is also
// recorded in PostgreSQL (off the call loops, on a queue of its own), and a lockout the
// cluster's count starts is announced on the event bus and installed by every node's
// registrar. A guesser spreading tries over nodes is locked out after as many tries as on one.
import Foundation
import Logging
import SIPAuth
import SIPRegistrar
import Tickets
import TicketsPostgres

final class ClusterLockout: Sendable {
    private let ledger: PostgresLockoutLedger
    private let bus: PostgresEventBus
    private let queue = DispatchQueue(label: "hotline-cluster-lockout")
    private let logger: Logger

    init(url: PostgresURL, node: String, logger: Logger) throws(TicketStoreError) {
        ledger = try PostgresLockoutLedger(url: url, node: node)
        bus = PostgresEventBus(url: url, node: node, channel: "hotline_lockouts")
        self.logger = logger
    }

    /// Listens for the cluster's lockouts; `install` runs for each (and for every one still
    /// running each time the bus (re)connects, since announcements may have been missed).
    func start(install: @escaping @Sendable (LockoutSubject, UnixTime) -> Void) {
        let events = bus.events()
        let ledger = self.ledger, queue = self.queue, logger = self.logger
        @Sendable func deliver(_ lockout: PostgresLockoutLedger.Lockout) {
            let subject: LockoutSubject = lockout.kind == "address" ? .address(lockout.key) : .user(lockout.key)
            install(subject, UnixTime(milliseconds: Int64((lockout.until.timeIntervalSince1970 * 1000).rounded())))
        }
        Task {
            for await event in events {
                switch event {
                case .resync:
                    queue.async {
                        do {
                            for lockout in try ledger.activeLockouts(at: Date()) { deliver(lockout) }
                        } catch {
                            logger.warning("cluster lockouts could not be read", metadata: ["error": "\(error)"])
                        }
                    }
                case .message(_, let payload):
                    if let lockout = PostgresLockoutLedger.parse(payload) { deliver(lockout) }
                }
            }
        }
    }

    /// A failed authentication: counted for the address (unless exempt) and the username.
    func failed(address: String?, user: String, at: Date, addressPolicy: LockoutPolicy, userPolicy: LockoutPolicy) {
        let ledger = self.ledger, bus = self.bus, logger = self.logger
        queue.async {
            var subjects: [(String, String, LockoutPolicy)] = [("user", user, userPolicy)]
            if let address { subjects.insert(("address", address, addressPolicy), at: 0) }
            for (kind, key, policy) in subjects {
                do {
                    if let lockout = try ledger.recordFailure(kind: kind, key: key, at: at, threshold: policy.threshold,
                                                              window: policy.window, duration: policy.duration) {
                        try bus.publish(PostgresLockoutLedger.message(lockout))
                    }
                } catch {
                    // The local count still protects this node; the cluster's misses this try.
                    logger.warning("a failed authentication could not be counted cluster-wide", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    func close() {
        bus.close()
        ledger.close()
    }
}
