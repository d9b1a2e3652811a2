import Foundation
import Synchronization
import Testing
import Tickets
@testable import TicketsSQLite
import TicketsTestSupport

/// What only the SQLite store has: the file and its directories, WAL mode and PRAGMAs, the
/// checkpointer, the writer lock, recovery from the files a crash leaves. (The behaviour every
/// backend shares is in TicketStoreTests.)
@Suite final class SQLiteStoreTests {
    let directory: TemporaryDirectory
    let noon = date(2026, 11, 29, 12)

    init() throws {
        directory = try TemporaryDirectory()
    }

    func makeStore(_ name: String = "hotline.sqlite", durability: SQLiteTicketStore.Durability = .normal)
        throws -> SQLiteTicketStore
    {
        try SQLiteTicketStore(path: directory.path(name), options: .init(durability: durability, timeZone: shanghai))
    }

    @Test func durabilityOptionSetsSynchronousMode() throws {
        let normal = try makeStore("normal.sqlite")
        defer { normal.close() }
        #expect(try normal.writerPragma("journal_mode") == "wal")
        #expect(try normal.writerPragma("synchronous") == "1")
        let full = try makeStore("full.sqlite", durability: .full)
        defer { full.close() }
        #expect(try full.writerPragma("synchronous") == "2")
        // FULL unless asked otherwise.
        let byDefault = try SQLiteTicketStore(path: directory.path("default.sqlite"), options: .init(timeZone: shanghai))
        defer { byDefault.close() }
        #expect(try byDefault.writerPragma("synchronous") == "2")
        #expect(SQLiteTicketStore.Options().durability == .full)
    }

    @Test func checkpointsRunOffTheWritersPath() async throws {
        let store = try makeStore("checkpoint.sqlite", durability: .full)
        defer { store.close() }
        #expect(try store.writerPragma("wal_autocheckpoint") == "0", "the writer never checkpoints")
        let file = directory.path("checkpoint.sqlite")
        func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }
        let before = size(file)
        for _ in 0..<2_000 {
            store.record(rejectedTicket(store.allocateID(at: noon), at: noon), onCommit: nil)
        }
        await store.flush()
        #expect(size(file + "-wal") > 0)
        // The checkpointer's own connection copies the committed pages into the database file.
        let deadline = ContinuousClock.now + .seconds(10)
        while size(file) <= before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(size(file) > before, "pages reached the database file: \(before) -> \(size(file)) bytes")
        #expect(try store.list(limit: 5_000, since: nil).count == 2_000)
    }

    @Test func reopeningMarksInProgressTicketsInterrupted() async throws {
        let store = try makeStore()
        var answered = arrivingTicket(store.allocateID(at: noon), at: noon)
        answered.answeredAt = noon.addingTimeInterval(0.2)
        let ringing = arrivingTicket(store.allocateID(at: noon), at: noon.addingTimeInterval(1))
        let done = arrivingTicket(store.allocateID(at: noon), at: noon.addingTimeInterval(2))
        let doneOutcome = CallOutcome(
            answeredAt: noon.addingTimeInterval(2.1), endedAt: noon.addingTimeInterval(30), keys: "2",
            menuPath: ["main_menu:2"], disposition: .callerHangup, sipStatus: 200)
        #expect(await store.openAndWait(answered).succeeded)
        #expect(await store.openAndWait(ringing).succeeded)
        #expect(await store.openAndWait(done).succeeded)
        #expect(await store.finishAndWait(id: done.id, outcome: doneOutcome).succeeded)

        // What `kill -9` leaves behind: the files as they are while the store is still open,
        // committed data in the write-ahead log, nothing closed or checkpointed.
        let crashed = directory.path("crashed")
        try FileManager.default.createDirectory(atPath: crashed, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(
                atPath: directory.path("hotline.sqlite" + suffix), toPath: crashed + "/hotline.sqlite" + suffix)
        }

        let recovered = try SQLiteTicketStore(
            path: crashed + "/hotline.sqlite", options: .init(timeZone: shanghai))
        defer { recovered.close() }
        #expect(recovered.recoveredTicketCount == 2)
        let interruptedAnswered = try #require(try recovered.ticket(id: answered.id))
        #expect(interruptedAnswered.disposition == .interrupted)
        #expect(interruptedAnswered.answeredAt == answered.answeredAt)
        #expect(interruptedAnswered.endedAt == nil)
        #expect(try recovered.ticket(id: ringing.id)?.disposition == .interrupted)
        #expect(try recovered.ticket(id: done.id) == done.finished(with: doneOutcome))
        #expect(recovered.allocateID(at: noon).rawValue == "20261129-000004")
        // The original is untouched and still open.
        #expect(try store.ticket(id: answered.id)?.isInProgress == true)
        store.close()
    }

    @Test func aSecondWriterIsRefusedUntilTheFirstCloses() async throws {
        let first = try makeStore()
        let ticket = arrivingTicket(first.allocateID(at: noon), at: noon)
        #expect(await first.openAndWait(ticket).succeeded)
        #expect(throws: TicketStoreError.locked(path: directory.path("hotline.sqlite"))) {
            try self.makeStore()
        }
        // A reader is not a writer.
        #expect(try SQLiteTicketReader(path: directory.path("hotline.sqlite")).ticket(id: ticket.id) == ticket)
        first.close()

        let second = try makeStore()
        defer { second.close() }
        #expect(second.recoveredTicketCount == 1, "close() does not finish calls: they were interrupted")
        #expect(try second.ticket(id: ticket.id)?.disposition == .interrupted)
    }

    @Test func createsParentDirectories() async throws {
        let path = directory.path("var/nested/hotline.sqlite")
        let store = try SQLiteTicketStore(path: path, options: .init(timeZone: shanghai))
        #expect(await store.recordAndWait(rejectedTicket(store.allocateID(at: noon), at: noon)).succeeded)
        store.close()
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try SQLiteTicketReader(path: path).list(limit: 10).count == 1)
    }

    @Test func reportsFilesItCannotOpen() throws {
        let blocker = directory.path("not-a-directory")
        try Data(String(repeating: "not a database\n", count: 300).utf8).write(to: URL(fileURLWithPath: blocker))
        #expect {
            try SQLiteTicketStore(path: blocker + "/hotline.sqlite")
        } throws: { error in
            guard case .cannotOpen(let path, _) = error as? TicketStoreError else { return false }
            return path == blocker + "/hotline.sqlite"
        }
        #expect {
            try SQLiteTicketStore(path: blocker)  // a file that is not a database
        } throws: { error in
            if case .cannotOpen = error as? TicketStoreError { true } else { false }
        }
    }

    @Test func readerRefusesMissingAndForeignFiles() throws {
        #expect {
            try SQLiteTicketReader(path: directory.path("missing.sqlite"))
        } throws: { error in
            if case .cannotOpen = error as? TicketStoreError { true } else { false }
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path("missing.sqlite")), "a reader creates nothing")
        let empty = directory.path("empty.sqlite")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(throws: TicketStoreError.notATicketDatabase(path: empty)) {
            try SQLiteTicketReader(path: empty)
        }
    }

    // MARK: - Options

    @Test func theDefaultHasNoCap() {
        #expect(SQLiteTicketStore.Options().maxWritesPerCommit == nil)
        #expect(SQLiteTicketStore.Options(maxWritesPerCommit: 0).maxWritesPerCommit == 1)
    }
}
