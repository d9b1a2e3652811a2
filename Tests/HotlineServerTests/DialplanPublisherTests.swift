import Dialplan
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import HotlineServer

/// Publishing runs on the admin thread, one publish at a time, and hands each version to the
/// call loops (here two stand-in loops) before the next publish starts.
@Suite struct DialplanPublisherTests {
    static let benchPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Dialplans/bench.yaml").path

    /// A library on a private copy of bench.yaml, a publisher installing into `loops`, and a
    /// record of whether each check ran on one of those loops.
    struct Fixture {
        let directory: URL
        let livePath: String
        let original: String
        let library: DialplanLibrary
        let publisher: DialplanPublisher
        let loops: [EventLoop]
        let record: Record
    }

    final class Record: Sendable {
        /// Per check (the library's extra check runs inside every publish's check): whether
        /// its thread was one of the call loops.
        let checkedOnCallLoop = Mutex<[Bool]>([])
        /// The version each loop runs.
        let installed: Mutex<[String]>
        init(loops: Int, initial: String) { installed = Mutex(Array(repeating: initial, count: loops)) }
    }

    static func fixture(loops: [EventLoop]) throws -> Fixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotline-publisher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let livePath = directory.appendingPathComponent("bench.yaml").path
        let original = try String(contentsOfFile: benchPath, encoding: .utf8)
        try original.write(toFile: livePath, atomically: true, encoding: .utf8)
        let initial = try Dialplan.load(path: livePath)
        let record = Record(loops: loops.count, initial: initial.version)
        let library = try DialplanLibrary(livePath: livePath, archiveRoot: directory.appendingPathComponent("archive"), initial: initial,
                                          promptExists: { _, _ in true },
                                          extraCheck: { _ in
                                              let onLoop = loops.contains { $0.inEventLoop }
                                              record.checkedOnCallLoop.withLock { $0.append(onLoop) }
                                              return []
                                          })
        let publisher = DialplanPublisher(library: library) { dialplan in
            let futures = loops.enumerated().map { i, loop in loop.submit { record.installed.withLock { $0[i] = dialplan.version } } }
            return EventLoopFuture.andAllSucceed(futures, on: loops[0])
        }
        return Fixture(directory: directory, livePath: livePath, original: original, library: library, publisher: publisher,
                       loops: loops, record: record)
    }

    @Test func eightPublishesAtOnceGetConsecutiveVersionsOffTheCallLoopsAndTheLastIsLive() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let f = try Self.fixture(loops: loops)
        let initial = f.library.current.version
        // All eight submitted together from the call loops, as the admin API's requests were.
        let texts = (0..<8).map { f.original + "\n# version \($0)\n" }
        let futures = texts.enumerated().map { i, text in
            loops[i % loops.count].flatSubmit {
                f.publisher.publish(on: loops[i % loops.count]) { library throws(DialplanLibrary.PublishError) in try library.publish(text) }
            }
        }
        var outcomes: [DialplanPublisher.Outcome] = []
        for future in futures { outcomes.append(try await future.get().get()) }

        // One chain: each publish replaced the one before it, none was lost.
        let versions = outcomes.map(\.dialplan.version)
        #expect(Set(versions).count == 8, "distinct versions")
        let next = Dictionary(outcomes.map { ($0.previous, $0.dialplan.version) }, uniquingKeysWith: { a, _ in a })
        #expect(next.count == 8, "no two publishes replaced the same version: \(outcomes.map(\.previous))")
        var chain = [initial]
        while let following = next[chain.last!], chain.count <= 8 { chain.append(following) }
        #expect(chain.count == 9, "initial then the eight, each after the one before")

        // The archive lists them in publication order; the last is live everywhere.
        let archived = f.library.versions()
        #expect(archived.map(\.version) == chain)
        #expect(archived.last?.active == true)
        #expect(f.library.current.version == chain.last)
        #expect(f.record.installed.withLock { $0 } == Array(repeating: chain.last!, count: loops.count), "every call loop runs the last version")
        let lastText = try #require(zip(versions, texts).first { $0.0 == chain.last }?.1)
        #expect(try String(contentsOfFile: f.livePath, encoding: .utf8) == lastText, "the live file is the last one published")

        // The checks ran on the admin thread, never on a call loop.
        #expect(f.record.checkedOnCallLoop.withLock { $0 } == Array(repeating: false, count: 8))

        await f.publisher.shutdown()
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: f.directory)
    }

    @Test func aRefusedPublishChangesNothingAndTheNextOneGoesThrough() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loops = Array(group.makeIterator())
        let f = try Self.fixture(loops: loops)
        let initial = f.library.current.version
        let bad = f.original.replacingOccurrences(of: "timeout: 5s", with: "timout: 5s")
        #expect(bad != f.original)
        let refused = await f.publisher.publish { library throws(DialplanLibrary.PublishError) in try library.publish(bad) }
        guard case .failure(.invalid(let issues)) = refused else {
            Issue.record("a bad text was not refused as invalid: \(refused)")
            throw DialplanLibrary.PublishError.io("unexpected outcome")
        }
        #expect(issues.contains { $0.code == .unknownKey })
        #expect(f.library.current.version == initial)
        #expect(f.record.installed.withLock { $0 } == [initial])
        #expect(try String(contentsOfFile: f.livePath, encoding: .utf8) == f.original)

        let good = try await f.publisher.publish { library throws(DialplanLibrary.PublishError) in try library.publish(f.original + "\n# v2\n") }.get()
        #expect(good.previous == initial)
        #expect(f.record.installed.withLock { $0 } == [good.dialplan.version])

        await f.publisher.shutdown()
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: f.directory)
    }
}
