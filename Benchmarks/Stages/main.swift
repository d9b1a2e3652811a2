// hotline-stages: one stage of the key-3 IVR call (Dialplans/bench.yaml, the SIPp scenario
// Tests/IntegrationTests/Scenarios/ivr-key3-info.xml) for N calls through the production code,
// for exact instruction counts per call under callgrind (Benchmarks/callgrind-stages.sh).
// Synchronous on purpose: valgrind 3.19 crashes when Swift's concurrency runtime starts its
// threads, so there is no async main here and no event loop.
//
// Usage: hotline-stages sip|dialplan|rtp|tickets N
//
// Each stage runs a warm-up of `warmUpCalls` calls, then `measuredLoop` with N calls between
// callgrind's start and stop of instrumentation (run callgrind with --instr-atstart=no; the
// requests are no-ops outside valgrind), so only the calls are counted, on every thread (the
// ticket store commits on its writer thread).

import CCallgrind
import Foundation

/// One stage of a call, driven call after call.
protocol Stage: AnyObject {
    /// Runs call number `index` (numbers never repeat: Call-IDs, tags and tickets differ).
    func call(_ index: Int)
    /// Checks, after the loop, that every call went as the scenario says; nil when they did.
    func verify(calls: Int) -> String?
    /// Releases what the stage holds (closes the ticket store, the sockets).
    func finish()
}

let warmUpCalls = 20

/// The calls callgrind counts: nothing else runs between the start and the stop of
/// instrumentation.
@inline(never)
func measuredLoop(_ stage: Stage, from first: Int, calls: Int) {
    for index in first..<first + calls {
        stage.call(index)
    }
}

let usage = "usage: hotline-stages sip|dialplan|rtp|tickets N   (run from the repository root)"
let arguments = CommandLine.arguments
guard arguments.count == 3, let calls = Int(arguments[2]), calls >= 0 else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}

let stage: Stage
do {
    switch arguments[1] {
    case "sip": stage = SIPStage()
    case "dialplan": stage = try DialplanStage(path: "Dialplans/bench.yaml")
    case "rtp": stage = try RTPStage(prompts: "Prompts")
    case "tickets": stage = try TicketStage()
    default:
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("hotline-stages: \(error)\n".utf8))
    exit(1)
}

measuredLoop(stage, from: 0, calls: warmUpCalls)
hotline_callgrind_start()
measuredLoop(stage, from: warmUpCalls, calls: calls)
hotline_callgrind_stop()
let problem = stage.verify(calls: warmUpCalls + calls)
stage.finish()
if let problem {
    FileHandle.standardError.write(Data("hotline-stages \(arguments[1]): \(problem)\n".utf8))
    exit(1)
}
print("\(arguments[1]) calls=\(calls) warm_up=\(warmUpCalls) callgrind_headers=\(hotline_callgrind_available() == 1)")
