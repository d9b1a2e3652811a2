import Codecs
import Foundation
import Testing
@testable import Media

@Suite struct PromptCacheTests {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "prompt-cache-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// A ramp, so every frame differs and misplaced frames show.
    static func ramp(_ count: Int, from start: Int = -16000) -> [Int16] {
        (0..<count).map { Int16(clamping: start + $0 * 37) }
    }

    func write(_ language: String, _ name: String, samples: [Int16], rate: Int = 8000, channels: Int = 1) throws {
        let directory = root + "/" + language
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try WAVFile(sampleRate: rate, channels: channels, samples: samples).write(to: directory + "/" + name)
    }

    @Test func loadsEveryLanguageAndEncodesFramesForBothLaws() throws {
        let menu = Self.ramp(400)  // 2.5 frames
        try write("zh", "main_menu.wav", samples: menu)
        try write("zh", "goodbye.wav", samples: Self.ramp(160))
        try write("en", "main_menu.wav", samples: Self.ramp(320, from: 1000))
        try "not audio".write(toFile: root + "/zh/README.txt", atomically: true, encoding: .utf8)
        try "stray".write(toFile: root + "/notes.wav", atomically: true, encoding: .utf8)  // not in a language directory
        try FileManager.default.createDirectory(atPath: root + "/.git", withIntermediateDirectories: true)

        let cache = try PromptCache(root: root)
        #expect(cache.languages == ["en", "zh"])
        #expect(cache.names(language: "zh") == ["goodbye", "main_menu"])
        #expect(cache.names(language: "fr") == [])
        #expect(cache.count == 3)

        let prompt = try #require(cache.prompt(named: "main_menu", language: "zh"))
        #expect(prompt.sampleCount == 400)
        #expect(prompt.frameCount == 3)
        #expect(prompt.duration == .milliseconds(60))
        for law in G711.Law.allCases {
            #expect(prompt.payload(law).count == 480)
            #expect(Array(prompt.frame(0, law: law)) == G711.encode(Array(menu[0..<160]), law: law))
            #expect(Array(prompt.frame(1, law: law)) == G711.encode(Array(menu[160..<320]), law: law))
            let last = Array(prompt.frame(2, law: law))
            #expect(Array(last[0..<80]) == G711.encode(Array(menu[320..<400]), law: law))
            #expect(last[80...].allSatisfy { $0 == law.silence })  // padded with silence
        }
        #expect(cache.prompt(named: "main_menu", language: "en")?.frame(0, law: .muLaw) != prompt.frame(0, law: .muLaw))
    }

    @Test func noSilentFallbackToAnotherLanguage() throws {
        try write("zh", "goodbye.wav", samples: Self.ramp(160))
        try write("en", "main_menu.wav", samples: Self.ramp(160))
        let cache = try PromptCache(root: root)
        #expect(cache.prompt(named: "goodbye", language: "zh") != nil)
        #expect(cache.prompt(named: "goodbye", language: "en") == nil)
        #expect(cache.prompt(named: "goodbye", language: "fr") == nil)
    }

    @Test func framesAreViewsOfOneContiguousArray() throws {
        try write("zh", "hold_music.wav", samples: Self.ramp(1600))
        let prompt = try #require(try PromptCache(root: root).prompt(named: "hold_music", language: "zh"))
        let base = prompt.payload(.aLaw).withUnsafeBytes { $0.baseAddress! }
        for index in 0..<prompt.frameCount {
            // withFrame hands out the stored bytes themselves, at offset 160 × index.
            let address = prompt.withFrame(index, law: .aLaw) { bytes in
                #expect(bytes.count == 160)
                return bytes.baseAddress!
            }
            #expect(address == base + 160 * index)
            #expect(prompt.frame(index, law: .aLaw).withUnsafeBytes { $0.baseAddress! } == address)
        }
    }

    @Test func wrongFormatsAreAllReportedWithTheirPaths() throws {
        try write("zh", "good.wav", samples: Self.ramp(160))
        try write("zh", "wideband.wav", samples: Self.ramp(320), rate: 16000)
        try write("en", "stereo.wav", samples: Self.ramp(320), channels: 2)
        try write("en", "silence.wav", samples: [])
        try Data([0x52, 0x49, 0x46, 0x46]).write(to: URL(fileURLWithPath: root + "/en/broken.wav"))
        do {
            _ = try PromptCache(root: root)
            Issue.record("bad prompts accepted")
        } catch {
            #expect(error.issues == [
                .init(path: root + "/en/broken.wav", reason: .invalidWAV(.notRIFFWAVE)),
                .init(path: root + "/en/silence.wav", reason: .empty),
                .init(path: root + "/en/stereo.wav", reason: .wrongFormat(sampleRate: 8000, channels: 2)),
                .init(path: root + "/zh/wideband.wav", reason: .wrongFormat(sampleRate: 16000, channels: 1)),
            ])
            #expect(error.description.contains("\(root)/zh/wideband.wav: 16000 Hz, 1 channel(s); prompts must be 8000 Hz mono"))
            #expect(error.description.contains("\(root)/en/broken.wav: not a RIFF/WAVE file"))
        }
    }

    @Test func missingRootIsAClearError() {
        let missing = root + "/nowhere"
        #expect(throws: PromptCacheError(issues: [.init(path: missing, reason: .unreadableDirectory("No such file or directory"))])) {
            try PromptCache(root: missing)
        }
    }

    @Test func sharedAcrossConcurrentCalls() async throws {
        try write("zh", "main_menu.wav", samples: Self.ramp(8000))
        let cache = try PromptCache(root: root)
        let expected = try #require(cache.prompt(named: "main_menu", language: "zh")).payload(.muLaw)
        // Many "calls" read the same prompt at once; each gets the same bytes.
        let sums = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    guard let prompt = cache.prompt(named: "main_menu", language: "zh") else { return -1 }
                    var sum = 0
                    for index in 0..<prompt.frameCount {
                        sum += prompt.withFrame(index, law: .muLaw) { $0.reduce(0) { $0 + Int($1) } }
                    }
                    return sum
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(Set(sums) == [expected.reduce(0) { $0 + Int($1) }])
    }

    @Test func inMemoryCacheForSynthesisedPrompts() {
        let cache = PromptCache(prompts: [
            EncodedPrompt(name: "beep", language: "zh", samples: Self.ramp(10)),
            EncodedPrompt(name: "beep", language: "zh", samples: Self.ramp(170)),
        ])
        #expect(cache.prompt(named: "beep", language: "zh")?.frameCount == 2)  // the later one wins
        #expect(cache.root == "")
    }
}
