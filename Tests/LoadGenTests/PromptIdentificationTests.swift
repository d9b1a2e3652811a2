import Codecs
import Media
import Testing
@testable import LoadGen

@Suite struct PromptIdentificationTests {
    /// Whole announcements. The `say` fragments (digits, numbers, ordinals, dates, times) are
    /// single short words, some of them the start of another ("thirteen", "thirteenth") or the
    /// same sound under two names, so they cannot all be told apart from the audio alone; what
    /// a flood needs to name is the announcements.
    static let fragmentPrefixes = ["digit_", "num_", "ord_", "date_", "time_", "month_", "weekday_"]
    static let all: [(String, String)] = Repo.references.references
        .filter { ref in !fragmentPrefixes.contains { ref.name.hasPrefix($0) } }
        .map { ($0.language, $0.name) }

    /// Every real prompt, G.711-encoded after white noise (about 20 dB below speech) and a
    /// random delay that is not a whole frame, is named from the audio alone.
    @Test(arguments: all)
    func everyPromptIsRecognisedThroughNoiseAndOffset(language: String, name: String) {
        var rng = SeededGenerator(seed: SeededGenerator.seed(language + name))
        let offset = Int.random(in: 1..<400, using: &rng)
        let clean = [Int16](repeating: 0, count: offset) + Repo.prompt(language, name) + [Int16](repeating: 0, count: 800)
        let audio = Signal.noisy(clean, noise: 250, rng: &rng)
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        _ = Signal.feed(audio, to: &tracker, scratch: &scratch)
        tracker.finish()
        let heard = tracker.heard
        #expect(heard.count == 1, "\(language)/\(name): heard \(heard.map(\.name))")
        guard let first = heard.first else { return }
        #expect(first.name == name, "\(language)/\(name) taken for \(first.language)/\(first.name)")
        #expect(first.completed)
        // The prompt's sample 0 lies where we put it, to within a couple of samples.
        #expect(abs(first.start - offset) <= 2, "start \(first.start), offset \(offset)")
    }

    @Test func aLawWorksAsWellAsMuLaw() {
        var rng = SeededGenerator(seed: 7)
        let audio = Signal.noisy([Int16](repeating: 0, count: 37) + Repo.prompt("zh", "bench_menu"), noise: 150, rng: &rng)
        var tracker = PromptTracker(references: Repo.references, law: .aLaw)
        var scratch = PromptScratch()
        _ = Signal.feed(audio, law: .aLaw, to: &tracker, scratch: &scratch)
        tracker.finish()
        #expect(tracker.heard.map(\.name) == ["bench_menu"])
        #expect(tracker.heard.first?.language == "zh")
    }

    /// A key cuts the menu short and the next prompt starts in the very next frame, with no
    /// marker bit and no timestamp gap, as the server's barge-in does: both are heard, the
    /// menu as cut off.
    @Test func bargeInSplitsTheStreamIntoTwoPrompts() {
        var rng = SeededGenerator(seed: 11)
        let menu = Array(Repo.prompt("en", "bench_menu").prefix(12_000)) // 1.5 s, then the key
        let audio = Signal.noisy(menu + Repo.prompt("en", "bench_key3"), noise: 200, rng: &rng)
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        let starts = Signal.feed(audio, to: &tracker, scratch: &scratch)
        tracker.finish()
        #expect(tracker.heard.map(\.name) == ["bench_menu", "bench_key3"])
        #expect(tracker.heard.map(\.completed) == [false, true])
        #expect(starts.map(\.name) == ["bench_menu", "bench_key3"])
        // The second prompt starts exactly where we switched, and its start arrival is that frame's.
        if tracker.heard.count == 2 {
            #expect(abs(tracker.heard[1].start - 12_000) <= 2)
            #expect(tracker.heard[1].startArrival == 12_000 * 125_000)
            #expect(tracker.heard[0].end <= 12_000 + 800, "within the new prompt's 100 ms of leading silence")
        }
    }

    /// Wherever the key cuts the menu — in a word or in a pause, where the next prompt's leading
    /// silence still matches the menu — both prompts are heard.
    @Test(arguments: Array(stride(from: 7_200, through: 24_000, by: 800)))
    func bargeInAnywhereInTheMenu(cut: Int) {
        var rng = SeededGenerator(seed: UInt64(cut))
        let menu = Array(Repo.prompt("en", "bench_menu").prefix(cut))
        let audio = Signal.noisy(menu + Repo.prompt("en", "bench_key3"), noise: 100, rng: &rng)
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        _ = Signal.feed(audio, to: &tracker, scratch: &scratch)
        tracker.finish()
        #expect(tracker.heard.map(\.name) == ["bench_menu", "bench_key3"], "cut at \(cut)")
        #expect(tracker.unidentified == 0)
    }

