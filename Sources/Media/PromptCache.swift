import Codecs
import Foundation

/// Every prompt of every language, decoded, validated and G.711-encoded once
/// at start-up, then shared read-only by all calls.
///
/// Layout on disk: `<root>/<language>/<name>.wav`, e.g. `Prompts/zh/main_menu.wav`
/// and `Prompts/en/main_menu.wav`; each file 8 kHz mono 16-bit PCM. Every
/// prompt is stored as 20 ms frames for both PCMU and PCMA, one contiguous
/// array per codec, so a sender copies frame N's 160 bytes straight into its
/// packet buffer. A prompt missing in one language is not replaced by another
/// language's: the lookup returns nil and the caller decides.
public final class PromptCache: Sendable {
    /// The sample rate prompts must have.
    public static let sampleRate = 8000
    /// Samples (and G.711 bytes) per 20 ms frame.
    public static let samplesPerFrame = 160
    /// The duration of one frame.
    public static let frameDuration = Duration.milliseconds(20)

    /// The directory the prompts were loaded from (empty for an in-memory cache).
    public let root: String
    let prompts: [String: [String: EncodedPrompt]]

    /// Loads and encodes every prompt under `root`.
    ///
    /// Every problem is collected, not just the first, so an operator can fix
    /// all bad files in one go. Hidden entries and files not ending in `.wav`
    /// are ignored; so are files directly under `root`.
    ///
    /// - Throws: ``PromptCacheError`` listing each file's problem with its path.
    public convenience init(root: String) throws(PromptCacheError) {
        var issues: [PromptCacheError.Issue] = []
        var loaded: [EncodedPrompt] = []
        let files = FileManager.default
        let languages: [String]
        switch Self.list(root) {
        case .success(let names): languages = names
        case .failure(let message): throw PromptCacheError(issues: [.init(path: root, reason: .unreadableDirectory(message.text))])
        }
        for language in languages.sorted() where !language.hasPrefix(".") {
            let directory = root + "/" + language
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let entries: [String]
            switch Self.list(directory) {
            case .success(let names): entries = names
            case .failure(let message):
                issues.append(.init(path: directory, reason: .unreadableDirectory(message.text)))
                continue
            }
            for entry in entries.sorted() where !entry.hasPrefix(".") && entry.lowercased().hasSuffix(".wav") {
                let path = directory + "/" + entry
                let name = String(entry.dropLast(4))
                do {
                    let file = try WAVFile(contentsOf: path)
                    guard file.sampleRate == Self.sampleRate, file.channels == 1 else {
                        issues.append(.init(path: path, reason: .wrongFormat(sampleRate: file.sampleRate, channels: file.channels)))
                        continue
                    }
                    guard !file.samples.isEmpty else {
                        issues.append(.init(path: path, reason: .empty))
                        continue
                    }
                    loaded.append(EncodedPrompt(name: name, language: language, samples: file.samples))
                } catch {
                    issues.append(.init(path: path, reason: .invalidWAV(error.reason)))
                }
            }
        }
        guard issues.isEmpty else { throw PromptCacheError(issues: issues) }
        self.init(prompts: loaded, root: root)
    }

    /// A cache of prompts already in memory (tests, synthesised prompts).
    /// A later prompt with the same language and name replaces an earlier one.
    public init(prompts: [EncodedPrompt], root: String = "") {
        var byLanguage: [String: [String: EncodedPrompt]] = [:]
        for prompt in prompts {
            byLanguage[prompt.language, default: [:]][prompt.name] = prompt
        }
        self.prompts = byLanguage
        self.root = root
    }

    /// The entries of a directory, or `strerror`'s words for why not: plain
    /// POSIX, because Foundation's messages hide the errno an operator needs.
    static func list(_ path: String) -> Result<[String], PromptCacheError.Message> {
        guard let directory = opendir(path) else { return .failure(.init(String(cString: strerror(errno)))) }
        defer { closedir(directory) }
        var names: [String] = []
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(directory) {
            // Read in place: an entry is only as long as its name, so copying the whole
            // `dirent` could read past the end of readdir's buffer.
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names)
    }

    /// The languages that have at least one prompt, sorted.
    public var languages: [String] {
        prompts.keys.sorted()
    }

    /// The prompt names of `language`, sorted; empty for an unknown language.
    public func names(language: String) -> [String] {
        prompts[language]?.keys.sorted() ?? []
    }

    /// The prompt `name` in `language`, or nil: no fallback to another language.
    public func prompt(named name: String, language: String) -> EncodedPrompt? {
        prompts[language]?[name]
    }

    /// The number of prompts across all languages.
    public var count: Int {
        prompts.values.reduce(0) { $0 + $1.count }
    }
}
