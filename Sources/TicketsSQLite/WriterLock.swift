// TicketsSQLite: the SQLite backend of the ticket store (calls, work orders, KPIs).
// This file: an advisory lock that keeps a second process from writing the same database.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Tickets

/// An exclusive `flock(2)` on a file beside the database, held while a store writes it.
///
/// Two writers would each number tickets from their own memory and collide, and the second
/// one's crash recovery would mark the first one's live calls interrupted. The kernel drops
/// the lock when the process dies, so `kill -9` leaves nothing stale behind.
/// `flock` locks belong to the open file, so a second store in the same process is refused
/// too. SQLite's own locks are `fcntl` locks on other files and are not affected.
final class WriterLock: Sendable {
    private let descriptor: Mutex<Int32?>

    /// Takes the lock on `path`, creating the file, or throws ``TicketStoreError/locked(path:)``.
    init(path: String, databasePath: String) throws(TicketStoreError) {
        let fd = openLockFile(path)
        guard fd >= 0 else {
            throw .cannotOpen(path: databasePath, reason: "cannot create lock file \(path): \(errnoText())")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let wouldBlock = errno == EWOULDBLOCK
            let reason = errnoText()
            close(fd)
            if wouldBlock { throw .locked(path: databasePath) }
            throw .cannotOpen(path: databasePath, reason: "cannot lock \(path): \(reason)")
        }
        descriptor = Mutex(fd)
    }

    /// Releases the lock; later calls do nothing.
    func release() {
        if let fd = descriptor.withLock({ fd in defer { fd = nil }; return fd }) {
            close(fd)  // closing the only descriptor of the open file drops the flock
        }
    }

    deinit { release() }
}

private func openLockFile(_ path: String) -> Int32 {
    open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
}

private func errnoText() -> String {
    String(cString: strerror(errno))
}
