// The process's own resource use for /metrics (what a months-long run must keep flat): open
// file descriptors and resident memory, read from Linux's /proc. Elsewhere both are nil and
// their gauges are left out.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct ProcessStatistics: Sendable, Equatable {
    /// Entries of /proc/self/fd, not counting the descriptor used to list them.
    var openFileDescriptors: Int?
    /// Resident set size in bytes (/proc/self/statm's second field, in pages).
    var residentMemoryBytes: Int?

    static func current() -> ProcessStatistics {
        ProcessStatistics(openFileDescriptors: openFileDescriptors(), residentMemoryBytes: residentMemoryBytes())
    }

    static func openFileDescriptors(directory: String = "/proc/self/fd") -> Int? {
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        let own = dirfd(dir)
        var count = 0
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(dir) {
            // The name is read in place: an entry is only as long as its name (d_reclen), so
            // copying the whole `dirent` (`entry.pointee`) reads past it, and off the end of
            // readdir's buffer when the directory is large. With a few thousand sockets open
            // that faulted (/metrics at 630 calls/s).
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            guard let fd = Int32(name), fd != own else { continue } // ".", "..", and our own
            count += 1
        }
        return count
    }

    static func residentMemoryBytes(statm: String = "/proc/self/statm") -> Int? {
        guard let file = fopen(statm, "r") else { return nil }
        defer { fclose(file) }
        // "size resident shared text lib data dt", in pages.
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: " ").compactMap { Int($0) }
        guard fields.count >= 2 else { return nil }
        return fields[1] * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

extension ProcessStatistics {
    /// Gauges for what the platform could read.
    func publish(into p: inout MetricsPublisher) {
        if let openFileDescriptors {
            p.add("hotline_open_fds", .gauge, help: "Open file descriptors of the process (/proc/self/fd).", value: openFileDescriptors)
        }
        if let residentMemoryBytes {
            p.add("hotline_resident_memory_bytes", .gauge, help: "Resident memory of the process (/proc/self/statm).", value: residentMemoryBytes)
        }
    }
}
