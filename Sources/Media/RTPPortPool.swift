// Media: RTP sockets for calls, the port pool, paced prompt playout on one tick per event
// loop, and the pre-encoded prompt cache. Confined to the call engine's event loop.
import DequeModule

/// Even RTP ports from a configured range (RFC 3550 §11: RTP on even, RTCP on the next odd
/// port). Released ports go to the back of the queue so a port is not reused while stray
/// packets of its last call may still arrive.
public struct RTPPortPool: Sendable {
    private var free: Deque<Int>
    public let range: ClosedRange<Int>

    public init(range: ClosedRange<Int>) {
        self.range = range
        let first = range.lowerBound % 2 == 0 ? range.lowerBound : range.lowerBound + 1
        free = Deque(stride(from: first, through: range.upperBound - 1, by: 2))
    }

    public var available: Int { free.count }

    public mutating func acquire() -> Int? { free.popFirst() }

    public mutating func release(_ port: Int) {
        guard range.contains(port) else { return }
        free.append(port)
    }
}
