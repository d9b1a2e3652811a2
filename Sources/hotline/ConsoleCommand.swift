// `hotline console`: one interactive caller. It dials the server, plays what it hears on an
// ALSA device, and sends the keys typed on the keyboard as DTMF. The call itself is LoadGen's
// (the same UAC the flood uses, one call on one event loop); this file is the terminal and
// the sound card.
import ArgumentParser
import AudioDevice
import ConfigFiles
import Foundation
import LoadGen
import RTP
import Synchronization

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Call a server and hear it on the sound card; typed keys go as DTMF.",
        discussion: """
            Keys 0-9 * # A-D are sent as DTMF as you type them (no Enter needed on a terminal); q or \
            Ctrl-D hangs up; Ctrl-C too. Prompts heard are named as they are recognised. With no sound \
            card, use --device null (nothing is played) or an ALSA file plugin.
            """)

    @Option(help: "The server's SIP address (loopback only).") var target: String
    @Option(help: "The number to dial.") var number = "12345"
    @Option(help: "ALSA playback device: default, null, plughw:0...") var device = "default"
    @Flag(help: "Send the microphone (ALSA capture on the same --device) instead of silence.") var mic = false
    @Option(help: "Key transport: rfc4733, info or inband.") var dtmf = "rfc4733"
    @Option(help: "Prompt directory to name what is heard, or 'none'.") var prompts = "Prompts"
    @Option(name: .customLong("max-call-time"), help: "Hang up after this long.") var maxCallTime = "1h"

    func run() async throws {
        guard let address = HostPort(argument: target) else { throw ValidationError("--target wants HOST:PORT") }
        guard let mode = DTMFMode(rawValue: dtmf) else { throw ValidationError("--dtmf is rfc4733, info or inband") }
        guard let limit = DurationSyntax.parse(maxCallTime, .commandLine) else { throw ValidationError("--max-call-time wants a duration") }
        // The sound card first: no point in calling if we cannot play.
        let speaker: Speaker
        do {
            speaker = try Speaker(device: device)
        } catch {
            FileHandle.standardError.write(Data("hotline console: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var microphone: Microphone?
        if mic {
            do {
                microphone = try Microphone(device: device)
            } catch {
                FileHandle.standardError.write(Data("hotline console: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        let references: PromptReferences?
        do {
            references = prompts == "none" ? nil : try PromptReferences(directory: prompts)
        } catch {
            FileHandle.standardError.write(Data("hotline console: \(error) (use --prompts none to skip naming prompts)\n".utf8))
            throw ExitCode(1)
        }
        let behaviour = CallerBehaviour(name: "console", dtmf: mode, audio: .silence, hangup: .server, byeTimeout: limit)
        var configuration = FloodConfiguration(
            targetHost: address.host == "localhost" ? "127.0.0.1" : address.host, targetPort: address.port, number: number,
            schedule: .constant(1), calls: 1, loops: 1, scenario: .single(behaviour), prompts: references,
            maxCallDuration: limit + .seconds(5), drainTimeout: limit + .seconds(40))
        let say = Console.say
        configuration.eventSink = { say($0) }
        configuration.audioSink = { speaker.enqueue($0) }
        if let microphone { configuration.audioSource = { microphone.next() } }
        do { try configuration.validate() } catch { throw ValidationError("\(error)") }

        let runner = FloodRunner(configuration: configuration)
        say("calling sip:\(number)@\(address.host):\(address.port); playing on ALSA '\(device)'; keys 0-9 * # A-D, q to hang up")
        let keyboard = Keyboard { byte in
            if let key = DTMFKey(character: Character(UnicodeScalar(byte))) {
                say("key \(key) (\(mode.rawValue))")
                runner.press(key)
                return true
            }
            if byte == UInt8(ascii: "q") || byte == 4 { // q or Ctrl-D
                say("hanging up")
                runner.hangUp()
                return false
            }
            return true
        } onEnd: {
            runner.hangUp()
        }
        keyboard.start()
        let interrupt = TerminationSignal()
        Task {
            await interrupt.wait()
            say("hanging up")
            runner.hangUp()
        }
        let report: FloodReport
        do {
            report = try await runner.run()
        } catch {
            keyboard.restore()
            FileHandle.standardError.write(Data("hotline console: \(error)\n".utf8))
            throw ExitCode(1)
        }
        keyboard.restore()
        microphone?.stop()
        speaker.finish()
        if let setup = report.setup_ms { say(String(format: "answered in %.1f ms", setup.p50)) }
        guard report.calls.answered == 1 else {
            let why = report.failures.keys.sorted().joined(separator: ", ")
            FileHandle.standardError.write(Data("hotline console: the call was not answered (\(why.isEmpty ? "no answer" : why))\n".utf8))
            throw ExitCode(1)
        }
    }
}

enum Console {
    static let say: @Sendable (String) -> Void = { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// The ALSA device fed from a queue by a thread of its own: ALSA writes block, the event
/// loop must not.
final class Speaker: @unchecked Sendable {
    private let playback: ALSAPlayback
    private let condition = NSCondition()
    private var queue: [[Int16]] = []   // guarded by condition
    private var finished = false        // guarded by condition
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)
    /// More than this much audio waiting (2 s) means the device is not keeping up: drop.
    static let maximumQueued = 100

    init(device: String) throws(ALSAError) {
        playback = try ALSAPlayback(device: device, sampleRate: 8000, channels: 1)
        let thread = Thread { [self] in self.loop() }
        thread.name = "hotline-speaker"
        self.thread = thread
        thread.start()
    }

    func enqueue(_ samples: [Int16]) {
        condition.lock()
        if queue.count < Speaker.maximumQueued { queue.append(samples) }
        condition.signal()
        condition.unlock()
    }

    /// Plays what is queued, then closes the device.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
        done.wait()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !finished { condition.wait() }
            if queue.isEmpty && finished {
                condition.unlock()
                break
            }
            let chunk = queue.removeFirst()
            condition.unlock()
            do { try playback.write(chunk) } catch { FileHandle.standardError.write(Data("hotline console: \(error)\n".utf8)) }
        }
        try? playback.drain()
        playback.close()
        done.signal()
    }
}

/// The ALSA capture device read 20 ms at a time by a thread of its own; the event loop takes
/// frames without waiting (none ready: silence goes out).
final class Microphone: @unchecked Sendable {
    private let capture: ALSACapture
    private let lock = NSLock()
    private var frames: [[Int16]] = []  // guarded by lock
    private var running = true          // guarded by lock
    let captured = Atomic<Int>(0)

    init(device: String) throws(ALSAError) {
        capture = try ALSACapture(device: device, sampleRate: 8000, channels: 1)
        let thread = Thread { [self] in self.loop() }
        thread.name = "hotline-microphone"
        thread.start()
    }

    func next() -> [Int16]? {
        lock.lock()
        defer { lock.unlock() }
        return frames.isEmpty ? nil : frames.removeFirst()
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }

    private func loop() {
        while true {
            lock.lock()
            let go = running
            lock.unlock()
            guard go else { break }
            lock.lock()
            let backlog = frames.count
            lock.unlock()
            // A real card delivers in real time; `null` at once: do not run ahead of the sender.
            if backlog >= 5 {
                usleep(20_000)
                continue
            }
            guard let frame = try? capture.read(frames: 160) else { break }
            captured.add(1, ordering: .relaxed)
            lock.lock()
            frames.append(frame)
            if frames.count > 10 { frames.removeFirst(frames.count - 10) } // keep latency under 200 ms
            lock.unlock()
        }
        capture.close()
    }
}

/// Reads the keyboard a byte at a time on a thread of its own (raw mode on a terminal, so keys
/// need no Enter); `onByte` returns false to stop reading.
final class Keyboard: @unchecked Sendable {
    private let onByte: @Sendable (UInt8) -> Bool
    private let onEnd: @Sendable () -> Void
    private var saved = termios()
    private var raw = false

    init(onByte: @escaping @Sendable (UInt8) -> Bool, onEnd: @escaping @Sendable () -> Void) {
        self.onByte = onByte
        self.onEnd = onEnd
    }

    func start() {
        if isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 {
            var t = saved
            t.c_lflag &= ~tcflag_t(ICANON | ECHO)
            withUnsafeMutableBytes(of: &t.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
            raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0
        }
        let thread = Thread { [self] in
            var byte: UInt8 = 0
            while read(STDIN_FILENO, &byte, 1) == 1 {
                if !self.onByte(byte) { return }
            }
            self.onEnd() // end of input: hang up
        }
        thread.name = "hotline-keyboard"
        thread.start()
    }

    func restore() {
        if raw {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            raw = false
        }
    }
}
