import DequeModule
import NIOCore
import SIPCore
import SIPTransaction
import SIPTransport
import Timers

/// Server transactions past their final response, kept only until Timer J or L (64·T1 = 32 s
/// on UDP) so late retransmissions are answered or absorbed (RFC 3261 §17.2.2, RFC 6026 §7.1).
///
/// Every call leaves two behind (its INVITE in Accepted, the INFO or BYE it received in
/// Completed): ~25,000 at 400 calls/s, far more than the calls in progress. A full
/// `ServerTransaction` with its machine, parsed response and timer heap entries costs over a
/// kilobyte each; here one costs its key, an address and, for a non-INVITE, the response's
/// bytes, and they expire from a FIFO in arrival order, since every entry waits the same 64·T1.
struct LingeringTransactions {
    enum State {
        /// An INVITE whose 2xx went out: retransmissions are absorbed (the core resends the
        /// 2xx), ACKs go to the TU, a CANCEL gets 200 with the To tag of our responses.
        case accepted(toTag: String?)
        /// A non-INVITE whose final response went out: retransmissions get it again, as
        /// serialised then, to where it went.
        case completed(response: ByteBuffer, status: SIPStatus, destination: SocketAddress)
    }

    struct Entry {
        var state: State
        let source: SocketAddress
        let kind: SIPTransportKind
        let expiry: Instant
    }

    private var entries: [SIPTransactionKey: Entry] = [:]
    /// Keys in the order they started lingering, hence of expiry.
    private var expiries = Deque<(Instant, SIPTransactionKey)>()

    var count: Int { entries.count }
    /// FIFO slots, expired entries not yet swept included (for /metrics).
    var storedCount: Int { expiries.count }

    subscript(key: SIPTransactionKey) -> Entry? { entries[key] }

    mutating func insert(_ entry: Entry, for key: SIPTransactionKey) {
        entries[key] = entry
        expiries.append((entry.expiry, key))
    }

    /// Forgets every entry whose timer is due at `now`. Every entry of an endpoint waits the
    /// same 64·T1, so the FIFO is in expiry order; only reconfigured timers could put a later
    /// expiry ahead, and that would merely delay forgetting the entries behind it.
    mutating func expire(now: Instant) {
        while let (expiry, key) = expiries.first, expiry <= now {
            expiries.removeFirst()
            // The entry may be a newer one under the same key, with its own later slot.
            if entries[key]?.expiry == expiry { entries[key] = nil }
        }
        if entries.isEmpty, expiries.isEmpty, entries.capacity > 1024 {
            // The table grew for a peak of calls; give the memory back once it has drained.
            entries = [:]
        }
    }
}
