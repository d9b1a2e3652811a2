import Dialplan
import Foundation
import Synchronization

/// The live dialplan and its published versions. Publishing checks the text first (a bad
/// file never replaces a good one), archives it under `<archive>/<name>/`, writes the live file
/// atomically and hands the new version to the call loops; calls already up keep the version
/// they started with (each execution holds its own copy).
final class DialplanLibrary: Sendable {
    struct Version: Sendable, Codable, Equatable {
        var version: String
        var publishedAt: Date
        var file: String
        var active: Bool

        enum CodingKeys: String, CodingKey {
            case version, file, active
            case publishedAt = "published_at"
        }
    }

    enum PublishError: Error, CustomStringConvertible {
        /// The text has errors; nothing changed.
        case invalid([DialplanIssue])
        case renamed(expected: String, got: String)
        case noSuchVersion(String)
        case io(String)

        var description: String {
            switch self {
            case .invalid(let issues): issues.map(\.description).joined(separator: "\n")
            case .renamed(let e, let g): "the dialplan is called '\(e)'; this text names '\(g)'"
            case .noSuchVersion(let v): "no version \(v)"
            case .io(let s): s
            }
        }
    }

    let livePath: String
    let archive: URL
    /// Prompt names that exist, per language (checked on every publish).
    private let promptExists: @Sendable (Language, String) -> Bool
    /// Checks beyond the dialplan itself (its queues against queues.yaml); errors refuse it.
    private let extraCheck: @Sendable (Dialplan) -> [DialplanIssue]
    private let state: Mutex<Dialplan>

    init(livePath: String, archiveRoot: URL, initial: Dialplan, promptExists: @escaping @Sendable (Language, String) -> Bool,
         extraCheck: @escaping @Sendable (Dialplan) -> [DialplanIssue] = { _ in [] }) throws {
        self.livePath = livePath
        self.archive = archiveRoot.appendingPathComponent(initial.name)
        self.promptExists = promptExists
        self.extraCheck = extraCheck
        self.state = Mutex(initial)
        try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        if let text = try? String(contentsOfFile: livePath, encoding: .utf8) {
            try archiveText(text, version: initial.version)
        }
    }

    var current: Dialplan { state.withLock { $0 } }
    var name: String { current.name }

    /// Every issue `publish` would find in `text` (errors refuse it, warnings do not), without
    /// publishing: the console's editor marks them as the admin types.
    func check(_ text: String) -> [DialplanIssue] {
        let result = Dialplan.check(yaml: text, file: livePath)
        guard let candidate = result.dialplan else { return result.issues }
        var issues = result.issues + candidate.checkPrompts(exist: promptExists) + extraCheck(candidate)
        if candidate.name != name {
            issues.append(DialplanIssue(severity: .error, code: .invalidValue, message: "the dialplan is called '\(name)'; this text names '\(candidate.name)'",
                                        location: DialplanLocation(file: livePath, line: 1, column: 1), keyPath: "dialplan"))
        }
        return issues
    }

    /// The live file's text (empty if it cannot be read).
    var liveText: String { (try? String(contentsOfFile: livePath, encoding: .utf8)) ?? "" }

    /// The text of a published version, if it is in the archive.
    func text(of version: String) -> String? {
        guard let file = versions().first(where: { $0.version == version })?.file else { return nil }
        return try? String(contentsOf: archive.appendingPathComponent(file), encoding: .utf8)
    }

    /// Checks `text` as the dialplan's new content; on success makes it live. Runs off the
    /// call loops, one publish at a time (``DialplanPublisher``).
    func publish(_ text: String) throws(PublishError) -> Dialplan {
        let result = Dialplan.check(yaml: text, file: livePath)
        let errors = result.issues.filter { $0.severity == .error }
        guard let candidate = result.dialplan, errors.isEmpty else { throw .invalid(errors.isEmpty ? result.issues : errors) }
        let missing = candidate.checkPrompts(exist: promptExists)
        guard missing.isEmpty else { throw .invalid(missing) }
        let extra = extraCheck(candidate).filter { $0.severity == .error }
        guard extra.isEmpty else { throw .invalid(extra) }
        guard candidate.name == name else { throw .renamed(expected: name, got: candidate.name) }
        do {
            try archiveText(text, version: candidate.version)
            try text.write(toFile: livePath, atomically: true, encoding: .utf8)
        } catch {
            throw .io("\(error)")
        }
        state.withLock { $0 = candidate }
        return candidate
    }

    /// Re-reads the live file (SIGHUP, `hotline dialplan reload`).
    func reload() throws(PublishError) -> Dialplan {
        guard let text = try? String(contentsOfFile: livePath, encoding: .utf8) else { throw .io("cannot read \(livePath)") }
        if Dialplan.fingerprint(of: text) == current.version { return current }
        return try publish(text)
    }

    /// Makes an archived version live again; without a version, the one before the current.
    func rollback(to version: String?) throws(PublishError) -> Dialplan {
        let all = versions()
        let target: Version?
        if let version {
            target = all.first { $0.version == version }
        } else {
            let currentIndex = all.firstIndex { $0.active }
            target = currentIndex.flatMap { $0 > 0 ? all[$0 - 1] : nil }
        }
        guard let target else { throw .noSuchVersion(version ?? "before \(current.version)") }
        guard let text = try? String(contentsOf: archive.appendingPathComponent(target.file), encoding: .utf8) else {
            throw .io("cannot read archived version \(target.version)")
        }
        return try publish(text)
    }

    /// Every archived version, oldest first; the live one is marked active.
    func versions() -> [Version] { versions(in: archivedFileNames()) }

    private func archivedFileNames() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: archive.path)) ?? []
    }

    private func versions(in files: [String]) -> [Version] {
        let live = current.version
        var seen = Set<String>()
        return files.filter { $0.hasSuffix(".yaml") }.sorted().compactMap { file -> Version? in
            // <epoch-ms>-<version>.yaml
            let stem = file.dropLast(5)
            guard let dash = stem.firstIndex(of: "-"), let ms = Double(stem[..<dash]) else { return nil }
            let version = String(stem[stem.index(after: dash)...])
            guard seen.insert(version).inserted else { return nil }
            return Version(version: version, publishedAt: Date(timeIntervalSince1970: ms / 1000), file: file, active: version == live)
        }
    }

    private func archiveText(_ text: String, version: String) throws {
        let files = archivedFileNames()
        if versions(in: files).contains(where: { $0.version == version }) { return }
        // Versions list in file-name order, so each stamp is above the newest one even when
        // two publishes fall in one millisecond (they run one at a time, so this cannot race).
        let newest = files.compactMap { file in file.split(separator: "-").first.flatMap { Int64($0) } }.max() ?? 0
        let ms = max(Int64(Date().timeIntervalSince1970 * 1000), newest + 1)
        let url = archive.appendingPathComponent(String(format: "%013lld-%@.yaml", ms, version))
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
