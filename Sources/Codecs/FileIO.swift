#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and writes over POSIX calls, so Codecs needs no Foundation.
enum FileIO {
    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The bytes of the file at `path`.
    static func read(_ path: String) -> Result<[UInt8], WAVError> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return .failure(WAVError(path: path, reason: .io(errorText(errno)))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(WAVError(path: path, reason: .io(errorText(errno)))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(WAVError(path: path, reason: .io("not a regular file"))) }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        var failure: Int32 = 0
        bytes.withUnsafeMutableBytes { buffer in
            while offset < size {
                let count = posixRead(fd, buffer.baseAddress! + offset, size - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if count == 0 { break }
                offset += count
            }
        }
        if failure != 0 { return .failure(WAVError(path: path, reason: .io(errorText(failure)))) }
        if offset < size { bytes.removeSubrange(offset...) }
        return .success(bytes)
    }

    /// Writes `bytes` to `path`, replacing it.
    static func write(_ bytes: [UInt8], to path: String) -> Result<Void, WAVError> {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return .failure(WAVError(path: path, reason: .io(errorText(errno)))) }
        var offset = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let count = posixWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += count
            }
        }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure != 0 { return .failure(WAVError(path: path, reason: .io(errorText(failure)))) }
        return .success(())
    }
}

// The module-qualified POSIX calls, so they do not clash with our own names.
#if canImport(Glibc)
@inline(__always) func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { Glibc.read(fd, buffer, count) }
@inline(__always) func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, buffer, count) }
#elseif canImport(Musl)
@inline(__always) func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { Musl.read(fd, buffer, count) }
@inline(__always) func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Musl.write(fd, buffer, count) }
#elseif canImport(Darwin)
@inline(__always) func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { Darwin.read(fd, buffer, count) }
@inline(__always) func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, buffer, count) }
#endif
