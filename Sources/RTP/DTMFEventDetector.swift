import NIOCore

/// Turns a stream of RFC 4733 telephone-event packets into key presses,
/// each reported exactly once, on the first packet seen of the event.
///
/// Sans-IO value type: feed it every packet that carries the negotiated
/// telephone-event payload type. It copes with what the network and senders do:
/// - an event is sent as many packets with the same RTP timestamp, the last
///   one three times with the E bit (RFC 4733 §2.5.1.2, §2.5.1.4): one key;
/// - the first packets, marker included, may be lost: the key is reported on
///   whichever packet of the event arrives first, end packets included;
/// - a new event is a new RTP timestamp, compared modulo 2^32 (wrap-around);
/// - a late packet of an earlier event (reordering, or a retransmitted end)
///   must not report its key again: the last few event timestamps are kept,
///   and timestamps shortly before the current event are stale;
/// - an event longer than the 16-bit duration is continued in a new segment
///   with a new timestamp and no marker (RFC 4733 §2.5.1.3): not a new press.
///
/// Call ``reset()`` when the remote SSRC changes (re-INVITE, new stream):
/// its timestamps start elsewhere.
public struct DTMFEventDetector: Sendable, Equatable {
    struct CurrentEvent: Sendable, Equatable {
        var timestamp: UInt32
        var event: UInt8
        var ended: Bool
        var duration: UInt16
    }

    /// How far before the current event a timestamp counts as a stale
    /// packet of an older event rather than a new stream, in timestamp units.
    public let staleWindow: UInt32
    var current: CurrentEvent?
    var recentTimestamps: [UInt32]
    var nextSlot = 0

    /// Creates a detector.
    ///
    /// - Parameters:
    ///   - memory: how many past event timestamps to remember.
    ///   - staleWindow: see ``staleWindow``; 10 s at 8 kHz by default.
    public init(memory: Int = 8, staleWindow: UInt32 = 80_000) {
        self.staleWindow = staleWindow
        self.recentTimestamps = []
        self.recentTimestamps.reserveCapacity(max(1, memory))
        self.memory = max(1, memory)
    }

    let memory: Int

    /// Forgets every event: for a new remote stream.
    public mutating func reset() {
        current = nil
        recentTimestamps.removeAll(keepingCapacity: true)
        nextSlot = 0
    }

    /// Feeds one telephone-event packet; returns the key if this packet is the
    /// first seen of a new DTMF event, nil otherwise (repeats, end packets of a
    /// reported event, stale packets, flash and other non-key events).
    public mutating func receivedPacket(rtpTimestamp: UInt32, marker: Bool, event: TelephoneEvent) -> DTMFKey? {
        if var ongoing = current, ongoing.timestamp == rtpTimestamp {
            ongoing.ended = ongoing.ended || event.isEnd
            ongoing.duration = max(ongoing.duration, event.duration)
            current = ongoing
            return nil
        }
        if recentTimestamps.contains(rtpTimestamp) {
            return nil
        }
        var isContinuation = false
        if let ongoing = current {
            let ahead = rtpTimestamp &- ongoing.timestamp
            // Serial-number comparison: more than 2^31 ahead means behind.
            if ahead > UInt32.max / 2, ongoing.timestamp &- rtpTimestamp <= staleWindow {
                return nil
            }
            // RFC 4733 §2.5.1.3: a segment that continues a long event has a new
            // timestamp, no marker, the same code, and follows a segment whose
            // duration ran up to the 16-bit limit without ending.
            isContinuation = !marker && ongoing.event == event.event && !ongoing.ended
                && ongoing.duration >= UInt16.max - 0x1000 && ahead <= UInt32(UInt16.max) + 0x1000
        }
        remember(rtpTimestamp)
        current = CurrentEvent(timestamp: rtpTimestamp, event: event.event, ended: event.isEnd, duration: event.duration)
        return isContinuation ? nil : event.key
    }

    /// Feeds one packet's payload bytes (see ``receivedPacket(rtpTimestamp:marker:event:)``);
    /// a payload shorter than 4 bytes is ignored.
    public mutating func receivedPacket(rtpTimestamp: UInt32, marker: Bool, payload: ByteBuffer) -> DTMFKey? {
        guard let event = try? TelephoneEvent(decoding: payload) else { return nil }
        return receivedPacket(rtpTimestamp: rtpTimestamp, marker: marker, event: event)
    }

    mutating func remember(_ timestamp: UInt32) {
        if recentTimestamps.count < memory {
            recentTimestamps.append(timestamp)
        } else {
            recentTimestamps[nextSlot] = timestamp
            nextSlot = (nextSlot + 1) % memory
        }
    }
}
