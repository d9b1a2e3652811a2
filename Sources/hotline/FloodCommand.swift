// `hotline flood`: the call-flood generator. Option parsing only; the generator is LoadGen.
import ArgumentParser
import ConfigFiles
import Foundation
import LoadGen

struct FloodCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "Place SIP calls at a rate against a server and measure them (loopback only).",
        discussion: """
            Calls are SIP UACs built on Hotline's own SIP, SDP and RTP code: INVITE with an SDP offer, ACK, \
            keys by RFC 4733, SIP INFO or in-band tones, BYE from either side. Prompts heard are identified \
            from the received audio against --prompts. Exit status: 0, or 2 when an --slo clause is breached, \
            1 on errors.

            Examples:
              hotline flood --target 127.0.0.1:5060 --rate 50 --calls 1000 --keys 3 --dtmf info --audio none
              hotline flood --target 127.0.0.1:5060 --ramp 0:50,30s:400,90s:400 --sources 127.0.0.0/24 \\
                            --keys 3 --slo "setup_p99<50ms,failed=0" --json
            """)

    @Option(help: "The server's SIP address (loopback only).") var target: String
    @Option(help: "The number to dial.") var number = "12345"
    @Option(help: "Calls per second.") var rate: String?
    @Option(help: "A rate ramp TIME:RATE,..., e.g. 0:50,30s:400,90s:400.") var ramp: String?
    @Option(help: "Stop after this many calls.") var calls: Int?
    @Option(help: "Stop starting calls after this long (e.g. 60s).") var duration: String?
    @Option(name: .customLong("max-concurrent"), help: "At most this many calls at once.") var maxConcurrent: Int?
    @Option(help: "With --hangup caller: time on the line after the answer, e.g. 3s or uniform:2s-5s.") var hold = "3s"
    @Option(help: "Who hangs up: caller (after --hold) or server (its BYE within --bye-timeout).") var hangup = "server"
    @Option(name: .customLong("bye-timeout"), help: "With --hangup server: wait this long after the answer for the server's BYE.") var byeTimeout = "60s"
    @Option(help: "Caller addresses: a count (127.0.0.1 and up), a block such as 127.0.0.0/8, or a list.") var sources = "127.0.0.1"
    @Option(help: "Keys to press after the answer, e.g. 3 or 12#.") var keys = ""
    @Option(name: .customLong("key-delay"), help: "Wait before the first key and between keys.") var keyDelay = "1.5s"
    @Option(help: "Key transport: rfc4733, info or inband.") var dtmf = "rfc4733"
    @Option(help: "What callers send: silence, tone or none.") var audio = "silence"
    @Option(name: .customLong("expect-prompts"), help: "Prompts every call must hear, in order (comma-separated names).") var expectPrompts: String?
    @Option(help: "A YAML mix of caller kinds (see docs/flood.md).") var scenario: String?
    @Option(help: "Prompt directory to identify heard prompts from, or 'none'.") var prompts = "Prompts"
    @Option(help: "Only identify prompts of these languages (comma-separated).") var language: String?
    @Option(help: "Event loops (threads); default: one per core.") var loops: Int?
    @Option(name: .customLong("max-call-time"), help: "Hard limit on one call.") var maxCallTime = "300s"
    @Option(name: .customLong("drain-timeout"), help: "Wait this long for calls in progress after the last start (default: longest call + 40s).") var drainTimeout: String?
    @Option(name: .customLong("rtp-read"), help: "RTP reads: 'precise' (as packets arrive) or 'batched' (every 5 ms: cheaper under load, times good to 5 ms).") var rtpRead = "precise"
    @Option(name: .customLong("verify-db"), help: "Check that every answered call has its ticket in this SQLite database.") var verifyDB: String?
    @Option(help: "Objectives, e.g. \"setup_p99<50ms,failed=0\"; a breach exits 2.") var slo: String?
    @Option(help: "Seed for hold-time draws and SSRCs.") var seed: UInt64 = 1
    @Flag(help: "Print the report as JSON on stdout.") var json = false
    @Flag(help: "No progress line on stderr.") var quiet = false

    func run() async throws {
        let configuration: FloodConfiguration
        let objectives: SLO?
        do {
            configuration = try makeConfiguration()
            objectives = try slo.map { try SLO.parse($0) }
        } catch let error as FloodSyntaxError {
            throw ValidationError("\(error)")
        } catch let error as Scenario.Error {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as PromptReferences.LoadError {
            FileHandle.standardError.write(Data("hotline flood: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let runner = FloodRunner(configuration: configuration)
        let interrupt = TerminationSignal()
        Task {
            await interrupt.wait()
            FileHandle.standardError.write(Data("\nhotline flood: stopping: no new calls, hanging up those in progress\n".utf8))
            runner.stop()
        }
        let progressLine = ProgressLine(enabled: !quiet)
        var report: FloodReport
        do {
            report = try await runner.run { snapshot, elapsed in progressLine.update(snapshot, elapsed) }
        } catch {
            progressLine.end()
            FileHandle.standardError.write(Data("hotline flood: \(error)\n".utf8))
            throw ExitCode(1)
        }
        progressLine.end()
        if let objectives { report.apply(objectives) }
        print(json ? report.json() : report.text)
        if !report.slo_ok { throw ExitCode(2) }
    }

    func makeConfiguration() throws -> FloodConfiguration {
        guard let address = HostPort(argument: target) else { throw FloodSyntaxError(target, expected: "HOST:PORT") }
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        let schedule: RateSchedule
        switch (rate, ramp) {
        case (let r?, nil): schedule = try RateSchedule.parse(rate: r)
        case (nil, let r?): schedule = try RateSchedule.parse(ramp: r)
        case (nil, nil): schedule = .constant(10)
        case (_?, _?): throw FloodSyntaxError("--rate and --ramp", expected: "one of --rate or --ramp")
        }
        var runFor = try duration.map { text throws(FloodSyntaxError) in
            guard let d = DurationSyntax.parse(text, .commandLine) else { throw FloodSyntaxError(text, expected: "a duration such as 60s") }
            return d
        }
        if runFor == nil, calls == nil, ramp != nil, schedule.lastCorner > .zero { runFor = schedule.lastCorner }

        guard let dtmfMode = DTMFMode(rawValue: dtmf) else { throw FloodSyntaxError(dtmf, expected: "rfc4733, info or inband") }
        guard let audioMode = AudioMode(rawValue: audio) else { throw FloodSyntaxError(audio, expected: "silence, tone or none") }
        guard let hangupMode = HangupMode(rawValue: hangup) else { throw FloodSyntaxError(hangup, expected: "caller or server") }
        guard let delay = DurationSyntax.parse(keyDelay, .commandLine) else { throw FloodSyntaxError(keyDelay, expected: "a duration such as 1.5s") }
        guard let byeWait = DurationSyntax.parse(byeTimeout, .commandLine) else { throw FloodSyntaxError(byeTimeout, expected: "a duration such as 60s") }
        guard let maxCall = DurationSyntax.parse(maxCallTime, .commandLine) else { throw FloodSyntaxError(maxCallTime, expected: "a duration such as 300s") }
        let behaviour = CallerBehaviour(
            keys: try CallerBehaviour.parse(keys: keys), keyDelay: delay, dtmf: dtmfMode, audio: audioMode, hangup: hangupMode,
            hold: try HoldTime.parse(hold), byeTimeout: byeWait,
            expectedPrompts: expectPrompts.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
        let mix = try scenario.map { try Scenario.load(path: $0, base: behaviour) } ?? .single(behaviour)
        let references: PromptReferences? = prompts == "none" ? nil
            : try PromptReferences(directory: prompts, languages: language.map { $0.split(separator: ",").map(String.init) })
        var configuration = FloodConfiguration(
            targetHost: host, targetPort: address.port, number: number, schedule: schedule, calls: calls, duration: runFor,
            maxConcurrent: maxConcurrent, sources: try SourceAddresses.parse(sources),
            loops: loops ?? max(1, ProcessInfo.processInfo.activeProcessorCount), scenario: mix, prompts: references,
            maxCallDuration: maxCall, verifyDatabase: verifyDB, seed: seed)
        switch rtpRead {
        case "precise": configuration.batchedRTPReads = false
        case "batched": configuration.batchedRTPReads = true
        default: throw FloodSyntaxError(rtpRead, expected: "precise or batched")
        }
        if let drainTimeout {
            guard let d = DurationSyntax.parse(drainTimeout, .commandLine) else { throw FloodSyntaxError(drainTimeout, expected: "a duration such as 30s") }
            configuration.drainTimeout = d
        }
        try configuration.validate()
        return configuration
    }
}

/// The live line on stderr: rewritten in place on a terminal, one line a second otherwise.
final class ProgressLine: Sendable {
    let enabled: Bool
    let terminal: Bool
    private let last = NIOLockedValueBoxLite<(Int, Duration)>((0, .zero))

    init(enabled: Bool) {
        self.enabled = enabled
        terminal = isatty(STDERR_FILENO) == 1
    }

    func update(_ s: FloodProgress.Snapshot, _ elapsed: Duration) {
        guard enabled else { return }
        let (previousStarted, previousElapsed) = last.exchange((s.started, elapsed))
        let dt = (elapsed - previousElapsed).secondsDouble
        let rate = dt > 0 ? Double(s.started - previousStarted) / dt : 0
        let line = String(format: "%6.1fs  rate %7.1f/s  started %d  active %d  answered %d  failed %d",
                          elapsed.secondsDouble, rate, s.started, s.active, s.answered, s.failed)
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func end() {
        if enabled && terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// A tiny lock-protected value (Foundation's NSLock), for the progress line's last sample.
final class NIOLockedValueBoxLite<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func exchange(_ new: Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        let old = value
        value = new
        return old
    }
}

extension Duration {
    var secondsDouble: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