    /// Three Mandarin prompts open with the same recorded words (抱歉，...): they are told
    /// apart by following the audio past the shared start.
    @Test(arguments: ["invalid_key", "no_input", "operator_unavailable"])
    func promptsWithTheSameOpeningAreToldApart(name: String) {
        var rng = SeededGenerator(seed: 5)
        let audio = Signal.noisy([Int16](repeating: 0, count: 123) + Repo.prompt("zh", name), noise: 200, rng: &rng)
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        let starts = Signal.feed(audio, to: &tracker, scratch: &scratch)
        tracker.finish()
        #expect(tracker.heard.map(\.name) == [name])
        #expect(tracker.heard.first?.alternatives == [])
        #expect(starts.count == 1, "one start event even while the name was still open")
    }

    /// The same recording filed under two languages (choose_language is bilingual) has one name.
    @Test func identicalRecordingsInTwoLanguagesGiveOneName() {
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        _ = Signal.feed(Repo.prompt("zh", "choose_language"), to: &tracker, scratch: &scratch)
        tracker.finish()
        #expect(tracker.heard.map(\.name) == ["choose_language"])
        #expect(tracker.heard.first?.alternatives == [])
    }

    /// What the server sends: frames encoded once from sample 0, sent as they are. They match
    /// byte for byte, so no correlation is computed while following the prompt.
    @Test func serverFramesMatchByteForByte() {
        let prompt = EncodedPrompt(name: "bench_menu", language: "en", samples: Repo.prompt("en", "bench_menu"))
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        let payload = prompt.payload(.muLaw)
        for frame in 0..<prompt.frameCount {
            payload[frame * 160..<(frame + 1) * 160].withUnsafeBytes {
                _ = tracker.frame(position: frame * 160, payload: $0, arrival: UInt64(frame), scratch: &scratch)
            }
        }
        tracker.finish()
        #expect(tracker.heard.map(\.name) == ["bench_menu"])
        #expect(tracker.heard.first?.start == 0)
        #expect(tracker.correlatedFrames == 0)
        #expect(tracker.exactFrames > prompt.frameCount / 2)
    }

    /// Joining a prompt in its middle (the first packets lost, say): the server's frames are
    /// found byte for byte in the index, which no onset search could do.
    @Test func serverFramesNameAPromptJoinedMidway() {
        let prompt = EncodedPrompt(name: "main_menu", language: "zh", samples: Repo.prompt("zh", "main_menu"))
        var tracker = PromptTracker(references: Repo.references, law: .aLaw)
        var scratch = PromptScratch()
        let payload = prompt.payload(.aLaw)
        var starts: [HeardPrompt] = []
        for frame in 100..<prompt.frameCount {
            let position = 8000 + (frame - 100) * 160
            payload[frame * 160..<(frame + 1) * 160].withUnsafeBytes {
                if let s = tracker.frame(position: position, payload: $0, arrival: UInt64(position), scratch: &scratch) { starts.append(s) }
            }
        }
        tracker.finish()
        #expect(tracker.heard.map(\.name) == ["main_menu"])
        #expect(tracker.heard.first?.language == "zh")
        #expect(tracker.heard.first?.start == 8000 - 100 * 160, "where sample 0 would have been")
        #expect(tracker.heard.first?.completed == true)
        #expect(starts.count == 1)
    }

    /// Prompts separated by seconds without packets (the menu's timeout, then goodbye): the RTP
    /// timestamps count through the silence, and both are heard.
    @Test func promptsSeparatedByAGapInTheStream() {
        var rng = SeededGenerator(seed: 3)
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        let menu = Signal.noisy(Repo.prompt("en", "bench_menu"), noise: 100, rng: &rng)
        _ = Signal.feed(menu, to: &tracker, scratch: &scratch)
        let resume = ((menu.count / 160) + 250) * 160 // 5 s later
        _ = Signal.feed(Signal.noisy(Repo.prompt("en", "goodbye"), noise: 100, rng: &rng), to: &tracker, startPosition: resume, scratch: &scratch)
        tracker.finish()
        #expect(tracker.heard.map(\.name) == ["bench_menu", "goodbye"])
        #expect(tracker.heard.count == 2 && abs(tracker.heard[1].start - resume) <= 2)
    }

    /// Speech that is none of the prompts (a DTMF tone, noise bursts) is not named.
    @Test func audioThatIsNoPromptIsNotNamed() {
        var rng = SeededGenerator(seed: 9)
        var audio = [Int16](repeating: 0, count: 800)
        audio += DTMFToneGenerator.samples(for: .five, milliseconds: 400)
        audio += [Int16](repeating: 0, count: 1600)
        audio += (0..<4000).map { _ in Int16(clamping: Int(3000 * rng.gaussian())) }
        audio += [Int16](repeating: 0, count: 2400)
        var tracker = PromptTracker(references: Repo.references, law: .muLaw)
        var scratch = PromptScratch()
        _ = Signal.feed(audio, to: &tracker, scratch: &scratch)
        tracker.finish()
        #expect(tracker.heard.isEmpty, "\(tracker.heard.map(\.name))")
        #expect(tracker.unidentified == 2)
    }
}
