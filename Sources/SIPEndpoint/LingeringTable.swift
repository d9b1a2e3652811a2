import DequeModule
import NIOCore
import SIPCore
import SIPTransaction
import SIPTransport
import Timers

/// Transactions past their final response, kept only until their last timer so late
/// retransmissions are answered or absorbed: a server's Timer J or L (64·T1 = 32 s on UDP;
/// RFC 3261 §17.2.2, RFC 6026 §7.1), a non-INVITE client's Timer K (T4 = 5 s, §17.1.2.2).
///
/// Every call leaves two server transactions behind (its INVITE in Accepted, the INFO or BYE
/// it received in Completed) and often a client one (the BYE it sent): ~40,000 at 630 calls/s,
/// many times the calls in progress, so an entry's size is most of what memory per call up
/// costs under churn. An entry is therefore a small record under the key's fingerprint
/// rather than its strings, and a server's plain final response is rebuilt from the
/// retransmission rather than kept as bytes. Every entry of a table waits the same time, so
/// they expire from a FIFO in arrival order, not from the timer heap.
struct LingeringTable<Entry: LingeringEntry> {
    private var entries: [TransactionFingerprint: Entry] = [:]
    /// Fingerprints in the order they started lingering, hence of expiry.
    private var expiries = Deque<(Instant, TransactionFingerprint)>()

    var count: Int { entries.count }
    /// FIFO slots, expired entries not yet swept included (for /metrics).
    var storedCount: Int { expiries.count }

    subscript(key: SIPTransactionKey) -> Entry? { entries[TransactionFingerprint(key)] }

    mutating func insert(_ entry: Entry, for key: SIPTransactionKey) {
        let fingerprint = TransactionFingerprint(key)
        entries[fingerprint] = entry
        expiries.append((entry.expiry, fingerprint))
    }

    /// Forgets every entry whose timer is due at `now`. Every entry of a table waits the same
    /// time, so the FIFO is in expiry order; only reconfigured timers could put a later expiry
    /// ahead, and that would merely delay forgetting the entries behind it.
    mutating func expire(now: Instant) {
        while let (expiry, fingerprint) = expiries.first, expiry <= now {
            expiries.removeFirst()
            // The entry may be a newer one under the same key, with its own later slot.
            if entries[fingerprint]?.expiry == expiry { entries[fingerprint] = nil }
        }
        if entries.isEmpty, expiries.isEmpty, entries.capacity > 1024 {
            // The table grew for a peak of calls; give the memory back once it has drained.
            entries = [:]
        }
    }
}

protocol LingeringEntry {
    /// When the transaction's last timer fires.
    var expiry: Instant { get }
}

/// A 128-bit keyed digest of a transaction key (two SipHash-1-3 runs under the process's
/// random seed, told apart by a leading discriminator). The chance that two of 50,000 keys
/// collide is about 2⁻⁹⁸, and peers cannot aim for one without the seed; the key's own
/// strings (a branch and sent-by, a heap allocation each) are not kept.
struct TransactionFingerprint: Hashable {
    let high: UInt64
    let low: UInt64

    init(_ key: SIPTransactionKey) {
        var a = Hasher()
        a.combine(UInt8(0x5A))
        a.combine(key)
        var b = Hasher()
        b.combine(UInt8(0xA5))
        b.combine(key)
        high = UInt64(UInt(bitPattern: a.finalize()))
        low = UInt64(UInt(bitPattern: b.finalize()))
    }
}

/// A non-INVITE client transaction in Completed: it only absorbs retransmitted final
/// responses until Timer K, and needs neither its request nor its TU any more.
struct LingeringClientTransaction: LingeringEntry {
    let expiry: Instant
}

/// A server transaction in Accepted or Completed.
struct LingeringServerTransaction: LingeringEntry {
    enum State {
        /// An INVITE whose 2xx went out: retransmissions are absorbed (the core resends the
        /// 2xx), ACKs go to the TU, a CANCEL gets 200 with the To tag of our responses.
        case accepted(toTag: String?)
        /// A non-INVITE whose final response went out: retransmissions get it again.
        case completed(Replay)
    }

    /// How a Completed transaction answers a retransmission.
    enum Replay {
        /// The response is what `SIPResponse(to:status:reasonPhrase:toTag:)` makes of the
        /// request followed by `tail` (Allow, Server): rebuilt from the retransmission, which
        /// has the same headers. `toTag` is nil when the request's To already had one.
        case rebuilt(status: SIPStatus, reasonPhrase: String, toTag: String?, tail: SIPHeaders)
        /// Any other response (a body, headers reordered): its bytes as sent, to where it went.
        case serialised(ByteBuffer, status: SIPStatus, destination: SocketAddress)
    }

    var state: State
    let source: SocketAddress
    let kind: SIPTransportKind
    let expiry: Instant
}

extension LingeringServerTransaction.Replay {
    /// How to replay `response`, the final answer to `request` that went to `destination`
    /// as `bytes`: rebuilt when it is the request's plain response plus header lines of its
    /// own after those (Allow, Server), else the bytes.
    init(response: SIPResponse, request: SIPRequest?, bytes: ByteBuffer, destination: SocketAddress,
         tails: inout ReplayTails, allocator: ByteBufferAllocator) {
        if let request, response.body.isEmpty {
            let toTag = request.to?.tag == nil ? response.to?.tag : nil
            let plain = SIPResponse(to: request, status: response.status, reasonPhrase: response.reasonPhrase, toTag: toTag)
            let base = plain.headers.fields
            let fields = response.headers.fields
            if fields.count >= base.count, fields[..<base.count].elementsEqual(base) {
                let tail = tails.intern(SIPHeaders(Array(fields[base.count...])))
                self = .rebuilt(status: response.status, reasonPhrase: response.reasonPhrase, toTag: toTag, tail: tail)
                return
            }
        }
        // A tight copy: the send buffer has room to spare, and this one waits 32 s.
        var copy = allocator.buffer(capacity: bytes.readableBytes)
        copy.writeImmutableBuffer(bytes)
        self = .serialised(copy, status: response.status, destination: destination)
    }

    /// The response again, from a retransmission of its request.
    static func rebuild(_ request: SIPRequest, status: SIPStatus, reasonPhrase: String, toTag: String?,
                        tail: SIPHeaders) -> SIPResponse {
        var response = SIPResponse(to: request, status: status, reasonPhrase: reasonPhrase, toTag: toTag)
        for field in tail { response.headers.append(field.name, field.value) }
        return response
    }
}

/// The header lines responses add after those copied from their request: a handful of
/// distinct lists (Allow and Server; Server alone) shared by every entry instead of one array
/// each.
struct ReplayTails {
    private var known: [SIPHeaders] = []

    mutating func intern(_ tail: SIPHeaders) -> SIPHeaders {
        if let same = known.first(where: { $0 == tail }) { return same }
        if known.count < 8 { known.append(tail) }
        return tail
    }
}
