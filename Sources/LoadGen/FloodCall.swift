import Codecs
import NIOCore
import RTP
import SDP
import SIPCore
import Timers

/// One call in flight: its UAC machine and its media. Loop-confined; the worker carries out
/// the machine's actions.
final class FloodCall {
    let number: UInt64
    unowned let source: FloodSource
    var machine: UACStateMachine
    var timerIDs: [UACTimer: TimerID] = [:]
    var sender: CallerRTPSender?
    var receiver = CallerRTPReceiver()
    var tracker: PromptTracker?
    var law: G711.Law = .muLaw
    var audioPayloadType: UInt8 = 0
    var eventPayloadType: UInt8?
    var remoteRTP: SocketAddress?
    var remoteRTPPort: Int?
    /// Position in the worker's list of calls that send RTP, for O(1) removal.
    var sendingIndex: Int?
    /// When each key left, monotonic ns: the SIP INFO, or an RTP key's first packet.
    var keysSent: [UInt64] = []
    var packetsSent = 0
    var announcedPrompts = 0

    init(number: UInt64, source: FloodSource, machine: UACStateMachine) {
        self.number = number
        self.source = source
        self.machine = machine
    }

    var callID: String { machine.configuration.callID }

    /// Sets up media once the answer is in.
    func startMedia(_ negotiated: NegotiatedMedia, references: PromptReferences?, rng: inout some RandomNumberGenerator) {
        audioPayloadType = negotiated.codec.payloadType
        eventPayloadType = negotiated.telephoneEventPayloadType
        law = negotiated.codec.encodingName.uppercased() == "PCMA" ? .aLaw : .muLaw
        remoteRTPPort = Int(negotiated.remotePort)
        remoteRTP = try? SocketAddress(ipAddress: negotiated.remoteAddress, port: Int(negotiated.remotePort))
        sender = CallerRTPSender(ssrc: .random(in: 1...UInt32.max, using: &rng), initialSequence: .random(in: 0...UInt16.max, using: &rng),
                                 initialTimestamp: .random(in: 0...UInt32.max, using: &rng), audio: machine.behaviour.audio,
                                 audioPayloadType: RTPPayloadType(negotiated.codec.payloadType),
                                 eventPayloadType: negotiated.telephoneEventPayloadType.map { RTPPayloadType($0) })
        if let references { tracker = PromptTracker(references: references, law: law) }
    }

    /// What the call measured, once it is over.
    func record(outcome: CallOutcome) -> CallRecord {
        tracker?.finish()
        var record = CallRecord(outcome: outcome)
        record.packetsReceived = receiver.packets
        record.packetsLost = receiver.lost
        record.packetsSent = packetsSent
        if receiver.packets > 1 { record.jitterMicroseconds = receiver.jitterMicroseconds }
        if let answered = outcome.answeredAt, let first = receiver.firstArrival, first >= answered.nanoseconds {
            record.firstAudio = .nanoseconds(Int64(first - answered.nanoseconds))
        }
        record.heard = tracker?.heard ?? []
        record.unidentified = tracker?.unidentified ?? 0
        // Each key's latency to the next prompt: identified from the audio when we can, else
        // the next talkspurt (marker bit or timestamp jump).
        let starts = tracker != nil ? record.heard.map(\.startArrival) : receiver.talkspurtStarts
        for key in keysSent {
            if let next = starts.first(where: { $0 > key }) { record.keyToPrompt.append(.nanoseconds(Int64(next - key))) }
        }
        var failure = outcome.failure
        // No audio at all is a failure when prompts are expected (identification is on): a
        // signalling-only peer (SIPp's UAS, a stateless proxy) sends none.
        if failure == nil, tracker != nil, outcome.answered, receiver.packets == 0,
           outcome.endedAt - (outcome.answeredAt ?? outcome.endedAt) >= .seconds(1) {
            failure = .noAudio
        }
        if failure == nil, outcome.answered, let expected = machine.behaviour.expectedPrompts, record.heard.map(\.name) != expected {
            failure = .unexpectedPrompts
        }
        record.outcome.failure = failure
        return record
    }
}
