import Testing
@testable import RTP

@Suite struct RTPSequenceNumberTests {
    @Test func comparesAcrossTheWrap() {
        let last = RTPSequenceNumber(65535)
        let first = RTPSequenceNumber(0)
        #expect(last < first)
        #expect(!(first < last))
        #expect(last.distance(to: first) == 1)
        #expect(first.distance(to: last) == -1)
        #expect(last.advanced(by: 3) == RTPSequenceNumber(2))
        #expect(first.advanced(by: -1) == last)
        #expect(RTPSequenceNumber(100) < RTPSequenceNumber(200))
        #expect(RTPSequenceNumber(40000) < RTPSequenceNumber(100))  // 40000 + 25636 wraps to 100
        #expect(RTPSequenceNumber(100) < RTPSequenceNumber(32867))  // 32767 ahead: still after
        #expect(RTPSequenceNumber(32869) < RTPSequenceNumber(100))  // 100 is 32767 ahead of 32869, wrapping
        #expect([RTPSequenceNumber(2), RTPSequenceNumber(65534), RTPSequenceNumber(0)].sorted().map(\.rawValue) == [65534, 0, 2])
    }
}

@Suite struct RTPReceptionStatisticsTests {
    @Test func extendsTheHighestSequenceNumberAcrossTheWrap() {
        var stats = RTPReceptionStatistics(minimumSequential: 1)
        var seq: UInt16 = 65530
        for i in 0..<12 {
            #expect(stats.receivedPacket(sequenceNumber: seq, rtpTimestamp: UInt32(i * 160), arrivalTime: UInt32(i * 160)) == .accepted)
            seq &+= 1
        }
        #expect(stats.extendedHighestSequenceNumber == 65536 + 5)
        #expect(stats.packetsReceived == 12)
        #expect(stats.expectedPackets == 12)
        #expect(stats.cumulativeLost == 0)
        #expect(stats.jitter == 0)
    }

    @Test func countsLossAndFractionLost() {
        var stats = RTPReceptionStatistics(minimumSequential: 1)
        for seq: UInt16 in [10, 11, 13, 14, 17, 18, 19, 20] {  // 12, 15, 16 lost
            stats.receivedPacket(sequenceNumber: seq, rtpTimestamp: 0, arrivalTime: 0)
        }
        #expect(stats.expectedPackets == 11)
        #expect(stats.cumulativeLost == 3)
        #expect(stats.makeFractionLost() == UInt8((3 << 8) / 11))
        // A late packet arrives: the next interval has one more received than expected.
        stats.receivedPacket(sequenceNumber: 12, rtpTimestamp: 0, arrivalTime: 0)
        #expect(stats.cumulativeLost == 2)
        #expect(stats.makeFractionLost() == 0)
        #expect(stats.extendedHighestSequenceNumber == 20)
    }

    @Test func duplicatesMakeLossNegative() {
        var stats = RTPReceptionStatistics(minimumSequential: 1)
        for seq: UInt16 in [1, 2, 2, 3] {
            stats.receivedPacket(sequenceNumber: seq, rtpTimestamp: 0, arrivalTime: 0)
        }
        #expect(stats.cumulativeLost == -1)
    }

    @Test func probationIgnoresTheFirstPacketAsTheRFCDoes() {
        var stats = RTPReceptionStatistics()
        #expect(stats.receivedPacket(sequenceNumber: 500, rtpTimestamp: 0, arrivalTime: 0) == .probation)
        #expect(stats.receivedPacket(sequenceNumber: 501, rtpTimestamp: 160, arrivalTime: 160) == .accepted)
        #expect(stats.packetsReceived == 1)
        #expect(stats.expectedPackets == 1)
        // A non-sequential second packet restarts probation.
        var jumpy = RTPReceptionStatistics()
        #expect(jumpy.receivedPacket(sequenceNumber: 500, rtpTimestamp: 0, arrivalTime: 0) == .probation)
        #expect(jumpy.receivedPacket(sequenceNumber: 900, rtpTimestamp: 0, arrivalTime: 0) == .probation)
        #expect(jumpy.receivedPacket(sequenceNumber: 901, rtpTimestamp: 0, arrivalTime: 0) == .accepted)
    }

    @Test func largeJumpNeedsTwoSequentialPacketsToResync() {
        var stats = RTPReceptionStatistics(minimumSequential: 1)
        stats.receivedPacket(sequenceNumber: 100, rtpTimestamp: 0, arrivalTime: 0)
        stats.receivedPacket(sequenceNumber: 101, rtpTimestamp: 0, arrivalTime: 0)
        #expect(stats.receivedPacket(sequenceNumber: 30000, rtpTimestamp: 0, arrivalTime: 0) == .invalid)
        #expect(stats.extendedHighestSequenceNumber == 101)
        #expect(stats.receivedPacket(sequenceNumber: 30001, rtpTimestamp: 0, arrivalTime: 0) == .accepted)
        #expect(stats.extendedHighestSequenceNumber == 30001)
        #expect(stats.packetsReceived == 1)  // restarted, as RFC 3550 A.1 init_seq does
    }

    /// RFC 3550 A.8 by hand: packets every 160 units, arriving with transit
    /// times 1000, 1010, 1000, 1010. |D| = 10 each time:
    /// J1 = 10/16 = 0.625; J2 = 0.625 + (10 − 0.625)/16 = 1.2109375;
    /// J3 = 1.2109375 + (10 − 1.2109375)/16 = 1.76025390625.
    @Test func jitterMatchesHandComputation() {
        var stats = RTPReceptionStatistics(minimumSequential: 1)
        let arrivals: [UInt32] = [1000, 1170, 1320, 1490]
        for (i, arrival) in arrivals.enumerated() {
            stats.receivedPacket(sequenceNumber: UInt16(i), rtpTimestamp: UInt32(i * 160), arrivalTime: arrival)
        }
        #expect(stats.jitter == 1.76025390625)
        #expect(stats.interarrivalJitter == 1)
    }

    @Test func jitterSurvivesTimestampWrap() {
        var stats = RTPReceptionStatistics(minimumSequential: 1)
        let start: UInt32 = 0xFFFF_FF00
        for i in 0..<4 {
            let ts = start &+ UInt32(i * 160)
            stats.receivedPacket(sequenceNumber: UInt16(i), rtpTimestamp: ts, arrivalTime: ts &+ 7_000_000)
        }
        #expect(stats.jitter == 0)
    }
}
