// The `dialplan` stage: one call's DialplanExecution for bench.yaml's 12345, fed the events
// CallEngine feeds it in the key-3 call: start, the ticket id once the ticket is opened, key 3
// during the menu prompt (SIP INFO at 1.5 s: barge-in), the key-3 prompt finished; then what the
// ticket's finish and the BYE read back (keys, menu path, annotation, disposition).

import Dialplan
import Foundation

final class DialplanStage: Stage {
    let dialplan: Dialplan
    let start = Date(timeIntervalSinceReferenceDate: 800_000_000)
    var commandCount = 0
    var completed = 0
    var firstCall: [[DialplanCommand]] = []

    init(path: String) throws {
        dialplan = try Dialplan.load(path: path)
    }

    @inline(never)
    func call(_ index: Int) {
        // CallEngine.newCall / startCall.
        guard let entry = dialplan.entry(forNumber: "12345") else { return }
        let context = CallContext(caller: "40001", dialledNumber: "12345", callID: "1-4242@127.0.0.1")
        var execution = DialplanExecution(dialplan: dialplan, entry: entry, context: context)
        let arrived = start + Double(index) * 10
        let started = execution.start(now: arrived)
        consume(started)
        // openTicket: ${ticket_id} from here on.
        execution.assignTicketID("20250101-000001")
        // INFO with Signal=3, 1.5 s into the 4 s menu prompt: barge-in.
        let key = execution.event(.keyPressed("3"), now: arrived + 1.5)
        consume(key)
        // bench_key3 (1.5 s) has left: hang up.
        let finished = execution.event(.playbackFinished(PlaybackID(rawValue: 2)), now: arrived + 3)
        consume(finished)
        // finishTicket and receivedBye read the outcome.
        let outcome = (execution.keysPressed, execution.menuPath, execution.ticket.businessLine, execution.disposition)
        if outcome.3 == .completedInIVR, outcome.0 == "3", outcome.1.count == 1, outcome.2 == "enterprise" { completed += 1 }
        if index == 0 { firstCall = [started, key, finished] }
    }

    /// What CallEngine.runCommand does with a batch: look at each command in turn.
    private func consume(_ commands: [DialplanCommand]) {
        for command in commands {
            switch command {
            case .answer, .play, .stopPlayback, .annotateTicket, .hangup: commandCount += 1
            default: commandCount += 1_000_000 // not in this flow
            }
        }
    }

    func verify(calls: Int) -> String? {
        let expected: [[DialplanCommand]] = [
            [.answer, .play(PlaybackID(rawValue: 1), [PromptRef(language: .en, name: "bench_menu")])],
            [.stopPlayback(PlaybackID(rawValue: 1)), .annotateTicket(TicketAnnotation(businessLine: "enterprise")),
             .play(PlaybackID(rawValue: 2), [PromptRef(language: .en, name: "bench_key3")])],
            [.hangup(disposition: .completedInIVR)],
        ]
        guard firstCall == expected else { return "the first call ran \(firstCall), not \(expected)" }
        guard completed == calls, commandCount == 6 * calls else {
            return "\(completed) of \(calls) calls completed in the IVR, \(commandCount) commands"
        }
        return nil
    }

    func finish() {}
}
