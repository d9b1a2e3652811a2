/// Per-source reception statistics of RFC 3550: sequence validation and
/// extended highest sequence number (A.1), loss (A.3) and interarrival
/// jitter (A.8). Feed it every packet of one SSRC; it allocates nothing.
public struct RTPReceptionStatistics: Sendable, Equatable {
    /// RFC 3550 A.1 `MAX_DROPOUT`: a jump smaller than this is a gap, not a restart.
    public static let maxDropout: UInt16 = 3000
    /// RFC 3550 A.1 `MAX_MISORDER`: a step back smaller than this is reordering.
    public static let maxMisorder: UInt16 = 100
    static let sequenceModulo: UInt32 = 1 << 16

    /// How a packet was classified by ``receivedPacket(sequenceNumber:rtpTimestamp:arrivalTime:)``.
    public enum Disposition: Sendable, Equatable {
        /// Counted: in order, after a gap, late within the misorder window, or a duplicate.
        case accepted
        /// The source is still on probation (RFC 3550 A.1 `MIN_SEQUENTIAL`).
        case probation
        /// A large jump; a second packet right after it resynchronises (A.1 `bad_seq`).
        case invalid
    }

    let minimumSequential: Int
    var probation: Int
    var started = false
    /// Highest sequence number seen (A.1 `max_seq`).
    var maxSequence: UInt16 = 0
    /// Shifted count of sequence number cycles (A.1 `cycles`).
    var cycles: UInt32 = 0
    /// Base sequence number (A.1 `base_seq`).
    var baseSequence: UInt32 = 0
    /// Last 'bad' sequence number + 1 (A.1 `bad_seq`).
    var badSequence: UInt32 = sequenceModulo + 1
    var expectedPrior: Int64 = 0
    var receivedPrior: UInt32 = 0
    var lastTransit: Int32 = 0
    var hasTransit = false

    /// Packets counted (A.1 `received`), duplicates included as the RFC does.
    public private(set) var packetsReceived: UInt32 = 0
    /// The interarrival jitter estimate J of RFC 3550 §6.4.1, in timestamp units.
    public private(set) var jitter: Double = 0

    /// Creates statistics for a new source.
    ///
    /// - Parameter minimumSequential: packets in sequence needed before the
    ///   source is valid (A.1 `MIN_SEQUENTIAL`, 2 in the RFC). With 2 the first
    ///   packet is not counted, as in the RFC's code. 1 trusts the first packet,
    ///   right for a source already known from signalling.
    public init(minimumSequential: Int = 2) {
        self.minimumSequential = max(1, minimumSequential)
        self.probation = self.minimumSequential
    }

    /// The extended highest sequence number received: cycles × 2^16 + highest (RFC 3550 §6.4.1).
    public var extendedHighestSequenceNumber: UInt32 {
        cycles &+ UInt32(maxSequence)
    }

    /// Packets expected since the first valid one (RFC 3550 A.3).
    public var expectedPackets: Int64 {
        guard packetsReceived > 0 else { return 0 }
        return Int64(extendedHighestSequenceNumber) - Int64(baseSequence) + 1
    }

    /// Cumulative number of packets lost: expected − received, negative when
    /// duplicates arrived, clamped to the 24-bit signed field of a report block (RFC 3550 §6.4.1).
    public var cumulativeLost: Int32 {
        Int32(max(-0x80_0000, min(0x7F_FFFF, expectedPackets - Int64(packetsReceived))))
    }

    /// The jitter as it goes into a reception report: an integer in timestamp units.
    public var interarrivalJitter: UInt32 {
        UInt32(jitter)
    }

    /// Records one packet (RFC 3550 A.1 `update_seq`, A.8 jitter).
    ///
    /// - Parameters:
    ///   - rtpTimestamp: the packet's RTP timestamp.
    ///   - arrivalTime: when it arrived, in the same clock units as the RTP
    ///     timestamp (time is an input: the caller converts its clock).
    @discardableResult
    public mutating func receivedPacket(sequenceNumber: UInt16, rtpTimestamp: UInt32, arrivalTime: UInt32) -> Disposition {
        let disposition = updateSequence(sequenceNumber)
        if disposition == .accepted {
            updateJitter(rtpTimestamp: rtpTimestamp, arrivalTime: arrivalTime)
        }
        return disposition
    }

    /// A.1 `init_seq`.
    mutating func initSequence(_ sequence: UInt16) {
        baseSequence = UInt32(sequence)
        maxSequence = sequence
        badSequence = Self.sequenceModulo + 1
        cycles = 0
        packetsReceived = 0
        receivedPrior = 0
        expectedPrior = 0
    }

    /// A.1 `update_seq`, with the source initialisation done on the first packet.
    mutating func updateSequence(_ sequence: UInt16) -> Disposition {
        if !started {
            started = true
            initSequence(sequence)
            maxSequence = sequence &- 1
            probation = minimumSequential
        }
        let delta = sequence &- maxSequence
        if probation > 0 {
            // Source not valid until minimumSequential packets arrived in sequence.
            if sequence == maxSequence &+ 1 {
                probation -= 1
                maxSequence = sequence
                if probation == 0 {
                    initSequence(sequence)
                    packetsReceived += 1
                    return .accepted
                }
            } else {
                probation = minimumSequential - 1
                maxSequence = sequence
            }
            return .probation
        } else if delta < Self.maxDropout {
            // In order, with a permissible gap.
            if sequence < maxSequence {
                cycles &+= Self.sequenceModulo
            }
            maxSequence = sequence
        } else if UInt32(delta) <= Self.sequenceModulo - UInt32(Self.maxMisorder) {
            // A very large jump: restart if the next packet follows it, as after a sender restart.
            if UInt32(sequence) == badSequence {
                initSequence(sequence)
                hasTransit = false
            } else {
                badSequence = (UInt32(sequence) + 1) & (Self.sequenceModulo - 1)
                return .invalid
            }
        } else {
            // Duplicate or reordered packet: counted, highest unchanged.
        }
        packetsReceived += 1
        return .accepted
    }

    /// A.8: J += (|D(i-1,i)| − J) / 16, D from the transit time difference.
    mutating func updateJitter(rtpTimestamp: UInt32, arrivalTime: UInt32) {
        let transit = Int32(bitPattern: arrivalTime &- rtpTimestamp)
        defer { lastTransit = transit }
        guard hasTransit else {
            hasTransit = true
            return
        }
        // Wrapping difference: transit times are modulo 2^32 like the timestamps.
        let d = Double(abs(Int64(transit &- lastTransit)))
        jitter += (d - jitter) / 16
    }

    /// The fraction of packets lost since the previous call, as the 8-bit
    /// fixed-point value of a reception report (RFC 3550 A.3). Resets the interval.
    public mutating func makeFractionLost() -> UInt8 {
        let expected = expectedPackets
        let expectedInterval = expected - expectedPrior
        expectedPrior = expected
        let receivedInterval = Int64(packetsReceived) - Int64(receivedPrior)
        receivedPrior = packetsReceived
        let lostInterval = expectedInterval - receivedInterval
        guard expectedInterval > 0, lostInterval > 0 else { return 0 }
        return UInt8(min(255, (lostInterval << 8) / expectedInterval))
    }
}
